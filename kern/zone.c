#include "kern/zone.h"
#include "kern/panic.h"
#include "vm/pmap.h"
#include "vm/vm_page.h"

struct zone_free {
	struct zone_free *next;
};

static struct zone *all_zones;
static struct spinlock all_zones_lock = SPINLOCK_INIT("all_zones", LOCK_RANK_ZONE - 1);

void zone_init(struct zone *z, const char *name, size_t elem_size)
{
	KASSERT(elem_size <= PAGE_SIZE, "zone_init: %s elements of %zu bytes", name, elem_size);
	z->name = name;
	z->elem_size = (elem_size + 15) & ~(size_t)15;   /* keep elements 16-byte aligned */
	z->free = NULL;
	z->in_use = 0;
	z->pages = 0;
	z->follows_maps = false;
	spin_lock_init(&z->lock, name, LOCK_RANK_ZONE);
	spin_lock(&all_zones_lock);
	z->all_next = all_zones;
	all_zones = z;
	spin_unlock(&all_zones_lock);
}

void zone_totals(uint64_t *frames, uint64_t *elements)
{
	*frames = *elements = 0;
	spin_lock(&all_zones_lock);
	for (struct zone *z = all_zones; z; z = z->all_next) {
		spin_lock(&z->lock);
		*frames += z->pages;
		if (!z->follows_maps)
			*elements += z->in_use;
		spin_unlock(&z->lock);
	}
	spin_unlock(&all_zones_lock);
}

/* Carves a new frame into elements on the free list.  => z->lock held */
static bool zone_grow(struct zone *z)
{
	struct vm_page *page = vm_page_alloc(VM_PAGE_KERNEL, 0);

	if (page == NULL)
		return false;
	char *base = pmap_phys_to_virt(vm_page_to_phys(page));
	for (size_t off = 0; off + z->elem_size <= PAGE_SIZE; off += z->elem_size) {
		struct zone_free *f = (struct zone_free *)(base + off);
		f->next = z->free;
		z->free = f;
	}
	z->pages++;
	return true;
}

void *zalloc(struct zone *z)
{
	struct zone_free *f = NULL;

	spin_lock(&z->lock);
	if (z->free != NULL || zone_grow(z)) {
		f = z->free;
		z->free = f->next;
		z->in_use++;
	}
	spin_unlock(&z->lock);
	return f;
}

/* Pushes the chain first..last of n elements onto z's free list.  => z->lock held */
static void put_back(struct zone *z, struct zone_free *first, struct zone_free *last, unsigned n)
{
	KASSERT(z->in_use >= n, "zone %s: %u freed, %lu in use", z->name, n, z->in_use);
	last->next = z->free;
	z->free = first;
	z->in_use -= n;
}

bool zone_reserve(struct zone *z, struct zone_reserve *r, unsigned n)
{
	struct zone_free *last = NULL;

	r->zone = z;
	r->list = NULL;
	r->count = 0;
	if (n == 0)
		return true;                  /* the common case for the map index: no lock */
	spin_lock(&z->lock);
	while (r->count < n && (z->free != NULL || zone_grow(z))) {
		struct zone_free *f = z->free;
		z->free = f->next;
		f->next = r->list;
		r->list = f;
		last = last ? last : f;
		r->count++;
		z->in_use++;
	}
	bool ok = r->count == n;
	if (!ok && r->count > 0)
		put_back(z, r->list, last, r->count);
	spin_unlock(&z->lock);
	if (!ok) {
		r->list = NULL;
		r->count = 0;
	}
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
	struct zone_free *last = r->list;

	if (last == NULL)
		return;
	while (last->next != NULL)
		last = last->next;
	spin_lock(&r->zone->lock);
	put_back(r->zone, r->list, last, r->count);
	spin_unlock(&r->zone->lock);
	r->list = NULL;
	r->count = 0;
}

void zfree(struct zone *z, void *elem)
{
	struct zone_free *f = elem;

	spin_lock(&z->lock);
	put_back(z, f, f, 1);
	spin_unlock(&z->lock);
}
