/*
 * The frame table and the buddy allocator.
 *
 * vm_page_free_lock protects the free lists and the counters; the
 * allocator calls nothing that locks while it holds it.
 *
 * Buddy invariants:
 *  - a free block of order k is 2^k frames starting at a frame number
 *    that is a multiple of 2^k; its first vm_page has use VM_PAGE_FREE and
 *    order k, its other pages use VM_PAGE_FREE and order VM_PAGE_NOT_HEAD;
 *  - the block whose frame numbers differ from it only in bit k is its
 *    buddy: when both are free they are merged into one of order k + 1.
 */
#include "vm/vm_page.h"
#include "kern/alloc_fail.h"
#include "kern/lock.h"
#include "kern/panic.h"
#include "lib/string.h"
#include "vm/pmap.h"

struct vm_page *vm_pages;              /* indexed by frame number */
uint64_t vm_page_count;                /* frames in the table */
static struct vm_page *free_lists[VM_PAGE_MAX_ORDER + 1];
static uint64_t use_count[VM_PAGE_USES];
static uint64_t reserve_floor;
static struct spinlock vm_page_free_lock = SPINLOCK_INIT("vm_page_free", LOCK_RANK_VM_PAGE);

/* Puts the free block at pfn of this order on its list, merging with free buddies. */
static void free_block(uint64_t pfn, unsigned order)
{
	while (order < VM_PAGE_MAX_ORDER) {
		uint64_t buddy = pfn ^ (1ull << order);
		struct vm_page *b = &vm_pages[buddy];
		if (buddy + (1ull << order) > vm_page_count || b->use != VM_PAGE_FREE ||
		    b->order != order)
			break;
		vm_page_list_remove(&free_lists[order], b);
		b->order = VM_PAGE_NOT_HEAD;
		pfn &= ~(1ull << order);
		order++;
	}
	struct vm_page *head = &vm_pages[pfn];
	head->order = order;
	vm_page_list_insert(&free_lists[order], head);
}

/* Takes a block of exactly this order off the free lists, splitting a larger one. */
static struct vm_page *take_block(unsigned order)
{
	unsigned k = order;

	while (k <= VM_PAGE_MAX_ORDER && free_lists[k] == NULL)
		k++;
	if (k > VM_PAGE_MAX_ORDER)
		return NULL;
	struct vm_page *p = free_lists[k];
	vm_page_list_remove(&free_lists[k], p);
	uint64_t pfn = p - vm_pages;
	while (k > order) {                /* give back the upper halves */
		k--;
		struct vm_page *upper = &vm_pages[pfn + (1ull << k)];
		upper->order = k;
		vm_page_list_insert(&free_lists[k], upper);
	}
	p->order = VM_PAGE_NOT_HEAD;
	return p;
}

static void set_use(struct vm_page *first, size_t n, enum vm_page_use use)
{
	for (size_t i = 0; i < n; i++) {
		use_count[first[i].use]--;
		first[i].use = use;
		use_count[use]++;
	}
}

static unsigned order_for(size_t npages)
{
	unsigned order = 0;

	while ((1ull << order) < npages)
		order++;
	return order;
}

struct vm_page *vm_page_alloc_contig(size_t npages, enum vm_page_use use, unsigned flags)
{
	unsigned order = order_for(npages);
	struct vm_page *p = NULL;

	KASSERT(use != VM_PAGE_FREE && use != VM_PAGE_RESERVED, "bad use %d", use);
	if (npages == 0 || order > VM_PAGE_MAX_ORDER)
		return NULL;
	if (alloc_fail_now(use == VM_PAGE_PAGETABLE ? MICA_ALLOC_PAGE_TABLE : MICA_ALLOC_FRAME))
		return NULL;
	spin_lock(&vm_page_free_lock);
	if (use_count[VM_PAGE_FREE] >= npages + reserve_floor)
		p = take_block(order);
	if (p) {
		set_use(p, 1ull << order, use);
		for (size_t i = npages; i < (1ull << order); i++) {   /* the unused tail */
			set_use(&p[i], 1, VM_PAGE_FREE);
			free_block(p - vm_pages + i, 0);
		}
	}
	spin_unlock(&vm_page_free_lock);
	for (size_t i = 0; p && (flags & VM_PAGE_ZERO) && i < npages; i++)
		pmap_zero_page(&p[i]);
	return p;
}

struct vm_page *vm_page_alloc(enum vm_page_use use, unsigned flags)
{
	return vm_page_alloc_contig(1, use, flags);
}

void vm_page_free_contig(struct vm_page *first, size_t npages)
{
	spin_lock(&vm_page_free_lock);
	for (size_t i = 0; i < npages; i++) {
		struct vm_page *p = &first[i];
		KASSERT(p->use != VM_PAGE_FREE && p->use != VM_PAGE_RESERVED,
		        "vm_page_free: frame %#lx is not in use", vm_page_to_phys(p));
		KASSERT(p->pv_list == NULL, "vm_page_free: frame %#lx is still mapped",
		        vm_page_to_phys(p));
		KASSERT(p->object == NULL, "vm_page_free: frame %#lx still belongs to an object",
		        vm_page_to_phys(p));
		p->offset = 0;
		p->wire_count = 0;
		p->pmap_flags = 0;
		set_use(p, 1, VM_PAGE_FREE);
		free_block(p - vm_pages, 0);
	}
	spin_unlock(&vm_page_free_lock);
}

void vm_page_free(struct vm_page *p)
{
	vm_page_free_contig(p, 1);
}

void vm_page_get_stats(struct vm_page_stats *s)
{
	spin_lock(&vm_page_free_lock);
	memcpy(s->count, use_count, sizeof(s->count));
	s->total = vm_page_count;
	spin_unlock(&vm_page_free_lock);
}

uint64_t vm_page_free_count(void)
{
	return use_count[VM_PAGE_FREE];
}

uint64_t vm_page_largest_free_block(uint64_t *count)
{
	int order = VM_PAGE_MAX_ORDER;

	*count = 0;
	spin_lock(&vm_page_free_lock);
	while (order >= 0 && free_lists[order] == NULL)
		order--;
	for (struct vm_page *p = order >= 0 ? free_lists[order] : NULL; p; p = p->next)
		(*count)++;
	spin_unlock(&vm_page_free_lock);
	return order >= 0 ? 1ull << order : 0;
}

void vm_page_set_reserve_floor(uint64_t floor)
{
	spin_lock(&vm_page_free_lock);
	reserve_floor = floor;
	spin_unlock(&vm_page_free_lock);
}

/* The end of the highest usable region: the frame table covers [0, that). */
static uint64_t usable_top(const struct boot_info *bi)
{
	uint64_t top = 0;

	for (uint32_t i = 0; i < bi->mmap_count; i++)
		if (bi->mmap[i].type == BOOT_MEM_USABLE)
			top = bi->mmap[i].base + bi->mmap[i].length;
	return trunc_page(top);
}

void vm_page_bootstrap(const struct boot_info *bi)
{
	vm_page_count = usable_top(bi) >> PAGE_SHIFT;
	vm_pages = pmap_steal_memory(vm_page_count * sizeof(struct vm_page));
	for (uint64_t pfn = 0; pfn < vm_page_count; pfn++) {
		vm_pages[pfn].use = VM_PAGE_RESERVED;
		vm_pages[pfn].order = VM_PAGE_NOT_HEAD;
	}
	use_count[VM_PAGE_RESERVED] = vm_page_count;

	for (uint32_t i = 0; i < bi->mmap_count; i++) {
		const struct boot_mmap_entry *e = &bi->mmap[i];
		if (e->type != BOOT_MEM_USABLE)
			continue;
		for (paddr_t pa = round_page(e->base); pa + PAGE_SIZE <= e->base + e->length;
		     pa += PAGE_SIZE) {
			if (!pmap_frame_available(pa))
				continue;
			set_use(&vm_pages[pa >> PAGE_SHIFT], 1, VM_PAGE_FREE);
			free_block(pa >> PAGE_SHIFT, 0);
		}
	}
}
