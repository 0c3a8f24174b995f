/*
 * Wiring (vm/vm_map.h): a wired entry's pages are resident, its own (no
 * copy-on-write page stays shared) and mapped, and each is counted in its
 * vm_page's wire_count, so that no fault replaces them and nothing frees
 * them while they are wired.  An entry is wired or not: wiring does not
 * nest, as vm_wire's contract (one call wires, VM_PROT_NONE unwires).
 *
 * All or nothing, as OpenBSD's uvm_map_pageable_wire and FreeBSD's
 * vm_map_wire_locked: a wire that fails partway leaves the map as it
 * found it.  So a wire runs in two passes.  The first marks each entry to
 * wire and faults in its pages through a fault journal (vm_fault.c);
 * when a fault fails, the journal takes back every other, with the
 * entries' objects and wiring, and the clips at the range's ends are
 * joined again.  Only when every page is there does the second pass
 * count them, and it cannot fail.
 *
 * A wired entry's pages are found through its object, where wiring put
 * them, never through the pmap: vm_protect to VM_PROT_NONE unmaps them,
 * and so does a vm_write that is taken back, yet they stay wired.
 */
#include "vm/vm_map.h"
#include "kern/panic.h"
#include "vm/vm_map_internal.h"
#include "vm/vm_object.h"

/* Adds delta to the wire count of every page of e, a wired entry. */
static void entry_count_wirings(struct vm_map_entry *e, int delta)
{
	struct vm_object *obj = e->object;

	KASSERT(obj != NULL, "wired entry %#lx has no object", e->start);
	spin_lock(&obj->lock);
	for (vm_offset_t va = e->start; va < e->end; va += PAGE_SIZE) {
		struct vm_page *p = vm_object_page_lookup(obj, e->offset + (va - e->start));
		KASSERT(p != NULL, "wired entry %#lx has no page at %#lx", e->start, va);
		p->wire_count += delta;
	}
	spin_unlock(&obj->lock);
}

void vm_map_entry_unwire(vm_map_t map, struct vm_map_entry *e)
{
	VM_MAP_ASSERT_LOCKED(map);
	entry_count_wirings(e, -1);
	e->wired_count = 0;
}

/* Does any entry of [start, end) have wired (true) or unwired (false) state?  => map locked */
static bool range_has(vm_map_t map, vm_offset_t start, vm_offset_t end, bool wired)
{
	VM_MAP_ASSERT_LOCKED(map);
	struct vm_map_entry *e = vm_map_lookup_entry(map, start);

	for (; e != &map->header && e->start < end; e = e->next)
		if ((e->wired_count != 0) == wired)
			return true;
	return false;
}

/* KERN_MEMORY_FAILURE when [start, end) holds a device entry, which no fault may fill. */
static kern_return_t range_check_devices(vm_map_t map, vm_offset_t start, vm_offset_t end)
{
	struct vm_map_entry *e = vm_map_lookup_entry(map, start);

	for (; e != &map->header && e->start < end; e = e->next)
		if (e->device && e->wired_count == 0)
			return KERN_MEMORY_FAILURE;
	return KERN_SUCCESS;
}

/* Where vm_map_clip_range split entries, so that a failure can join them again. */
struct clips {
	bool at_start, at_end;
};

/* vm_map_clip_range of [start, end) (wholly mapped), noting the splits in *c. */
static void clip(vm_map_t map, vm_offset_t start, vm_offset_t end, struct entry_reserve *r,
                 struct clips *c)
{
	c->at_start = vm_map_lookup_entry(map, start)->start < start;
	c->at_end = vm_map_lookup_entry(map, end - 1)->end > end;
	vm_map_clip_range(map, start, end, r);
}

static void unclip(vm_map_t map, vm_offset_t start, vm_offset_t end, const struct clips *c)
{
	if (c->at_end)
		vm_map_unclip(map, end);
	if (c->at_start)
		vm_map_unclip(map, start);
}

/*
 * The first pass: marks every entry of j's range that is not wired yet
 * and faults its pages in for access, through j.  An entry is marked
 * before its faults so that they give it pages of its own even to read
 * (vm_fault_page), as XNU's vm_map_wire makes a copy-on-write entry
 * private.  => map locked
 */
static kern_return_t wire_fault_in(struct fault_journal *j, vm_prot_t access)
{
	VM_MAP_ASSERT_LOCKED(j->map);
	for (unsigned i = 0; i < j->nentries; i++) {
		struct vm_map_entry *e = j->entries[i].entry;
		if (j->entries[i].wired_count)
			continue;
		e->wired_count = 1;
		for (vm_offset_t va = e->start; va < e->end; va += PAGE_SIZE) {
			struct vm_page *p;
			kern_return_t kr = fault_journal_fault(j, va, access, &p);
			if (kr != KERN_SUCCESS)
				return kr;
		}
	}
	return KERN_SUCCESS;
}

/*
 * Both passes over [start, end), clipped to its entries: all or nothing.
 * On failure every fault is taken back and every entry is unwired again;
 * the clips are the caller's.  => map locked
 */
static kern_return_t wire_range(vm_map_t map, vm_offset_t start, vm_offset_t end,
                                vm_prot_t access)
{
	VM_MAP_ASSERT_LOCKED(map);
	struct fault_journal j;
	kern_return_t kr = fault_journal_open(&j, map, start, end);

	if (kr != KERN_SUCCESS)
		return kr;
	kr = wire_fault_in(&j, access);
	if (kr != KERN_SUCCESS)
		fault_journal_undo(&j);
	for (unsigned i = 0; kr == KERN_SUCCESS && i < j.nentries; i++)
		if (j.entries[i].wired_count == 0)
			entry_count_wirings(j.entries[i].entry, +1);
	fault_journal_close(&j);
	return kr;
}

kern_return_t vm_map_wire(vm_map_t map, vm_offset_t start, vm_offset_t end, vm_prot_t access)
{
	VM_MAP_ASSERT_LOCKED(map);
	struct entry_reserve r;
	struct clips c;
	kern_return_t kr = vm_map_check_range(map, start, end, access);

	if (kr == KERN_SUCCESS)
		kr = range_check_devices(map, start, end);
	if (kr != KERN_SUCCESS || !range_has(map, start, end, false))
		return kr;
	if (!entry_reserve(&r, map, 2))
		return KERN_RESOURCE_SHORTAGE;
	clip(map, start, end, &r, &c);
	kr = wire_range(map, start, end, access);
	if (kr != KERN_SUCCESS)
		unclip(map, start, end, &c);
	entry_reserve_release(&r);
	return kr;
}

kern_return_t vm_map_unwire(vm_map_t map, vm_offset_t start, vm_offset_t end)
{
	VM_MAP_ASSERT_LOCKED(map);
	struct entry_reserve r;
	kern_return_t kr = vm_map_check_range(map, start, end, VM_PROT_NONE);

	if (kr != KERN_SUCCESS || !range_has(map, start, end, true))
		return kr;
	if (!entry_reserve(&r, map, 2))
		return KERN_RESOURCE_SHORTAGE;
	struct vm_map_entry *e = vm_map_clip_range(map, start, end, &r);
	for (; e != &map->header && e->start < end; e = e->next)
		if (e->wired_count)
			vm_map_entry_unwire(map, e);
	vm_map_simplify_range(map, start, end);
	entry_reserve_release(&r);
	return KERN_SUCCESS;
}
