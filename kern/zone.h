/*
 * Zones: allocators of fixed-size kernel objects (pmaps, pv entries, map
 * entries, and every other kernel structure through kalloc's size
 * classes).  A zone carves whole frames into elements and gives a frame
 * back to vm_page once none of its elements is in use, keeping at most
 * ZONE_EMPTY_RESERVE empty frames (kern/zone.c says why).  Each CPU keeps
 * a few free elements of every zone in a cache of its own, so that
 * allocating and freeing on different CPUs does not take turns at the
 * zone's lock.  It counts what is in use (handed to callers, not cached)
 * so tests can prove that nothing leaks.
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

/* A CPU's cache holds at least this many elements and at most this many, or a frame's worth. */
#define ZONE_CACHE_MIN 4
#define ZONE_CACHE_MAX 32

/*
 * Locks:
 *   (z) z->lock, which also covers the zone fields of its frames' vm_pages
 *   (p) the cache's own lock
 *   (g) all_zones_lock (kern/zone.c)
 *   (c) set by zone_init, or at boot before the zone's first zalloc
 */

/*
 * One CPU's free elements of one zone.  The CPU that zalloc or zfree runs
 * on picks the cache; a thread that moves to another CPU meanwhile uses
 * the old CPU's, which its lock keeps correct.  A line of its own, so CPUs
 * do not pass one line back and forth.
 */
struct __attribute__((aligned(64))) zone_cache {
	struct spinlock lock;
	struct zone_free *list;        /* (p) free elements, the last freed first */
	unsigned count;                /* (p) elements on list (read without the lock, as a
	                                  count for tests) */
};

struct zone {
	const char *name;              /* (c) */
	size_t elem_size;              /* (c) */
	unsigned cache_max;            /* (c) elements a CPU's cache holds at most */
	struct spinlock lock;
	struct vm_page *partial;       /* (z) frames with elements both free and in use */
	struct vm_page *empty;         /* (z) frames with no element in use */
	unsigned empty_count;          /* (z) frames on empty: at most ZONE_EMPTY_RESERVE */
	uint64_t taken;                /* (z) elements off their frames: in use, reserved, or in a
	                                  CPU's cache (zone_in_use tells the first two) */
	uint64_t pages;                /* (z) frames the zone holds: partial, empty and full ones;
	                                  a frame with only cached elements off it is full or partial */
	uint64_t refills;              /* (z) batches the CPUs' caches took from the frames */
	struct zone *all_next;         /* (g) every zone, for zone_get_totals */
	bool follows_maps;             /* (c) its count follows live maps' shapes (entries, pv) */
	unsigned alloc_kind;           /* (c) which kind an injected failure counts it as
	                                  (MICA_ALLOC_ZONE, or MICA_ALLOC_KALLOC: kern/alloc_fail.h) */
	struct zone_cache cache[MACHINE_MAX_CPUS];   /* by machine_cpu_number() */
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

/*
 * Elements handed out (by zalloc, or reserved) and not freed; what the
 * CPUs' caches hold is not in use.  Exact when no CPU is allocating from z.
 */
uint64_t zone_in_use(const struct zone *z);

/*
 * Gives every element the CPUs' caches hold back to its frame, as if each
 * had been freed there: frames beyond a zone's reserve go back to vm_page
 * (for tests that count a zone's frames).
 */
void zone_flush_caches(void);

/*
 * zone_flush_caches, then gives every
 * zone's empty frames back to vm_page, its reserve too, and flushes
 * vm_page's caches of frames (for tests that count frames and blocks
 * exactly).
 */
void zone_drain(void);

/*
 * An element (contents undefined), or NULL when no frame is left for a new
 * slab and no CPU's cache holds one.
 */
void *zalloc(struct zone *z);
void zfree(struct zone *z, void *elem);

/*
 * Elements set aside for an operation that must not fail halfway: all n
 * are taken at once from the frames (one hold of the zone's lock, a
 * second once the CPUs' caches are back when the frames fall short; false
 * with none taken when memory is short), handed out by
 * zone_reserve_take, and what is left goes back to the frames at once.
 * They count as in use while reserved.
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
