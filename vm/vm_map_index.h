/*
 * A map's index: a B+tree from each entry's start to the entry, with the
 * entry's end beside it in the leaf and, in every inner node, the largest
 * free gap under each child.  It answers "which entry holds addr" by
 * touching one leaf, and "where is the lowest gap of n bytes" by one
 * descent.  The sorted entry list (entry->prev/next, with the map's header
 * as sentinel) is the map's; the index only points at entries and reads
 * their list neighbours to learn the gap before a leaf's first entry.
 *
 * Nodes are a page each (VM_MAP_NODE_SLOTS keys), so that at 100,000
 * entries a lookup walks three nodes and only the leaf is cold (see
 * docs/performance.md).  Host tests build it with a handful of slots to
 * make splits and merges common.
 *
 * Locking: the index belongs to its map and is covered by map->lock; every
 * function here but vm_map_index_init (the map not yet made) expects it
 * held (=> map locked) and asserts it through the map the index is in.
 *
 * Memory: inserting may split a node on every level, and splitting needs
 * new nodes.  The caller reserves them first (vm_map_index_reserve), so
 * an insert cannot fail halfway.  Removing never allocates.
 */
#ifndef MICA_VM_VM_MAP_INDEX_H
#define MICA_VM_VM_MAP_INDEX_H

#include <stdbool.h>
#include <stdint.h>
#include <mach/vm_types.h>
#include "kern/zone.h"

#ifndef VM_MAP_NODE_SLOTS
#define VM_MAP_NODE_SLOTS 168              /* 8 + 168 * 24 bytes: one page */
#endif

struct vm_map_entry;

/*
 * Locks: (m) the map's lock (as its entries', vm/vm_map.h), (c) constant
 * after vm_map_index_init.
 */
struct vm_map_node {
	uint16_t count;                         /* (m) slots in use; none only in an empty map's
	                                           root */
	bool leaf;                              /* (m) */
	vm_size_t max_gap;                      /* (m) the largest gap before an entry under this
	                                           node */
	vm_offset_t key[VM_MAP_NODE_SLOTS];     /* (m) leaf: entry start; inner: least key of
	                                           child (not key[0]) */
	vm_offset_t aux[VM_MAP_NODE_SLOTS];     /* (m) leaf: entry end; inner: child's max_gap */
	void *ptr[VM_MAP_NODE_SLOTS];           /* (m) leaf: the entry; inner: the child node */
};

struct vm_map_index {
	struct vm_map_entry *header;            /* (c) the map's list sentinel */
	struct vm_map_node *root;               /* (m) NULL until the first insert */
	unsigned height;                        /* (m) levels, leaves included; 0 without a root */
	unsigned crowded;                       /* (m) nodes with fewer than VM_MAP_NODE_SLACK free
	                                           slots */
	unsigned nodes;                         /* (m) nodes in the tree, the root included */
};

void vm_map_index_bootstrap(void);
void vm_map_index_init(struct vm_map_index *ix, struct vm_map_entry *header);
void vm_map_index_destroy(struct vm_map_index *ix);    /* => no entries left */

/*
 * Reserves in r the nodes n inserts into ix can need, given that (as every
 * caller guarantees) they all land between two neighbouring keys of the
 * index as it was, or in the range an operation has just emptied.  None
 * in the common case: no node near full and n small.  False when memory
 * is short (none reserved); zone_reserve_release returns what is unused.
 */
bool vm_map_index_reserve(const struct vm_map_index *ix, struct zone_reserve *r, unsigned n);

/* An entry and its range, as the index's leaves hold them. */
struct vm_map_floor {
	struct vm_map_entry *entry;
	vm_offset_t start, end;
};

/*
 * Fills *f with the last entry starting at or below addr, or with the
 * list's header and an empty range [0, 0) when there is none.  Touches
 * the entry only when it lies in an earlier leaf than addr's.
 */
void vm_map_index_floor(const struct vm_map_index *ix, vm_offset_t addr, struct vm_map_floor *f);

/*
 * The lowest entry whose gap before it (from the previous entry's end, or
 * the map's min) is at least size, or NULL.
 */
struct vm_map_entry *vm_map_index_find_gap(const struct vm_map_index *ix, vm_size_t size);

/*
 * Adds e, already linked into the map's list, taking any new node from r.
 * Removes e, still linked or just unlinked (its neighbours then point past
 * it); frees nodes left empty.  Records that e's end changed.
 */
void vm_map_index_insert(struct vm_map_index *ix, struct vm_map_entry *e, struct zone_reserve *r);
void vm_map_index_remove(struct vm_map_index *ix, struct vm_map_entry *e);
void vm_map_index_end_changed(struct vm_map_index *ix, struct vm_map_entry *e);

/*
 * Checks the tree against the entry list: NULL when every invariant
 * holds, else what is wrong.  Costly: for tests.
 */
const char *vm_map_index_check(const struct vm_map_index *ix);

#endif
