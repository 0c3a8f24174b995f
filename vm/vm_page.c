/*
 * The frame table, the buddy allocator, and each CPU's cache of frames.
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
 *
 * Why each CPU caches frames.  Most allocations are one frame (a page of
 * an object, a zone's slab, a page table) and so are most frees; with one
 * lock for all, every CPU that faults or copies queues there, and the
 * lock's line moves between CPUs at each call.  So each CPU keeps up to
 * CACHE_MAX single free frames under a lock of its own, which other CPUs
 * take only to flush it.  vm_page_alloc takes from it, filling it with
 * CACHE_BATCH frames in one hold of vm_page_free_lock when it is empty;
 * vm_page_free puts the frame there, giving CACHE_BATCH back in one hold
 * when it is full.  Contiguous runs, and frees of them, go to the buddy
 * allocator as before.
 *
 * A cached frame stays free: use VM_PAGE_FREE, order VM_PAGE_NOT_HEAD, on
 * no free list, so a merge never takes it (a buddy must be a head of its
 * order) and it is counted free.  The counts per use are use_count plus
 * each cache's use_delta: taking a frame from a cache, or freeing one
 * into it, moves a frame between two uses in that cache's deltas, and
 * each batch folds them into use_count, under both locks.  Reading them
 * sums over the CPUs, exact when none is allocating.
 *
 * The reserve floor (a test's way to run memory out) must be exact, and
 * a cache holds no count of the others.  So while a floor is set the
 * caches are bypassed: every allocation and free goes to the buddy
 * allocator under vm_page_free_lock, the deltas hold still, and the check
 * counts every free frame, cached or not.  vm_page_set_reserve_floor
 * takes each cache's lock once after setting it, so no allocation that
 * missed it is still under way when it returns.
 *
 * A frame in another CPU's cache is still free: when the buddy lists
 * cannot give a run (or a single frame) that the free frames could, the
 * caches are flushed into them, where frames merge, and the allocation is
 * tried once more before it fails.
 */
#include "vm/vm_page.h"
#include "kern/alloc_fail.h"
#include "kern/lock.h"
#include "kern/panic.h"
#include "lib/string.h"
#include "vm/pmap.h"

#define CACHE_MAX   32                 /* frames a CPU's cache holds at most */
#define CACHE_BATCH 16                 /* frames a fill or a spill moves in one hold */

/*
 * One CPU's free frames.  Locks: (p) its lock, with vm_page_free_lock too
 * to fold use_delta into use_count.  A line of its own.
 */
struct __attribute__((aligned(64))) frame_cache {
	struct spinlock lock;
	struct vm_page *list;          /* (p) free frames, through next */
	unsigned count;                /* (p) frames on list (read without the lock as a count) */
	int64_t use_delta[VM_PAGE_USES]; /* (p) frames per use this cache's takes and frees
	                                  moved, not yet folded into use_count */
};

struct vm_page *vm_pages;              /* indexed by frame number */
uint64_t vm_page_count;                /* frames in the table */
static struct vm_page *free_lists[VM_PAGE_MAX_ORDER + 1];
static uint64_t use_count[VM_PAGE_USES];
static uint64_t reserve_floor;
static struct spinlock vm_page_free_lock = SPINLOCK_INIT("vm_page_free", LOCK_RANK_VM_PAGE);
static struct frame_cache caches[MACHINE_MAX_CPUS] = {
	[0 ... MACHINE_MAX_CPUS - 1] = { .lock = SPINLOCK_INIT("vm_page_cpu",
	                                                       LOCK_RANK_VM_PAGE_CPU) },
};

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

/* Is a reserve floor set?  Read under a cache's lock, which orders it (the file's top). */
static bool floor_set(void)
{
	return __atomic_load_n(&reserve_floor, __ATOMIC_RELAXED) != 0;
}

/*
 * Frames of use u: use_count's, and what each cache moved since it last
 * folded.  Exact when no CPU is taking or freeing frames, and while a
 * floor is set (the caches' deltas hold still then).
 */
static uint64_t frames_of(enum vm_page_use u)
{
	int64_t n = (int64_t)__atomic_load_n(&use_count[u], __ATOMIC_RELAXED);

	for (unsigned i = 0; i < MACHINE_MAX_CPUS; i++)
		n += __atomic_load_n(&caches[i].use_delta[u], __ATOMIC_RELAXED);
	return (uint64_t)n;
}

/* c's deltas into use_count.  => c->lock and vm_page_free_lock held */
static void fold(struct frame_cache *c)
{
	LOCK_ASSERT_HELD(&vm_page_free_lock);
	for (int u = 0; u < VM_PAGE_USES; u++) {
		use_count[u] += (uint64_t)c->use_delta[u];
		c->use_delta[u] = 0;
	}
}

/* Fills the empty cache c with up to CACHE_BATCH frames, in one hold.  => c->lock held */
static void cache_fill(struct frame_cache *c)
{
	LOCK_ASSERT_HELD(&c->lock);
	spin_lock(&vm_page_free_lock);
	for (struct vm_page *p; c->count < CACHE_BATCH && (p = take_block(0)) != NULL;) {
		p->next = c->list;
		c->list = p;
		c->count++;
	}
	fold(c);
	spin_unlock(&vm_page_free_lock);
}

/* Returns n of c's frames to the buddy lists, in one hold.  => c->lock held */
static void cache_spill(struct frame_cache *c, unsigned n)
{
	LOCK_ASSERT_HELD(&c->lock);
	spin_lock(&vm_page_free_lock);
	for (; n > 0 && c->list != NULL; n--) {
		struct vm_page *p = c->list;
		c->list = p->next;
		c->count--;
		p->next = NULL;
		free_block(p - vm_pages, 0);
	}
	fold(c);
	spin_unlock(&vm_page_free_lock);
}

/* Does any CPU's cache hold a frame? */
static bool frames_cached(void)
{
	for (unsigned i = 0; i < MACHINE_MAX_CPUS; i++)
		if (__atomic_load_n(&caches[i].count, __ATOMIC_RELAXED) != 0)
			return true;
	return false;
}

void vm_page_drain_caches(void)
{
	for (unsigned i = 0; i < MACHINE_MAX_CPUS; i++) {
		struct frame_cache *c = &caches[i];
		if (__atomic_load_n(&c->count, __ATOMIC_RELAXED) == 0)
			continue;
		spin_lock(&c->lock);
		cache_spill(c, c->count);
		spin_unlock(&c->lock);
	}
}

unsigned vm_page_cached(unsigned cpu)
{
	return cpu < MACHINE_MAX_CPUS ? __atomic_load_n(&caches[cpu].count, __ATOMIC_RELAXED) : 0;
}

/*
 * npages contiguous frames from the buddy lists, for use; after a miss
 * the CPUs' caches are flushed into the lists and it tries once more.
 */
static struct vm_page *buddy_alloc(size_t npages, enum vm_page_use use)
{
	unsigned order = order_for(npages);

	for (int tries = 0;; tries++) {
		struct vm_page *p = NULL;
		spin_lock(&vm_page_free_lock);
		if (!floor_set() || frames_of(VM_PAGE_FREE) >= npages + reserve_floor)
			p = take_block(order);
		if (p) {
			set_use(p, 1ull << order, use);
			for (size_t i = npages; i < (1ull << order); i++) {   /* the unused tail */
				set_use(&p[i], 1, VM_PAGE_FREE);
				free_block(p - vm_pages + i, 0);
			}
		}
		spin_unlock(&vm_page_free_lock);
		if (p != NULL || tries > 0 || !frames_cached())
			return p;
		vm_page_drain_caches();
	}
}

static bool alloc_fails(enum vm_page_use use)
{
	KASSERT(use != VM_PAGE_FREE && use != VM_PAGE_RESERVED, "bad use %d", use);
	return alloc_fail_now(use == VM_PAGE_PAGETABLE ? MICA_ALLOC_PAGE_TABLE : MICA_ALLOC_FRAME);
}

/*
 * p leaves the allocator for an owner, outside the allocator's locks:
 * zeroed if asked, or if it has never been handed out since boot.
 * A frame comes to the allocator with whatever the firmware and the
 * loader left in it, and under emulation that costs: QEMU keeps the code
 * it translated from a page until a store covers those very bytes, and
 * until then every store to the page, anywhere in it, takes its slow
 * path for self-modifying code.  A zone's frame holding a few bytes of
 * the loader's code made every lock of the maps in it five times dearer
 * (docs/performance.md).  Zeroed at its first use rather than at boot, a
 * frame nothing ever uses costs nothing: the emulator's host does not
 * even back it with memory.
 */
static void frame_handed_out(struct vm_page *p, unsigned flags)
{
	if ((flags & VM_PAGE_ZERO) || p->since_boot)
		pmap_zero_page(p);
	p->since_boot = false;
}

struct vm_page *vm_page_alloc_contig(size_t npages, enum vm_page_use use, unsigned flags)
{
	if (npages == 0 || order_for(npages) > VM_PAGE_MAX_ORDER || alloc_fails(use))
		return NULL;
	struct vm_page *p = buddy_alloc(npages, use);
	for (size_t i = 0; p && i < npages; i++)
		frame_handed_out(&p[i], flags);
	return p;
}

/* set_use for a frame taken from or freed into c: counted in c's deltas.  => c->lock held */
static inline void cache_set_use(struct frame_cache *c, struct vm_page *p, enum vm_page_use use)
{
	c->use_delta[p->use]--;
	c->use_delta[use]++;
	p->use = use;
}

struct vm_page *vm_page_alloc(enum vm_page_use use, unsigned flags)
{
	if (alloc_fails(use))
		return NULL;
	struct frame_cache *c = &caches[machine_cpu_number()];  /* or the one a move left */
	struct vm_page *p = NULL;
	spin_lock(&c->lock);
	if (!floor_set()) {
		if (c->list == NULL)
			cache_fill(c);
		p = c->list;
		if (p != NULL) {
			c->list = p->next;
			c->count--;
			p->next = NULL;
			cache_set_use(c, p, use);
		}
	}
	spin_unlock(&c->lock);
	if (p == NULL)
		p = buddy_alloc(1, use);
	if (p != NULL)
		frame_handed_out(p, flags);
	return p;
}

/* p's owner is done with it: nothing of its use may be left, and its per-use fields are cleared. */
static void frame_released(struct vm_page *p)
{
	KASSERT(p->use != VM_PAGE_FREE && p->use != VM_PAGE_RESERVED,
	        "vm_page_free: frame %#lx is not in use", vm_page_to_phys(p));
	KASSERT(p->pv_list == NULL, "vm_page_free: frame %#lx is still mapped",
	        vm_page_to_phys(p));
	KASSERT(p->object == NULL, "vm_page_free: frame %#lx still belongs to an object",
	        vm_page_to_phys(p));
	p->offset = 0;
	p->wire_count = 0;
	p->pmap_flags = 0;
}

void vm_page_free_contig(struct vm_page *first, size_t npages)
{
	spin_lock(&vm_page_free_lock);
	for (size_t i = 0; i < npages; i++) {
		struct vm_page *p = &first[i];
		frame_released(p);
		set_use(p, 1, VM_PAGE_FREE);
		free_block(p - vm_pages, 0);
	}
	spin_unlock(&vm_page_free_lock);
}

void vm_page_free(struct vm_page *p)
{
	struct frame_cache *c = &caches[machine_cpu_number()];

	spin_lock(&c->lock);
	if (floor_set()) {
		spin_unlock(&c->lock);
		vm_page_free_contig(p, 1);
		return;
	}
	frame_released(p);
	if (c->count >= CACHE_MAX)
		cache_spill(c, CACHE_BATCH);
	cache_set_use(c, p, VM_PAGE_FREE);
	p->prev = NULL;
	p->next = c->list;
	c->list = p;
	c->count++;
	spin_unlock(&c->lock);
}

void vm_page_get_stats(struct vm_page_stats *s)
{
	spin_lock(&vm_page_free_lock);
	for (int u = 0; u < VM_PAGE_USES; u++)
		s->count[u] = frames_of(u);
	s->total = vm_page_count;
	spin_unlock(&vm_page_free_lock);
}

uint64_t vm_page_free_count(void)
{
	spin_lock(&vm_page_free_lock);         /* no cache folds meanwhile: one consistent sum */
	uint64_t n = frames_of(VM_PAGE_FREE);
	spin_unlock(&vm_page_free_lock);
	return n;
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
	__atomic_store_n(&reserve_floor, floor, __ATOMIC_RELAXED);
	spin_unlock(&vm_page_free_lock);
	for (unsigned i = 0; i < MACHINE_MAX_CPUS; i++) {   /* wait out whoever read no floor */
		spin_lock(&caches[i].lock);
		spin_unlock(&caches[i].lock);
	}
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
			vm_pages[pa >> PAGE_SHIFT].since_boot = true;
			free_block(pa >> PAGE_SHIFT, 0);
		}
	}
}
