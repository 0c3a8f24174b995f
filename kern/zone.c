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

void zfree(struct zone *z, void *elem)
{
	struct zone_free *f = elem;

	spin_lock(&z->lock);
	KASSERT(z->in_use > 0, "zfree: zone %s has nothing in use", z->name);
	f->next = z->free;
	z->free = f;
	z->in_use--;
	spin_unlock(&z->lock);
}
