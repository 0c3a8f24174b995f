/*
 * The machine layer under the VM, faked for host tests: what
 * arch/x86_64 gives the machine-independent code (kern/machine.h, the
 * console's output, and every function of vm/pmap.h), over a malloc'd
 * block standing in for physical memory.
 *
 * The fake pmap is faithful to the interface and to x86-64 where the VM
 * could tell the difference:
 *  - "physical memory" is ram[0, FAKE_RAM_TOP); pmap_phys_to_virt(pa) is
 *    ram + pa; [0, 1 MiB) is reserved, as on a PC;
 *  - each pmap has a top-level frame and, for every 2 MiB of address
 *    space it maps, a page-table frame (VM_PAGE_PAGETABLE) holding 512
 *    x86-style entries (P, RW, NX, A, D and the frame address), kept
 *    until pmap_destroy, as the real pmap keeps its tables;
 *  - every pmap_enter mapping has a pv entry (from a zone, as the real
 *    pmap's) on its page's pv list, so pmap_page_protect, the
 *    referenced/modified calls and pmap_destroy are exact, and
 *    vm_page_free's "still mapped" check works;
 *  - pmap_enter fails with KERN_RESOURCE_SHORTAGE only when a frame (for
 *    a page table, or a pv zone slab) cannot be had, and then changes
 *    nothing;
 *  - a mapping always allows reading (x86 cannot map a page writable or
 *    executable but unreadable); executing needs VM_PROT_EXECUTE (NX);
 *  - fake_pmap_access() is what the CPU does on an access through a
 *    mapping: it sets A, and D for a write.
 * No TLB, no CPUs: a removal is visible at once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kern/alloc_fail.h"
#include <mica/boot_info.h>
#include "kern/lock.h"
#include "kern/machine.h"
#include "kern/panic.h"
#include "kern/zone.h"
#include "kern/kalloc.h"
#include "vm/pmap.h"
#include "vm/vm_kern.h"
#include "vm/vm_map.h"
#include "vm/vm_object.h"
#include "vm/vm_page.h"

/* What the host test programs call (declared there: this file has no header). */
void fake_machine_boot(void);
void fake_pmap_access(pmap_t pmap, vm_offset_t va, vm_prot_t access);
uint64_t fake_pmap_pv_entries(void);

#define FAKE_RAM_TOP  ((1ul << 20) + (64ul << 20))   /* 1 MiB reserved, then 64 MiB of RAM */
#define FAKE_KVA_BASE 0xffffc00000000000ul           /* as arch/x86_64/layout.h */
#define FAKE_KVA_SIZE (64ul << 30)

/* ------------------------------------------------------------- machine.h */

static bool interrupts_on = true;

void machine_interrupts_off(void) { interrupts_on = false; }
void machine_interrupts_on(void) { interrupts_on = true; }

bool machine_interrupts_save_off(void)
{
	bool was = interrupts_on;

	interrupts_on = false;
	return was;
}

void machine_exit(enum mica_exit code)
{
	fflush(stdout);
	fprintf(stderr, "fake machine: machine_exit(%#x)\n", code);
	abort();
}

void machine_backtrace_here(void)
{
	fprintf(stderr, "  (no backtrace on the host: run it under gdb)\n");
}

uint64_t machine_installed_ram(void)
{
	return FAKE_RAM_TOP;
}

uint64_t machine_entropy(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000007ull ^ (uint64_t)ts.tv_nsec;
}

/* No threads here, so no allocation-failure switch: nothing ever fails on purpose. */
bool alloc_fail_used;

bool alloc_fail_count(unsigned site)
{
	(void)site;
	return false;
}

void console_hw_init(void) {}

void console_hw_putc(char c)
{
	fputc(c, stderr);
}

/* ------------------------------------------------------------- physical memory */

#define LOW_RESERVED (1ul << 20)

static uint8_t *ram;
static struct {
	paddr_t next;          /* stolen [LOW_RESERVED, next) */
	bool closed;
} boot_mem;

uintptr_t pmap_direct_base;            /* ram: set with it */

void *pmap_steal_memory(size_t size)
{
	if (boot_mem.closed)
		panic("pmap_steal_memory after pmap_init");
	paddr_t pa = boot_mem.next;
	boot_mem.next = round_page(pa + size);
	if (boot_mem.next > FAKE_RAM_TOP)
		panic("pmap_steal_memory: out of fake RAM");
	memset(ram + pa, 0, size);
	return ram + pa;
}

bool pmap_frame_available(paddr_t pa)
{
	return pa >= boot_mem.next && pa >= LOW_RESERVED && pa < FAKE_RAM_TOP;
}

/* ------------------------------------------------------------- the pmap */

#define PTE_P       (1ull << 0)
#define PTE_RW      (1ull << 1)
#define PTE_A       (1ull << 5)
#define PTE_D       (1ull << 6)
#define PTE_MANAGED (1ull << 9)
#define PTE_NX      (1ull << 63)
#define PTE_ADDR    0x000ffffffffff000ull

#define PT_SPAN     (512ul * PAGE_SIZE)   /* what one page-table frame maps: 2 MiB */

#define PG_REFERENCED 0x1
#define PG_MODIFIED   0x2

/* A page-table frame and the 2 MiB it maps (bookkeeping on the host heap). */
struct fake_pt {
	vm_offset_t base;
	struct vm_page *frame;
	struct fake_pt *next;
};

struct pmap {
	struct vm_page *top;           /* stands for the PML4: counted as a page table */
	struct fake_pt *tables;
	struct spinlock lock;
	uint64_t resident;
};

struct pv_entry {
	struct pv_entry *next;
	struct pmap *pmap;
	vm_offset_t va;
};

static struct pmap kernel_pmap_store;
struct pmap *const kernel_pmap = &kernel_pmap_store;
static struct pmap *current_pmap = &kernel_pmap_store;
static struct spinlock pv_lock = SPINLOCK_INIT("pv_lists", LOCK_RANK_PV);
static struct zone pmap_zone, pv_zone;

static uint64_t prot_bits(vm_prot_t prot)
{
	uint64_t bits = PTE_P;

	if (prot & VM_PROT_WRITE)
		bits |= PTE_RW;
	if (!(prot & VM_PROT_EXECUTE))
		bits |= PTE_NX;
	return bits;
}

static vm_prot_t pte_prot(uint64_t pte)
{
	if (!(pte & PTE_P))
		return VM_PROT_NONE;
	return VM_PROT_READ | ((pte & PTE_RW) ? VM_PROT_WRITE : 0) |
	       ((pte & PTE_NX) ? 0 : VM_PROT_EXECUTE);
}

static uint8_t page_flags_of(uint64_t pte)
{
	return ((pte & PTE_A) ? PG_REFERENCED : 0) | ((pte & PTE_D) ? PG_MODIFIED : 0);
}

/* The entry for va, making its table when alloc; NULL when there is none (or no frame). */
static uint64_t *walk(struct pmap *pmap, vm_offset_t va, bool alloc)
{
	vm_offset_t base = va & ~(PT_SPAN - 1);

	for (struct fake_pt *t = pmap->tables; t; t = t->next)
		if (t->base == base)
			return (uint64_t *)pmap_phys_to_virt(vm_page_to_phys(t->frame)) +
			       (va - base) / PAGE_SIZE;
	if (!alloc)
		return NULL;
	struct vm_page *frame = vm_page_alloc(VM_PAGE_PAGETABLE, VM_PAGE_ZERO);
	if (frame == NULL)
		return NULL;
	struct fake_pt *t = malloc(sizeof(*t));
	if (t == NULL)
		abort();
	t->base = base;
	t->frame = frame;
	t->next = pmap->tables;
	pmap->tables = t;
	return (uint64_t *)pmap_phys_to_virt(vm_page_to_phys(frame)) + (va - base) / PAGE_SIZE;
}

static void assert_range(vm_offset_t start, vm_offset_t end)
{
	KASSERT((start & PAGE_MASK) == 0 && (end & PAGE_MASK) == 0 && start <= end,
	        "pmap: bad range %#lx-%#lx", start, end);
}

/* => pv_lock held */
static struct pv_entry *pv_unlink(struct vm_page *page, struct pmap *pmap, vm_offset_t va,
                                  uint64_t old_pte)
{
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

/* Clears *pte; drops the pv entry of a managed mapping.  => pmap->lock held */
static void remove_pte(struct pmap *pmap, uint64_t *pte, vm_offset_t va)
{
	uint64_t old = *pte;

	*pte = 0;
	if (!(old & PTE_P))
		return;
	pmap->resident--;
	if (!(old & PTE_MANAGED))
		return;
	struct vm_page *page = vm_page_from_phys(old & PTE_ADDR);
	spin_lock(&pv_lock);
	struct pv_entry *pv = pv_unlink(page, pmap, va, old);
	spin_unlock(&pv_lock);
	zfree(&pv_zone, pv);
}

void pmap_bootstrap(const struct boot_info *bi)
{
	(void)bi;
	spin_lock_init(&kernel_pmap->lock, "kernel_pmap", LOCK_RANK_PMAP);
}

void pmap_virtual_space(vm_offset_t *start, vm_offset_t *end)
{
	*start = FAKE_KVA_BASE;
	*end = FAKE_KVA_BASE + FAKE_KVA_SIZE;
}

void pmap_init(void)
{
	boot_mem.closed = true;
	zone_init(&pmap_zone, "pmap", sizeof(struct pmap));
	zone_init(&pv_zone, "pv_entry", sizeof(struct pv_entry));
}

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
	pmap->top = top;
	return pmap;
}

void pmap_destroy(pmap_t pmap)
{
	KASSERT(pmap != kernel_pmap && pmap != current_pmap,
	        "pmap_destroy: pmap %p is the kernel's or in use", (void *)pmap);
	spin_lock(&pmap->lock);
	while (pmap->tables) {
		struct fake_pt *t = pmap->tables;
		uint64_t *e = pmap_phys_to_virt(vm_page_to_phys(t->frame));
		for (unsigned i = 0; i < 512; i++)
			if (e[i] & PTE_P)
				remove_pte(pmap, &e[i], t->base + i * PAGE_SIZE);
		pmap->tables = t->next;
		vm_page_free(t->frame);
		free(t);
	}
	KASSERT(pmap->resident == 0, "pmap_destroy: %lu mappings left", pmap->resident);
	spin_unlock(&pmap->lock);
	vm_page_free(pmap->top);
	zfree(&pmap_zone, pmap);
}

kern_return_t pmap_enter(pmap_t pmap, vm_offset_t va, struct vm_page *page, vm_prot_t prot,
                         unsigned flags)
{
	paddr_t pa = vm_page_to_phys(page);
	uint64_t bits = pa | prot_bits(prot) | PTE_MANAGED;

	assert_range(va, va + PAGE_SIZE);
	KASSERT(prot != VM_PROT_NONE && (prot & ~VM_PROT_ALL) == 0 && (flags & ~PMAP_WIRED) == 0,
	        "pmap_enter: prot %#x flags %#x", prot, flags);
	KASSERT(page->use != VM_PAGE_FREE && page->use != VM_PAGE_RESERVED,
	        "pmap_enter: frame %#lx is not in use", pa);
	struct pv_entry *pv = zalloc(&pv_zone);
	if (pv == NULL)
		return KERN_RESOURCE_SHORTAGE;
	spin_lock(&pmap->lock);
	uint64_t *pte = walk(pmap, va, true);
	if (pte != NULL && (*pte & (PTE_P | PTE_ADDR)) == (pa | PTE_P)) {
		*pte = bits | (*pte & (PTE_A | PTE_D));   /* same page, new rights */
	} else if (pte != NULL) {
		remove_pte(pmap, pte, va);
		pv->pmap = pmap;
		pv->va = va;
		spin_lock(&pv_lock);
		pv->next = page->pv_list;
		page->pv_list = pv;
		spin_unlock(&pv_lock);
		pv = NULL;
		*pte = bits;
		pmap->resident++;
	}
	spin_unlock(&pmap->lock);
	if (pv)
		zfree(&pv_zone, pv);
	return pte ? KERN_SUCCESS : KERN_RESOURCE_SHORTAGE;
}

/* Calls fn on every present entry in [start, end).  => pmap->lock not held */
static void for_each_pte(struct pmap *pmap, vm_offset_t start, vm_offset_t end,
                         void (*fn)(struct pmap *, uint64_t *, vm_offset_t, vm_prot_t),
                         vm_prot_t prot)
{
	assert_range(start, end);
	spin_lock(&pmap->lock);
	for (struct fake_pt *t = pmap->tables; t; t = t->next) {
		if (t->base + PT_SPAN <= start || t->base >= end)
			continue;
		uint64_t *e = pmap_phys_to_virt(vm_page_to_phys(t->frame));
		for (unsigned i = 0; i < 512; i++) {
			vm_offset_t va = t->base + i * PAGE_SIZE;
			if (va >= start && va < end && (e[i] & PTE_P))
				fn(pmap, &e[i], va, prot);
		}
	}
	spin_unlock(&pmap->lock);
}

static void remove_one(struct pmap *pmap, uint64_t *pte, vm_offset_t va, vm_prot_t unused)
{
	(void)unused;
	remove_pte(pmap, pte, va);
}

static void lower_pte(uint64_t *pte, vm_prot_t prot)
{
	if (!(prot & VM_PROT_WRITE))
		*pte &= ~PTE_RW;
	if (!(prot & VM_PROT_EXECUTE))
		*pte |= PTE_NX;
}

static void lower_one(struct pmap *pmap, uint64_t *pte, vm_offset_t va, vm_prot_t prot)
{
	(void)pmap;
	(void)va;
	lower_pte(pte, prot);
}

void pmap_remove(pmap_t pmap, vm_offset_t start, vm_offset_t end)
{
	for_each_pte(pmap, start, end, remove_one, VM_PROT_NONE);
}

void pmap_protect(pmap_t pmap, vm_offset_t start, vm_offset_t end, vm_prot_t prot)
{
	if (prot == VM_PROT_NONE)
		pmap_remove(pmap, start, end);
	else
		for_each_pte(pmap, start, end, lower_one, prot);
}

void pmap_page_protect(struct vm_page *page, vm_prot_t prot)
{
	struct pv_entry *done = NULL;

	if ((prot & (VM_PROT_WRITE | VM_PROT_EXECUTE)) == (VM_PROT_WRITE | VM_PROT_EXECUTE))
		return;
	spin_lock(&pv_lock);
	for (struct pv_entry *pv = page->pv_list, *next; pv; pv = next) {
		next = pv->next;
		struct pmap *pmap = pv->pmap;
		if (!spin_trylock(&pmap->lock))
			panic("pmap_page_protect: pmap %p is locked (one CPU: a deadlock)",
			      (void *)pmap);
		uint64_t *pte = walk(pmap, pv->va, false);
		KASSERT(pte && (*pte & PTE_P) && (*pte & PTE_ADDR) == vm_page_to_phys(page),
		        "pmap_page_protect: pv entry %#lx does not map frame %#lx", pv->va,
		        vm_page_to_phys(page));
		if (prot == VM_PROT_NONE) {
			uint64_t old = *pte;
			*pte = 0;
			pv_unlink(page, pmap, pv->va, old);
			pmap->resident--;
			pv->next = done;
			done = pv;
		} else {
			lower_pte(pte, prot);
		}
		spin_unlock(&pmap->lock);
	}
	spin_unlock(&pv_lock);
	while (done) {
		struct pv_entry *pv = done;
		done = pv->next;
		zfree(&pv_zone, pv);
	}
}

static uint64_t lookup(pmap_t pmap, vm_offset_t va)
{
	uint64_t *pte = walk(pmap, trunc_page(va), false);

	return pte ? *pte : 0;
}

bool pmap_extract(pmap_t pmap, vm_offset_t va, paddr_t *pa)
{
	uint64_t pte = lookup(pmap, va);

	if (!(pte & PTE_P))
		return false;
	*pa = (pte & PTE_ADDR) | (va & PAGE_MASK);
	return true;
}

size_t pmap_extract_pages(pmap_t pmap, vm_offset_t va, size_t n, vm_prot_t prot,
                          struct vm_page **pages)
{
	size_t missing = 0;

	for (size_t i = 0; i < n; i++) {
		uint64_t pte = lookup(pmap, va + i * PAGE_SIZE);
		pages[i] = (pte & PTE_P) && (pte_prot(pte) & prot) == prot ?
		           vm_page_from_phys(pte & PTE_ADDR) : NULL;
		missing += pages[i] == NULL;
	}
	return missing;
}

vm_prot_t pmap_access(pmap_t pmap, vm_offset_t va)
{
	return pte_prot(lookup(pmap, va));
}

static bool page_ad_bits(struct vm_page *page, uint64_t bit, bool clear)
{
	uint8_t flag = bit == PTE_D ? PG_MODIFIED : PG_REFERENCED;
	bool seen;

	spin_lock(&pv_lock);
	seen = page->pmap_flags & flag;
	for (struct pv_entry *pv = page->pv_list; pv; pv = pv->next) {
		uint64_t *pte = walk(pv->pmap, pv->va, false);
		if (*pte & bit)
			seen = true;
		if (clear)
			*pte &= ~bit;
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

void fake_pmap_access(pmap_t pmap, vm_offset_t va, vm_prot_t access)
{
	uint64_t *pte = walk(pmap, trunc_page(va), false);

	KASSERT(pte && (*pte & PTE_P), "fake_pmap_access: %#lx is not mapped", va);
	KASSERT((pte_prot(*pte) & access) == access, "fake_pmap_access: %#lx does not allow %#x",
	        va, access);
	*pte |= PTE_A | ((access & VM_PROT_WRITE) ? PTE_D : 0);
}

void pmap_activate(pmap_t pmap)
{
	current_pmap = pmap;
}

pmap_t pmap_current(void)
{
	return current_pmap;
}

void pmap_zero_page(struct vm_page *page)
{
	memset(pmap_phys_to_virt(vm_page_to_phys(page)), 0, PAGE_SIZE);
}

void pmap_copy_page(struct vm_page *src, struct vm_page *dst)
{
	memcpy(pmap_phys_to_virt(vm_page_to_phys(dst)), pmap_phys_to_virt(vm_page_to_phys(src)),
	       PAGE_SIZE);
}

kern_return_t pmap_kenter(vm_offset_t va, paddr_t pa, vm_prot_t prot)
{
	assert_range(va, va + PAGE_SIZE);
	KASSERT(va >= FAKE_KVA_BASE, "pmap_kenter: %#lx is not a kernel address", va);
	spin_lock(&kernel_pmap->lock);
	uint64_t *pte = walk(kernel_pmap, va, true);
	if (pte) {
		KASSERT(!(*pte & PTE_P), "pmap_kenter: %#lx is already mapped", va);
		*pte = (pa & PTE_ADDR) | prot_bits(prot);
		kernel_pmap->resident++;
	}
	spin_unlock(&kernel_pmap->lock);
	return pte ? KERN_SUCCESS : KERN_RESOURCE_SHORTAGE;
}

/* The host has no caches to bypass: a device mapping is a read/write kernel mapping. */
kern_return_t pmap_kenter_device(vm_offset_t va, paddr_t pa)
{
	return pmap_kenter(va, pa, VM_PROT_READ | VM_PROT_WRITE);
}

void pmap_kremove(vm_offset_t va)
{
	spin_lock(&kernel_pmap->lock);
	uint64_t *pte = walk(kernel_pmap, va, false);
	KASSERT(pte && (*pte & PTE_P) && !(*pte & PTE_MANAGED),
	        "pmap_kremove: %#lx is not a kenter mapping", va);
	*pte = 0;
	kernel_pmap->resident--;
	spin_unlock(&kernel_pmap->lock);
}

uint64_t fake_pmap_pv_entries(void)
{
	return pv_zone.in_use;
}

/* ------------------------------------------------------------- booting */

static struct boot_info fake_boot_info;

void fake_machine_boot(void)
{
	if (ram)
		return;
	ram = aligned_alloc(PAGE_SIZE, FAKE_RAM_TOP);
	pmap_direct_base = (uintptr_t)ram;
	if (ram == NULL) {
		fprintf(stderr, "fake machine: no memory for %lu bytes of RAM\n", FAKE_RAM_TOP);
		abort();
	}
	memset(ram, 0xcc, FAKE_RAM_TOP);           /* never-zeroed memory shows */
	boot_mem.next = LOW_RESERVED;

	struct boot_info *bi = &fake_boot_info;
	bi->magic = BOOT_INFO_MAGIC;
	bi->version = BOOT_INFO_VERSION;
	bi->size = sizeof(*bi);
	strcpy(bi->loader_name, "fake");
	bi->mmap_count = 2;
	bi->mmap[0] = (struct boot_mmap_entry){ .base = 0, .length = LOW_RESERVED,
	                                        .type = BOOT_MEM_RESERVED };
	bi->mmap[1] = (struct boot_mmap_entry){ .base = LOW_RESERVED,
	                                        .length = FAKE_RAM_TOP - LOW_RESERVED,
	                                        .type = BOOT_MEM_USABLE };
	/* the order of kern/main.c */
	pmap_bootstrap(bi);
	vm_page_bootstrap(bi);
	pmap_init();
	kalloc_init();
	vm_object_bootstrap();
	kmem_init();
	vm_map_bootstrap();
}
