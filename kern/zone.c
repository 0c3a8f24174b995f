/*
 * Zones carve frames into elements of one size.
 *
 * How frames come back.  Each frame a zone holds keeps its own list of
 * free elements and its count of elements in use, in its vm_page
 * (zone_free, zone_used); zfree finds that vm_page from the element's
 * address through the direct map.  A frame whose last element is freed
 * goes back to vm_page at once, so what a burst of allocations took
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
 * list (some elements in use, some free), on its empty list, or, full, on
 * none.  zalloc takes from a partial frame, and moves an empty one to
 * partial only when there is none, so that partial frames fill up and
 * empty ones stay empty: elements gather into few frames, and the rest
 * can go back.
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
	z->partial = z->empty = NULL;
	z->empty_count = 0;
	z->in_use = 0;
	z->pages = 0;
	z->follows_maps = false;
	z->alloc_kind = MICA_ALLOC_ZONE;
	spin_lock_init(&z->lock, name, LOCK_RANK_ZONE);
	spin_lock(&all_zones_lock);
	z->all_next = all_zones;
	all_zones = z;
	spin_unlock(&all_zones_lock);
}

/* Calls fn on every zone, with its lock held.  => all_zones_lock not held */
static void for_each_zone(void (*fn)(struct zone *, void *), void *arg)
{
	LOCK_ASSERT_NOT_HELD(&all_zones_lock);
	spin_lock(&all_zones_lock);
	for (struct zone *z = all_zones; z; z = z->all_next) {
		spin_lock(&z->lock);
		fn(z, arg);
		spin_unlock(&z->lock);
	}
	spin_unlock(&all_zones_lock);
}

static void add_totals(struct zone *z, void *arg)
{
	struct zone_totals *t = arg;

	t->frames += z->pages;
	t->empty_frames += z->empty_count;
	if (!z->follows_maps)
		t->elements += z->in_use;
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
 * Gives z a partial frame to take from: an empty one it keeps, or a new
 * one.  False when no frame is free.  => z->lock held, z->partial empty
 */
static bool refill(struct zone *z)
{
	ZONE_ASSERT_LOCKED(z);
	struct vm_page *p = z->empty;

	if (p == NULL)
		return zone_grow(z);
	vm_page_list_remove(&z->empty, p);
	z->empty_count--;
	vm_page_list_insert(&z->partial, p);
	return true;
}

/*
 * Takes one element, from a partial frame: a frame leaves the list when
 * it fills up.  NULL when no frame is free.  => z->lock held
 */
static struct zone_free *take(struct zone *z)
{
	ZONE_ASSERT_LOCKED(z);
	if (z->partial == NULL && !refill(z))
		return NULL;
	struct vm_page *p = z->partial;
	struct zone_free *f = p->zone_free;
	p->zone_free = f->next;
	p->zone_used++;
	z->in_use++;
	if (p->zone_free == NULL)
		vm_page_list_remove(&z->partial, p);
	return f;
}

/*
 * Files the frame p whose last element in use came back: kept empty
 * while the reserve has room, else given back.  was_full: p was on no
 * list (a frame of one element).  => z->lock held
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

/* Returns one element to its frame.  => z->lock held */
static void put_back(struct zone *z, struct zone_free *f)
{
	ZONE_ASSERT_LOCKED(z);
	struct vm_page *p = vm_page_from_phys(pmap_direct_to_phys(f));

	KASSERT(p != NULL && p->use == VM_PAGE_KERNEL && p->zone == z && p->zone_used > 0,
	        "zone %s: %p is not one of its elements in use", z->name, (void *)f);
	bool was_full = p->zone_free == NULL;
	f->next = p->zone_free;
	p->zone_free = f;
	p->zone_used--;
	z->in_use--;
	if (p->zone_used == 0)
		frame_emptied(z, p, was_full);
	else if (was_full)
		vm_page_list_insert(&z->partial, p);
}

void *zalloc(struct zone *z)
{
	if (alloc_fail_now(z->alloc_kind))
		return NULL;
	spin_lock(&z->lock);
	struct zone_free *f = take(z);
	spin_unlock(&z->lock);
	return f;
}

void zfree(struct zone *z, void *elem)
{
	spin_lock(&z->lock);
	put_back(z, elem);
	spin_unlock(&z->lock);
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
	for (struct zone_free *f; r->count < n && (f = take(z)) != NULL; r->count++) {
		f->next = r->list;
		r->list = f;
	}
	bool ok = r->count == n;
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

static void drain_one(struct zone *z, void *unused)
{
	(void)unused;
	while (z->empty != NULL) {
		struct vm_page *p = z->empty;
		vm_page_list_remove(&z->empty, p);
		z->empty_count--;
		release_frame(z, p);
	}
}

void zone_drain(void)
{
	for_each_zone(drain_one, NULL);
}
