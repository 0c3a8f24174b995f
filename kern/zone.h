/*
 * Zones: allocators of fixed-size kernel objects (pmaps, pv entries, map
 * entries, and every other kernel structure through kalloc's size
 * classes).  A zone carves whole frames into elements and gives a frame
 * back to vm_page once none of its elements is in use, keeping at most
 * ZONE_EMPTY_RESERVE empty frames (kern/zone.c says why).  It counts what
 * is in use so tests can prove that nothing leaks.
 */
#ifndef MICA_KERN_ZONE_H
#define MICA_KERN_ZONE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "kern/lock.h"

struct zone_free;
struct vm_page;

/* Empty frames a zone keeps rather than give back. */
#define ZONE_EMPTY_RESERVE 2

/*
 * Locks:
 *   (z) z->lock, which also covers the zone fields of its frames' vm_pages
 *   (g) all_zones_lock (kern/zone.c)
 *   (c) set by zone_init, or at boot before the zone's first zalloc
 */
struct zone {
	const char *name;              /* (c) */
	size_t elem_size;              /* (c) */
	struct spinlock lock;
	struct vm_page *partial;       /* (z) frames with elements both free and in use */
	struct vm_page *empty;         /* (z) frames with no element in use */
	unsigned empty_count;          /* (z) frames on empty: at most ZONE_EMPTY_RESERVE */
	uint64_t in_use;               /* (z) elements handed out and not freed (read without the
	                                  lock, as a count for tests) */
	uint64_t pages;                /* (z) frames the zone holds: partial, empty and full ones */
	struct zone *all_next;         /* (g) every zone, for zone_get_totals */
	bool follows_maps;             /* (c) its count follows live maps' shapes (entries, pv) */
	unsigned alloc_kind;           /* (c) which kind an injected failure counts it as
	                                  (MICA_ALLOC_ZONE, or MICA_ALLOC_KALLOC: kern/alloc_fail.h) */
};

/* => z locked */
#define ZONE_ASSERT_LOCKED(z) LOCK_ASSERT_HELD(&(z)->lock)

void zone_init(struct zone *z, const char *name, size_t elem_size);

/*
 * Over every zone: the frames they hold, those of them that are empty,
 * and the elements in use of those zones whose count does not follow the
 * shape of live maps (map entries and pv entries change as any task maps
 * and unmaps, its own memory included).
 */
struct zone_totals {
	uint64_t frames;
	uint64_t empty_frames;
	uint64_t elements;
};

void zone_get_totals(struct zone_totals *t);

/* Gives every zone's empty frames back, its reserve too (for tests that count frames exactly). */
void zone_drain(void);

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
