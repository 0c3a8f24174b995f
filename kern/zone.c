/*
 * Zones carve frames into elements of one size.
 *
 * How frames come back.  Each frame a zone holds keeps its own list of
 * free elements and its count of elements off it, in its vm_page
 * (zone_free, zone_used); an element finds that vm_page from its
 * address through the direct map.  A frame whose last element comes
 * back goes back to vm_page at once, so what a burst of allocations took
 * returns when the burst is over, and the buddy allocator can merge it
 * into large blocks again.
 *
 * Why a reserve.  A zone keeps up to ZONE_EMPTY_RESERVE empty frames
 * rather than give them back: a caller that frees and allocates one
 * element at a frame's edge (a map entry per vm_allocate, say) would
 * otherwise give a frame back and take one again every time, through
 * vm_page's lock and the buddy allocator's merges and splits.
 *
 * Which frame an element comes from.  A frame is on the zone's partial
 * list (some elements off it, some free), on its empty list, or, full, on
 * none.  Elements are taken from a partial frame, and an empty one moves
 * to partial only when there is none, so that partial frames fill up and
 * empty ones stay empty: elements gather into few frames, and the rest
 * can go back.
 *
 * Why each CPU caches elements.  With one lock a zone, every CPU that
 * allocates or frees a map entry, a pv entry or a message queues at the
 * same lock, and the lock's line moves between CPUs at each call.  So
 * zalloc and zfree work on the calling CPU's cache (struct zone_cache):
 * a list of free elements under a lock of its own that other CPUs take
 * only to flush it.  An empty cache takes half its capacity from the
 * frames, and a full one gives half back, each in one hold of the zone
 * lock, so the zone lock is taken once in cache_max / 2 calls at most, and
 * a CPU that frees what it allocated never takes it.  The capacity is
 * about a frame's worth (between ZONE_CACHE_MIN and ZONE_CACHE_MAX
 * elements), so the frames that cached elements keep alive stay few.
 * Cached elements are off their frames but not in use: zone_in_use
 * subtracts them, so the counts tests and host_vm_stats compare stay
 * exact.  When the frames are out of elements and vm_page out of frames,
 * an allocation or a reservation flushes every CPU's cache of that zone
 * back to the frames and tries once more, so no element sits unusable in
 * another CPU's cache while an allocation fails (unless a test injected
 * that failure, which must stay a failure: kern/alloc_fail.h); zone_drain
 * flushes every cache before it gives back empty frames.
 */
#include "kern/zone.h"
#include "kern/alloc_fail.h"
#include "kern/panic.h"
#include "vm/pmap.h"
#include "vm/vm_page.h"

struct zone_free {
	struct zone_free *next;
};

static struct zone *all_zones;
static struct spinlock all_zones_lock = SPINLOCK_INIT("all_zones", LOCK_RANK_ALL_ZONES);

void zone_init(struct zone *z, const char *name, size_t elem_size)
{
	KASSERT(elem_size <= PAGE_SIZE, "zone_init: %s elements of %zu bytes", name, elem_size);
	z->name = name;
	z->elem_size = (elem_size + 15) & ~(size_t)15;   /* keep elements 16-byte aligned */
	size_t per_frame = PAGE_SIZE / z->elem_size;
	z->cache_max = per_frame < ZONE_CACHE_MIN ? ZONE_CACHE_MIN
	             : per_frame > ZONE_CACHE_MAX ? ZONE_CACHE_MAX : (unsigned)per_frame;
	z->partial = z->empty = NULL;
	z->empty_count = 0;
	z->taken = 0;
	z->pages = 0;
	z->refills = 0;
	z->follows_maps = false;
	z->alloc_kind = MICA_ALLOC_ZONE;
	spin_lock_init(&z->lock, name, LOCK_RANK_ZONE);
	for (unsigned i = 0; i < MACHINE_MAX_CPUS; i++) {
		spin_lock_init(&z->cache[i].lock, name, LOCK_RANK_ZONE_CPU);
		z->cache[i].list = NULL;
		z->cache[i].count = 0;
	}
	spin_lock(&all_zones_lock);
	z->all_next = all_zones;
	all_zones = z;
	spin_unlock(&all_zones_lock);
}

/* Calls fn on every zone, no lock of the zone held.  => all_zones_lock not held */
static void for_each_zone(void (*fn)(struct zone *, void *), void *arg)
{
	LOCK_ASSERT_NOT_HELD(&all_zones_lock);
	spin_lock(&all_zones_lock);
	for (struct zone *z = all_zones; z; z = z->all_next)
		fn(z, arg);
	spin_unlock(&all_zones_lock);
}

/* Elements the CPUs' caches of z hold. */
static uint64_t cached(const struct zone *z)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < MACHINE_MAX_CPUS; i++)
		n += __atomic_load_n(&z->cache[i].count, __ATOMIC_RELAXED);
	return n;
}

uint64_t zone_in_use(const struct zone *z)
{
	return __atomic_load_n(&z->taken, __ATOMIC_RELAXED) - cached(z);
}

static void add_totals(struct zone *z, void *arg)
{
	struct zone_totals *t = arg;

	spin_lock(&z->lock);
	t->frames += z->pages;
	t->empty_frames += z->empty_count;
	spin_unlock(&z->lock);
	if (!z->follows_maps)
		t->elements += zone_in_use(z);
}

void zone_get_totals(struct zone_totals *t)
{
	*t = (struct zone_totals){ 0 };
	for_each_zone(add_totals, t);
}

/* Gives the empty frame p back to vm_page.  => z->lock held, p on no list */
static void release_frame(struct zone *z, struct vm_page *p)
{
	ZONE_ASSERT_LOCKED(z);
	KASSERT(p->zone_used == 0, "zone %s: frame %#lx still has %u elements in use", z->name,
	        vm_page_to_phys(p), p->zone_used);
	p->zone_free = NULL;
	p->zone = NULL;
	z->pages--;
	vm_page_free(p);
}

/*
 * Carves a new frame into elements and puts it on the partial list; false
 * when no frame is free.  => z->lock held
 */
static bool zone_grow(struct zone *z)
{
	ZONE_ASSERT_LOCKED(z);
	struct vm_page *p = vm_page_alloc(VM_PAGE_KERNEL, 0);

	if (p == NULL)
		return false;
	char *base = pmap_phys_to_virt(vm_page_to_phys(p));
	p->zone_free = NULL;
	for (size_t off = PAGE_SIZE / z->elem_size * z->elem_size; off > 0;) {
		off -= z->elem_size;               /* lowest address first on the list */
		struct zone_free *f = (struct zone_free *)(base + off);
		f->next = p->zone_free;
		p->zone_free = f;
	}
	p->zone = z;
	p->zone_used = 0;
	z->pages++;
	vm_page_list_insert(&z->partial, p);
	return true;
}

/*
 * Gives z a partial frame to take from: an empty one it keeps, or (grow)
 * a new one.  False when there is none.  => z->lock held, z->partial empty
 */
static bool refill(struct zone *z, bool grow)
{
	ZONE_ASSERT_LOCKED(z);
	struct vm_page *p = z->empty;

	if (p == NULL)
		return grow && zone_grow(z);
	vm_page_list_remove(&z->empty, p);
	z->empty_count--;
	vm_page_list_insert(&z->partial, p);
	return true;
}

/*
 * Takes one element off a partial frame: a frame leaves the list when it
 * fills up.  NULL when the frames have none and (grow) no frame is free
 * for a new one.  => z->lock held
 */
static struct zone_free *take(struct zone *z, bool grow)
{
	ZONE_ASSERT_LOCKED(z);
	if (z->partial == NULL && !refill(z, grow))
		return NULL;
	struct vm_page *p = z->partial;
	struct zone_free *f = p->zone_free;
	p->zone_free = f->next;
	p->zone_used++;
	z->taken++;
	if (p->zone_free == NULL)
		vm_page_list_remove(&z->partial, p);
	return f;
}

/*
 * Files the frame p whose last element came back: kept empty while the
 * reserve has room, else given back.  was_full: p was on no list (a
 * frame of one element).  => z->lock held
 */
static void frame_emptied(struct zone *z, struct vm_page *p, bool was_full)
{
	ZONE_ASSERT_LOCKED(z);
	if (!was_full)
		vm_page_list_remove(&z->partial, p);
	if (z->empty_count >= ZONE_EMPTY_RESERVE) {
		release_frame(z, p);
		return;
	}
	vm_page_list_insert(&z->empty, p);
	z->empty_count++;
}

/* The frame the element f lies in. */
static struct vm_page *frame_of(const struct zone_free *f)
{
	return vm_page_from_phys(pmap_direct_to_phys(f));
}

/* Returns one element to its frame.  => z->lock held */
static void put_back(struct zone *z, struct zone_free *f)
{
	ZONE_ASSERT_LOCKED(z);
	struct vm_page *p = frame_of(f);

	KASSERT(p != NULL && p->use == VM_PAGE_KERNEL && p->zone == z && p->zone_used > 0,
	        "zone %s: %p is not one of its elements in use", z->name, (void *)f);
	bool was_full = p->zone_free == NULL;
	f->next = p->zone_free;
	p->zone_free = f;
	p->zone_used--;
	z->taken--;
	if (p->zone_used == 0)
		frame_emptied(z, p, was_full);
	else if (was_full)
		vm_page_list_insert(&z->partial, p);
}

/*
 * Fills the empty cache c with half its capacity of elements, in one hold
 * of the zone lock; false when the frames had none.  => c->lock held
 */
static bool cache_fill(struct zone *z, struct zone_cache *c)
{
	LOCK_ASSERT_HELD(&c->lock);
	spin_lock(&z->lock);
	for (struct zone_free *f; c->count < z->cache_max / 2 && (f = take(z, true)) != NULL;) {
		f->next = c->list;
		c->list = f;
		c->count++;
	}
	z->refills++;
	spin_unlock(&z->lock);
	return c->list != NULL;
}

/* Returns n elements of c to their frames, in one hold of the zone lock.  => c->lock held */
static void cache_spill(struct zone *z, struct zone_cache *c, unsigned n)
{
	LOCK_ASSERT_HELD(&c->lock);
	spin_lock(&z->lock);
	for (; n > 0 && c->list != NULL; n--) {
		struct zone_free *f = c->list;
		c->list = f->next;
		c->count--;
		put_back(z, f);
	}
	spin_unlock(&z->lock);
}

/* Every CPU's cache of z back to the frames.  => no lock of z held */
static void flush_caches(struct zone *z)
{
	for (unsigned i = 0; i < MACHINE_MAX_CPUS; i++) {
		struct zone_cache *c = &z->cache[i];
		if (__atomic_load_n(&c->count, __ATOMIC_RELAXED) == 0)
			continue;
		spin_lock(&c->lock);
		cache_spill(z, c, c->count);
		spin_unlock(&c->lock);
	}
}

/* This CPU's cache of z (or, if the thread has moved meanwhile, the one it left). */
static struct zone_cache *this_cache(struct zone *z)
{
	return &z->cache[machine_cpu_number()];
}

/*
 * The frames had no element for a cache and vm_page no frame: the other
 * CPUs' caches may, so they go back to the frames and one is taken
 * there.  NULL when none is left anywhere.  No new frame is asked for
 * again: vm_page refused one (or a test's injected failure did, which
 * must stay a failure).
 */
static struct zone_free *zalloc_short(struct zone *z)
{
	if (alloc_fail_injected())
		return NULL;
	flush_caches(z);
	spin_lock(&z->lock);
	struct zone_free *f = take(z, false);
	spin_unlock(&z->lock);
	return f;
}

void *zalloc(struct zone *z)
{
	if (alloc_fail_now(z->alloc_kind))
		return NULL;
	struct zone_cache *c = this_cache(z);
	spin_lock(&c->lock);
	struct zone_free *f = c->list;
	if (f == NULL && cache_fill(z, c))
		f = c->list;
	if (f != NULL) {
		c->list = f->next;
		c->count--;
	}
	spin_unlock(&c->lock);
	return f != NULL ? f : zalloc_short(z);
}

void zfree(struct zone *z, void *elem)
{
	struct zone_free *f = elem;
	struct zone_cache *c = this_cache(z);

	spin_lock(&c->lock);                   /* put_back checks it is z's when it reaches its frame */
	KASSERT(c->list != f, "zfree: %p of zone %s freed twice", elem, z->name);
	if (c->count >= z->cache_max)
		cache_spill(z, c, z->cache_max / 2);
	f->next = c->list;
	c->list = f;
	c->count++;
	spin_unlock(&c->lock);
}

/* Returns every element left in r to its zone.  => r->zone->lock held */
static void put_back_all(struct zone_reserve *r)
{
	ZONE_ASSERT_LOCKED(r->zone);
	while (r->list != NULL) {
		struct zone_free *f = r->list;
		r->list = f->next;
		put_back(r->zone, f);
	}
	r->count = 0;
}

/*
 * Takes elements into r until it holds n or the frames have none (and,
 * with grow, vm_page no frame for more); true if it holds n.
 */
static bool reserve_take(struct zone_reserve *r, unsigned n, bool grow)
{
	ZONE_ASSERT_LOCKED(r->zone);
	for (struct zone_free *f; r->count < n && (f = take(r->zone, grow)) != NULL; r->count++) {
		f->next = r->list;
		r->list = f;
	}
	return r->count == n;
}

bool zone_reserve(struct zone *z, struct zone_reserve *r, unsigned n)
{
	r->zone = z;
	r->list = NULL;
	r->count = 0;
	if (n == 0)
		return true;                  /* the common case for the map index: no lock */
	if (alloc_fail_now(z->alloc_kind))
		return false;
	spin_lock(&z->lock);
	bool ok = reserve_take(r, n, true);
	if (!ok && !alloc_fail_injected()) {   /* what is reserved stays; the caches may have the rest */
		spin_unlock(&z->lock);
		flush_caches(z);
		spin_lock(&z->lock);
		ok = reserve_take(r, n, false);   /* as zalloc_short: no frame asked for again */
	}
	if (!ok)
		put_back_all(r);
	spin_unlock(&z->lock);
	return ok;
}

void *zone_reserve_take(struct zone_reserve *r)
{
	struct zone_free *f = r->list;

	if (f != NULL) {
		r->list = f->next;
		r->count--;
	}
	return f;
}

void zone_reserve_release(struct zone_reserve *r)
{
	if (r->list == NULL)
		return;
	spin_lock(&r->zone->lock);
	put_back_all(r);
	spin_unlock(&r->zone->lock);
}

static void flush_one(struct zone *z, void *unused)
{
	(void)unused;
	flush_caches(z);
}

void zone_flush_caches(void)
{
	for_each_zone(flush_one, NULL);
}

static void drain_one(struct zone *z, void *unused)
{
	flush_one(z, unused);
	spin_lock(&z->lock);
	while (z->empty != NULL) {
		struct vm_page *p = z->empty;
		vm_page_list_remove(&z->empty, p);
		z->empty_count--;
		release_frame(z, p);
	}
	spin_unlock(&z->lock);
}

void zone_drain(void)
{
	for_each_zone(drain_one, NULL);
	vm_page_drain_caches();
}
