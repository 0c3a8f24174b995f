/*
 * Zones: allocators of fixed-size kernel objects (pmaps, pv entries, and
 * with the VM issue every kernel structure, through kalloc's size
 * classes).  A zone carves whole frames into elements and keeps freed
 * elements on a free list, never giving a frame back; it counts what is
 * in use so tests can prove that nothing leaks (the frames a zone holds
 * are its high-water mark, not a leak).
 *
 * Lock order: a zone's lock comes after every VM lock but vm_page's.
 */
#ifndef MICA_KERN_ZONE_H
#define MICA_KERN_ZONE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "kern/lock.h"

struct zone_free;

struct zone {
	const char *name;
	size_t elem_size;
	struct zone_free *free;        /* freed or never used elements */
	uint64_t in_use;               /* elements handed out and not freed */
	uint64_t pages;                /* frames the zone holds */
	struct spinlock lock;
	struct zone *all_next;         /* every zone, for zone_totals */
	bool follows_maps;             /* its count follows live maps' shapes (entries, pv) */
};

void zone_init(struct zone *z, const char *name, size_t elem_size);

/*
 * Over every zone: the frames they hold, and the elements in use of those
 * whose count does not follow the shape of live maps (map entries and pv
 * entries change as any task maps and unmaps, its own memory included).
 */
void zone_totals(uint64_t *frames, uint64_t *elements);

/* An element (contents undefined), or NULL when no frame is left for a new slab. */
void *zalloc(struct zone *z);
void zfree(struct zone *z, void *elem);

/*
 * Elements set aside for an operation that must not fail halfway: all n
 * are taken at once (one lock, and false with none taken when memory is
 * short), handed out by zone_reserve_take, and what is left goes back at
 * once.  They count as in use while reserved.
 */
struct zone_reserve {
	struct zone *zone;
	struct zone_free *list;
	unsigned count;
};

bool zone_reserve(struct zone *z, struct zone_reserve *r, unsigned n);
void *zone_reserve_take(struct zone_reserve *r);     /* NULL when none is left */
void zone_reserve_release(struct zone_reserve *r);

#endif
