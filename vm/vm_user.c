/*
 * The Mach VM calls (vm/vm_user.h).  Each validates its whole request
 * before changing anything, takes the map lock once, and returns Mach's
 * (XNU's) code for the first problem found.  None panics on bad input.
 */
#include "vm/vm_user.h"
#include "kern/panic.h"
#include "vm/vm_map_internal.h"
#include "vm/vm_object.h"

/* [trunc(addr), round(addr+size)) in *start, *end; false when it wraps (an empty range never does). */
static bool page_range(vm_address_t addr, vm_size_t size, vm_offset_t *start, vm_offset_t *end)
{
	*start = trunc_page(addr);
	if (size == 0) {
		*end = *start;
		return true;
	}
	*end = round_page(addr + size);
	return addr + size >= addr && *end > *start;
}

/* range_begin's answer for an empty range: there is nothing to do. */
#define RANGE_EMPTY (-1)

/*
 * The common start of a call that may clip the entries of [addr,
 * addr+size): the page range (KERN_INVALID_ARGUMENT when it wraps), two
 * entries reserved for clipping, the map locked.  KERN_SUCCESS means the
 * caller holds the lock and ends with range_end; RANGE_EMPTY (size 0) or
 * an error means nothing is held.
 */
static kern_return_t range_begin(vm_map_t map, vm_address_t addr, vm_size_t size,
                                 vm_offset_t *start, vm_offset_t *end, struct entry_reserve *r)
{
	if (!page_range(addr, size, start, end))
		return KERN_INVALID_ARGUMENT;
	if (size == 0)
		return RANGE_EMPTY;
	if (!vm_map_lock(map))
		return KERN_ABORTED;
	if (!entry_reserve(r, map, 2)) {
		vm_map_unlock(map);
		return KERN_RESOURCE_SHORTAGE;
	}
	return KERN_SUCCESS;
}

/* Unlocks the map and returns unused reserved entries; passes kr on. */
static kern_return_t range_end(vm_map_t map, struct entry_reserve *r, kern_return_t kr)
{
	vm_map_unlock(map);
	entry_reserve_release(r);
	return kr;
}

/* A range_begin code as the call's result: an empty range succeeds. */
static kern_return_t range_result(kern_return_t kr)
{
	return kr == RANGE_EMPTY ? KERN_SUCCESS : kr;
}

kern_return_t host_page_size(vm_size_t *size)
{
	*size = PAGE_SIZE;
	return KERN_SUCCESS;
}

kern_return_t vm_allocate(vm_map_t map, vm_address_t *addr, vm_size_t size, int flags)
{
	static const struct vm_map_entry fresh = {
		.protection = VM_PROT_DEFAULT, .max_protection = VM_PROT_ALL,
		.inheritance = VM_INHERIT_DEFAULT,
	};
	vm_offset_t start, end;
	struct entry_reserve r;
	kern_return_t kr = KERN_SUCCESS;

	if (flags & ~VM_FLAGS_ANYWHERE)
		return KERN_INVALID_ARGUMENT;
	if (size == 0) {
		*addr = 0;                     /* as XNU: an address only for memory (docs/vm_write.md) */
		return KERN_SUCCESS;
	}
	/* ANYWHERE ignores the address: only the size, rounded up, matters */
	if (!page_range((flags & VM_FLAGS_ANYWHERE) ? 0 : *addr, size, &start, &end))
		return KERN_INVALID_ARGUMENT;
	if (!(flags & VM_FLAGS_ANYWHERE) && (start < map->min || end > map->max))
		return KERN_INVALID_ADDRESS;
	if (!vm_map_lock(map))
		return KERN_ABORTED;
	if (!entry_reserve(&r, map, 1)) {
		vm_map_unlock(map);
		return KERN_RESOURCE_SHORTAGE;
	}
	if (flags & VM_FLAGS_ANYWHERE) {
		vm_size_t len = end - start;
		if (!vm_map_find_space(map, len, &start))
			kr = KERN_NO_SPACE;
		end = start + len;
	} else if (!vm_map_range_free(map, start, end)) {
		kr = KERN_NO_SPACE;
	}
	if (kr == KERN_SUCCESS) {
		vm_map_insert(map, start, end, NULL, 0, &fresh, &r);
		vm_map_simplify_range(map, start, end);
		*addr = start;
	}
	vm_map_unlock(map);
	entry_reserve_release(&r);
	return kr;
}

kern_return_t vm_deallocate(vm_map_t map, vm_address_t addr, vm_size_t size)
{
	vm_offset_t start, end;
	struct entry_reserve r;
	kern_return_t kr = range_begin(map, addr, size, &start, &end, &r);

	if (kr != KERN_SUCCESS)
		return range_result(kr);
	if (start < map->min)              /* what lies outside the map is already gone */
		start = map->min;
	if (end > map->max)
		end = map->max;
	if (start < end)
		vm_map_delete(map, start, end, &r);
	return range_end(map, &r, KERN_SUCCESS);
}

/* Checks that no entry in [start, end) would get a protection above its maximum. */
static bool protect_allowed(vm_map_t map, vm_offset_t start, vm_offset_t end, vm_prot_t prot)
{
	struct vm_map_entry *e = vm_map_lookup_entry(map, start);

	for (; e != &map->header && e->start < end; e = e->next)
		if ((prot & e->max_protection) != prot)
			return false;
	return true;
}

/* Sets the new rights of one entry and lowers what its pages allow.  => map locked */
static void protect_entry(vm_map_t map, struct vm_map_entry *e, boolean_t set_maximum,
                          vm_prot_t prot)
{
	VM_MAP_ASSERT_LOCKED(map);
	if (set_maximum) {
		e->max_protection = prot;
		e->protection &= prot;
	} else {
		e->protection = prot;
	}
	/* the pmap only ever loses rights here: a raise is granted by the next fault */
	pmap_protect(map->pmap, e->start, e->end, e->protection);
}

kern_return_t vm_protect(vm_map_t map, vm_address_t addr, vm_size_t size, boolean_t set_maximum,
                         vm_prot_t prot)
{
	vm_offset_t start, end;
	struct entry_reserve r;
	kern_return_t kr;

	if (prot & ~VM_PROT_ALL)
		return KERN_INVALID_ARGUMENT;
	if ((kr = range_begin(map, addr, size, &start, &end, &r)) != KERN_SUCCESS)
		return range_result(kr);
	kr = vm_map_check_range(map, start, end, VM_PROT_NONE);
	/* as in Mach, even a new maximum may only lower it: that is what a maximum is */
	if (kr == KERN_SUCCESS && !protect_allowed(map, start, end, prot))
		kr = KERN_PROTECTION_FAILURE;
	if (kr == KERN_SUCCESS) {
		struct vm_map_entry *e = vm_map_clip_range(map, start, end, &r);
		for (; e != &map->header && e->start < end; e = e->next)
			protect_entry(map, e, set_maximum, prot);
		vm_map_simplify_range(map, start, end);
	}
	return range_end(map, &r, kr);
}

kern_return_t vm_inherit(vm_map_t map, vm_address_t addr, vm_size_t size, vm_inherit_t inheritance)
{
	vm_offset_t start, end;
	struct entry_reserve r;
	kern_return_t kr;

	if (inheritance > VM_INHERIT_LAST_VALID)
		return KERN_INVALID_ARGUMENT;
	if ((kr = range_begin(map, addr, size, &start, &end, &r)) != KERN_SUCCESS)
		return range_result(kr);
	struct vm_map_entry *e = vm_map_clip_range(map, start, end, &r);
	for (; e != &map->header && e->start < end; e = e->next)
		e->inheritance = inheritance;
	vm_map_simplify_range(map, start, end);
	return range_end(map, &r, KERN_SUCCESS);
}

/* ------------------------------------------------------------- wiring */

kern_return_t vm_wire(vm_map_t map, vm_address_t addr, vm_size_t size, vm_prot_t access)
{
	vm_offset_t start, end;
	kern_return_t kr;

	if (access & ~VM_PROT_ALL)
		return KERN_INVALID_ARGUMENT;
	if (!page_range(addr, size, &start, &end))
		return KERN_INVALID_ARGUMENT;
	if (size == 0)
		return KERN_SUCCESS;
	if (!vm_map_lock(map))
		return KERN_ABORTED;
	if (access == VM_PROT_NONE)
		kr = vm_map_unwire(map, start, end);
	else
		kr = vm_map_wire(map, start, end, access);
	vm_map_unlock(map);
	return kr;
}

/* ------------------------------------------------------------- questions */

kern_return_t vm_region(vm_map_t map, vm_address_t *addr, vm_size_t *size,
                        vm_region_flavor_t flavor, vm_region_info_t info,
                        mach_msg_type_number_t *count)
{
	struct vm_region_basic_info_64 *b = (struct vm_region_basic_info_64 *)info;

	if (flavor != VM_REGION_BASIC_INFO_64 || *count < VM_REGION_BASIC_INFO_COUNT_64)
		return KERN_INVALID_ARGUMENT;
	if (!vm_map_lock_read(map))
		return KERN_ABORTED;
	struct vm_map_entry *e = vm_map_lookup_floor_shared(map, *addr);
	if (e == &map->header || e->end <= *addr)
		e = e->next;
	if (e == &map->header) {
		vm_map_unlock(map);
		return KERN_INVALID_ADDRESS;
	}
	*b = (struct vm_region_basic_info_64){
		.protection = e->protection,
		.max_protection = e->max_protection,
		.inheritance = e->inheritance,
		.shared = e->object && (e->object->shared || e->object->ref_count > 1),
		.offset = e->offset,
		.user_wired_count = (unsigned short)e->wired_count,
	};
	*addr = e->start;
	*size = e->end - e->start;
	*count = VM_REGION_BASIC_INFO_COUNT_64;
	vm_map_unlock(map);
	return KERN_SUCCESS;
}

/* ------------------------------------------------------------- moving data */

kern_return_t vm_read(vm_map_t map, vm_address_t addr, vm_size_t size, vm_map_copy_t *data)
{
	return vm_map_copyin(map, addr, size, data);
}

kern_return_t vm_write(vm_map_t map, vm_address_t addr, vm_map_copy_t data,
                       mach_msg_type_number_t data_count)
{
	if (data_count == 0) {
		vm_map_copy_discard(data);     /* consumed, as on every success */
		return KERN_SUCCESS;
	}
	if (data == NULL || vm_map_copy_size(data) != data_count)
		return KERN_FAILURE;
	return vm_map_copy_overwrite(map, addr, data);
}

kern_return_t vm_copy(vm_map_t map, vm_address_t source, vm_size_t size, vm_address_t dest)
{
	vm_map_copy_t copy;
	kern_return_t kr;

	if (size == 0)
		return KERN_SUCCESS;
	kr = vm_map_copyin(map, source, size, &copy);
	if (kr != KERN_SUCCESS)
		return kr;
	kr = vm_map_copy_overwrite(map, dest, copy);
	if (kr != KERN_SUCCESS)
		vm_map_copy_discard(copy);
	return kr;
}
