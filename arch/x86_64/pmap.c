/*
 * x86-64 pmap: four-level page tables and the reverse maps (vm/pmap.h is
 * the interface).
 *
 * The pmap is a cache of vm_map state.  It may forget a mapping (vm_fault
 * makes it again), but every removal or reduction of rights it is asked
 * for is in the page tables, and out of the TLB, when the call returns.
 * The pmap alone knows the hardware bits: P, RW, US, PWT/PCD, A, D, PS,
 * G and NX here, CR3 and INVLPG in its CPU half (arch/x86_64/pmap_cpu.h).
 * This file reaches memory only through pmap_phys_to_virt and the TLB
 * only through pmap_tlb_invalidate, so the host tests run it as it is,
 * over page tables in malloc'd memory.
 *
 * Invariants:
 *  - a page's effective rights are its leaf entry's: intermediate entries
 *    are always P|RW (plus US in user space) and never NX;
 *  - the kernel half (PML4 entries 256-511) is made at bootstrap and
 *    copied into every pmap; its top-level entries never change after;
 *  - every mapping made by pmap_enter has a pv_entry on its page's pv
 *    list, so pmap_page_protect can find all of them; pmap_kenter mappings
 *    are wired kernel mappings and have none;
 *  - a user table below the PML4 counts its present entries; pmap_remove
 *    frees each table it leaves at zero, and a failed pmap_enter the
 *    tables it made, so a task's tables follow what it maps (a table that
 *    pmap_page_protect empties waits for the next remove over it, or for
 *    pmap_destroy);
 *  - no frame is writable through one mapping and executable through
 *    another (pmap_audit checks this, and W^X, after boot and in tests).
 *
 * Locking: pmap->lock covers a pmap's tables, pv_lock every pv list.  The
 * walk from a page to its mappings (pmap_page_protect) holds pv_lock
 * first, against the order (kern/lock.h), so it only try-locks each pmap
 * and starts again when that fails; the A/D calls take no pmap lock.
 */
#include "arch/x86_64/pmap_cpu.h"
#include "arch/x86_64/layout.h"
#include "kern/console.h"
#include "kern/lock.h"
#include "kern/panic.h"
#include "lib/string.h"
#include "kern/zone.h"
#include "vm/pmap.h"

/*
 * One mapping of a managed page: pmap and virtual address.  Locks:
 * (v) pv_lock, (c) set before it is linked, under its pmap's lock.
 */
struct pv_entry {
	struct pv_entry *next;         /* (v) the page's next mapping */
	struct pmap *pmap;             /* (c) */
	vm_offset_t va;                /* (c) */
};

static struct pmap kernel_pmap_store;
struct pmap *const kernel_pmap = &kernel_pmap_store;

static struct spinlock pv_lock = SPINLOCK_INIT("pv_lists", LOCK_RANK_PV);
static struct zone pmap_zone, pv_zone;

/*
 * Removal windows.  A removal unlinks a mapping's pv entry, under
 * pv_lock, before it flushes the TLBs that may hold the mapping, under
 * the pmap's lock.  A walk from the page (pmap_page_protect) that runs in
 * between no longer finds the mapping, nor so the pmap's lock to wait
 * on, yet another CPU may still write through it: the walk would return
 * with a translation it was asked to take away still live.  So each CPU
 * keeps a count that is odd while it has unlinked entries it has not
 * flushed yet, and a walk, once it has let go of pv_lock, waits until
 * every window open when it looked has closed.  A window opens and
 * closes inside one hold of a pmap's spin lock, so the wait is short
 * and the window cannot be this CPU's.  Locks: (a) atomic, written only
 * by its CPU.
 */
static uint32_t removal_window[MACHINE_MAX_CPUS];

/* This CPU is about to unlink a pv entry.  => a pmap's lock held */
static void removal_window_open(void)
{
	uint32_t *w = &removal_window[machine_cpu_number()];

	if ((*w & 1) == 0)
		__atomic_store_n(w, *w + 1, __ATOMIC_RELAXED);   /* pv_lock's release publishes it */
}

/* This CPU's unlinked entries are out of every TLB now.  => the same hold of that lock */
static void removal_window_close(void)
{
	uint32_t *w = &removal_window[machine_cpu_number()];

	if (*w & 1)
		__atomic_store_n(w, *w + 1, __ATOMIC_RELEASE);
}

/*
 * Waits until every other CPU's window, open now, has closed: what pv
 * lists looked like under pv_lock before this call is then also true of
 * the TLBs.  => pv_lock let go since the look, no pmap lock held
 */
static void removal_windows_wait(void)
{
	unsigned me = machine_cpu_number();

	for (unsigned i = 0, n = machine_cpu_count(); i < n; i++) {
		uint32_t seen = __atomic_load_n(&removal_window[i], __ATOMIC_ACQUIRE);
		while (i != me && (seen & 1) &&
		       __atomic_load_n(&removal_window[i], __ATOMIC_ACQUIRE) == seen)
			machine_spin_pause();      /* answers a shootdown the window waits for */
	}
}

/* Bootstrap memory: page tables and the frame table, before vm_page exists. */
static struct {
	paddr_t start, next, end;      /* stolen [start, next) out of [start, end) */
	bool closed;                   /* vm_page owns memory: no more stealing */
} boot_mem;

/* -------------------------------------------------------------- addresses */

uintptr_t pmap_direct_base;     /* 0: identity-mapped bootstrap; then DMAP_BASE */

static uint64_t *table_at(paddr_t pa)
{
	return pmap_phys_to_virt(pa);
}

static bool is_user_va(vm_offset_t va)
{
	return va < USER_MAX;
}

/*
 * A virtual address splits into four table indexes and an offset:
 *
 *   47     39 38     30 29     21 20     12 11          0
 *  +---------+---------+---------+---------+-------------+
 *  |  PML4   |  PDPT   |   PD    |   PT    |   offset    |
 *  +---------+---------+---------+---------+-------------+
 *
 * (bits 63..48 repeat bit 47).  Level 4 is the PML4, level 1 the PT.
 */
#define PT_ENTRIES 512                  /* entries in a table of any level */

static unsigned pt_index(vm_offset_t va, int level)
{
	return (va >> (PAGE_SHIFT + 9 * (level - 1))) & (PT_ENTRIES - 1);
}

static uint64_t level_size(int level)
{
	return 1ull << (PAGE_SHIFT + 9 * (level - 1));
}

/* ------------------------------------------------------- protection bits */

static vm_prot_t pte_prot(uint64_t pte)
{
	if (!(pte & PTE_P))
		return VM_PROT_NONE;
	return VM_PROT_READ | ((pte & PTE_RW) ? VM_PROT_WRITE : 0) |
	       ((pte & PTE_NX) ? 0 : VM_PROT_EXECUTE);
}

/* ------------------------------------------------------- table pages */

static paddr_t steal_phys(size_t size);

/* A zeroed page for a page table: stolen during bootstrap, then from vm_page. */
static paddr_t table_page_alloc(void)
{
	if (!boot_mem.closed)
		return steal_phys(PAGE_SIZE);
	struct vm_page *p = vm_page_alloc(VM_PAGE_PAGETABLE, VM_PAGE_ZERO);
	return p ? vm_page_to_phys(p) : 0;
}

static void table_page_free(paddr_t pa)
{
	vm_page_free(vm_page_from_phys(pa));
}

/*
 * The count of present entries a user table below the PML4 keeps in its
 * frame's wire_count (as FreeBSD's page-table pages keep theirs), so that
 * range operations pass over a page table with none without reading its
 * entries, and a table that comes to none can be freed at once.  pte is
 * any entry of the table.  Kernel tables, some made before the frame
 * table, are not counted.  => pmap->lock held, pte in one of its tables
 */
static uint32_t *pt_present_count(struct pmap *pmap, const uint64_t *pte)
{
	PMAP_ASSERT_LOCKED(pmap);
	paddr_t table = pmap_direct_to_phys(pte) & ~(paddr_t)PAGE_MASK;

	return &vm_page_from_phys(table)->wire_count;
}

/*
 * The entry for va at the given level (1 = PT), making missing tables on
 * the way when alloc is set.  NULL when a table is missing (and !alloc, or
 * out of memory), or when a large page maps va above that level.
 * => with alloc, pmap->lock held (or bootstrap).  A walk that makes
 * nothing may run without it, as the CPU's own walks do: under pv_lock
 * (page_ad_bits), or for the CPU half (pmap_pte).
 */
static uint64_t *walk(struct pmap *pmap, vm_offset_t va, int level, bool alloc)
{
	uint64_t *table = pmap->pml4;

	if (alloc && boot_mem.closed)
		PMAP_ASSERT_LOCKED(pmap);

	for (int l = 4; l > level; l--) {
		uint64_t *e = &table[pt_index(va, l)];
		if (!(*e & PTE_P)) {
			paddr_t pa = alloc ? table_page_alloc() : 0;
			if (pa == 0)
				return NULL;
			*e = pa | PTE_P | PTE_RW | (is_user_va(va) ? PTE_US : 0);
			if (is_user_va(va) && l < 4)
				(*pt_present_count(pmap, e))++;
		} else if (*e & PTE_PS) {
			return NULL;
		}
		table = table_at(*e & PTE_ADDR);
	}
	return &table[pt_index(va, level)];
}

/* The leaf entry mapping va at any level, and that level; NULL if none. */
static uint64_t *find_leaf(struct pmap *pmap, vm_offset_t va, int *level)
{
	uint64_t *table = pmap->pml4;

	for (int l = 4; l >= 1; l--) {
		uint64_t *e = &table[pt_index(va, l)];
		if (!(*e & PTE_P))
			return NULL;
		if (l == 1 || (*e & PTE_PS)) {
			*level = l;
			return l == 4 ? NULL : e;
		}
		table = table_at(*e & PTE_ADDR);
	}
	return NULL;
}

uint64_t *pmap_pte(struct pmap *pmap, vm_offset_t va)
{
	return walk(pmap, va, 1, false);
}

/*
 * Unlinks the user tables over va that map nothing, the lowest first,
 * and chains their frames on *dead.  The caller flushes the TLB before
 * it frees them: until then the CPU may still walk through them.
 * => pmap->lock held
 */
static void unlink_empty_tables(struct pmap *pmap, vm_offset_t va, struct vm_page **dead)
{
	uint64_t *path[5];             /* path[l]: the level-l entry over va */
	int l = 4;

	PMAP_ASSERT_LOCKED(pmap);
	path[4] = &pmap->pml4[pt_index(va, 4)];
	while (l > 2 && (*path[l] & PTE_P)) {
		path[l - 1] = &table_at(*path[l] & PTE_ADDR)[pt_index(va, l - 1)];
		l--;
	}
	for (; l <= 4; l++) {
		if (!(*path[l] & PTE_P))
			continue;
		struct vm_page *table = vm_page_from_phys(*path[l] & PTE_ADDR);
		if (table->wire_count != 0)
			return;
		*path[l] = 0;
		if (l < 4)
			(*pt_present_count(pmap, path[l]))--;
		table->next = *dead;
		*dead = table;
	}
}

/* Frees the tables unlink_empty_tables chained, once the TLB is flushed. */
static void free_dead_tables(struct vm_page *dead)
{
	while (dead != NULL) {
		struct vm_page *next = dead->next;
		vm_page_free(dead);
		dead = next;
	}
}

/* ------------------------------------------------------- bootstrap */

/* Picks the largest usable region between 1 MiB and 4 GiB to steal from. */
static void boot_mem_init(const struct boot_info *bi)
{
	for (uint32_t i = 0; i < bi->mmap_count; i++) {
		const struct boot_mmap_entry *e = &bi->mmap[i];
		paddr_t lo = round_page(e->base < (1ull << 20) ? (1ull << 20) : e->base);
		paddr_t hi = trunc_page(e->base + e->length);
		if (hi > (4ull << 30))
			hi = 4ull << 30;
		if (e->type == BOOT_MEM_USABLE && hi > lo &&
		    hi - lo > boot_mem.end - boot_mem.start) {
			boot_mem.start = boot_mem.next = lo;
			boot_mem.end = hi;
		}
	}
	if (boot_mem.end == 0)
		panic("pmap_bootstrap: no usable memory between 1 MiB and 4 GiB");
}

/* Takes size bytes (whole pages) of zeroed bootstrap memory. */
static paddr_t steal_phys(size_t size)
{
	size = round_page(size);
	KASSERT(!boot_mem.closed, "pmap_steal_memory: called after vm_page_bootstrap");
	if (boot_mem.end - boot_mem.next < size)
		panic("pmap_steal_memory: %zu bytes do not fit in bootstrap memory", size);
	paddr_t pa = boot_mem.next;
	boot_mem.next += size;
	memset(pmap_phys_to_virt(pa), 0, size);
	return pa;
}

void *pmap_steal_memory(size_t size)
{
	return pmap_phys_to_virt(steal_phys(size));
}

bool pmap_frame_available(paddr_t pa)
{
	return pa >= (1ull << 20) && !(pa >= boot_mem.start && pa < boot_mem.next);
}

void pmap_boot_map(vm_offset_t va, paddr_t pa, uint64_t size, uint64_t bits, int max_level)
{
	while (size > 0) {
		int level = 1;
		for (int l = max_level; l >= 2; l--)
			if (((va | pa) & (level_size(l) - 1)) == 0 && size >= level_size(l)) {
				level = l;
				break;
			}
		uint64_t *e = walk(kernel_pmap, va, level, true);
		*e = pa | bits | (level > 1 ? PTE_PS : 0);
		va += level_size(level);
		pa += level_size(level);
		size -= level_size(level);
	}
}

void pmap_tables_bootstrap(const struct boot_info *bi)
{
	boot_mem_init(bi);
	kernel_pmap->pml4_pa = table_page_alloc();
	kernel_pmap->pml4 = table_at(kernel_pmap->pml4_pa);
	spin_lock_init(&kernel_pmap->lock, "kernel_pmap", LOCK_RANK_PMAP);
	walk(kernel_pmap, KVA_BASE, 3, true);     /* the kernel-VM PDPT, shared by all */
}

uint64_t pmap_pv_entries(void)
{
	return zone_in_use(&pv_zone);
}

void pmap_virtual_space(vm_offset_t *start, vm_offset_t *end)
{
	*start = KVA_BASE;
	*end = KVA_BASE + KVA_SIZE;
}

void pmap_init(void)
{
	boot_mem.closed = true;        /* vm_page owns free memory from now on */
	zone_init(&pmap_zone, "pmap", sizeof(struct pmap));
	zone_init(&pv_zone, "pv_entry", sizeof(struct pv_entry));
	pv_zone.follows_maps = true;
}

/* ------------------------------------------------------- reverse maps */

/* pmap-private page flags, gathered from mappings that are gone */
#define PG_REFERENCED 0x1
#define PG_MODIFIED   0x2

static uint8_t page_flags_of(uint64_t pte)
{
	return ((pte & PTE_A) ? PG_REFERENCED : 0) | ((pte & PTE_D) ? PG_MODIFIED : 0);
}

/* => pmap->lock held */
static void pv_insert(struct vm_page *page, struct pv_entry *pv, struct pmap *pmap,
                      vm_offset_t va)
{
	PMAP_ASSERT_LOCKED(pmap);
	pv->pmap = pmap;
	pv->va = va;
	spin_lock(&pv_lock);
	pv->next = page->pv_list;
	page->pv_list = pv;
	spin_unlock(&pv_lock);
}

/*
 * Unlinks the pv entry of (pmap, va) from page and keeps the A/D bits of
 * the dying mapping; returns the entry for the caller to free.
 * => pv_lock held
 */
static struct pv_entry *pv_unlink(struct vm_page *page, struct pmap *pmap, vm_offset_t va,
                                  uint64_t old_pte)
{
	LOCK_ASSERT_HELD(&pv_lock);
	for (struct pv_entry **pp = &page->pv_list; *pp; pp = &(*pp)->next) {
		struct pv_entry *pv = *pp;
		if (pv->pmap == pmap && pv->va == va) {
			*pp = pv->next;
			page->pmap_flags |= page_flags_of(old_pte);
			return pv;
		}
	}
	panic("pv_unlink: frame %#lx has no pv entry for %#lx", vm_page_to_phys(page), va);
}

/*
 * Clears the 4 KiB mapping *pte of va; for a managed page, drops its pv
 * entry.  The caller flushes the TLB, then closes the removal window,
 * before it lets go of the lock.  => pmap->lock held
 */
static void remove_pte(struct pmap *pmap, uint64_t *pte, vm_offset_t va)
{
	PMAP_ASSERT_LOCKED(pmap);
	uint64_t old = __atomic_exchange_n(pte, 0, __ATOMIC_SEQ_CST);

	if ((old & PTE_P) && is_user_va(va))
		(*pt_present_count(pmap, pte))--;
	if (!(old & PTE_P) || !(old & PTE_MANAGED))
		return;
	struct vm_page *page = vm_page_from_phys(old & PTE_ADDR);
	removal_window_open();
	spin_lock(&pv_lock);
	struct pv_entry *pv = pv_unlink(page, pmap, va, old);
	spin_unlock(&pv_lock);
	zfree(&pv_zone, pv);
	pmap->resident--;
}

/* ------------------------------------------------------- the interface */

static void assert_range(struct pmap *pmap, vm_offset_t start, vm_offset_t end)
{
	KASSERT((start & PAGE_MASK) == 0 && (end & PAGE_MASK) == 0 && start <= end,
	        "pmap: bad range %#lx-%#lx", start, end);
	KASSERT(pmap == kernel_pmap ? start >= KVA_BASE : end <= USER_MAX,
	        "pmap: range %#lx-%#lx is outside this pmap's half", start, end);
}

/* Makes *pte map page with bits, in place of what it mapped.  => pmap->lock held */
static void install_pte(struct pmap *pmap, uint64_t *pte, vm_offset_t va, struct vm_page *page,
                        struct pv_entry *pv, uint64_t bits)
{
	PMAP_ASSERT_LOCKED(pmap);
	remove_pte(pmap, pte, va);
	pv_insert(page, pv, pmap, va);
	*pte = bits;
	pmap->resident++;
	if (is_user_va(va))
		(*pt_present_count(pmap, pte))++;
}

/*
 * May a translation cached from old still be used once new replaces it?
 * Yes if old was never cached (not present), or if new maps the same
 * frame, the same way, taking no right away: a CPU that still holds old
 * then at worst takes a spurious fault on a user address, which drops
 * the stale entry (a fault does) and finds new in place.  Only the
 * others (another frame, a right taken away) need every CPU's TLB
 * cleared before the change counts as made.
 */
static bool stale_translation_harmless(uint64_t old, uint64_t new)
{
	const uint64_t rights = PTE_RW | PTE_US, caching = PTE_PWT | PTE_PCD | PTE_G;

	if (!(old & PTE_P))
		return true;
	return (old & PTE_ADDR) == (new & PTE_ADDR) && (old & rights & ~new) == 0 &&
	       (new & PTE_NX & ~old) == 0 && (old & caching) == (new & caching);
}

kern_return_t pmap_enter(pmap_t pmap, vm_offset_t va, struct vm_page *page, vm_prot_t prot,
                         unsigned flags)
{
	paddr_t pa = vm_page_to_phys(page);
	uint64_t bits = pa | pmap_prot_bits(prot, is_user_va(va)) | PTE_MANAGED;
	struct vm_page *dead = NULL;

	assert_range(pmap, va, va + PAGE_SIZE);
	KASSERT(prot != VM_PROT_NONE && (prot & ~VM_PROT_ALL) == 0 && (flags & ~PMAP_WIRED) == 0,
	        "pmap_enter: prot %#x flags %#x", prot, flags);
	KASSERT(page->use != VM_PAGE_FREE && page->use != VM_PAGE_RESERVED,
	        "pmap_enter: frame %#lx is not in use", pa);
	struct pv_entry *pv = zalloc(&pv_zone);
	if (pv == NULL)
		return KERN_RESOURCE_SHORTAGE;
	spin_lock(&pmap->lock);
	uint64_t *pte = walk(pmap, va, 1, true);
	uint64_t old = pte != NULL ? *pte : 0;
	if (pte != NULL && (*pte & (PTE_P | PTE_ADDR)) == (pa | PTE_P)) {
		*pte = bits | (*pte & (PTE_A | PTE_D));   /* same page, new rights */
	} else if (pte != NULL) {
		install_pte(pmap, pte, va, page, pv, bits);
		pv = NULL;
	} else if (is_user_va(va)) {
		unlink_empty_tables(pmap, va, &dead);     /* what walk made before it ran out */
	}
	if (pte == NULL || !is_user_va(va) || !stale_translation_harmless(old, bits))
		pmap_tlb_invalidate(pmap, va, va + PAGE_SIZE);
	removal_window_close();
	spin_unlock(&pmap->lock);
	free_dead_tables(dead);
	if (pv)
		zfree(&pv_zone, pv);
	return pte ? KERN_SUCCESS : KERN_RESOURCE_SHORTAGE;
}

/*
 * The page-table entry for va, or NULL when no page table covers it.
 * *next is the first address past that page table, or past the hole, so
 * range loops take a table (or a hole) at a time.  => pmap->lock held
 */
static uint64_t *range_pte(struct pmap *pmap, vm_offset_t va, vm_offset_t *next)
{
	uint64_t *table = pmap->pml4;

	PMAP_ASSERT_LOCKED(pmap);
	for (int l = 4; l > 1; l--) {
		uint64_t e = table[pt_index(va, l)];
		if (!(e & PTE_P) || (e & PTE_PS)) {
			KASSERT(!(e & PTE_PS), "pmap: range op on a large page at %#lx", va);
			*next = (va & ~(level_size(l) - 1)) + level_size(l);
			return NULL;
		}
		table = table_at(e & PTE_ADDR);
	}
	*next = (va & ~(level_size(2) - 1)) + level_size(2);
	return &table[pt_index(va, 1)];
}

/* One range operation: what it does to each present entry, and what it leaves to do after. */
struct range_op {
	bool (*fn)(struct pmap *, uint64_t *, vm_offset_t, vm_prot_t);   /* true: narrowed */
	vm_prot_t prot;
	bool prune;                    /* unlink the user tables it leaves with no entry */
	vm_offset_t seen_start, seen_end;   /* the entries fn narrowed, for the TLB flush */
	struct vm_page *dead;          /* tables unlinked, to free after the flush */
};

/*
 * Calls op->fn on the present entries of [va, end) in the page table at
 * pte (which ends at next), then, if the operation prunes, unlinks the
 * tables it left empty.  False if it passed over the table as empty.
 * => pmap->lock held
 */
static bool range_op_table(struct pmap *pmap, struct range_op *op, uint64_t *pte,
                           vm_offset_t va, vm_offset_t end, vm_offset_t next)
{
	PMAP_ASSERT_LOCKED(pmap);
	uint32_t *present = pmap != kernel_pmap ? pt_present_count(pmap, pte) : NULL;
	/* locals, not op's fields: those would go through memory around every call of fn */
	bool (*fn)(struct pmap *, uint64_t *, vm_offset_t, vm_prot_t) = op->fn;
	vm_prot_t prot = op->prot;
	vm_offset_t first = end, last = va;
	vm_offset_t limit = present != NULL && *present == 0 ? va : next;   /* none: skip it */

	for (vm_offset_t at = va; at < end && at - va < limit - va; at += PAGE_SIZE, pte++) {
		if (!(*pte & PTE_P) || !fn(pmap, pte, at, prot))
			continue;
		first = at < first ? at : first;
		last = at + PAGE_SIZE;
	}
	if (first < last) {
		op->seen_start = first < op->seen_start ? first : op->seen_start;
		op->seen_end = last;
	}
	if (present && op->prune && *present == 0)
		unlink_empty_tables(pmap, va, &op->dead);
	return limit != va;
}

/*
 * Runs op over every present 4 KiB entry in [start, end), a page table at
 * a time, passing over user tables with no entry present; then flushes
 * the TLB over the entries it narrowed, if any (under emulation a flush, and
 * refilling what it threw away, is dear), or over one page when it only
 * unlinked tables (that drops the CPU's cached walks through them), and
 * frees those tables.  One hold of the pmap's lock, which ends after
 * RANGE_SPAN of one page table with entries to look at: a range of many
 * megabytes keeps interrupts off for 256 entries' work at a time, and
 * one of holes or empty tables costs one hold.  Returns where it stopped.
 */
#define RANGE_SPAN (256ul * PAGE_SIZE) /* the most of one page table a hold looks at */

static vm_offset_t for_each_pte_chunk(struct pmap *pmap, vm_offset_t start, vm_offset_t end,
                                      struct range_op *op)
{
	vm_offset_t va = start, next;
	bool worked = false;

	op->seen_start = end;
	op->seen_end = start;
	op->dead = NULL;
	spin_lock(&pmap->lock);
	for (; va < end && va >= start && !worked; va = next) {
		uint64_t *pte = range_pte(pmap, va, &next);
		if (pte == NULL)
			continue;
		vm_offset_t stop = next - va > RANGE_SPAN ? va + RANGE_SPAN : next;
		worked = range_op_table(pmap, op, pte, va, stop < end ? stop : end, next);
		if (worked)
			next = stop;           /* the rest of the table in the next hold */
	}
	if (op->seen_start < op->seen_end)
		pmap_tlb_invalidate(pmap, op->seen_start, op->seen_end);
	else if (op->dead != NULL)
		pmap_tlb_invalidate(pmap, start, start + PAGE_SIZE);
	removal_window_close();
	spin_unlock(&pmap->lock);
	free_dead_tables(op->dead);
	return va;
}

/* for_each_pte_chunk until [start, end) is done (or the walk passed the top). */
static void for_each_pte(struct pmap *pmap, vm_offset_t start, vm_offset_t end,
                         struct range_op *op)
{
	assert_range(pmap, start, end);
	for (vm_offset_t at = start; at < end && at >= start;)
		at = for_each_pte_chunk(pmap, at, end, op);
}

static bool remove_one(struct pmap *pmap, uint64_t *pte, vm_offset_t va, vm_prot_t unused)
{
	(void)unused;
	remove_pte(pmap, pte, va);
	return true;
}

/*
 * Takes away the rights prot lacks, keeping the A/D bits the CPU may set
 * meanwhile; true if it took one away (an entry that had none of them
 * needs no TLB flush).
 */
static bool lower_pte(uint64_t *pte, vm_prot_t prot)
{
	bool narrowed = false;

	if (!(prot & VM_PROT_WRITE))
		narrowed |= (__atomic_fetch_and(pte, ~PTE_RW, __ATOMIC_SEQ_CST) & PTE_RW) != 0;
	if (!(prot & VM_PROT_EXECUTE))
		narrowed |= (__atomic_fetch_or(pte, PTE_NX, __ATOMIC_SEQ_CST) & PTE_NX) == 0;
	return narrowed;
}

static bool lower_one(struct pmap *pmap, uint64_t *pte, vm_offset_t va, vm_prot_t prot)
{
	(void)pmap;
	(void)va;
	return lower_pte(pte, prot);
}

/* Page tables it leaves with no entry go back at once: a task cannot pile them up. */
void pmap_remove(pmap_t pmap, vm_offset_t start, vm_offset_t end)
{
	for_each_pte(pmap, start, end, &(struct range_op){ .fn = remove_one, .prune = true });
}

void pmap_protect(pmap_t pmap, vm_offset_t start, vm_offset_t end, vm_prot_t prot)
{
	if (prot == VM_PROT_NONE)
		pmap_remove(pmap, start, end);
	else
		for_each_pte(pmap, start, end, &(struct range_op){ .fn = lower_one, .prot = prot });
}

/*
 * Lowers (or, for VM_PROT_NONE, removes) one mapping found from its page.
 * => pv_lock and pv->pmap->lock held
 */
static void page_protect_one(struct vm_page *page, struct pv_entry *pv, vm_prot_t prot)
{
	LOCK_ASSERT_HELD(&pv_lock);
	PMAP_ASSERT_LOCKED(pv->pmap);
	uint64_t *pte = walk(pv->pmap, pv->va, 1, false);

	KASSERT(pte && (*pte & PTE_P) && (*pte & PTE_ADDR) == vm_page_to_phys(page),
	        "pmap_page_protect: pv entry %#lx does not map frame %#lx", pv->va,
	        vm_page_to_phys(page));
	if (prot == VM_PROT_NONE) {
		uint64_t old = __atomic_exchange_n(pte, 0, __ATOMIC_SEQ_CST);
		pv_unlink(page, pv->pmap, pv->va, old);
		pv->pmap->resident--;
		if (is_user_va(pv->va))
			(*pt_present_count(pv->pmap, pte))--;
	} else if (!lower_pte(pte, prot)) {
		return;                        /* it had none of those rights: nothing to flush */
	}
	pmap_tlb_invalidate(pv->pmap, pv->va, pv->va + PAGE_SIZE);
}

/*
 * Visits every mapping of page.  pv_lock ranks after every pmap's, so
 * each pmap is only try-locked here; on failure everything is let go
 * and the walk starts again.  => caller holds no pmap lock
 */
void pmap_page_protect(struct vm_page *page, vm_prot_t prot)
{
	struct pv_entry *done = NULL;  /* removed entries, freed once the locks are gone */

	if ((prot & (VM_PROT_WRITE | VM_PROT_EXECUTE)) == (VM_PROT_WRITE | VM_PROT_EXECUTE))
		return;                /* nothing to take away */
again:
	spin_lock(&pv_lock);
	for (struct pv_entry *pv = page->pv_list, *next; pv; pv = next) {
		next = pv->next;
		struct pmap *pmap = pv->pmap;
		if (!spin_trylock(&pmap->lock)) {
			spin_unlock(&pv_lock);
			goto again;
		}
		page_protect_one(page, pv, prot);
		spin_unlock(&pmap->lock);
		if (prot == VM_PROT_NONE) {
			pv->next = done;
			done = pv;
		}
	}
	spin_unlock(&pv_lock);
	removal_windows_wait();        /* and the mappings others were removing meanwhile */
	while (done) {
		struct pv_entry *pv = done;
		done = pv->next;
		zfree(&pv_zone, pv);
	}
}

bool pmap_leaf_entry(pmap_t pmap, vm_offset_t va, uint64_t *pte, int *level)
{
	uint64_t *e = find_leaf(pmap, va, level);

	if (e)
		*pte = *e;
	return e != NULL;
}

bool pmap_extract(pmap_t pmap, vm_offset_t va, paddr_t *pa)
{
	uint64_t pte;
	int level;

	if (!pmap_leaf_entry(pmap, va, &pte, &level))
		return false;
	uint64_t size = level_size(level);
	*pa = (pte & PTE_ADDR & ~(size - 1)) | (va & (size - 1));
	return true;
}

/*
 * Walks the tables once per page table (2 MiB), not once a page, and lets
 * go of the lock between page tables: tens of megabytes are not one
 * stretch with interrupts off.
 */
size_t pmap_extract_pages(pmap_t pmap, vm_offset_t va, size_t n, vm_prot_t prot,
                          struct vm_page **pages)
{
	size_t missing = 0;
	/* pte_prot(e) covers prot exactly when e has the bits of want and none of forbid */
	uint64_t want = PTE_MANAGED | PTE_P | ((prot & VM_PROT_WRITE) ? PTE_RW : 0);
	uint64_t forbid = (prot & VM_PROT_EXECUTE) ? PTE_NX : 0;

	spin_lock(&pmap->lock);
	for (size_t i = 0; i < n;) {
		if (i > 0) {                   /* a page table's end: let interrupts in */
			spin_unlock(&pmap->lock);
			spin_lock(&pmap->lock);
		}
		vm_offset_t at = va + i * PAGE_SIZE;
		uint64_t *pte = walk(pmap, at, 1, false);     /* NULL: no page table there */
		size_t run = PT_ENTRIES - pt_index(at, 1);
		for (size_t j = 0; j < run && i < n; j++, i++) {
			uint64_t e = pte ? pte[j] : 0;
			pages[i] = (e & (want | forbid)) == want ? vm_page_from_phys(e & PTE_ADDR) : NULL;
			missing += pages[i] == NULL;
		}
	}
	spin_unlock(&pmap->lock);
	return missing;
}

vm_prot_t pmap_access(pmap_t pmap, vm_offset_t va)
{
	uint64_t pte;
	int level;

	return pmap_leaf_entry(pmap, va, &pte, &level) ? pte_prot(pte) : VM_PROT_NONE;
}

/*
 * The A/D bits of every mapping of page, or-ed together with those of
 * mappings already gone; with clear, also clears them everywhere.  The
 * tables over a mapping cannot vanish while pv_lock is held (a table goes
 * only once it maps nothing, and each mapping's pv entry is unlinked
 * under pv_lock first), so no pmap lock is needed: the CPU itself sets
 * these bits without one.
 */
static uint8_t page_ad_bits(struct vm_page *page, uint64_t bit, bool clear)
{
	uint8_t flag = bit == PTE_D ? PG_MODIFIED : PG_REFERENCED;
	uint8_t seen;

	spin_lock(&pv_lock);
	seen = page->pmap_flags & flag;
	for (struct pv_entry *pv = page->pv_list; pv; pv = pv->next) {
		uint64_t *pte = walk(pv->pmap, pv->va, 1, false);
		uint64_t old = clear ? __atomic_fetch_and(pte, ~bit, __ATOMIC_SEQ_CST) : *pte;
		if (old & bit) {
			seen |= flag;
			if (clear)
				pmap_tlb_invalidate(pv->pmap, pv->va, pv->va + PAGE_SIZE);
		}
	}
	if (clear)
		page->pmap_flags &= ~flag;
	spin_unlock(&pv_lock);
	return seen;
}

bool pmap_is_modified(struct vm_page *page) { return page_ad_bits(page, PTE_D, false); }
void pmap_clear_modify(struct vm_page *page) { page_ad_bits(page, PTE_D, true); }
bool pmap_is_referenced(struct vm_page *page) { return page_ad_bits(page, PTE_A, false); }
void pmap_clear_reference(struct vm_page *page) { page_ad_bits(page, PTE_A, true); }

/* Through the direct map, with the kernel's unrolled memset and memcpy. */
void pmap_zero_page(struct vm_page *page)
{
	memset(pmap_phys_to_virt(vm_page_to_phys(page)), 0, PAGE_SIZE);
}

void pmap_copy_page(struct vm_page *src, struct vm_page *dst)
{
	memcpy(pmap_phys_to_virt(vm_page_to_phys(dst)), pmap_phys_to_virt(vm_page_to_phys(src)),
	       PAGE_SIZE);
}

/* Makes the leaf entry of the unmapped kernel page va hold pte_value (frame and bits). */
static kern_return_t kenter(vm_offset_t va, uint64_t pte_value)
{
	assert_range(kernel_pmap, va, va + PAGE_SIZE);
	spin_lock(&kernel_pmap->lock);
	uint64_t *pte = walk(kernel_pmap, va, 1, true);
	if (pte) {
		KASSERT(!(*pte & PTE_P), "pmap_kenter: %#lx is already mapped", va);
		*pte = pte_value;
	}
	spin_unlock(&kernel_pmap->lock);
	return pte ? KERN_SUCCESS : KERN_RESOURCE_SHORTAGE;
}

kern_return_t pmap_kenter(vm_offset_t va, paddr_t pa, vm_prot_t prot)
{
	return kenter(va, pa | pmap_prot_bits(prot, false));
}

/*
 * PCD|PWT select entry 3 of the PAT, uncached at reset (Mica never
 * reprograms the PAT): every load and store reaches the device, in order.
 */
kern_return_t pmap_kenter_device(vm_offset_t va, paddr_t pa)
{
	uint64_t bits = pmap_prot_bits(VM_PROT_READ | VM_PROT_WRITE, false);

	return kenter(va, pa | bits | PTE_PCD | PTE_PWT);
}

void pmap_kremove_range(vm_offset_t va, vm_size_t size)
{
	vm_offset_t next;

	assert_range(kernel_pmap, va, va + size);
	spin_lock(&kernel_pmap->lock);
	for (vm_offset_t at = va; at < va + size; at += PAGE_SIZE) {
		uint64_t *pte = range_pte(kernel_pmap, at, &next);
		KASSERT(pte && (*pte & PTE_P) && !(*pte & PTE_MANAGED),
		        "pmap_kremove: %#lx is not a kenter mapping", at);
		*pte = 0;
	}
	pmap_tlb_invalidate(kernel_pmap, va, va + size);
	spin_unlock(&kernel_pmap->lock);
}

void pmap_kremove(vm_offset_t va)
{
	pmap_kremove_range(va, PAGE_SIZE);
}

/* ------------------------------------------------------- creation */

pmap_t pmap_create(void)
{
	struct pmap *pmap = zalloc(&pmap_zone);
	struct vm_page *top = vm_page_alloc(VM_PAGE_PAGETABLE, VM_PAGE_ZERO);

	if (pmap == NULL || top == NULL) {
		if (pmap)
			zfree(&pmap_zone, pmap);
		if (top)
			vm_page_free(top);
		return NULL;
	}
	memset(pmap, 0, sizeof(*pmap));
	spin_lock_init(&pmap->lock, "pmap", LOCK_RANK_PMAP);
	pmap->pml4_pa = vm_page_to_phys(top);
	pmap->pml4 = table_at(pmap->pml4_pa);
	for (unsigned i = 256; i < 512; i++)        /* share the kernel half */
		pmap->pml4[i] = kernel_pmap->pml4[i];
	pmap->pcid = pmap_pcid_new();
	return pmap;
}

/*
 * Removes the mappings under the table at pa (of this level) and frees it;
 * a page table's count of present entries must come to exactly zero.
 */
static void free_table(struct pmap *pmap, paddr_t pa, int level, vm_offset_t base)
{
	uint64_t *t = table_at(pa);

	for (unsigned i = 0; i < 512; i++) {
		vm_offset_t va = base + i * level_size(level);
		if (!(t[i] & PTE_P))
			continue;
		if (level == 1)
			remove_pte(pmap, &t[i], va);
		else
			free_table(pmap, t[i] & PTE_ADDR, level - 1, va);
	}
	KASSERT(level != 1 || *pt_present_count(pmap, t) == 0,
	        "pmap_destroy: page table at %#lx counts %u entries it does not have", base,
	        *pt_present_count(pmap, t));
	table_page_free(pa);
}

void pmap_destroy(pmap_t pmap)
{
	KASSERT(pmap != kernel_pmap && pmap->active == 0,
	        "pmap_destroy: pmap %p is the kernel's or in use", pmap);
	spin_lock(&pmap->lock);
	for (unsigned i = 0; i < 256; i++)
		if (pmap->pml4[i] & PTE_P)
			free_table(pmap, pmap->pml4[i] & PTE_ADDR, 3, i * level_size(4));
	KASSERT(pmap->resident == 0, "pmap_destroy: %lu mappings left", pmap->resident);
	removal_window_close();        /* active nowhere: no TLB holds what it removed */
	spin_unlock(&pmap->lock);
	table_page_free(pmap->pml4_pa);
	zfree(&pmap_zone, pmap);
}

/* ------------------------------------------------------- the W^X audit */

/*
 * Per-frame marks for the alias check: writable somewhere, executable
 * somewhere.  Locks: (a) audit_marks.lock, over the bitmaps' bits; (1) set
 * once, by the first pmap_audit before it takes the lock (one CPU).
 */
static struct {
	uint64_t *writable, *executable;   /* (1) the pointers; (a) the bits */
	uint64_t frames;                   /* (1) */
	struct spinlock lock;
} audit_marks = { .lock = SPINLOCK_INIT("pmap_audit", LOCK_RANK_AUDIT) };

static void audit_mark(uint64_t *bitmap, paddr_t pa, uint64_t size)
{
	for (uint64_t f = pa >> PAGE_SHIFT; f < (pa + size) >> PAGE_SHIFT; f++)
		if (f < audit_marks.frames)
			bitmap[f / 64] |= 1ull << (f % 64);
}

/* Bitmaps for every frame of the frame table, made on the first audit. */
static void audit_marks_init(void)
{
	struct vm_page_stats st;

	if (audit_marks.writable)
		return;
	vm_page_get_stats(&st);
	size_t pages = round_page((st.total + 63) / 64 * 8) / PAGE_SIZE;
	struct vm_page *w = vm_page_alloc_contig(pages, VM_PAGE_KERNEL, 0);
	struct vm_page *x = vm_page_alloc_contig(pages, VM_PAGE_KERNEL, 0);
	if (!w || !x)
		panic("pmap_audit: no memory for %zu-page bitmaps", pages);
	audit_marks.writable = pmap_phys_to_virt(vm_page_to_phys(w));
	audit_marks.executable = pmap_phys_to_virt(vm_page_to_phys(x));
	audit_marks.frames = pages * PAGE_SIZE * 8;
}

static void audit_leaf(vm_offset_t va, uint64_t pte, int level, struct pmap_audit *a)
{
	paddr_t pa = pte & PTE_ADDR & ~(level_size(level) - 1);
	bool w = pte & PTE_RW, x = !(pte & PTE_NX);

	a->leaves++;
	if (w && x && a->writable_and_executable++ < 5)
		kprintf("pmap_audit: %#lx is writable and executable\n", va);
	if (!is_user_va(va) && (pte & PTE_US) && a->user_kernel_pages++ < 5)
		kprintf("pmap_audit: kernel page %#lx is user-accessible\n", va);
	if (w)
		audit_mark(audit_marks.writable, pa, level_size(level));
	if (x)
		audit_mark(audit_marks.executable, pa, level_size(level));
}

static void audit_table(paddr_t table, int level, vm_offset_t base, struct pmap_audit *a)
{
	const uint64_t *t = table_at(table);

	for (unsigned i = 0; i < 512; i++) {
		vm_offset_t va = base + i * level_size(level);
		if (level == 4 && i >= 256)
			va |= 0xffff000000000000ull;          /* sign-extend bit 47 */
		if (!(t[i] & PTE_P))
			continue;
		if (level == 1 || (t[i] & PTE_PS))
			audit_leaf(va, t[i], level, a);
		else
			audit_table(t[i] & PTE_ADDR, level - 1, va, a);
	}
}

void pmap_audit(pmap_t pmap, struct pmap_audit *out)
{
	size_t bytes;

	memset(out, 0, sizeof(*out));
	audit_marks_init();
	spin_lock(&audit_marks.lock);
	bytes = audit_marks.frames / 8;
	memset(audit_marks.writable, 0, bytes);
	memset(audit_marks.executable, 0, bytes);
	spin_lock(&pmap->lock);
	audit_table(pmap->pml4_pa, 4, 0, out);
	spin_unlock(&pmap->lock);
	for (size_t i = 0; i < bytes / 8; i++) {
		uint64_t both = audit_marks.writable[i] & audit_marks.executable[i];
		if (both && out->aliased_write_execute < 5)
			kprintf("pmap_audit: frames near %#lx are writable and executable through "
			        "different mappings\n", (uint64_t)i * 64 * PAGE_SIZE);
		for (; both; both &= both - 1)      /* count the set bits */
			out->aliased_write_execute++;
	}
	spin_unlock(&audit_marks.lock);
}
