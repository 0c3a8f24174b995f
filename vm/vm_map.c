/*
 * Address maps (vm/vm_map.h): a sorted list of entries and its index
 * (vm/vm_map_index.c), clipping and merging, free-space search, and the
 * map-level operations the Mach calls (vm/vm_user.c) are built from;
 * wiring is in vm/vm_map_wire.c.
 *
 * Locking (vm/vm_map.h): map->lock is held for a whole operation, and the
 * functions marked `=> map locked` assert it (VM_MAP_ASSERT_LOCKED).
 *
 * Free-space search: the gap before an entry is the distance from the
 * previous entry's end (or the map's min).  The list header is a sentinel
 * whose `end` is the map's min and whose `start` is its max, so the first
 * entry's gap and the gap after the last need no special case.  The index
 * keeps the largest gap under each node, and a first-fit search descends
 * by it.
 *
 * All-or-nothing: an operation that may need new entries (clipping,
 * copying) reserves them all before it changes anything, with the index
 * nodes their inserts can need, so running out of memory leaves the map
 * as it was.
 */
#include "vm/vm_map.h"
#include "kern/panic.h"
#include "lib/string.h"
#include "kern/zone.h"
#include "vm/vm_map_internal.h"
#include "vm/vm_object.h"

vm_map_t kernel_map;

static struct zone map_zone, entry_zone;

void vm_map_bootstrap(void)
{
	vm_offset_t start, end;

	zone_init(&map_zone, "vm_map", sizeof(struct vm_map));
	zone_init(&entry_zone, "vm_map_entry", sizeof(struct vm_map_entry));
	entry_zone.follows_maps = true;
	vm_map_index_bootstrap();
	pmap_virtual_space(&start, &end);
	kernel_map = vm_map_create(kernel_pmap, kmem_first_free_va(), end);
	if (kernel_map == NULL)
		panic("vm_map_bootstrap: no memory for the kernel map");
}

/* ------------------------------------------------------------- creation */

vm_map_t vm_map_create(pmap_t pmap, vm_offset_t min, vm_offset_t max)
{
	vm_map_t map = zalloc(&map_zone);

	if (map == NULL)
		return NULL;
	memset(map, 0, sizeof(*map));
	sleep_lock_init(&map->lock, "vm_map", LOCK_RANK_MAP);
	vm_map_index_init(&map->index, &map->header);
	map->header.next = map->header.prev = &map->header;
	map->header.start = max;          /* the sentinel: see the top of this file */
	map->header.end = min;
	map->hint = (struct vm_map_floor){ &map->header, 0, 0 };   /* matches nothing */
	map->ref_count = 1;
	map->min = min;
	map->max = max;
	map->pmap = pmap;
	return map;
}

/* Atomic, as a port's count: every kernel call on a task port takes and drops one. */
void vm_map_reference(vm_map_t map)
{
	__atomic_add_fetch(&map->ref_count, 1, __ATOMIC_RELAXED);
}

/* Removes every entry and frees the map; its pmap is the caller's business. */
static void map_teardown(vm_map_t map)
{
	vm_map_lock_unint(map);
	vm_map_delete_all(map);
	vm_map_index_destroy(&map->index);
	vm_map_unlock(map);
	zfree(&map_zone, map);
}

void vm_map_deallocate(vm_map_t map)
{
	if (__atomic_sub_fetch(&map->ref_count, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	pmap_t pmap = map->pmap;
	map_teardown(map);
	if (pmap != kernel_pmap)
		pmap_destroy(pmap);
}

uint32_t vm_map_entry_count(vm_map_t map)
{
	return map->nentries;
}

/* ------------------------------------------------------------- entry reserve */

bool entry_reserve(struct entry_reserve *r, vm_map_t map, unsigned n)
{
	VM_MAP_ASSERT_LOCKED(map);
	zone_reserve(&entry_zone, &r->entries, 0);   /* empty, so releasing r is right even now */
	if (!vm_map_index_reserve(&map->index, &r->nodes, n))
		return false;
	if (!zone_reserve(&entry_zone, &r->entries, n)) {
		zone_reserve_release(&r->nodes);
		return false;
	}
	return true;
}

struct vm_map_entry *entry_take(struct entry_reserve *r)
{
	struct vm_map_entry *e = zone_reserve_take(&r->entries);

	KASSERT(e != NULL, "entry_take: the reserve is empty (too few entries reserved)");
	memset(e, 0, sizeof(*e));
	return e;
}

void entry_reserve_release(struct entry_reserve *r)
{
	zone_reserve_release(&r->entries);
	zone_reserve_release(&r->nodes);
}

static void entry_free(struct vm_map_entry *e)
{
	zfree(&entry_zone, e);
}

/* ------------------------------------------------------------- lookup */

/*
 * The last entry starting at or below addr with its range, or the header
 * and [0, 0) when addr lies before every entry.  The answer becomes the
 * hint; neither the hint nor the index touches the entry.  => map locked
 */
static const struct vm_map_floor *lookup_floor(vm_map_t map, vm_offset_t addr)
{
	VM_MAP_ASSERT_LOCKED(map);
	if (!(map->hint.start <= addr && addr < map->hint.end))
		vm_map_index_floor(&map->index, addr, &map->hint);
	return &map->hint;
}

/* Any change to an entry's range, or its removal, forgets the hint. */
static void hint_clear(vm_map_t map)
{
	map->hint = (struct vm_map_floor){ &map->header, 0, 0 };
}

struct vm_map_entry *vm_map_lookup_floor(vm_map_t map, vm_offset_t addr)
{
	VM_MAP_ASSERT_LOCKED(map);
	return lookup_floor(map, addr)->entry;
}

/* A hint that holds addr answers; else the index does, into a floor of our own. */
struct vm_map_entry *vm_map_lookup_floor_shared(vm_map_t map, vm_offset_t addr)
{
	struct vm_map_floor f;

	VM_MAP_ASSERT_HELD(map);
	if (map->hint.start <= addr && addr < map->hint.end)
		return map->hint.entry;
	vm_map_index_floor(&map->index, addr, &f);
	return f.entry;
}

struct vm_map_entry *vm_map_lookup_entry(vm_map_t map, vm_offset_t addr)
{
	VM_MAP_ASSERT_LOCKED(map);
	const struct vm_map_floor *f = lookup_floor(map, addr);

	return addr < f->end ? f->entry : NULL;       /* the header's [0, 0) holds nothing */
}

/* ------------------------------------------------------------- insert, remove */

/*
 * Links e (its range free in map) into the list after prev and into the
 * index, taking any node a split needs from r.  The list goes first: the
 * index reads gaps from it.  => map locked
 */
static void entry_link(vm_map_t map, struct vm_map_entry *prev, struct vm_map_entry *e,
                       struct entry_reserve *r)
{
	VM_MAP_ASSERT_LOCKED(map);
	e->prev = prev;
	e->next = prev->next;
	prev->next->prev = e;
	prev->next = e;
	vm_map_index_insert(&map->index, e, &r->nodes);
	map->nentries++;
	map->size += e->end - e->start;
}

/* Takes e out of map; the caller frees it or its object.  => map locked */
static void entry_unlink(vm_map_t map, struct vm_map_entry *e)
{
	VM_MAP_ASSERT_LOCKED(map);
	e->prev->next = e->next;           /* the list first, as in entry_link */
	e->next->prev = e->prev;
	vm_map_index_remove(&map->index, e);
	if (map->hint.entry == e)
		hint_clear(map);
	map->nentries--;
	map->size -= e->end - e->start;
}

/* e's end moved (a split or a merge): tell the index and the hint.  => map locked */
static void entry_set_end(vm_map_t map, struct vm_map_entry *e, vm_offset_t end)
{
	VM_MAP_ASSERT_LOCKED(map);
	e->end = end;
	vm_map_index_end_changed(&map->index, e);
	if (map->hint.entry == e)
		hint_clear(map);
}

/* ------------------------------------------------------------- clip and merge */

/*
 * Splits e at addr (strictly inside it): e keeps [start, addr) and a new
 * entry from r, returned, takes [addr, end) with the same object, offset
 * moved along, and the same rights.  => map locked
 */
static struct vm_map_entry *entry_split(vm_map_t map, struct vm_map_entry *e, vm_offset_t addr,
                                        struct entry_reserve *r)
{
	VM_MAP_ASSERT_LOCKED(map);
	struct vm_map_entry *upper = entry_take(r);

	*upper = *e;
	upper->start = addr;
	upper->offset = e->offset + (addr - e->start);
	if (upper->object)
		vm_object_reference(upper->object);
	map->size -= e->end - addr;
	entry_set_end(map, e, addr);
	entry_link(map, e, upper, r);
	return upper;
}

struct vm_map_entry *vm_map_clip_range(vm_map_t map, vm_offset_t start, vm_offset_t end,
                                       struct entry_reserve *r)
{
	VM_MAP_ASSERT_LOCKED(map);
	struct vm_map_entry *first = vm_map_lookup_floor(map, start);

	if (first == &map->header || first->end <= start)
		first = first->next;
	else if (first->start < start)
		first = entry_split(map, first, start, r);
	for (struct vm_map_entry *e = first; e != &map->header && e->start < end; e = e->next) {
		if (e->end > end) {
			entry_split(map, e, end, r);
			break;
		}
	}
	return first;
}

/* Could a and b, adjacent, be the two halves of one entry split at b->start? */
static bool entries_continue(const struct vm_map_entry *a, const struct vm_map_entry *b)
{
	if (a->end != b->start || a->protection != b->protection ||
	    a->max_protection != b->max_protection || a->inheritance != b->inheritance ||
	    a->needs_copy != b->needs_copy || a->wired_count != b->wired_count ||
	    a->device != b->device || a->object != b->object)
		return false;
	return a->object == NULL || a->offset + (a->end - a->start) == b->offset;
}

/*
 * Can b be folded into a, the entry just before it?  Wired and device
 * entries stay as they were made: a wired entry's range is the one wired.
 */
static bool entries_mergeable(const struct vm_map_entry *a, const struct vm_map_entry *b)
{
	return entries_continue(a, b) && a->wired_count == 0 && !a->device;
}

/* Folds b into a (mergeable, adjacent).  => map locked */
static void entry_merge(vm_map_t map, struct vm_map_entry *a, struct vm_map_entry *b)
{
	vm_size_t bsize = b->end - b->start;
	vm_offset_t end = b->end;

	VM_MAP_ASSERT_LOCKED(map);
	entry_unlink(map, b);
	entry_set_end(map, a, end);
	map->size += bsize;
	if (b->object)
		vm_object_deallocate(b->object);
	entry_free(b);
}

void vm_map_unclip(vm_map_t map, vm_offset_t addr)
{
	VM_MAP_ASSERT_LOCKED(map);
	struct vm_map_entry *b = vm_map_lookup_entry(map, addr);

	KASSERT(b != NULL && b->start == addr && b->prev != &map->header &&
	        entries_continue(b->prev, b), "vm_map_unclip: no clip at %#lx", addr);
	entry_merge(map, b->prev, b);
}

void vm_map_simplify_range(vm_map_t map, vm_offset_t start, vm_offset_t end)
{
	VM_MAP_ASSERT_LOCKED(map);
	struct vm_map_entry *e = vm_map_lookup_floor(map, start);

	if (e != &map->header && e->prev != &map->header)
		e = e->prev;
	while (e != &map->header && e->next != &map->header && e->start <= end) {
		if (entries_mergeable(e, e->next))
			entry_merge(map, e, e->next);
		else
			e = e->next;
	}
}

/* ------------------------------------------------------------- free space */

/*
 * The lowest address with size free bytes, in *addr; false when there is
 * none.  One descent of the index by max_gap.  => map locked
 */
bool vm_map_find_space(vm_map_t map, vm_size_t size, vm_offset_t *addr)
{
	VM_MAP_ASSERT_LOCKED(map);
	if (size == 0)
		return false;
	struct vm_map_entry *e = vm_map_index_find_gap(&map->index, size);
	if (e != NULL) {
		*addr = e->prev->end;
		return true;
	}
	struct vm_map_entry *last = map->header.prev;   /* the gap after the last entry */
	if (map->header.start - last->end < size)
		return false;
	*addr = last->end;
	return true;
}

/* Is [start, end) inside the map and free of entries?  => map locked */
bool vm_map_range_free(vm_map_t map, vm_offset_t start, vm_offset_t end)
{
	VM_MAP_ASSERT_LOCKED(map);
	if (start < map->min || end > map->max || start >= end)
		return false;
	struct vm_map_entry *e = vm_map_lookup_floor(map, start);
	if (e != &map->header && e->end > start)
		return false;
	return e->next == &map->header || e->next->start >= end;
}

/*
 * Adds an entry for [start, end), which must be free, mapping object at
 * offset (a reference the entry takes over; NULL for zero fill).  The new
 * entry comes from r.  => map locked
 */
struct vm_map_entry *vm_map_insert(vm_map_t map, vm_offset_t start, vm_offset_t end,
                                   struct vm_object *object, uint64_t offset,
                                   const struct vm_map_entry *attrs, struct entry_reserve *r)
{
	VM_MAP_ASSERT_LOCKED(map);
	struct vm_map_entry *e = entry_take(r);

	e->start = start;
	e->end = end;
	e->object = object;
	e->offset = offset;
	e->protection = attrs->protection;
	e->max_protection = attrs->max_protection;
	e->inheritance = attrs->inheritance;
	e->needs_copy = attrs->needs_copy;
	e->device = attrs->device;
	entry_link(map, vm_map_lookup_floor(map, start), e, r);
	return e;
}

/* ------------------------------------------------------------- removal */

/* Drops one entry's pages from the pmap and its hold on its object.  => map locked */
static void entry_destroy(vm_map_t map, struct vm_map_entry *e)
{
	VM_MAP_ASSERT_LOCKED(map);
	if (e->wired_count)
		vm_map_entry_unwire(map, e);
	pmap_remove(map->pmap, e->start, e->end);
	entry_unlink(map, e);
	if (e->object)
		vm_object_deallocate(e->object);
	entry_free(e);
}

void vm_map_delete(vm_map_t map, vm_offset_t start, vm_offset_t end, struct entry_reserve *r)
{
	VM_MAP_ASSERT_LOCKED(map);
	struct vm_map_entry *e = vm_map_clip_range(map, start, end, r);

	while (e != &map->header && e->start < end) {
		struct vm_map_entry *next = e->next;
		entry_destroy(map, e);
		e = next;
	}
}

void vm_map_delete_all(vm_map_t map)
{
	VM_MAP_ASSERT_LOCKED(map);
	while (map->header.next != &map->header)
		entry_destroy(map, map->header.next);
}

/* ------------------------------------------------------------- checks */

/*
 * Walks [start, end) in address order and says what is wrong first:
 * KERN_INVALID_ADDRESS for a hole (addresses outside the map included),
 * KERN_PROTECTION_FAILURE for an entry whose current protection lacks
 * need.  => map locked
 */
kern_return_t vm_map_check_range(vm_map_t map, vm_offset_t start, vm_offset_t end, vm_prot_t need)
{
	VM_MAP_ASSERT_LOCKED(map);
	if (end < start)
		return KERN_INVALID_ADDRESS;
	/* no entry lies outside [min, max): a part out there is a hole like any other */
	vm_offset_t at = start;
	struct vm_map_entry *e = vm_map_lookup_floor(map, start);
	if (e == &map->header || e->end <= start)
		e = e->next;
	for (; at < end; e = e->next) {
		if (e == &map->header || e->start > at)
			return KERN_INVALID_ADDRESS;
		if ((e->protection & need) != need)
			return KERN_PROTECTION_FAILURE;
		at = e->end;
	}
	return KERN_SUCCESS;
}

/* ------------------------------------------------------------- copy-on-write */

bool vm_map_entry_can_share_cow(const struct vm_map_entry *e)
{
	return e->object != NULL && !e->object->shared && e->wired_count == 0;
}

void vm_map_entry_share_cow(vm_map_t map, struct vm_map_entry *e)
{
	VM_MAP_ASSERT_LOCKED(map);
	KASSERT(vm_map_entry_can_share_cow(e), "vm_map_entry_share_cow: entry %#lx cannot", e->start);
	if (e->needs_copy)
		return;          /* already shared: none of its pages is mapped writable (the invariant) */
	e->needs_copy = true;
	pmap_protect(map->pmap, e->start, e->end, e->protection & ~VM_PROT_WRITE);
}

/*
 * Gives e an object of its own to write into: a shadow of the object it
 * shares copy-on-write (unless no one else uses that object any more).
 * False when memory is short; e is then unchanged.  => map locked
 */
bool vm_map_entry_resolve_cow(vm_map_t map, struct vm_map_entry *e)
{
	VM_MAP_ASSERT_LOCKED(map);
	if (e->object == NULL) {
		e->object = vm_object_allocate(e->end - e->start);
		e->offset = 0;
		e->needs_copy = false;
		return e->object != NULL;
	}
	if (!e->needs_copy)
		return true;
	if (e->object->ref_count > 1) {
		struct vm_object *s = vm_object_shadow(e->object, e->offset, e->end - e->start);
		if (s == NULL)
			return false;
		e->object = s;
		e->offset = 0;
	}
	e->needs_copy = false;
	return true;
}

/* ------------------------------------------------------------- fork */

/*
 * The object a copy of e's pages should use, with a reference, and its
 * offset: e's own, shared copy-on-write, or (for shared or wired memory,
 * which copy-on-write cannot freeze) a copy made now.  NULL object with
 * KERN_SUCCESS means zero fill.  => map locked
 */
kern_return_t vm_map_entry_copy_object(vm_map_t map, struct vm_map_entry *e, vm_offset_t start,
                                       vm_offset_t end, struct vm_object **obj, uint64_t *offset,
                                       bool *needs_copy)
{
	VM_MAP_ASSERT_LOCKED(map);
	uint64_t off = e->offset + (start - e->start);

	*needs_copy = false;
	*offset = 0;
	*obj = NULL;
	if (e->object == NULL)
		return KERN_SUCCESS;               /* never touched: zeroes on both sides */
	if (vm_map_entry_can_share_cow(e)) {
		vm_map_entry_share_cow(map, e);
		vm_object_reference(e->object);
		*obj = e->object;
		*offset = off;
		*needs_copy = true;
		return KERN_SUCCESS;
	}
	*obj = vm_object_copy_now(e->object, off, end - start);
	return *obj ? KERN_SUCCESS : KERN_RESOURCE_SHORTAGE;
}

/*
 * Adds to child the parent's entry e, as its inheritance says.  => parent
 * locked, child being built
 */
static bool fork_entry(vm_map_t parent, vm_map_t child, struct vm_map_entry *e,
                       struct entry_reserve *r)
{
	struct vm_map_entry attrs = *e;
	struct vm_object *obj;
	uint64_t offset;

	VM_MAP_ASSERT_LOCKED(parent);
	VM_MAP_ASSERT_LOCKED(child);
	if (e->inheritance == VM_INHERIT_NONE)
		return true;
	if (e->inheritance == VM_INHERIT_SHARE) {
		if (!vm_map_entry_resolve_cow(parent, e))
			return false;
		vm_object_share(e->object);
		attrs.needs_copy = false;
		vm_map_insert(child, e->start, e->end, e->object, e->offset, &attrs, r);
		return true;
	}
	if (vm_map_entry_copy_object(parent, e, e->start, e->end, &obj, &offset,
	                             &attrs.needs_copy) != KERN_SUCCESS)
		return false;
	vm_map_insert(child, e->start, e->end, obj, offset, &attrs, r);
	return true;
}

vm_map_t vm_map_fork(vm_map_t parent, pmap_t child_pmap)
{
	struct entry_reserve r;
	vm_map_t child = vm_map_create(child_pmap, parent->min, parent->max);

	if (child == NULL)
		return NULL;
	/* Not locked: a second map lock would break the order, and no one else has the child. */
	child->building = true;
	bool ok = vm_map_lock(parent);
	if (ok) {
		ok = entry_reserve(&r, child, parent->nentries);
		for (struct vm_map_entry *e = parent->header.next; ok && e != &parent->header;
		     e = e->next)
			ok = fork_entry(parent, child, e, &r);
		entry_reserve_release(&r);
		vm_map_unlock(parent);
	}
	child->building = false;
	if (!ok) {
		map_teardown(child);             /* child_pmap stays the caller's */
		return NULL;
	}
	return child;
}

/* ------------------------------------------------------------- invariants */

/* Does every page of an entry shared copy-on-write lack write access in the pmap? */
static bool cow_pages_read_only(vm_map_t map, const struct vm_map_entry *e)
{
	for (vm_offset_t va = e->start; e->needs_copy && va < e->end; va += PAGE_SIZE)
		if (pmap_access(map->pmap, va) & VM_PROT_WRITE)
			return false;
	return true;
}

const char *vm_map_check_invariants(vm_map_t map)
{
	const char *wrong = NULL;
	uint32_t n = 0;

	vm_map_lock_unint(map);
	wrong = vm_map_index_check(&map->index);
	if (!wrong && map->hint.entry != &map->header &&
	    (map->hint.start != map->hint.entry->start || map->hint.end != map->hint.entry->end))
		wrong = "the lookup hint's range is stale";
	for (struct vm_map_entry *e = map->header.next; !wrong && e != &map->header; e = e->next) {
		n++;
		if (e->start >= e->end || e->start < e->prev->end || e->end > map->max)
			wrong = "entries overlap, are empty or leave the map";
		else if (!cow_pages_read_only(map, e))
			wrong = "a copy-on-write page is writable in the pmap";
	}
	if (!wrong && n != map->nentries)
		wrong = "the entry count is wrong";
	vm_map_unlock(map);
	return wrong;
}
