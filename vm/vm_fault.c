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
 * Locking: the map lock is held throughout.  vm_fault, a task's fault,
 * holds it for reading unless the fault must change its entry (below);
 * vm_fault_page, the VM's own, expects the caller's write hold.  Objects
 * are locked inside, one at a time or a chain top down.
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

/* A page of no object yet, zeroed or (src) a copy of src; NULL when out of memory. */
static struct vm_page *page_make(struct vm_page *src)
{
	struct vm_page *p = vm_page_alloc(VM_PAGE_OBJECT, src ? 0 : VM_PAGE_ZERO);

	if (p && src)
		pmap_copy_page(src, p);
	return p;
}

/* A fresh page for obj (an entry's of map) at offset, zeroed or copied from src.  => map locked */
static struct vm_page *page_fill(vm_map_t map, struct vm_object *obj, uint64_t offset,
                                 struct vm_page *src)
{
	VM_MAP_ASSERT_LOCKED(map);
	struct vm_page *p = page_make(src);

	if (p == NULL)
		return NULL;
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

/* The entry holding va, or NULL, for a holder of map that may share it with readers. */
static struct vm_map_entry *entry_holding(vm_map_t map, vm_offset_t va)
{
	struct vm_map_entry *e = vm_map_lookup_floor_shared(map, va);

	return e != &map->header && va < e->end ? e : NULL;
}

/* Step 1: whether e, the entry holding va or NULL, allows an access of type. */
static kern_return_t fault_check(const struct vm_map_entry *e, vm_prot_t type)
{
	if (e == NULL)
		return KERN_INVALID_ADDRESS;
	if ((e->protection & type) != type)
		return KERN_PROTECTION_FAILURE;
	if (e->device)
		return KERN_MEMORY_FAILURE;
	return KERN_SUCCESS;
}

/*
 * A wired page must stay the one mapped: were it still the shared
 * copy-on-write page, the first write would copy it up and the wired
 * frame would no longer be the entry's.  So a wired entry gets its own
 * page even for a read, as XNU's vm_fault treats a wired fault.
 */
static bool fault_needs_own_page(const struct vm_map_entry *e, vm_prot_t type)
{
	return (type & VM_PROT_WRITE) || e->wired_count;
}

/* Steps 2 to 4 in e, which holds va and allows the access.  => map locked */
static kern_return_t fault_entry(vm_map_t map, struct vm_map_entry *e, vm_offset_t va,
                                 vm_prot_t type, struct vm_page **pagep)
{
	VM_MAP_ASSERT_LOCKED(map);
	bool own = fault_needs_own_page(e, type), cow_shared;

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

kern_return_t vm_fault_page(vm_map_t map, vm_offset_t va, vm_prot_t type, struct vm_page **pagep)
{
	VM_MAP_ASSERT_LOCKED(map);
	struct vm_map_entry *e = vm_map_lookup_entry(map, va);
	kern_return_t kr = fault_check(e, type);

	return kr == KERN_SUCCESS ? fault_entry(map, e, va, type, pagep) : kr;
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

/* ------------------------------------------------------------- faults under a read hold */

/*
 * A task's fault that changes no entry holds its map for reading, beside
 * its other threads' faults (and vm_region); one that must change its
 * entry (give it an object, a shadow of its own, wire it, or collapse its
 * chain) holds it for writing.  Side by side, faults can race only on the
 * entry's object: a page may appear in it, by another's zero fill or copy
 * up, after this fault looked.  So each step that acts on what it found
 * does so under the object's lock, after checking that the object still
 * holds the page it found there, or still lacks one: mapping a page
 * found, inserting a page made.  If not, the fault looks again.
 */

/* Whether a fault of type in e must hold the map for writing.  => map held */
static bool fault_changes_entry(const struct vm_map_entry *e, vm_prot_t type)
{
	if (e->object == NULL || e->wired_count)
		return true;
	if ((type & VM_PROT_WRITE) && e->needs_copy)
		return true;
	return vm_object_collapsible(e->object);
}

/* What a fault under a read hold did with what it found. */
enum fault_step { FAULT_DONE, FAULT_LOOK_AGAIN };

/*
 * Maps p, found at offset of e's object (its own page when own_page, else
 * a backing page, to read), if it is still what the object shows there.
 * => map held
 */
static enum fault_step enter_if_current(vm_map_t map, struct vm_map_entry *e, vm_offset_t va,
                                        uint64_t offset, struct vm_page *p, bool own_page,
                                        kern_return_t *kr)
{
	struct vm_object *obj = e->object;
	bool cow_shared = e->needs_copy || !own_page;

	spin_lock(&obj->lock);
	struct vm_page *now = vm_object_page_lookup(obj, offset);
	if (now != (own_page ? p : NULL)) {
		spin_unlock(&obj->lock);
		return FAULT_LOOK_AGAIN;
	}
	vm_prot_t prot = cow_shared ? e->protection & ~VM_PROT_WRITE : e->protection;
	*kr = pmap_enter(map->pmap, va, p, prot, 0) == KERN_SUCCESS ? KERN_SUCCESS
	                                                            : KERN_RESOURCE_SHORTAGE;
	spin_unlock(&obj->lock);
	return FAULT_DONE;
}

/*
 * Gives e's object a page at offset, zeroed or copied from src (a backing
 * page), and maps it, unless a page came there meanwhile.  => map held
 */
static enum fault_step fill_if_absent(vm_map_t map, struct vm_map_entry *e, vm_offset_t va,
                                      uint64_t offset, struct vm_page *src, kern_return_t *kr)
{
	struct vm_object *obj = e->object;
	struct vm_page *fresh = page_make(src);

	*kr = KERN_RESOURCE_SHORTAGE;
	if (fresh == NULL)
		return FAULT_DONE;
	spin_lock(&obj->lock);
	if (!vm_object_page_insert_if_absent(obj, fresh, offset)) {
		spin_unlock(&obj->lock);
		vm_page_free(fresh);
		return FAULT_LOOK_AGAIN;
	}
	if (src)                       /* as fault_lookup's copy up */
		pmap_page_protect(src, VM_PROT_NONE);
	vm_prot_t prot = e->needs_copy ? e->protection & ~VM_PROT_WRITE : e->protection;
	if (pmap_enter(map->pmap, va, fresh, prot, 0) == KERN_SUCCESS)
		*kr = KERN_SUCCESS;
	spin_unlock(&obj->lock);
	return FAULT_DONE;
}

/* Steps 3 and 4 in e, which needs no change, under a read hold of map. */
static kern_return_t fault_shared(vm_map_t map, struct vm_map_entry *e, vm_offset_t va,
                                  vm_prot_t type)
{
	VM_MAP_ASSERT_HELD(map);
	vm_offset_t page_va = trunc_page(va);
	uint64_t offset = e->offset + (page_va - e->start);
	bool own = fault_needs_own_page(e, type);
	kern_return_t kr;
	enum fault_step step;

	do {
		struct vm_object *owner;
		struct vm_page *p = vm_object_page_find(e->object, offset, &owner);
		if (p != NULL && (owner == e->object || !own))
			step = enter_if_current(map, e, page_va, offset, p, owner == e->object, &kr);
		else
			step = fill_if_absent(map, e, page_va, offset, p, &kr);
	} while (step == FAULT_LOOK_AGAIN);
	return kr;
}

/*
 * The fault at va under the write hold, for one that must change entry e.
 * The upgrade fails if another reader asked first: then the fault waits
 * for the write hold, and the lock's timestamp tells whether anyone wrote
 * the map meanwhile; if so, e may be gone, and the fault starts again
 * from the lookup.  => map read-held; let go on return
 */
static kern_return_t fault_exclusive(vm_map_t map, struct vm_map_entry *e, vm_offset_t va,
                                     vm_prot_t type)
{
	uint32_t seen = vm_map_timestamp(map);
	struct vm_page *p;
	kern_return_t kr = KERN_SUCCESS;

	if (!vm_map_lock_upgrade(map)) {
		if (!vm_map_lock(map))
			return KERN_ABORTED;
		if (vm_map_timestamp(map) != seen) {
			e = vm_map_lookup_entry(map, va);
			kr = fault_check(e, type);
		}
	}
	if (kr == KERN_SUCCESS)
		kr = fault_entry(map, e, va, type, &p);
	vm_map_unlock(map);
	return kr;
}

kern_return_t vm_fault(vm_map_t map, vm_offset_t va, vm_prot_t fault_type)
{
	struct vm_map_entry *e;

	if (map == NULL)
		return KERN_INVALID_ADDRESS;
	if (!vm_map_lock_read(map))
		return KERN_ABORTED;
	e = entry_holding(map, va);
	kern_return_t kr = fault_check(e, fault_type);
	if (kr == KERN_SUCCESS && fault_changes_entry(e, fault_type))
		return fault_exclusive(map, e, va, fault_type);
	if (kr == KERN_SUCCESS)
		kr = fault_shared(map, e, va, fault_type);
	vm_map_unlock(map);
	return kr;
}
