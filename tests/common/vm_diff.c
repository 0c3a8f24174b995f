/*
 * The randomized differential test of the VM: see vm_diff.h.
 *
 * The reference model states the semantics of issue 6 (docs/vm_write.md)
 * directly, page by page, with no entries, objects or shadows:
 *
 *   ranges     [trunc_page(addr), round_page(addr + size)); a range wraps
 *              when addr + size overflows or its rounding does;
 *   allocate   bad flags: INVALID_ARGUMENT; size 0: success, address 0; wrap: INVALID_ARGUMENT; FIXED
 *              outside [min, max): INVALID_ADDRESS, overlap: NO_SPACE;
 *              ANYWHERE: first fit from min (the address is ignored),
 *              else NO_SPACE; zeroes, rw-/rwx/copy;
 *   deallocate size 0: success; wrap: INVALID_ARGUMENT; else success;
 *   protect    bad prot: INVALID_ARGUMENT; size 0: success; wrap: INVALID_ARGUMENT; a hole
 *              or page outside the map anywhere: INVALID_ADDRESS; then a
 *              page whose max lacks a right: PROTECTION_FAILURE (even
 *              with set_maximum: a maximum only goes down, as in Mach);
 *   inherit    bad value: INVALID_ARGUMENT; size 0: success; wrap:
 *              INVALID_ARGUMENT; holes skipped;
 *   read       (vm_read, vm_map_copyin, vm_map_read) size 0: success;
 *              then in address order, a page that wraps, leaves the map
 *              or is a hole: INVALID_ADDRESS; without READ:
 *              PROTECTION_FAILURE; copied out, under two pages land
 *              page-aligned, more at the source's offset in its page;
 *   write      (vm_write, vm_map_copy_overwrite) count 0: success; a
 *              count that is not the copy's size: FAILURE; a range that
 *              wraps or leaves the map: INVALID_ADDRESS; then in address
 *              order, a hole: INVALID_ADDRESS, a page without WRITE:
 *              PROTECTION_FAILURE; then the bytes, as memmove;
 *   copy       size 0: success; the read checks on the source, the write
 *              checks on the destination, then memmove;
 *   touch      unallocated: INVALID_ADDRESS; access not in the page's
 *              protection: PROTECTION_FAILURE (x86 cannot map a page
 *              writable or executable but not readable, so a read of such
 *              a page may also succeed);
 *   fork       SHARE pages alias, COPY pages are copied, NONE are absent;
 *              no page of the child is wired;
 *   wire       bad access: INVALID_ARGUMENT; size 0: success; wrap:
 *              INVALID_ARGUMENT; then in address order, a hole or a page
 *              outside the map: INVALID_ADDRESS, a page whose protection
 *              lacks the access: PROTECTION_FAILURE; then every page is
 *              wired (access VM_PROT_NONE: unwired).  A failed call
 *              leaves the map's entries, their wiring and every page's
 *              wire count as they were, in no more memory than before;
 *              a mapped page's wire count is always the number of wired
 *              pages that hold its bytes (a block's wired aliases).
 *
 * Under an injected memory limit an operation may also return
 * KERN_RESOURCE_SHORTAGE, and must then have changed nothing.
 */
#include "tests/common/vm_diff.h"
#include "kern/console.h"
#include "kern/kalloc.h"
#include "lib/string.h"
#include "vm/vm_fault.h"
#include "vm/vm_map.h"
#include "vm/vm_map_copy.h"
#include "vm/vm_object.h"
#include "vm/vm_page.h"
#include "vm/vm_user.h"

#define PG 4096ul
#define VD_WINDOW (VD_NPAGES * PG)
#define VD_PEND_PAGES 17                       /* a held copy: at most 16 pages of data */
#define VD_PEND_MAX (16 * PG)
#define VD_KBUF_MAX (3 * PG)                   /* kernel-buffer data */
#define VD_NBLOCKS 512
#define VD_NDATA (4 * VD_NPAGES + 16)

/* ------------------------------------------------------------- state */

struct mpage {
	uint8_t alloc, prot, max, inh, wired;
	int16_t blk;
};

struct mblock {
	int16_t ref;                               /* pages aliasing it; 0: free */
	int16_t data;                              /* index in data_pool, or -1: zeroes */
};

struct pending {
	bool valid;
	vm_map_copy_t copy;
	uint64_t size;
	unsigned offset;                           /* of the data in its first page */
	unsigned landing;                          /* the same, once copied out */
	uint8_t bytes[VD_PEND_PAGES * PG];         /* the source's whole pages at copyin */
};

static struct vd_config cfg;
static struct vd_stats st;
static uint64_t rng_state;
static uint64_t opno;
static uint64_t since_check;
static vm_map_t maps[VD_NMAPS];
static vm_map_t scratch;                       /* where vm_read's copies are mapped to compare */
static struct mpage model[VD_NMAPS][VD_NPAGES];
static struct mblock blocks[VD_NBLOCKS];
static uint8_t data_pool[VD_NDATA][PG] __attribute__((aligned(4096)));
static int16_t data_free[VD_NDATA];
static unsigned data_nfree;
static struct pending pend[VD_PENDING];
static const uint8_t zero_page[PG];
static uint8_t snap[VD_WINDOW + PG];           /* source data, snapshotted */
static uint8_t rbuf[VD_WINDOW + 2 * PG];       /* data read back from the VM */
static uint8_t kbuf[VD_KBUF_MAX + PG] __attribute__((aligned(4096)));

static const struct vd_op *cur_op;             /* for mismatch reports */
static bool cur_reported;                      /* the op's state was printed */
static bool cur_oom;                           /* an injected limit is in force */
static kern_return_t last_kr;                  /* what the op's last call returned */
static uint64_t op_mismatches_before;          /* st.mismatches when the op began */

static struct {
	uint64_t objects, object_pages, pagetables, kalloc;
} start_counts;

#define SCRATCH_MIN 0x100000000ul
#define SCRATCH_MAX (SCRATCH_MIN + 4096 * PG)

/* ------------------------------------------------------------- random numbers */

static uint64_t splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t rnd(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static uint64_t below(uint64_t n)
{
	return n ? rnd() % n : 0;
}

static bool chance(unsigned percent)
{
	return below(100) < percent;
}

/* ------------------------------------------------------------- names */

static const char *const kind_names[VD_KINDS] = {
	"allocate", "deallocate", "protect", "inherit", "write", "read", "map_read",
	"copy", "touch", "fork", "region", "hold", "copyout", "wire", "check",
};

const char *vd_kind_name(unsigned kind)
{
	return kind < VD_KINDS ? kind_names[kind] : "?";
}

static const char *kr_name(kern_return_t kr)
{
	switch (kr) {
	case KERN_SUCCESS: return "SUCCESS";
	case KERN_INVALID_ADDRESS: return "INVALID_ADDRESS";
	case KERN_PROTECTION_FAILURE: return "PROTECTION_FAILURE";
	case KERN_NO_SPACE: return "NO_SPACE";
	case KERN_INVALID_ARGUMENT: return "INVALID_ARGUMENT";
	case KERN_FAILURE: return "FAILURE";
	case KERN_RESOURCE_SHORTAGE: return "RESOURCE_SHORTAGE";
	default: return "?";
	}
}

static void prot_str(unsigned prot, char out[4])
{
	out[0] = (prot & VM_PROT_READ) ? 'r' : '-';
	out[1] = (prot & VM_PROT_WRITE) ? 'w' : '-';
	out[2] = (prot & VM_PROT_EXECUTE) ? 'x' : '-';
	out[3] = '\0';
}

static const char *inh_name(unsigned inh)
{
	return inh == VM_INHERIT_SHARE ? "share" : inh == VM_INHERIT_COPY ? "copy"
	     : inh == VM_INHERIT_NONE ? "none" : "?";
}

static const char *src_name(unsigned src)
{
	return src == VD_SRC_COPYIN ? "copyin" : src == VD_SRC_KERNEL ? "kernel" : "pending";
}

static const char *access_name(int a)
{
	return a == VM_PROT_READ ? "read" : a == VM_PROT_WRITE ? "write" : "execute";
}

void vd_print_op(uint64_t n, const struct vd_op *op)
{
	char p[4];

	kprintf("# vm_diff: op %lu: %s", n, vd_kind_name(op->kind));
	switch (op->kind) {
	case VD_ALLOCATE:
		kprintf(" map%u addr %#lx size %#lx flags %#x", op->m, op->addr, op->size, op->arg);
		break;
	case VD_DEALLOCATE:
		kprintf(" map%u addr %#lx size %#lx", op->m, op->addr, op->size);
		break;
	case VD_PROTECT:
		prot_str((unsigned)op->arg & 7, p);
		kprintf(" map%u addr %#lx size %#lx set_max %d prot %#x (%s)", op->m, op->addr,
		        op->size, !!(op->flags & VD_F_SETMAX), op->arg, p);
		break;
	case VD_INHERIT:
		kprintf(" map%u addr %#lx size %#lx inheritance %d", op->m, op->addr, op->size,
		        op->arg);
		break;
	case VD_WRITE:
		kprintf(" map%u addr %#lx via %s from %s", op->m, op->addr,
		        (op->flags & VD_F_OVERWRITE) ? "vm_map_copy_overwrite" : "vm_write",
		        src_name(op->src));
		if (op->src == VD_SRC_COPYIN)
			kprintf(" map%u addr %#lx size %#lx", op->m2, op->addr2, op->size2);
		else if (op->src == VD_SRC_KERNEL)
			kprintf(" buffer+%#lx size %#lx", op->addr2, op->size2);
		else
			kprintf(" slot %u", op->slot);
		if (op->flags & VD_F_BADCOUNT)
			kprintf(" count size%+d", op->arg);
		break;
	case VD_READ:
	case VD_MAP_READ:
		kprintf(" map%u addr %#lx size %#lx", op->m, op->addr, op->size);
		break;
	case VD_COPY:
		kprintf(" map%u source %#lx size %#lx dest %#lx", op->m, op->addr2, op->size,
		        op->addr);
		break;
	case VD_TOUCH:
		kprintf(" map%u %s %#lx", op->m, access_name(op->arg), op->addr);
		if (op->arg == VM_PROT_WRITE)
			kprintf(" value %#x", op->value);
		break;
	case VD_FORK:
		kprintf(" map%u = fork(map%u)", op->m, op->m2);
		break;
	case VD_REGION:
		kprintf(" map%u addr %#lx count %lu", op->m, op->addr, op->size);
		break;
	case VD_HOLD:
		kprintf(" slot %u = copyin map%u addr %#lx size %#lx", op->slot, op->m2, op->addr2,
		        op->size2);
		break;
	case VD_COPYOUT:
		kprintf(" slot %u into map%u", op->slot, op->m);
		break;
	case VD_WIRE:
		prot_str((unsigned)op->arg & 7, p);
		kprintf(" map%u addr %#lx size %#lx access %#x (%s)", op->m, op->addr, op->size,
		        op->arg, op->arg == VM_PROT_NONE ? "unwire" : p);
		break;
	default:
		break;
	}
	if (op->oom)
		kprintf(" [memory limit: %u frames]", op->oom - 1);
	if (op->flags & VD_F_VERIFY)
		kprintf(" [verify]");
	kprintf("\n");
}

/* ------------------------------------------------------------- the model's blocks */

static int blk_new(void)
{
	for (int i = 0; i < VD_NBLOCKS; i++)
		if (blocks[i].ref == 0) {
			blocks[i].ref = 1;
			blocks[i].data = -1;
			return i;
		}
	kprintf("# vm_diff: model out of blocks\n");
	return -1;
}

static void blk_unref(int b)
{
	if (b < 0 || --blocks[b].ref > 0)
		return;
	if (blocks[b].data >= 0)
		data_free[data_nfree++] = blocks[b].data;
	blocks[b].data = -1;
}

static const uint8_t *blk_bytes(int b)
{
	return b >= 0 && blocks[b].data >= 0 ? data_pool[blocks[b].data] : zero_page;
}

static uint8_t *blk_mut(int b)
{
	if (blocks[b].data < 0) {
		if (data_nfree == 0) {
			kprintf("# vm_diff: model out of data pages\n");
			return (uint8_t *)data_pool[0];   /* cannot happen with the pool's size */
		}
		blocks[b].data = data_free[--data_nfree];
		memset(data_pool[blocks[b].data], 0, PG);
	}
	return data_pool[blocks[b].data];
}

/* A block holding a copy of b's bytes. */
static int blk_clone(int b)
{
	int n = blk_new();

	if (n >= 0 && blocks[b].data >= 0)
		memcpy(blk_mut(n), blk_bytes(b), PG);
	return n;
}

/* ------------------------------------------------------------- the model's pages */

static bool in_window(uint64_t va)
{
	return va >= VD_MIN && va < VD_MAX;
}

static struct mpage *mp(unsigned m, uint64_t va)
{
	return &model[m][(va - VD_MIN) / PG];
}

static void page_allocate(unsigned m, uint64_t va)
{
	struct mpage *p = mp(m, va);

	p->alloc = 1;
	p->prot = VM_PROT_DEFAULT;
	p->max = VM_PROT_ALL;
	p->inh = VM_INHERIT_DEFAULT;
	p->wired = 0;
	p->blk = (int16_t)blk_new();
}

static void page_release(struct mpage *p)
{
	if (p->alloc)
		blk_unref(p->blk);
	p->alloc = 0;
	p->wired = 0;
	p->blk = -1;
}

/* len bytes at addr of map m (every page allocated) into buf. */
static void model_read(unsigned m, uint64_t addr, uint8_t *buf, uint64_t len)
{
	while (len) {
		uint64_t off = addr & (PG - 1), n = PG - off;
		if (n > len)
			n = len;
		memcpy(buf, blk_bytes(mp(m, addr)->blk) + off, n);
		buf += n;
		addr += n;
		len -= n;
	}
}

static void model_write(unsigned m, uint64_t addr, const uint8_t *buf, uint64_t len)
{
	while (len) {
		uint64_t off = addr & (PG - 1), n = PG - off;
		if (n > len)
			n = len;
		memcpy(blk_mut(mp(m, addr)->blk) + off, buf, n);
		buf += n;
		addr += n;
		len -= n;
	}
}

/* The rights an x86 mapping of a page with prot can show: READ comes with any right. */
static unsigned hw_prot(unsigned prot)
{
	return prot ? (prot | VM_PROT_READ) : 0;
}

/* ------------------------------------------------------------- expected results */

/* [trunc(addr), round(addr + size)) in *s, *e; false when it wraps. */
static bool page_range(uint64_t addr, uint64_t size, uint64_t *s, uint64_t *e)
{
	uint64_t end = addr + size;

	if (end < addr)
		return false;
	uint64_t r = (end + PG - 1) & ~(PG - 1);
	if (r < end)
		return false;
	*s = addr & ~(PG - 1);
	*e = r;
	return true;
}

/* vm_read, vm_map_copyin and vm_map_read. */
static kern_return_t exp_read(unsigned m, uint64_t addr, uint64_t size)
{
	uint64_t s, e;

	if (size == 0)
		return KERN_SUCCESS;
	if (!page_range(addr, size, &s, &e))
		return KERN_INVALID_ADDRESS;
	for (uint64_t va = s; va < e; va += PG) {
		if (!in_window(va) || !mp(m, va)->alloc)
			return KERN_INVALID_ADDRESS;
		if (!(mp(m, va)->prot & VM_PROT_READ))
			return KERN_PROTECTION_FAILURE;
	}
	return KERN_SUCCESS;
}

/* vm_map_copy_overwrite of count bytes at addr (count 0 handled by the caller). */
static kern_return_t exp_overwrite(unsigned m, uint64_t addr, uint64_t count)
{
	uint64_t end = addr + count;

	if (count == 0)
		return KERN_SUCCESS;
	if (end < addr || addr < VD_MIN || end > VD_MAX)
		return KERN_INVALID_ADDRESS;
	for (uint64_t va = addr & ~(PG - 1); va < end; va += PG) {
		if (!mp(m, va)->alloc)
			return KERN_INVALID_ADDRESS;
		if (!(mp(m, va)->prot & VM_PROT_WRITE))
			return KERN_PROTECTION_FAILURE;
	}
	return KERN_SUCCESS;
}

/* The lowest run of n free pages in map m, in *va; false when there is none. */
static bool first_fit(unsigned m, uint64_t n, uint64_t *va)
{
	uint64_t run = 0;

	if (n == 0 || n > VD_NPAGES)
		return false;
	for (unsigned i = 0; i < VD_NPAGES; i++) {
		run = model[m][i].alloc ? 0 : run + 1;
		if (run == n) {
			*va = VD_MIN + (i + 1 - n) * PG;
			return true;
		}
	}
	return false;
}

/* ------------------------------------------------------------- reporting */

static void print_map(unsigned m)
{
	char p[4], x[4];
	unsigned i = 0;

	kprintf("# vm_diff:   model map%u:", m);
	bool any = false;
	while (i < VD_NPAGES) {
		struct mpage *a = &model[m][i];
		unsigned j = i + 1;
		while (j < VD_NPAGES && model[m][j].alloc == a->alloc &&
		       (!a->alloc || (model[m][j].prot == a->prot && model[m][j].max == a->max &&
		                      model[m][j].inh == a->inh && model[m][j].wired == a->wired)))
			j++;
		if (a->alloc) {
			prot_str(a->prot, p);
			prot_str(a->max, x);
			kprintf(" [%#lx-%#lx %s/%s %s%s]", VD_MIN + i * PG, VD_MIN + j * PG, p, x,
			        inh_name(a->inh), a->wired ? " wired" : "");
			any = true;
		}
		i = j;
	}
	kprintf("%s\n", any ? "" : " empty");
	/* aliases: pages whose block another page also holds */
	for (i = 0; i < VD_NPAGES; i++)
		if (model[m][i].alloc && blocks[model[m][i].blk].ref > 1)
			kprintf("# vm_diff:     %#lx shares its bytes (block %d, %d pages)\n",
			        VD_MIN + i * PG, model[m][i].blk, blocks[model[m][i].blk].ref);
}

static void mismatch(const char *fmt, ...) KPRINTF_FORMAT(1, 2);

static void mismatch(const char *fmt, ...)
{
	va_list ap;

	st.mismatches++;
	if ((cfg.max_mismatches && op_mismatches_before >= cfg.max_mismatches) ||
	    st.mismatches - op_mismatches_before > 8)
		return;                /* past the limit, or one op's flood */
	kprintf("# vm_diff: MISMATCH at op %lu (seed %lu): ", opno, cfg.seed);
	va_start(ap, fmt);
	kvprintf(fmt, ap);
	va_end(ap);
	kprintf("\n");
	if (!cur_reported && cur_op) {
		cur_reported = true;
		vd_print_op(opno, cur_op);
		print_map(cur_op->m);
		if (cur_op->m2 != cur_op->m &&
		    (cur_op->kind == VD_FORK || cur_op->kind == VD_HOLD ||
		     (cur_op->kind == VD_WRITE && cur_op->src == VD_SRC_COPYIN)))
			print_map(cur_op->m2);
	}
}

/* Compares a result with the model's; under a memory limit, a shortage is also fine. */
static bool expect_kr(const char *what, kern_return_t got, kern_return_t want)
{
	last_kr = got;
	if (got == want)
		return true;
	if (cur_oom && got == KERN_RESOURCE_SHORTAGE) {
		st.shortage++;
		return true;
	}
	mismatch("%s returned %s (%d), the model says %s (%d)", what, kr_name(got), got,
	         kr_name(want), want);
	return false;
}

/* Compares len bytes; reports the first difference. */
static bool same_bytes(const char *what, uint64_t va, const uint8_t *got, const uint8_t *want,
                       uint64_t len)
{
	if (memcmp(got, want, len) == 0)
		return true;
	uint64_t i = 0;
	while (got[i] == want[i])
		i++;
	mismatch("%s: byte at %#lx is %#x, the model says %#x", what, va + i, got[i], want[i]);
	return false;
}

/* ------------------------------------------------------------- checks against the VM */

/*
 * How many times the page holding page va of map m's bytes is wired: once
 * for every wired page of any map that aliases its block (a wired page is
 * never shared copy-on-write, so only true aliases share its frame).
 */
static unsigned block_wirings(unsigned m, uint64_t va)
{
	const struct mpage *p = mp(m, va);
	unsigned n = 0;

	if (blocks[p->blk].ref == 1)
		return p->wired;
	for (unsigned k = 0; k < VD_NMAPS; k++)
		for (unsigned i = 0; i < VD_NPAGES; i++)
			n += model[k][i].alloc && model[k][i].blk == p->blk && model[k][i].wired;
	return n;
}

/*
 * The pmap of map m must not grant what the model forbids, must map the
 * model's bytes, and the page it maps must be wired as often as the model
 * says.
 */
static void check_pmap_page(unsigned m, uint64_t va)
{
	pmap_t pm = maps[m]->pmap;
	vm_prot_t acc = pmap_access(pm, va);
	paddr_t pa;

	if (!in_window(va) || !mp(m, va)->alloc) {
		if (acc != VM_PROT_NONE)
			mismatch("map%u: pmap maps %#lx (rights %#x), which is not allocated", m, va, acc);
		return;
	}
	struct mpage *p = mp(m, va);
	if (acc & ~hw_prot(p->prot)) {
		mismatch("map%u: pmap grants %#x at %#lx, whose protection is %#x", m, acc, va,
		         p->prot);
		return;
	}
	if (acc == VM_PROT_NONE)
		return;
	if (!pmap_extract(pm, va, &pa)) {
		mismatch("map%u: pmap_access grants %#x at %#lx but pmap_extract finds nothing", m,
		         acc, va);
		return;
	}
	same_bytes("the page the pmap maps", va, pmap_phys_to_virt(pa & ~(PG - 1)),
	           blk_bytes(p->blk), PG);
	uint32_t wires = vm_page_from_phys(pa & ~(PG - 1))->wire_count;
	if (wires != block_wirings(m, va))
		mismatch("map%u: the page at %#lx is wired %u times, the model says %u", m, va,
		         wires, block_wirings(m, va));
}

/* Reads page va of map m with vm_map_read when the model says it is readable. */
static void check_read_page(unsigned m, uint64_t va)
{
	struct mpage *p = mp(m, va);

	if (!p->alloc || !(p->prot & VM_PROT_READ))
		return;
	kern_return_t kr = vm_map_read(maps[m], va, rbuf, PG);
	if (kr != KERN_SUCCESS) {
		mismatch("map%u: vm_map_read of readable page %#lx returned %s", m, va, kr_name(kr));
		return;
	}
	same_bytes("vm_map_read", va, rbuf, blk_bytes(p->blk), PG);
}

/* The pages of [addr, addr + size) in the window (all of it if the range wraps). */
static void clamp_range(uint64_t addr, uint64_t size, uint64_t *s, uint64_t *e)
{
	if (!page_range(addr, size, s, e)) {
		*s = addr & ~(PG - 1);
		*e = VD_MAX;
	}
	if (size == 0)
		*e = *s + PG;          /* still look at the page the address is in */
	if (*s < VD_MIN)
		*s = VD_MIN;
	if (*e > VD_MAX || *e < *s)
		*e = VD_MAX;
}

static void verify_range(unsigned m, uint64_t addr, uint64_t size, bool intrusive)
{
	uint64_t s, e;

	clamp_range(addr, size, &s, &e);
	for (uint64_t va = s; va < e; va += PG) {
		check_pmap_page(m, va);
		if (intrusive)
			check_read_page(m, va);
	}
}

static vm_region_basic_info_data_64_t region_info;

/*
 * vm_region(m, addr) against the model; returns where the next region
 * may start (0 when there is none).
 */
static uint64_t check_region(unsigned m, uint64_t addr, mach_msg_type_number_t count)
{
	int words[VM_REGION_BASIC_INFO_COUNT_64 + 4];
	vm_address_t a = addr;
	vm_size_t size = 0;
	mach_msg_type_number_t c = count;
	kern_return_t want;
	uint64_t target = 0;

	if (count < VM_REGION_BASIC_INFO_COUNT_64) {
		want = KERN_INVALID_ARGUMENT;
	} else {
		want = KERN_INVALID_ADDRESS;
		uint64_t va = addr < VD_MIN ? VD_MIN : addr & ~(PG - 1);
		for (; va < VD_MAX; va += PG)
			if (mp(m, va)->alloc) {
				target = va;
				want = KERN_SUCCESS;
				break;
			}
	}
	memset(words, 0x5a, sizeof(words));
	kern_return_t kr = vm_region(maps[m], &a, &size, VM_REGION_BASIC_INFO_64, words, &c);
	if (!expect_kr("vm_region", kr, want) || kr != KERN_SUCCESS)
		return 0;
	memcpy(&region_info, words, sizeof(region_info));
	const vm_region_basic_info_data_64_t *b = &region_info;
	if (c != VM_REGION_BASIC_INFO_COUNT_64)
		mismatch("vm_region(map%u, %#lx): count %u, want %u", m, addr, c,
		         VM_REGION_BASIC_INFO_COUNT_64);
	if ((a & (PG - 1)) || (size & (PG - 1)) || size == 0 || a + size < a ||
	    !(a <= target && target < a + size)) {
		mismatch("vm_region(map%u, %#lx) = [%#lx, +%#lx), which does not hold the first "
		         "allocated page %#lx", m, addr, a, size, target);
		return 0;
	}
	if (a < VD_MIN || a + size > VD_MAX) {
		mismatch("vm_region(map%u, %#lx) = [%#lx, +%#lx) leaves the map", m, addr, a, size);
		return 0;
	}
	for (uint64_t va = a; va < a + size; va += PG) {
		struct mpage *p = mp(m, va);
		if (!p->alloc || p->prot != (unsigned)b->protection ||
		    p->max != (unsigned)b->max_protection || p->inh != b->inheritance ||
		    p->wired != b->user_wired_count) {
			mismatch("vm_region(map%u, %#lx) = [%#lx, +%#lx) prot %#x max %#x inh %u "
			         "wired %u, but the model's page %#lx is %s prot %#x max %#x "
			         "inh %u wired %u", m, addr, a, size, b->protection,
			         b->max_protection, b->inheritance, b->user_wired_count, va,
			         p->alloc ? "allocated" : "free", p->prot, p->max, p->inh,
			         p->wired);
			return 0;
		}
	}
	return a + size;
}

/* Every region of map m, in order: together they must be exactly the allocated pages. */
static void walk_regions(unsigned m)
{
	uint64_t addr = 0;

	for (unsigned n = 0; n <= VD_NPAGES; n++) {
		addr = check_region(m, addr, VM_REGION_BASIC_INFO_COUNT_64);
		if (addr == 0)
			return;
	}
	mismatch("map%u: more regions than pages", m);
}

static void check_map(unsigned m, bool intrusive)
{
	const char *wrong = vm_map_check_invariants(maps[m]);

	if (wrong)
		mismatch("map%u: %s", m, wrong);
	walk_regions(m);
	check_pmap_page(m, VD_MIN - PG);
	check_pmap_page(m, VD_MAX);
	for (uint64_t va = VD_MIN; va < VD_MAX; va += PG) {
		check_pmap_page(m, va);
		if (intrusive)
			check_read_page(m, va);
	}
}

static void check_all(void)
{
	for (unsigned m = 0; m < VD_NMAPS; m++)
		check_map(m, true);
}

/* ------------------------------------------------------------- memory limit */

static void limit_on(const struct vd_op *op)
{
	struct vm_page_stats s;

	if (!op->oom)
		return;
	vm_page_get_stats(&s);
	uint64_t k = op->oom - 1u;
	vm_page_set_reserve_floor(s.count[VM_PAGE_FREE] > k ? s.count[VM_PAGE_FREE] - k : 1);
	cur_oom = true;
	st.oom_ops++;
}

/* Lifts the limit; cur_oom stays set, so the op's results may still be shortages. */
static void limit_off(void)
{
	if (cur_oom)
		vm_page_set_reserve_floor(0);
}

/* ------------------------------------------------------------- the operations */

static void do_allocate(const struct vd_op *op)
{
	unsigned m = op->m;
	uint64_t s = 0, e = 0;
	kern_return_t want;
	bool anywhere = op->arg == VM_FLAGS_ANYWHERE;

	if (op->arg & ~VM_FLAGS_ANYWHERE)              /* arguments first, as XNU */
		want = KERN_INVALID_ARGUMENT;
	else if (op->size == 0)
		want = KERN_SUCCESS;
	else if (anywhere) {
		uint64_t r = (op->size + PG - 1) & ~(PG - 1);
		if (r < op->size)
			want = KERN_INVALID_ARGUMENT;
		else
			want = first_fit(m, r / PG, &s) ? KERN_SUCCESS : KERN_NO_SPACE;
		e = s + r;
	} else if (!page_range(op->addr, op->size, &s, &e))
		want = KERN_INVALID_ARGUMENT;
	else if (s < VD_MIN || e > VD_MAX)
		want = KERN_INVALID_ADDRESS;
	else {
		want = KERN_SUCCESS;
		for (uint64_t va = s; va < e; va += PG)
			if (mp(m, va)->alloc)
				want = KERN_NO_SPACE;
	}

	vm_address_t addr = op->addr;
	limit_on(op);
	kern_return_t kr = vm_allocate(maps[m], &addr, op->size, op->arg);
	limit_off();
	if (kr == KERN_SUCCESS && op->size == 0 && addr != 0)
		mismatch("vm_allocate of size 0 left the address %#lx, not 0", addr);
	if (!expect_kr("vm_allocate", kr, want) || kr != KERN_SUCCESS || op->size == 0) {
		verify_range(m, anywhere ? VD_MIN : op->addr, anywhere ? VD_WINDOW : op->size, false);
		return;
	}
	if (addr != s) {
		mismatch("vm_allocate put the memory at %#lx, the model at %#lx", addr, s);
		return;
	}
	for (uint64_t va = s; va < e; va += PG)
		page_allocate(m, va);
	verify_range(m, s, e - s, op->flags & VD_F_VERIFY);
}

static void do_deallocate(const struct vd_op *op)
{
	unsigned m = op->m;
	uint64_t s = 0, e = 0;
	kern_return_t want = KERN_SUCCESS;

	if (op->size != 0 && !page_range(op->addr, op->size, &s, &e))
		want = KERN_INVALID_ARGUMENT;
	limit_on(op);
	kern_return_t kr = vm_deallocate(maps[m], op->addr, op->size);
	limit_off();
	if (expect_kr("vm_deallocate", kr, want) && kr == KERN_SUCCESS && op->size != 0) {
		for (uint64_t va = s < VD_MIN ? VD_MIN : s; va < e && va < VD_MAX; va += PG)
			page_release(mp(m, va));
	}
	verify_range(m, op->addr, op->size, op->flags & VD_F_VERIFY);
}

static void do_protect(const struct vd_op *op)
{
	unsigned m = op->m;
	uint64_t s = 0, e = 0;
	kern_return_t want = KERN_SUCCESS;
	bool setmax = op->flags & VD_F_SETMAX;
	unsigned prot = (unsigned)op->arg;

	if (prot & ~VM_PROT_ALL)                       /* arguments first, as XNU */
		want = KERN_INVALID_ARGUMENT;
	else if (op->size == 0)
		want = KERN_SUCCESS;
	else if (!page_range(op->addr, op->size, &s, &e))
		want = KERN_INVALID_ARGUMENT;
	else {
		for (uint64_t va = s; va < e && want == KERN_SUCCESS; va += PG)
			if (!in_window(va) || !mp(m, va)->alloc)
				want = KERN_INVALID_ADDRESS;
		for (uint64_t va = s; va < e && want == KERN_SUCCESS; va += PG)
			if (prot & ~mp(m, va)->max)   /* Mach: even a new maximum only lowers it */
				want = KERN_PROTECTION_FAILURE;
	}
	limit_on(op);
	kern_return_t kr = vm_protect(maps[m], op->addr, op->size, setmax, (vm_prot_t)op->arg);
	limit_off();
	if (expect_kr("vm_protect", kr, want) && kr == KERN_SUCCESS && op->size != 0) {
		for (uint64_t va = s; va < e; va += PG) {
			struct mpage *p = mp(m, va);
			if (setmax) {
				p->max = prot;
				p->prot &= prot;
			} else {
				p->prot = prot;
			}
		}
	}
	verify_range(m, op->addr, op->size, op->flags & VD_F_VERIFY);
}

static void do_inherit(const struct vd_op *op)
{
	unsigned m = op->m;
	uint64_t s = 0, e = 0;
	kern_return_t want = KERN_SUCCESS;

	if ((unsigned)op->arg > VM_INHERIT_LAST_VALID)
		want = KERN_INVALID_ARGUMENT;
	else if (op->size != 0 && !page_range(op->addr, op->size, &s, &e))   /* empty: success */
		want = KERN_INVALID_ARGUMENT;
	limit_on(op);
	kern_return_t kr = vm_inherit(maps[m], op->addr, op->size, (vm_inherit_t)op->arg);
	limit_off();
	if (expect_kr("vm_inherit", kr, want) && kr == KERN_SUCCESS && op->size != 0) {
		for (uint64_t va = s < VD_MIN ? VD_MIN : s; va < e && va < VD_MAX; va += PG)
			if (mp(m, va)->alloc)
				mp(m, va)->inh = (uint8_t)op->arg;
	}
	verify_range(m, op->addr, op->size, op->flags & VD_F_VERIFY);
}

/* The kernel-buffer data of an op: size bytes at kbuf + off, from its seed. */
static const uint8_t *kernel_data(const struct vd_op *op)
{
	uint64_t x = op->data_seed;
	uint8_t *p = kbuf + op->addr2;

	for (uint64_t i = 0; i < op->size2; i += 8) {
		uint64_t v = splitmix(&x);
		for (unsigned j = 0; j < 8 && i + j < op->size2; j++)
			p[i + j] = (uint8_t)(v >> (8 * j));
	}
	return p;
}

static void do_write(const struct vd_op *op)
{
	unsigned m = op->m;
	vm_map_copy_t copy = NULL;
	const uint8_t *data = snap;
	uint64_t size = op->size2;
	kern_return_t kr;

	limit_on(op);
	switch (op->src) {
	case VD_SRC_COPYIN: {
		kern_return_t want = exp_read(op->m2, op->addr2, size);
		kr = vm_map_copyin(maps[op->m2], op->addr2, size, &copy);
		if (!expect_kr("vm_map_copyin (vm_write's data)", kr, want) || kr != KERN_SUCCESS) {
			if (kr == KERN_SUCCESS)
				vm_map_copy_discard(copy);
			limit_off();
			verify_range(op->m2, op->addr2, size, false);
			return;
		}
		model_read(op->m2, op->addr2, snap, size);
		break;
	}
	case VD_SRC_KERNEL:
		data = kernel_data(op);
		kr = vm_map_copy_from_kernel(data, size, &copy);
		if (!expect_kr("vm_map_copy_from_kernel", kr, KERN_SUCCESS) || kr != KERN_SUCCESS) {
			limit_off();
			return;
		}
		break;
	default:
		if (!pend[op->slot].valid) {
			limit_off();
			return;
		}
		copy = pend[op->slot].copy;
		size = pend[op->slot].size;
		data = pend[op->slot].bytes + pend[op->slot].offset;
		break;
	}
	if (vm_map_copy_size(copy) != size)
		mismatch("vm_map_copy_size is %#lx, the data is %#lx bytes", vm_map_copy_size(copy),
		         size);

	kern_return_t want;
	bool consumed, writes;
	if (op->flags & VD_F_OVERWRITE) {
		if (copy == NULL) {    /* an empty copy may be NULL: nothing to overwrite with */
			limit_off();
			return;
		}
		want = exp_overwrite(m, op->addr, size);
		writes = size != 0;
		kr = vm_map_copy_overwrite(maps[m], op->addr, copy);
		consumed = kr == KERN_SUCCESS;
	} else {
		mach_msg_type_number_t count = (mach_msg_type_number_t)size;
		if (op->flags & VD_F_BADCOUNT)
			count = (mach_msg_type_number_t)(size + (int64_t)op->arg);
		if (count == 0)
			want = KERN_SUCCESS;
		else if (count != size)
			want = KERN_FAILURE;
		else
			want = exp_overwrite(m, op->addr, count);
		writes = count != 0 && count == size;
		kr = vm_write(maps[m], op->addr, copy, count);
		consumed = kr == KERN_SUCCESS;
	}
	limit_off();
	if (!consumed) {
		if (op->src != VD_SRC_PENDING)
			vm_map_copy_discard(copy);
	} else if (op->src == VD_SRC_PENDING) {
		pend[op->slot].valid = false;
		pend[op->slot].copy = NULL;
	}
	bool ok = expect_kr((op->flags & VD_F_OVERWRITE) ? "vm_map_copy_overwrite" : "vm_write",
	                    kr, want);
	if (ok && kr == KERN_SUCCESS && writes)
		model_write(m, op->addr, data, size);
	verify_range(m, op->addr, size, true);      /* the bytes it wrote, or must not have */
}

/* Maps copy (of size bytes, from addr) into the scratch map and compares it with want. */
/* Where copyout puts the first byte of size bytes read at addr, in its page. */
static unsigned landing_offset(uint64_t addr, uint64_t size)
{
	return size < 2 * PG ? 0 : addr & (PG - 1);    /* a kernel buffer: page-aligned, as XNU */
}

static void compare_copy(vm_map_copy_t copy, uint64_t addr, uint64_t size, const uint8_t *want)
{
	vm_address_t a = 0;
	kern_return_t kr = vm_map_copyout(scratch, &a, copy);

	if (kr != KERN_SUCCESS) {
		mismatch("vm_map_copyout into the scratch map returned %s", kr_name(kr));
		vm_map_copy_discard(copy);
		return;
	}
	if ((a & (PG - 1)) != landing_offset(addr, size))
		mismatch("vm_map_copyout put data from %#lx at %#lx: another offset in the page",
		         addr, a);
	kr = vm_map_read(scratch, a, rbuf, size);
	if (kr != KERN_SUCCESS)
		mismatch("vm_map_read of the copied-out data returned %s", kr_name(kr));
	else
		same_bytes("vm_read's data", addr, rbuf, want, size);
	kr = vm_deallocate(scratch, a, size);
	if (kr != KERN_SUCCESS)
		mismatch("vm_deallocate in the scratch map returned %s", kr_name(kr));
}

static void do_read(const struct vd_op *op)
{
	unsigned m = op->m;
	vm_map_copy_t copy = NULL;
	kern_return_t want = exp_read(m, op->addr, op->size);

	limit_on(op);
	kern_return_t kr = vm_read(maps[m], op->addr, op->size, &copy);
	limit_off();
	if (!expect_kr("vm_read", kr, want) || kr != KERN_SUCCESS || want != KERN_SUCCESS ||
	    op->size == 0) {
		if (kr == KERN_SUCCESS)
			vm_map_copy_discard(copy);
		verify_range(m, op->addr, op->size, false);
		return;
	}
	model_read(m, op->addr, snap, op->size);
	compare_copy(copy, op->addr, op->size, snap);
	verify_range(m, op->addr, op->size, op->flags & VD_F_VERIFY);
}

static void do_map_read(const struct vd_op *op)
{
	unsigned m = op->m;
	kern_return_t want = exp_read(m, op->addr, op->size);

	if (op->size > sizeof(rbuf))
		return;                /* the generator never makes these */
	limit_on(op);
	kern_return_t kr = vm_map_read(maps[m], op->addr, rbuf, op->size);
	limit_off();
	if (expect_kr("vm_map_read", kr, want) && kr == KERN_SUCCESS && op->size != 0) {
		model_read(m, op->addr, snap, op->size);
		same_bytes("vm_map_read", op->addr, rbuf, snap, op->size);
	}
	verify_range(m, op->addr, op->size, false);
}

static void do_copy(const struct vd_op *op)
{
	unsigned m = op->m;
	kern_return_t want = KERN_SUCCESS;

	if (op->size != 0) {
		want = exp_read(m, op->addr2, op->size);
		if (want == KERN_SUCCESS)
			want = exp_overwrite(m, op->addr, op->size);
	}
	limit_on(op);
	kern_return_t kr = vm_copy(maps[m], op->addr2, op->size, op->addr);
	limit_off();
	if (expect_kr("vm_copy", kr, want) && kr == KERN_SUCCESS && op->size != 0) {
		model_read(m, op->addr2, snap, op->size);
		model_write(m, op->addr, snap, op->size);
	}
	verify_range(m, op->addr, op->size, true);
	verify_range(m, op->addr2, op->size, false);
}

static void do_touch(const struct vd_op *op)
{
	unsigned m = op->m;
	vm_prot_t access = op->arg;
	uint64_t va = op->addr;
	pmap_t pm = maps[m]->pmap;
	kern_return_t want;
	bool either = false;           /* a read of a page mapped w or x only: x86 may allow it */

	if (!in_window(va) || !mp(m, va)->alloc)
		want = KERN_INVALID_ADDRESS;
	else if (mp(m, va)->prot & access)
		want = KERN_SUCCESS;
	else {
		want = KERN_PROTECTION_FAILURE;
		either = access == VM_PROT_READ && mp(m, va)->prot != VM_PROT_NONE;
	}

	kern_return_t kr = KERN_SUCCESS;
	vm_prot_t granted = pmap_access(pm, va);
	bool faulted = (granted & access) != access;
	limit_on(op);
	if (faulted) {
		kr = vm_fault(maps[m], va, access);
		if (kr == KERN_SUCCESS) {
			granted = pmap_access(pm, va);
			if ((granted & access) != access)
				mismatch("vm_fault(map%u, %#lx, %s) succeeded but the pmap grants only %#x",
				         m, va, access_name(access), granted);
			/*
			 * The mapping carries the entry's rights exactly, less
			 * write while the page is shared copy-on-write (never
			 * after a write fault).
			 */
			else if (in_window(va) && mp(m, va)->alloc) {
				vm_prot_t full = (vm_prot_t)hw_prot(mp(m, va)->prot);
				if (granted != full &&
				    (access == VM_PROT_WRITE || granted != (full & ~VM_PROT_WRITE)))
					mismatch("vm_fault(map%u, %#lx, %s): the pmap grants %#x, the "
					         "page's protection is %#x", m, va, access_name(access),
					         granted, mp(m, va)->prot);
			}
		}
	}
	limit_off();
	if (either && !faulted)
		want = KERN_SUCCESS;   /* the hardware lets it read: vm_fault itself must refuse */
	if (!expect_kr("touch", kr, want) || kr != KERN_SUCCESS || (granted & access) != access) {
		verify_range(m, va, 1, false);
		return;
	}
	paddr_t pa;
	if (!pmap_extract(pm, va, &pa)) {
		mismatch("map%u: pmap grants %#x at %#lx but pmap_extract finds nothing", m, granted,
		         va);
		return;
	}
	uint8_t *byte = pmap_phys_to_virt(pa);
	if (cfg.access_hook)
		cfg.access_hook(pm, va, access);
	if (access == VM_PROT_WRITE) {
		*byte = op->value;
		model_write(m, va, &op->value, 1);
	} else {
		uint8_t want_byte;
		model_read(m, va, &want_byte, 1);
		same_bytes("touch", va, byte, &want_byte, 1);
	}
	verify_range(m, va, 1, op->flags & VD_F_VERIFY);
}

static void do_fork(const struct vd_op *op)
{
	unsigned t = op->m, s = op->m2;

	limit_on(op);
	pmap_t pm = pmap_create();
	vm_map_t child = pm ? vm_map_fork(maps[s], pm) : NULL;
	limit_off();
	if (child == NULL) {
		if (pm)
			pmap_destroy(pm);
		if (cur_oom)
			st.shortage++;
		else
			mismatch("%s failed without a memory limit",
			         pm ? "vm_map_fork" : "pmap_create");
		check_map(s, false);
		return;
	}
	struct mpage next[VD_NPAGES];
	for (unsigned i = 0; i < VD_NPAGES; i++) {
		struct mpage *p = &model[s][i];
		next[i] = *p;
		if (!p->alloc || p->inh == VM_INHERIT_NONE) {
			next[i].alloc = 0;
			next[i].blk = -1;
		} else if (p->inh == VM_INHERIT_SHARE) {
			blocks[p->blk].ref++;
		} else {
			next[i].blk = (int16_t)blk_clone(p->blk);
		}
		next[i].wired = 0;
	}
	vm_map_deallocate(maps[t]);
	maps[t] = child;
	for (unsigned i = 0; i < VD_NPAGES; i++) {
		page_release(&model[t][i]);
		model[t][i] = next[i];
	}
	bool deep = op->flags & VD_F_VERIFY;
	check_map(t, deep);
	if (s != t)
		check_map(s, deep);
	last_kr = KERN_SUCCESS;
}

static void do_region(const struct vd_op *op)
{
	check_region(op->m, op->addr, (mach_msg_type_number_t)op->size);
}

static void pending_drop(unsigned slot)
{
	if (pend[slot].valid)
		vm_map_copy_discard(pend[slot].copy);
	pend[slot].valid = false;
	pend[slot].copy = NULL;
}

static void do_hold(const struct vd_op *op)
{
	struct pending *p = &pend[op->slot];
	vm_map_copy_t copy = NULL;
	uint64_t s, e;

	pending_drop(op->slot);
	kern_return_t want = exp_read(op->m2, op->addr2, op->size2);
	if (want == KERN_SUCCESS && op->size2 > VD_PEND_MAX)
		return;                /* the generator never makes these */
	limit_on(op);
	kern_return_t kr = vm_map_copyin(maps[op->m2], op->addr2, op->size2, &copy);
	limit_off();
	if (!expect_kr("vm_map_copyin", kr, want) || kr != KERN_SUCCESS) {
		if (kr == KERN_SUCCESS)
			vm_map_copy_discard(copy);
		verify_range(op->m2, op->addr2, op->size2, false);
		return;
	}
	p->valid = true;
	p->copy = copy;
	p->size = op->size2;
	p->offset = op->addr2 & (PG - 1);
	p->landing = landing_offset(op->addr2, op->size2);
	if (op->size2 && page_range(op->addr2, op->size2, &s, &e))
		model_read(op->m2, s, p->bytes, e - s);
	verify_range(op->m2, op->addr2, op->size2, op->flags & VD_F_VERIFY);
}

static void do_copyout(const struct vd_op *op)
{
	struct pending *p = &pend[op->slot];
	unsigned m = op->m;
	vm_address_t a = 0;

	if (!p->valid)
		return;
	if (p->size == 0) {
		pending_drop(op->slot);
		return;
	}
	uint64_t npages = ((p->landing + p->size + PG - 1) & ~(PG - 1)) / PG, fit;
	kern_return_t want = first_fit(m, npages, &fit) ? KERN_SUCCESS : KERN_NO_SPACE;
	limit_on(op);
	kern_return_t kr = vm_map_copyout(maps[m], &a, p->copy);
	limit_off();
	if (kr == KERN_SUCCESS) {
		p->valid = false;
		p->copy = NULL;
	}
	if (!expect_kr("vm_map_copyout", kr, want) || kr != KERN_SUCCESS) {
		verify_range(m, VD_MIN, VD_WINDOW, false);
		return;
	}
	uint64_t s = a & ~(PG - 1), e = s + npages * PG;
	if ((a & (PG - 1)) != p->landing || s < VD_MIN || e > VD_MAX || e < s) {
		mismatch("vm_map_copyout put %#lx bytes at offset %#x at %#lx: outside the map or "
		         "at another offset", p->size, p->landing, a);
		return;
	}
	for (uint64_t va = s; va < e; va += PG)
		if (mp(m, va)->alloc) {
			mismatch("vm_map_copyout put data at %#lx, over allocated page %#lx", a, va);
			return;
		}
	for (uint64_t va = s; va < e; va += PG)
		page_allocate(m, va);
	model_write(m, a, p->bytes + p->offset, p->size);
	/*
	 * The rest of the first and last pages is not specified: it must be
	 * zeroes or the source's own bytes (nothing else may leak); the model
	 * takes whatever the VM shows.
	 */
	uint64_t tail = a + p->size;
	kern_return_t kr2 = vm_map_read(maps[m], s, rbuf, e - s);
	if (kr2 != KERN_SUCCESS) {
		mismatch("vm_map_read of copied-out memory returned %s", kr_name(kr2));
		return;
	}
	for (uint64_t va = s; va < e; va++) {
		if (va == a) {
			va = tail - 1;
			continue;
		}
		uint8_t got = rbuf[va - s], src = p->bytes[va - s];
		if (got != 0 && got != src) {
			mismatch("vm_map_copyout: byte %#lx outside the data is %#x, neither zero nor "
			         "the source's %#x", va, got, src);
			break;
		}
		model_write(m, va, &got, 1);
	}
	verify_range(m, s, e - s, op->flags & VD_F_VERIFY);
}

/*
 * What a failed vm_wire must leave as it found it: the map's entries as
 * vm_region shows them, and each mapped page with its wire count; and
 * the memory objects hold, which must not grow.
 */
struct wire_snapshot {
	uint32_t nentries;
	unsigned nregions;
	struct {
		vm_address_t start;
		vm_size_t size;
		vm_region_basic_info_data_64_t info;
	} regions[VD_NPAGES + 1];
	struct vm_page *page[VD_NPAGES];
	uint32_t wire_count[VD_NPAGES];
	uint64_t objects, object_pages;
};

static struct wire_snapshot wire_before, wire_after;

static void wire_snapshot_take(unsigned m, struct wire_snapshot *s)
{
	struct vm_page_stats ps;
	vm_address_t a = 0;

	memset(s, 0, sizeof(*s));
	s->nentries = vm_map_entry_count(maps[m]);
	while (s->nregions <= VD_NPAGES) {
		mach_msg_type_number_t count = VM_REGION_BASIC_INFO_COUNT_64;
		vm_size_t size;
		vm_region_basic_info_data_64_t info;
		if (vm_region(maps[m], &a, &size, VM_REGION_BASIC_INFO_64, (vm_region_info_t)&info,
		              &count) != KERN_SUCCESS)
			break;
		s->regions[s->nregions].start = a;
		s->regions[s->nregions].size = size;
		s->regions[s->nregions++].info = info;
		a += size;
	}
	for (unsigned i = 0; i < VD_NPAGES; i++) {
		paddr_t pa;
		if (pmap_extract(maps[m]->pmap, VD_MIN + i * PG, &pa)) {
			s->page[i] = vm_page_from_phys(pa & ~(PG - 1));
			s->wire_count[i] = s->page[i]->wire_count;
		}
	}
	vm_page_get_stats(&ps);
	s->objects = vm_object_count();
	s->object_pages = ps.count[VM_PAGE_OBJECT];
}

/* Do the entries of two snapshots agree in everything vm_region shows? */
static bool same_regions(const struct wire_snapshot *a, const struct wire_snapshot *b)
{
	if (a->nentries != b->nentries || a->nregions != b->nregions)
		return false;
	for (unsigned i = 0; i < a->nregions; i++)
		if (a->regions[i].start != b->regions[i].start ||
		    a->regions[i].size != b->regions[i].size ||
		    memcmp(&a->regions[i].info, &b->regions[i].info, sizeof(a->regions[i].info)))
			return false;
	return true;
}

/* A failed vm_wire on map m against the snapshot taken before it: all or nothing. */
static void wire_check_unchanged(unsigned m, const struct wire_snapshot *before)
{
	wire_snapshot_take(m, &wire_after);
	if (!same_regions(before, &wire_after))
		mismatch("vm_wire failed (%s) but changed map%u's entries: %u entries in %u "
		         "regions before, %u in %u after", kr_name(last_kr), m, before->nentries,
		         before->nregions, wire_after.nentries, wire_after.nregions);
	for (unsigned i = 0; i < VD_NPAGES; i++)
		if (before->page[i] && before->page[i]->wire_count != before->wire_count[i]) {
			mismatch("vm_wire failed (%s) but the page at %#lx is wired %u times, "
			         "%u before", kr_name(last_kr), VD_MIN + i * PG,
			         before->page[i]->wire_count, before->wire_count[i]);
			break;
		}
	if (wire_after.objects > before->objects || wire_after.object_pages > before->object_pages)
		mismatch("vm_wire failed (%s) but left more memory: %lu objects with %lu pages "
		         "before, %lu with %lu after", kr_name(last_kr), before->objects,
		         before->object_pages, wire_after.objects, wire_after.object_pages);
}

static void do_wire(const struct vd_op *op)
{
	unsigned m = op->m;
	vm_prot_t access = op->arg;
	uint64_t s = 0, e = 0;
	kern_return_t want = KERN_SUCCESS;

	if (access & ~VM_PROT_ALL)                     /* arguments first, as XNU */
		want = KERN_INVALID_ARGUMENT;
	else if (op->size != 0 && !page_range(op->addr, op->size, &s, &e))
		want = KERN_INVALID_ARGUMENT;
	for (uint64_t va = s; va < e && want == KERN_SUCCESS; va += PG) {
		if (!in_window(va) || !mp(m, va)->alloc)
			want = KERN_INVALID_ADDRESS;
		else if ((mp(m, va)->prot & access) != (unsigned)access)
			want = KERN_PROTECTION_FAILURE;
	}
	wire_snapshot_take(m, &wire_before);
	limit_on(op);
	kern_return_t kr = vm_wire(maps[m], op->addr, op->size, access);
	limit_off();
	if (expect_kr("vm_wire", kr, want) && kr == KERN_SUCCESS) {
		for (uint64_t va = s; va < e; va += PG)
			mp(m, va)->wired = access != VM_PROT_NONE;
	}
	if (kr != KERN_SUCCESS)
		wire_check_unchanged(m, &wire_before);
	verify_range(m, op->addr, op->size, op->flags & VD_F_VERIFY);
}

unsigned vd_execute(const struct vd_op *op)
{
	uint64_t before = st.mismatches;

	op_mismatches_before = before;
	opno = st.ops++;
	cur_op = op;
	cur_reported = false;
	cur_oom = false;
	last_kr = -1;
	if (cfg.trace)
		vd_print_op(opno, op);
	if (op->kind < VD_KINDS)
		st.by_kind[op->kind]++;
	switch (op->kind) {
	case VD_ALLOCATE: do_allocate(op); break;
	case VD_DEALLOCATE: do_deallocate(op); break;
	case VD_PROTECT: do_protect(op); break;
	case VD_INHERIT: do_inherit(op); break;
	case VD_WRITE: do_write(op); break;
	case VD_READ: do_read(op); break;
	case VD_MAP_READ: do_map_read(op); break;
	case VD_COPY: do_copy(op); break;
	case VD_TOUCH: do_touch(op); break;
	case VD_FORK: do_fork(op); break;
	case VD_REGION: do_region(op); break;
	case VD_HOLD: do_hold(op); break;
	case VD_COPYOUT: do_copyout(op); break;
	case VD_WIRE: do_wire(op); break;
	case VD_CHECK:
		check_all();
		last_kr = st.mismatches == before ? KERN_SUCCESS : KERN_FAILURE;
		break;
	default: break;
	}
	if (cur_oom)
		vm_page_set_reserve_floor(0);
	if (last_kr == KERN_SUCCESS && op->kind < VD_KINDS)
		st.success_by_kind[op->kind]++;
	cur_op = NULL;
	return (unsigned)(st.mismatches - before);
}

uint64_t vd_operations_done(void)
{
	return st.ops;
}

bool vd_should_stop(void)
{
	return cfg.max_mismatches && st.mismatches >= cfg.max_mismatches;
}

/* ------------------------------------------------------------- the generator */

/* A random allocated page of map m (or any page of the window when none is). */
static uint64_t some_page(unsigned m)
{
	unsigned start = (unsigned)below(VD_NPAGES);

	for (unsigned k = 0; k < VD_NPAGES; k++) {
		unsigned i = (start + k) % VD_NPAGES;
		if (model[m][i].alloc)
			return VD_MIN + i * PG;
	}
	return VD_MIN + start * PG;
}

static uint64_t gen_addr(unsigned m)
{
	unsigned r = (unsigned)below(100);

	if (r < 45)
		return some_page(m);
	if (r < 60)
		return VD_MIN + below(VD_NPAGES) * PG;
	if (r < 80)
		return some_page(m) + below(PG);
	if (r < 88)                            /* the map's edges */
		return (chance(50) ? VD_MIN : VD_MAX) + (below(5) - 2) * PG +
		       (chance(30) ? below(PG) : 0);
	switch (below(8)) {                    /* far away */
	case 0: return 0;
	case 1: return below(VD_MIN);
	case 2: return ~0ul - below(3 * PG);
	case 3: return (~0ul & ~(PG - 1)) - below(3) * PG;
	case 4: return 1ul << 47;
	case 5: return 1ul << 63;
	case 6: return VD_MAX + below(1ul << 32);
	default: return rnd();
	}
}

/* A size for a range at addr. */
static uint64_t gen_size(uint64_t addr)
{
	unsigned r = (unsigned)below(100);

	if (r < 6)
		return 0;
	if (r < 45)
		return (1 + below(4)) * PG;
	if (r < 65)
		return 1 + below(3 * PG);
	if (r < 75)
		return 1 + below(64);
	if (r < 85)
		return 1 + below(VD_WINDOW);
	if (r < 91)                            /* to the map's end, give or take */
		return VD_MAX - addr + (below(3) - 1) * PG + (chance(30) ? below(PG) : 0);
	switch (below(6)) {                    /* overflowing */
	case 0: return ~0ul;
	case 1: return -addr;                  /* ends exactly at 2^64 */
	case 2: return -addr - below(PG);      /* rounds up past 2^64 */
	case 3: return -addr + 1 + below(PG);
	case 4: return 1ul << 63;
	default: return ~0ul - below(2 * PG);
	}
}

/* A small size, for data that has to fit the test's buffers. */
static uint64_t gen_small_size(uint64_t max)
{
	unsigned r = (unsigned)below(100);

	if (r < 5)
		return 0;
	if (r < 45)
		return (1 + below(max / PG)) * PG;
	if (r < 70)
		return 1 + below(256);
	return 1 + below(max);
}

static int gen_prot(void)
{
	if (chance(3))
		return chance(50) ? 8 + (int)below(8) : -1;
	static const int common[] = {
		VM_PROT_READ | VM_PROT_WRITE, VM_PROT_READ, VM_PROT_READ | VM_PROT_EXECUTE,
		VM_PROT_NONE, VM_PROT_ALL,
	};
	return chance(60) ? common[below(5)] : (int)below(8);
}

static void gen_write(struct vd_op *op)
{
	unsigned r = (unsigned)below(100);
	uint64_t off;

	op->m = (uint8_t)below(VD_NMAPS);
	op->flags |= chance(30) ? VD_F_OVERWRITE : 0;
	bool have_pending = pend[0].valid || pend[1].valid;
	if (r < 50) {
		op->src = VD_SRC_COPYIN;
		op->m2 = chance(40) ? op->m : (uint8_t)below(VD_NMAPS);
		if (chance(45)) {              /* whole pages: the substitution path */
			op->addr2 = some_page(op->m2);
			op->size2 = (1 + below(chance(80) ? 4 : VD_NPAGES / 2)) * PG;
		} else {
			op->addr2 = chance(90) ? some_page(op->m2) + below(PG) : gen_addr(op->m2);
			op->size2 = chance(95) ? gen_small_size(4 * PG) : gen_size(op->addr2);
		}
		off = op->addr2 & (PG - 1);
	} else if (r < 85 || !have_pending) {
		op->src = VD_SRC_KERNEL;
		op->addr2 = chance(50) ? 0 : below(PG);
		op->size2 = gen_small_size(VD_KBUF_MAX);
		if (chance(40))
			op->size2 &= ~(PG - 1);
		op->data_seed = (uint32_t)rnd();
		off = op->addr2;
	} else {
		op->src = VD_SRC_PENDING;
		op->slot = pend[0].valid ? (pend[1].valid ? (uint8_t)below(2) : 0) : 1;
		off = pend[op->slot].offset;
	}
	unsigned t = (unsigned)below(100);
	if (t < 50)
		op->addr = some_page(op->m) + off;     /* same alignment as the data */
	else if (t < 65)
		op->addr = some_page(op->m);
	else if (t < 85)
		op->addr = some_page(op->m) + below(PG);
	else
		op->addr = gen_addr(op->m);
	if (!(op->flags & VD_F_OVERWRITE) && chance(3)) {
		op->flags |= VD_F_BADCOUNT;
		do
			op->arg = (int)below(2 * PG) - (int)PG;
		while (op->arg == 0);
	}
	op->size = op->size2;
}

/* Allocated pages of map m from va on, without a hole (at most 16). */
static unsigned allocated_run(unsigned m, uint64_t va)
{
	unsigned n = 0;

	while (n < 16 && in_window(va + n * PG) && mp(m, va + n * PG)->alloc)
		n++;
	return n;
}

/*
 * A wiring or unwiring, mostly of allocated pages, often across several
 * entries, and often with memory running out partway (fewer frames than
 * the range has pages), where all or nothing shows.
 */
static void gen_wire(struct vd_op *op)
{
	static const int access[] = {
		VM_PROT_READ, VM_PROT_READ, VM_PROT_READ, VM_PROT_READ | VM_PROT_WRITE,
		VM_PROT_READ | VM_PROT_WRITE, VM_PROT_READ | VM_PROT_EXECUTE, VM_PROT_ALL,
		VM_PROT_WRITE, VM_PROT_EXECUTE,
	};
	unsigned npages = 1;

	if (chance(80)) {
		op->addr = some_page(op->m);
		unsigned run = allocated_run(op->m, op->addr);
		npages = run ? 1 + (unsigned)below(run) : 1;
		op->size = npages * PG;
		if (chance(20)) {                  /* the same pages, from unaligned ends */
			op->addr += below(PG);
			op->size -= below(PG) + (op->addr & (PG - 1));
		}
	} else {
		op->addr = gen_addr(op->m);
		op->size = gen_size(op->addr);
	}
	if (chance(3))
		op->arg = chance(50) ? 8 + (int)below(8) : -1;
	else
		op->arg = chance(25) ? VM_PROT_NONE : access[below(9)];
	if (chance(40))
		op->oom = (uint8_t)(1 + below(npages + 2));
}

void vd_generate(struct vd_op *op)
{
	memset(op, 0, sizeof(*op));
	if (cfg.check_every && ++since_check >= cfg.check_every) {
		since_check = 0;
		op->kind = VD_CHECK;
		return;
	}
	static const struct { uint8_t kind, weight; } weights[] = {
		{ VD_ALLOCATE, 12 }, { VD_DEALLOCATE, 7 }, { VD_PROTECT, 10 }, { VD_INHERIT, 6 },
		{ VD_WRITE, 22 }, { VD_READ, 6 }, { VD_MAP_READ, 4 }, { VD_COPY, 8 },
		{ VD_TOUCH, 20 }, { VD_FORK, 2 }, { VD_REGION, 3 }, { VD_HOLD, 3 },
		{ VD_COPYOUT, 2 }, { VD_WIRE, 6 },
	};
	unsigned total = 0, r;
	unsigned n = sizeof(weights) / sizeof(weights[0]);
	for (unsigned i = 0; i < n; i++)
		if (!(cfg.skip_kinds & (1u << weights[i].kind)))
			total += weights[i].weight;
	if (total == 0) {
		op->kind = VD_CHECK;
		return;
	}
	r = (unsigned)below(total);
	unsigned i = 0;
	for (;; i++) {
		if (cfg.skip_kinds & (1u << weights[i].kind))
			continue;
		if (r < weights[i].weight)
			break;
		r -= weights[i].weight;
	}
	op->kind = weights[i].kind;
	op->m = (uint8_t)below(VD_NMAPS);
	op->flags = chance(20) ? VD_F_VERIFY : 0;
	if (chance(2))
		op->oom = (uint8_t)(1 + below(8));

	switch (op->kind) {
	case VD_ALLOCATE:
		if (chance(50)) {
			op->arg = VM_FLAGS_ANYWHERE;
			op->addr = chance(80) ? 0 : gen_addr(op->m);
		} else {
			op->arg = VM_FLAGS_FIXED;
			op->addr = gen_addr(op->m);
		}
		op->size = chance(70) ? (1 + below(4)) * PG - (chance(20) ? below(PG) : 0)
		                      : gen_size(op->addr);
		if (chance(3))
			op->arg = chance(50) ? 2 : (int)(rnd() | 2);
		break;
	case VD_DEALLOCATE:
	case VD_INHERIT:
		op->addr = gen_addr(op->m);
		op->size = gen_size(op->addr);
		if (op->kind == VD_INHERIT)
			op->arg = chance(4) ? 3 + (int)below(100) : (int)below(3);
		break;
	case VD_PROTECT:
		op->addr = gen_addr(op->m);
		op->size = gen_size(op->addr);
		op->arg = gen_prot();
		op->flags |= chance(25) ? VD_F_SETMAX : 0;
		break;
	case VD_WRITE:
		gen_write(op);
		break;
	case VD_READ:
		op->addr = gen_addr(op->m);
		op->size = chance(85) ? gen_small_size(8 * PG) : gen_size(op->addr);
		break;
	case VD_MAP_READ:
		op->addr = gen_addr(op->m);
		op->size = gen_small_size(8 * PG);
		break;
	case VD_COPY:
		op->addr2 = chance(85) ? some_page(op->m) + (chance(50) ? 0 : below(PG))
		                       : gen_addr(op->m);
		op->addr = chance(50) ? some_page(op->m) + (op->addr2 & (PG - 1))
		                      : chance(80) ? some_page(op->m) + below(PG) : gen_addr(op->m);
		op->size = chance(90) ? gen_small_size(6 * PG) : gen_size(op->addr2);
		break;
	case VD_TOUCH: {
		uint64_t page = chance(90) ? some_page(op->m)
		                           : VD_MIN + (below(VD_NPAGES + 4) - 2) * PG;
		op->addr = page + below(PG);
		unsigned a = (unsigned)below(100);
		op->arg = a < 45 ? VM_PROT_READ : a < 90 ? VM_PROT_WRITE : VM_PROT_EXECUTE;
		op->value = (uint8_t)rnd();
		break;
	}
	case VD_FORK:
		op->m2 = (uint8_t)below(VD_NMAPS);
		break;
	case VD_REGION:
		op->addr = chance(80) ? VD_MIN + below(VD_WINDOW + PG) : gen_addr(op->m);
		op->size = chance(92) ? VM_REGION_BASIC_INFO_COUNT_64 + below(3)
		                      : below(VM_REGION_BASIC_INFO_COUNT_64);
		break;
	case VD_HOLD:
		op->slot = (uint8_t)below(VD_PENDING);
		op->m2 = (uint8_t)below(VD_NMAPS);
		op->addr2 = chance(50) ? some_page(op->m2) : some_page(op->m2) + below(PG);
		op->size2 = chance(95) ? gen_small_size(8 * PG) : gen_size(op->addr2);
		if (op->size2 > VD_PEND_MAX)
			op->size2 = VD_PEND_MAX - below(PG);
		break;
	case VD_COPYOUT:
		op->slot = (uint8_t)below(VD_PENDING);
		break;
	case VD_WIRE:
		gen_wire(op);
		break;
	}
}

/* ------------------------------------------------------------- start and finish */

static void counts(uint64_t *objects, uint64_t *object_pages, uint64_t *pagetables,
                   uint64_t *kalloc)
{
	struct vm_page_stats s;

	vm_page_get_stats(&s);
	*objects = vm_object_count();
	*object_pages = s.count[VM_PAGE_OBJECT];
	*pagetables = s.count[VM_PAGE_PAGETABLE];
	*kalloc = kalloc_in_use();
}

static vm_map_t new_map(vm_offset_t min, vm_offset_t max)
{
	pmap_t pm = pmap_create();
	vm_map_t map = pm ? vm_map_create(pm, min, max) : NULL;

	if (map == NULL && pm)
		pmap_destroy(pm);
	return map;
}

bool vd_start(const struct vd_config *c)
{
	cfg = *c;
	memset(&st, 0, sizeof(st));
	uint64_t x = cfg.seed;
	rng_state = splitmix(&x) | 1;
	since_check = 0;
	opno = 0;
	memset(blocks, 0, sizeof(blocks));
	data_nfree = 0;
	for (int i = VD_NDATA - 1; i >= 0; i--)
		data_free[data_nfree++] = (int16_t)i;
	for (unsigned m = 0; m < VD_NMAPS; m++)
		for (unsigned i = 0; i < VD_NPAGES; i++)
			model[m][i] = (struct mpage){ .blk = -1 };
	for (unsigned i = 0; i < VD_PENDING; i++)
		pend[i].valid = false;
	counts(&start_counts.objects, &start_counts.object_pages, &start_counts.pagetables,
	       &start_counts.kalloc);
	for (unsigned m = 0; m < VD_NMAPS; m++) {
		maps[m] = new_map(VD_MIN, VD_MAX);
		if (maps[m] == NULL) {
			kprintf("# vm_diff: cannot create map %u\n", m);
			return false;
		}
	}
	scratch = new_map(SCRATCH_MIN, SCRATCH_MAX);
	if (scratch == NULL) {
		kprintf("# vm_diff: cannot create the scratch map\n");
		return false;
	}
	return true;
}

void vd_finish(struct vd_stats *out)
{
	uint64_t objects, object_pages, pagetables, kalloc;

	cur_op = NULL;
	check_all();
	for (unsigned i = 0; i < VD_PENDING; i++)
		pending_drop(i);
	for (unsigned m = 0; m < VD_NMAPS; m++) {
		if (maps[m])
			vm_map_deallocate(maps[m]);
		maps[m] = NULL;
		for (unsigned i = 0; i < VD_NPAGES; i++)
			page_release(&model[m][i]);
	}
	if (scratch)
		vm_map_deallocate(scratch);
	scratch = NULL;
	counts(&objects, &object_pages, &pagetables, &kalloc);
	st.leaks = 0;
	if (objects != start_counts.objects || object_pages != start_counts.object_pages ||
	    pagetables != start_counts.pagetables || kalloc != start_counts.kalloc) {
		st.leaks = 1;
		kprintf("# vm_diff: leak: objects %lu -> %lu, object pages %lu -> %lu, page tables "
		        "%lu -> %lu, kalloc blocks %lu -> %lu\n", start_counts.objects, objects,
		        start_counts.object_pages, object_pages, start_counts.pagetables, pagetables,
		        start_counts.kalloc, kalloc);
	}
	for (unsigned i = 0; i < VD_NBLOCKS; i++)
		if (blocks[i].ref) {
			kprintf("# vm_diff: model leaked block %u\n", i);
			break;
		}
	*out = st;
}

void vd_run(const struct vd_config *c, uint64_t n, struct vd_stats *out)
{
	struct vd_op op;

	if (!vd_start(c)) {
		memset(out, 0, sizeof(*out));
		out->mismatches = 1;
		return;
	}
	for (uint64_t i = 0; i < n && !vd_should_stop(); i++) {
		vd_generate(&op);
		vd_execute(&op);
	}
	vd_finish(out);
}
