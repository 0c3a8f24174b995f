/*
 * The map operations shared by the files of vm/ (vm_map.c, vm_map_wire.c,
 * vm_fault.c, vm_map_copy.c, vm_kern.c and vm_user.c).  Everything here
 * that is given a map expects it locked (=> map locked), asserts it
 * (VM_MAP_ASSERT_LOCKED), and changes nothing unless it says so.
 */
#ifndef MICA_VM_VM_MAP_INTERNAL_H
#define MICA_VM_VM_MAP_INTERNAL_H

#include "vm/vm_kern.h"
#include "vm/vm_map.h"

/*
 * Entries reserved before an operation starts, with the index nodes their
 * inserts can need, so it cannot fail halfway.
 */
struct entry_reserve {
	struct zone_reserve entries;
	struct zone_reserve nodes;         /* for splits in the index */
};

/*
 * n entries, and the nodes n inserts into map's index can need (all
 * falling in one range of it: see vm_map_index_reserve).  False:
 * none reserved.  => map locked, or not yet visible to anyone else
 * (map->building)
 */
bool entry_reserve(struct entry_reserve *r, vm_map_t map, unsigned n);
struct vm_map_entry *entry_take(struct entry_reserve *r);
void entry_reserve_release(struct entry_reserve *r);

/*
 * Faults that can be taken back.  vm_map_copy_overwrite faults in every
 * destination page before it copies a byte, and vm_map_wire every page
 * it wires before it counts one; when one fault fails for want of
 * memory, what the others made (pages filled or copied up, the entries'
 * new objects and shadows, their mappings and page tables) must go
 * again, or a vm_write or vm_wire that failed would leave its target
 * holding more memory than before.  The journal remembers, for each
 * entry of the range, its object and wiring as they were, and for each
 * page it faulted, the page that held its data before: a page the
 * entry's object holds there afterwards is new unless it is that one (a
 * collapse may have moved it up the chain, and it must stay).
 */
struct fault_entry_state {
	struct vm_map_entry *entry;
	struct vm_object *object;
	uint64_t offset;
	bool needs_copy;
	uint32_t wired_count;
};

struct fault_page {
	bool faulted;                      /* through the journal */
	struct vm_page *before;            /* where its data was then (NULL: zeroes) */
};

struct fault_journal {
	vm_map_t map;
	vm_offset_t start;                 /* page-aligned */
	size_t npages;
	struct fault_page *pages;          /* per page of the range */
	struct fault_entry_state *entries;
	unsigned nentries;
};

/*
 * A journal for faults in [start, end), which must be wholly mapped;
 * KERN_RESOURCE_SHORTAGE (nothing changed) when its memory cannot be had.
 * => map locked, and held until fault_journal_close
 */
kern_return_t fault_journal_open(struct fault_journal *j, vm_map_t map, vm_offset_t start,
                                 vm_offset_t end);
/* vm_fault_page at va for an access of type, remembered in j (a failed fault too). */
kern_return_t fault_journal_fault(struct fault_journal *j, vm_offset_t va, vm_prot_t type,
                                  struct vm_page **pagep);
/*
 * Takes back every fault j remembers, and gives each entry the object and
 * wiring it had at fault_journal_open: the range holds what it held, in
 * no more memory.
 */
void fault_journal_undo(struct fault_journal *j);
void fault_journal_close(struct fault_journal *j);

/* The last entry starting at or below addr, or &map->header. */
struct vm_map_entry *vm_map_lookup_floor(vm_map_t map, vm_offset_t addr);

/*
 * The same for a reader (vm_map_lock_read), which may share the map with
 * other readers and so leaves the hint as it is.  => map held
 */
struct vm_map_entry *vm_map_lookup_floor_shared(vm_map_t map, vm_offset_t addr);

/*
 * Splits entries so boundaries fall at start and end (two entries from r
 * at most); returns the first entry at or after start.
 */
struct vm_map_entry *vm_map_clip_range(vm_map_t map, vm_offset_t start, vm_offset_t end,
                                       struct entry_reserve *r);

/* Merges neighbouring entries that agree in everything, around [start, end]. */
void vm_map_simplify_range(vm_map_t map, vm_offset_t start, vm_offset_t end);

/*
 * Takes back a clip at addr: the entry starting there joins the one
 * before it, which it must have been split from (one object, offsets in
 * step, the same rights and wiring).  Cannot fail.
 */
void vm_map_unclip(vm_map_t map, vm_offset_t addr);

bool vm_map_find_space(vm_map_t map, vm_size_t size, vm_offset_t *addr);
bool vm_map_range_free(vm_map_t map, vm_offset_t start, vm_offset_t end);

/* A new entry over the free range [start, end); attrs gives rights, inheritance, needs_copy. */
struct vm_map_entry *vm_map_insert(vm_map_t map, vm_offset_t start, vm_offset_t end,
                                   struct vm_object *object, uint64_t offset,
                                   const struct vm_map_entry *attrs, struct entry_reserve *r);

/* Removes [start, end) (two clip entries from r at most). */
void vm_map_delete(vm_map_t map, vm_offset_t start, vm_offset_t end, struct entry_reserve *r);
void vm_map_delete_all(vm_map_t map);

/* KERN_INVALID_ADDRESS at the first hole, KERN_PROTECTION_FAILURE at the first entry lacking need. */
kern_return_t vm_map_check_range(vm_map_t map, vm_offset_t start, vm_offset_t end, vm_prot_t need);

/* Copy-on-write between entries (see vm_map.c). */
bool vm_map_entry_can_share_cow(const struct vm_map_entry *e);
void vm_map_entry_share_cow(vm_map_t map, struct vm_map_entry *e);
bool vm_map_entry_resolve_cow(vm_map_t map, struct vm_map_entry *e);
kern_return_t vm_map_entry_copy_object(vm_map_t map, struct vm_map_entry *e, vm_offset_t start,
                                       vm_offset_t end, struct vm_object **obj, uint64_t *offset,
                                       bool *needs_copy);

/*
 * Unwires a wired entry: each of its pages (its own object's, where
 * wiring put them) is counted once less in its wire_count, whether the
 * pmap still maps it or not (vm_map_wire.c).
 */
void vm_map_entry_unwire(vm_map_t map, struct vm_map_entry *e);

/* Reads [addr, addr+len) through map's objects without faulting anything in. */
void vm_map_read_locked(vm_map_t map, vm_offset_t addr, void *buf, vm_size_t len);

#endif
