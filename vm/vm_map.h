/*
 * Address maps: an address space as a sorted set of entries, each mapping
 * [start, end) to an object at an offset with protections and an
 * inheritance.  Entries form a sorted list, indexed by a B+tree of
 * page-sized nodes (vm/vm_map_index.h: lookup and free-gap search touch
 * one node a level), plus a lookup hint.
 * The map owns a pmap, which caches what the entries say.
 *
 * Locking: map->lock, a sleep lock (kern/lock.h), covers the entry list
 * and index, the hint and every entry field (the legend below); it is
 * held for writing across a whole operation, faults and copies included,
 * with interrupts on and the holder preemptible, so a check and the
 * change it guards see the same map (vm_write's check-then-write relies
 * on this).  A call that only reads entries (vm_region) holds it for
 * reading, shared with other readers: it reads entries and the index
 * but writes nothing, not even the hint (vm_map_lookup_floor_shared).  An operation between
 * maps (vm_map_copyin, then vm_map_copy_overwrite) locks one map at a
 * time and carries the data in a vm_map_copy.
 */
#ifndef MICA_VM_VM_MAP_H
#define MICA_VM_VM_MAP_H

#include <stdbool.h>
#include <mach/kern_return.h>
#include <mach/vm_inherit.h>
#include <mach/vm_prot.h>
#include <mach/vm_region.h>
#include <mach/vm_types.h>
#include "kern/lock.h"
#include "vm/pmap.h"
#include "vm/vm_map_index.h"

struct vm_object;

/*
 * Locks:
 *   (m) map->lock; or, while vm_map_fork fills a new map that no one else
 *       can see yet (map->building), the forking thread
 *   (c) constant after vm_map_create
 *   (a) atomic
 *   (f) vm_map_fork, before and after it fills the map
 */
struct vm_map_entry {
	struct vm_map_entry *prev, *next;  /* (m) sorted list; the map's header is the sentinel */
	vm_offset_t start, end;        /* (m) */
	struct vm_object *object;      /* (m) NULL: zero-fill memory not yet touched */
	uint64_t offset;               /* (m) of start in object */
	vm_prot_t protection, max_protection;   /* (m) */
	vm_inherit_t inheritance;      /* (m) */
	uint32_t wired_count;          /* (m) */
	bool needs_copy;               /* (m) object is shared copy-on-write: shadow it before
	                                  writing */
	bool device;                   /* (m) device registers the pmap holds (kmem_map_device):
	                                  no fault may fill it, and it never merges */
};

struct vm_map {
	struct sleep_lock lock;        /* held for writing by every operation, for now */
	struct vm_map_index index;     /* (m) */
	struct vm_map_entry header;    /* (m) list sentinel: header.next is the lowest entry;
	                                  its start and end, the map's max and min, are (c) */
	struct vm_map_floor hint;      /* (m) the last lookup's answer: checking it touches only
	                                  the map */
	uint32_t nentries;             /* (m) */
	uint32_t ref_count;            /* (a) */
	vm_offset_t min, max;          /* (c) the map covers [min, max) */
	vm_size_t size;                /* (m) bytes mapped */
	pmap_t pmap;                   /* (c) */
	bool building;                 /* (f) vm_map_fork is filling the map, which no one else
	                                  can see yet: it counts as locked */
};

typedef struct vm_map *vm_map_t;

/* => map held for reading by someone, or for writing by this thread (or being built) */
#define VM_MAP_ASSERT_HELD(map)                                                         \
	do {                                                                            \
		if (!(map)->building)                                                   \
			SLEEP_LOCK_ASSERT_HELD(&(map)->lock);                           \
	} while (0)

/* => map locked by this thread (or being built by vm_map_fork: see building) */
#define VM_MAP_ASSERT_LOCKED(map)                                                       \
	do {                                                                            \
		if (!(map)->building)                                                   \
			SLEEP_LOCK_ASSERT_WRITE(&(map)->lock);                          \
	} while (0)

/*
 * Holds map for an operation: it may sleep for it, so no spin lock may be
 * held; the holder runs with interrupts on and may be preempted.  False,
 * holding nothing, when the thread is being terminated while it waits:
 * the operation then fails with KERN_ABORTED, having changed nothing.
 */
static inline bool __attribute__((warn_unused_result)) vm_map_lock(vm_map_t map)
{
	return lock_write(&map->lock);
}

/* Holds map shared with other readers, for a call that changes nothing; false as vm_map_lock. */
static inline bool __attribute__((warn_unused_result)) vm_map_lock_read(vm_map_t map)
{
	return lock_read(&map->lock);
}

/*
 * A read hold becomes the write hold; false if another reader asked
 * first or the thread is being terminated, and then map is not held at
 * all: the caller takes it again (vm_map_lock) and compares
 * vm_map_timestamp with what it read before, to know whether its lookups
 * still stand.
 */
static inline bool __attribute__((warn_unused_result)) vm_map_lock_upgrade(vm_map_t map)
{
	return lock_read_to_write(&map->lock);
}

/* Moves each time a write hold of map is let go.  => map held */
static inline uint32_t vm_map_timestamp(vm_map_t map)
{
	return map->lock.timestamp;
}

/* Holds map whatever happens: for a teardown or a release, which must be done. */
static inline void vm_map_lock_unint(vm_map_t map)
{
	lock_write_unint(&map->lock);
}

static inline void vm_map_unlock(vm_map_t map)
{
	lock_done(&map->lock);
}

extern vm_map_t kernel_map;

void vm_map_bootstrap(void);

/* A new empty map over [min, max) using pmap (the map takes it); NULL when out of memory. */
vm_map_t vm_map_create(pmap_t pmap, vm_offset_t min, vm_offset_t max);
void vm_map_reference(vm_map_t map);
/* Drops a reference; the last one removes every entry and destroys the pmap. */
void vm_map_deallocate(vm_map_t map);

/*
 * A child map made from map by each entry's inheritance: shared, copied
 * copy-on-write, or left out.  NULL when out of memory (map unchanged).
 */
vm_map_t vm_map_fork(vm_map_t map, pmap_t child_pmap);

/* The entry containing addr, or NULL.  => map locked */
struct vm_map_entry *vm_map_lookup_entry(vm_map_t map, vm_offset_t addr);

/* ---- wiring (vm/vm_map_wire.c) ---- */

/*
 * Wires [start, end) (page-aligned) for access (not VM_PROT_NONE): every
 * page is faulted in as access needs, made the entry's own (a page shared
 * copy-on-write is copied), mapped, and counted in its vm_page's
 * wire_count, and each entry is marked wired, so its pages stay resident
 * and in place until it is unwired.  Entries already wired stay as they
 * are: wiring does not nest.  => map locked, and held across the call
 *
 * KERN_INVALID_ADDRESS at the first hole (outside the map included) or
 * KERN_PROTECTION_FAILURE at the first entry whose protection lacks
 * access, in address order; KERN_MEMORY_FAILURE when the range holds a
 * device entry (kmem_map_device); KERN_RESOURCE_SHORTAGE when memory runs
 * out, at any point.
 *
 * All or nothing: on failure, even partway through, every entry and page
 * this call wired is unwired again, the pages it faulted in and the
 * objects it made are given back, and the entries it split are joined:
 * the map's entries, their wiring, every page's wire count and the
 * map's contents are as before, in no more memory.
 */
kern_return_t vm_map_wire(vm_map_t map, vm_offset_t start, vm_offset_t end, vm_prot_t access);

/*
 * Unwires every wired entry of [start, end) (page-aligned): each of its
 * pages is counted once less in its wire_count (they stay resident and
 * mapped until something else removes them); entries not wired stay as
 * they are.  KERN_INVALID_ADDRESS at the first hole, or
 * KERN_RESOURCE_SHORTAGE when no entry can be had to split one at an end
 * of the range, and then nothing changed.  => map locked
 */
kern_return_t vm_map_unwire(vm_map_t map, vm_offset_t start, vm_offset_t end);

/*
 * Checks everything the map promises (index shape and gaps, sorted
 * disjoint entries, copy-on-write pages read-only in the pmap): NULL when
 * all holds, else what is wrong.  Costly: for tests.
 */
const char *vm_map_check_invariants(vm_map_t map);

/* Entries in a map: tests use it to check clipping and merging. */
uint32_t vm_map_entry_count(vm_map_t map);

#endif
