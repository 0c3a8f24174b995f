/*
 * Page faults: make va in map hold the right page with the right rights.
 *
 *   1. find the entry (none: KERN_INVALID_ADDRESS) and check the access
 *      against its current protection (KERN_PROTECTION_FAILURE);
 *   2. a write to memory shared copy-on-write, or any access to a wired
 *      entry, first gives the entry an object of its own (a shadow of the
 *      shared one);
 *   3. walk the shadow chain for the page: found in the entry's own object,
 *      use it; found further down, use it to read, or copy it up to write
 *      or wire; found nowhere, fill a fresh page with zeroes (a page copied
 *      up is unmapped everywhere: another map sharing the object may map it);
 *   4. pmap_enter it with the entry's protection, without write while the
 *      page still belongs to an object shared copy-on-write.
 *
 * Lock order: the map lock is held throughout (vm_fault takes it;
 * vm_fault_page expects it), objects are locked one at a time inside.
 * Out of memory anywhere: KERN_RESOURCE_SHORTAGE, and nothing visible has
 * changed (a shadow or a zero page made on the way holds the same data).
 */
#include "vm/vm_map_internal.h"
#include "kern/panic.h"
#include "vm/pmap.h"
#include "vm/vm_object.h"

/* A fresh page for obj at offset, zeroed or copied from src.  => map locked */
static struct vm_page *page_fill(struct vm_object *obj, uint64_t offset, struct vm_page *src)
{
	struct vm_page *p = vm_page_alloc(VM_PAGE_OBJECT, src ? 0 : VM_PAGE_ZERO);

	if (p == NULL)
		return NULL;
	if (src)
		pmap_copy_page(src, p);
	spin_lock(&obj->lock);
	vm_object_page_insert(obj, p, offset);
	spin_unlock(&obj->lock);
	return p;
}

/*
 * The page holding offset of e's object: with own, one that belongs to
 * e's own object.  Sets *cow_shared when the page may not be written
 * through this entry.  => map locked
 */
static struct vm_page *fault_lookup(struct vm_map_entry *e, uint64_t offset, bool own,
                                    bool *cow_shared)
{
	struct vm_object *owner;
	struct vm_page *p = vm_object_page_find(e->object, offset, &owner);

	*cow_shared = e->needs_copy;       /* e's own object, but shared copy-on-write */
	if (p == NULL)
		return page_fill(e->object, offset, NULL);            /* zero fill */
	if (owner == e->object)
		return p;
	if (own) {                                                     /* copy up */
		struct vm_page *copy = page_fill(e->object, offset, p);
		/* other users of e's object may map the old page through it:
		 * they must fault again and find the copy */
		if (copy)
			pmap_page_protect(p, VM_PROT_NONE);
		return copy;
	}
	*cow_shared = true;                                            /* read the backing page */
	return p;
}

kern_return_t vm_fault_page(vm_map_t map, vm_offset_t va, vm_prot_t type, struct vm_page **pagep)
{
	struct vm_map_entry *e = vm_map_lookup_entry(map, va);
	bool cow_shared;

	if (e == NULL)
		return KERN_INVALID_ADDRESS;
	if ((e->protection & type) != type)
		return KERN_PROTECTION_FAILURE;
	if (e->device)
		return KERN_MEMORY_FAILURE;
	/*
	 * A wired page must stay the one mapped: were it still the shared
	 * copy-on-write page, the first write would copy it up and the wired
	 * frame would no longer be the entry's.  So a wired entry gets its
	 * own page even for a read, as XNU's vm_fault treats a wired fault.
	 */
	bool own = (type & VM_PROT_WRITE) || e->wired_count;
	if ((own || e->object == NULL) && !vm_map_entry_resolve_cow(e))
		return KERN_RESOURCE_SHORTAGE;
	vm_object_collapse(e->object);
	vm_offset_t page_va = trunc_page(va);
	struct vm_page *p = fault_lookup(e, e->offset + (page_va - e->start), own, &cow_shared);
	if (p == NULL)
		return KERN_RESOURCE_SHORTAGE;
	vm_prot_t prot = cow_shared ? e->protection & ~VM_PROT_WRITE : e->protection;
	if (pmap_enter(map->pmap, page_va, p, prot, e->wired_count ? PMAP_WIRED : 0) != KERN_SUCCESS)
		return KERN_RESOURCE_SHORTAGE;
	*pagep = p;
	return KERN_SUCCESS;
}

kern_return_t vm_fault(vm_map_t map, vm_offset_t va, vm_prot_t fault_type)
{
	struct vm_page *p;
	kern_return_t kr;

	if (map == NULL)
		return KERN_INVALID_ADDRESS;
	spin_lock(&map->lock);
	kr = vm_fault_page(map, va, fault_type, &p);
	spin_unlock(&map->lock);
	return kr;
}
