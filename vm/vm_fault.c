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
 * Locking: the map lock is held throughout (vm_fault takes it;
 * vm_fault_page expects it), objects are locked one at a time inside.
 * Out of memory anywhere: KERN_RESOURCE_SHORTAGE, and nothing visible has
 * changed (a shadow or a zero page made on the way holds the same data;
 * a caller that must give even those back faults through a journal).
 */
#include "vm/vm_fault.h"
#include "vm/vm_map_internal.h"
#include "kern/kalloc.h"
#include "kern/panic.h"
#include "vm/pmap.h"
#include "vm/vm_object.h"

/* A fresh page for obj (an entry's of map) at offset, zeroed or copied from src.  => map locked */
static struct vm_page *page_fill(vm_map_t map, struct vm_object *obj, uint64_t offset,
                                 struct vm_page *src)
{
	VM_MAP_ASSERT_LOCKED(map);
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
 * The page holding offset of e's object (e an entry of map): with own,
 * one that belongs to e's own object.  Sets *cow_shared when the page may
 * not be written through this entry.  => map locked
 */
static struct vm_page *fault_lookup(vm_map_t map, struct vm_map_entry *e, uint64_t offset,
                                    bool own, bool *cow_shared)
{
	VM_MAP_ASSERT_LOCKED(map);
	struct vm_object *owner;
	struct vm_page *p = vm_object_page_find(e->object, offset, &owner);

	*cow_shared = e->needs_copy;       /* e's own object, but shared copy-on-write */
	if (p == NULL)
		return page_fill(map, e->object, offset, NULL);            /* zero fill */
	if (owner == e->object)
		return p;
	if (own) {                                                     /* copy up */
		struct vm_page *copy = page_fill(map, e->object, offset, p);
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
	VM_MAP_ASSERT_LOCKED(map);
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
	if ((own || e->object == NULL) && !vm_map_entry_resolve_cow(map, e))
		return KERN_RESOURCE_SHORTAGE;
	vm_object_collapse(e->object);
	vm_offset_t page_va = trunc_page(va);
	struct vm_page *p = fault_lookup(map, e, e->offset + (page_va - e->start), own,
	                                 &cow_shared);
	if (p == NULL)
		return KERN_RESOURCE_SHORTAGE;
	vm_prot_t prot = cow_shared ? e->protection & ~VM_PROT_WRITE : e->protection;
	if (pmap_enter(map->pmap, page_va, p, prot, e->wired_count ? PMAP_WIRED : 0) != KERN_SUCCESS)
		return KERN_RESOURCE_SHORTAGE;
	*pagep = p;
	return KERN_SUCCESS;
}

/* ------------------------------------------------------------- the fault journal */

kern_return_t fault_journal_open(struct fault_journal *j, vm_map_t map, vm_offset_t start,
                                 vm_offset_t end)
{
	VM_MAP_ASSERT_LOCKED(map);
	j->map = map;
	j->start = start;
	j->npages = (end - start) >> PAGE_SHIFT;
	j->nentries = 0;
	for (struct vm_map_entry *e = vm_map_lookup_entry(map, start);
	     e != &map->header && e->start < end; e = e->next)
		j->nentries++;
	j->pages = kzalloc(j->npages * sizeof(*j->pages));
	j->entries = kalloc(j->nentries * sizeof(*j->entries));
	if (j->pages == NULL || j->entries == NULL) {
		fault_journal_close(j);
		return KERN_RESOURCE_SHORTAGE;
	}
	struct vm_map_entry *e = vm_map_lookup_entry(map, start);
	for (unsigned i = 0; i < j->nentries; i++, e = e->next)
		j->entries[i] = (struct fault_entry_state){ e, e->object, e->offset, e->needs_copy,
		                                            e->wired_count };
	return KERN_SUCCESS;
}

void fault_journal_close(struct fault_journal *j)
{
	VM_MAP_ASSERT_LOCKED(j->map);
	kfree(j->pages, j->npages * sizeof(*j->pages));
	kfree(j->entries, j->nentries * sizeof(*j->entries));
	j->pages = NULL;
	j->entries = NULL;
}

kern_return_t fault_journal_fault(struct fault_journal *j, vm_offset_t va, vm_prot_t type,
                                  struct vm_page **pagep)
{
	VM_MAP_ASSERT_LOCKED(j->map);
	struct vm_map_entry *e = vm_map_lookup_entry(j->map, va);
	struct fault_page *fp = &j->pages[(va - j->start) >> PAGE_SHIFT];
	struct vm_object *owner;

	fp->faulted = true;
	fp->before = e && e->object ?
	             vm_object_page_find(e->object, e->offset + (trunc_page(va) - e->start), &owner) :
	             NULL;
	return vm_fault_page(j->map, va, type, pagep);
}

/* Unmaps one faulted page, and frees the page if the fault made it. */
static void undo_page(struct fault_journal *j, size_t i)
{
	vm_offset_t va = j->start + (i << PAGE_SHIFT);
	struct vm_map_entry *e = vm_map_lookup_entry(j->map, va);
	struct vm_object *obj = e->object;

	pmap_remove(j->map->pmap, va, va + PAGE_SIZE);
	if (obj == NULL)
		return;
	spin_lock(&obj->lock);
	struct vm_page *p = vm_object_page_lookup(obj, e->offset + (va - e->start));
	if (p && p != j->pages[i].before)
		vm_object_page_free(obj, p);
	spin_unlock(&obj->lock);
}

/*
 * Gives an entry back the object and wiring it had: the object made for
 * it goes (its pages went first).
 */
static void undo_entry(const struct fault_entry_state *s)
{
	struct vm_map_entry *e = s->entry;

	if (e->object != s->object) {
		struct vm_object *made = e->object;
		if (s->object)
			e->object = vm_object_unshadow(made);
		else {
			e->object = NULL;
			vm_object_deallocate(made);
		}
		e->offset = s->offset;
	}
	e->needs_copy = s->needs_copy;
	e->wired_count = s->wired_count;
}

void fault_journal_undo(struct fault_journal *j)
{
	VM_MAP_ASSERT_LOCKED(j->map);
	for (size_t i = j->npages; i-- > 0;)
		if (j->pages[i].faulted)
			undo_page(j, i);
	for (unsigned i = 0; i < j->nentries; i++)
		undo_entry(&j->entries[i]);
}

/* ------------------------------------------------------------- faults */

kern_return_t vm_fault(vm_map_t map, vm_offset_t va, vm_prot_t fault_type)
{
	struct vm_page *p;
	kern_return_t kr;

	if (map == NULL)
		return KERN_INVALID_ADDRESS;
	if (!vm_map_lock(map))
		return KERN_ABORTED;
	kr = vm_fault_page(map, va, fault_type, &p);
	vm_map_unlock(map);
	return kr;
}
