/*
 * vm_map_copy: data in transit between maps, as in Mach.
 *
 * A copy is either a kernel buffer (small data that is not whole pages:
 * under VM_MAP_COPY_BUFFER_LIMIT bytes) or a list of pieces of objects covering
 * the whole pages the data lies in, shared copy-on-write with the source
 * so that no byte moves when the copy is made.  `offset` is where the
 * data starts in its first page; a buffer's is 0: vm_map_copyout puts
 * its data at the start of a fresh page, as XNU's kernel-buffer copies
 * land (so a vm_read of under two pages arrives page-aligned, and a
 * larger one at the source's offset).
 *
 * vm_map_copy_overwrite is vm_write's engine, with two paths and one
 * result (docs/vm_write.md):
 *   substitution: page-aligned whole pages into unshared, unwired
 *     memory: the destination's entries take the copy's objects
 *     copy-on-write and its old pages are released; no byte is copied;
 *   copy: anything else: every destination page is first faulted in for
 *     writing (zero fill, copy-on-write break), and only when all of them
 *     are there are the bytes copied, and a fault that runs out of memory
 *     has the others taken back (fault_journal_undo), so the destination
 *     is untouched, in its memory too.
 * Both hold the destination map's lock from the check to the last byte.
 */
#include "vm/vm_map_copy.h"
#include "vm/vm_map_internal.h"
#include "kern/kalloc.h"
#include "kern/panic.h"
#include "lib/string.h"
#include "vm/vm_object.h"

/* Under two pages, as XNU's test suite expects a small vm_read to land page-aligned. */
#define VM_MAP_COPY_BUFFER_LIMIT (2 * PAGE_SIZE)

/* One piece of a copy: size bytes (whole pages) of object from offset; NULL object: zeroes. */
struct copy_piece {
	struct copy_piece *next;
	struct vm_object *object;
	uint64_t offset;
	vm_size_t size;
	bool needs_copy;               /* object is shared copy-on-write with its source */
};

struct vm_map_copy {
	bool is_buffer;
	vm_size_t size;                /* bytes of data */
	vm_offset_t offset;            /* of the data in its first page (pieces only) */
	struct copy_piece *pieces;     /* in address order */
	unsigned npieces;
	char *buffer;                  /* kernel buffer copies */
	struct copy_piece first;       /* the first piece: most copies have only one */
};

vm_size_t vm_map_copy_size(vm_map_copy_t copy)
{
	return copy ? copy->size : 0;
}

static vm_map_copy_t copy_new(vm_size_t size)
{
	vm_map_copy_t copy = kzalloc(sizeof(*copy));

	if (copy)
		copy->size = size;
	return copy;
}

/* Frees the copy structure and its pieces; the objects were handed on or released. */
static void copy_free(vm_map_copy_t copy)
{
	while (copy->pieces) {
		struct copy_piece *p = copy->pieces;
		copy->pieces = p->next;
		if (p != &copy->first)
			kfree(p, sizeof(*p));
	}
	if (copy->is_buffer)
		kfree(copy->buffer, copy->size);
	kfree(copy, sizeof(*copy));
}

void vm_map_copy_discard(vm_map_copy_t copy)
{
	if (copy == NULL)
		return;
	for (struct copy_piece *p = copy->pieces; p; p = p->next)
		if (p->object)
			vm_object_deallocate(p->object);
	copy_free(copy);
}

/* ------------------------------------------------------------- reading without faults */

/* Copies up to the end of va's page into buf from what the map holds there.  => map locked */
static vm_size_t read_page_part(vm_map_t map, vm_offset_t va, char *buf, vm_size_t len)
{
	VM_MAP_ASSERT_LOCKED(map);
	struct vm_map_entry *e = vm_map_lookup_entry(map, va);
	vm_size_t n = PAGE_SIZE - (va & PAGE_MASK);
	struct vm_object *owner;

	if (n > len)
		n = len;
	struct vm_page *p = e->object ? vm_object_page_find(e->object,
	                                 e->offset + (trunc_page(va) - e->start), &owner) : NULL;
	if (p)
		memcpy(buf, (char *)pmap_phys_to_virt(vm_page_to_phys(p)) + (va & PAGE_MASK), n);
	else
		memset(buf, 0, n);
	return n;
}

void vm_map_read_locked(vm_map_t map, vm_offset_t addr, void *buf, vm_size_t len)
{
	VM_MAP_ASSERT_LOCKED(map);
	for (vm_size_t done = 0; done < len;)
		done += read_page_part(map, addr + done, (char *)buf + done, len - done);
}

kern_return_t vm_map_read(vm_map_t map, vm_address_t addr, void *buf, vm_size_t len)
{
	kern_return_t kr;

	if (len == 0)
		return KERN_SUCCESS;
	if (addr + len < addr)
		return KERN_INVALID_ADDRESS;
	if (!vm_map_lock(map))
		return KERN_ABORTED;
	kr = vm_map_check_range(map, trunc_page(addr), round_page(addr + len), VM_PROT_READ);
	if (kr == KERN_SUCCESS)
		vm_map_read_locked(map, addr, buf, len);
	vm_map_unlock(map);
	return kr;
}

/* ------------------------------------------------------------- copyin */

/* A kernel-buffer copy with room for len bytes, or NULL. */
static vm_map_copy_t buffer_copy_new(vm_size_t len)
{
	vm_map_copy_t copy = copy_new(len);

	if (copy == NULL)
		return NULL;
	copy->is_buffer = true;
	copy->buffer = kalloc(len);
	if (copy->buffer == NULL) {
		kfree(copy, sizeof(*copy));
		return NULL;
	}
	return copy;
}

kern_return_t vm_map_copy_from_kernel(const void *buf, vm_size_t len, vm_map_copy_t *copyp)
{
	vm_map_copy_t copy = buffer_copy_new(len);

	if (copy == NULL)
		return KERN_RESOURCE_SHORTAGE;
	if (len)
		memcpy(copy->buffer, buf, len);
	*copyp = copy;
	return KERN_SUCCESS;
}

/* Appends the part [start, end) of entry e to copy, copy-on-write.  => map locked */
static kern_return_t copy_add_piece(vm_map_t map, vm_map_copy_t copy, struct copy_piece **tail,
                                    struct vm_map_entry *e, vm_offset_t start, vm_offset_t end)
{
	VM_MAP_ASSERT_LOCKED(map);
	struct copy_piece *p = copy->npieces == 0 ? &copy->first : kzalloc(sizeof(*p));

	if (p == NULL)
		return KERN_RESOURCE_SHORTAGE;
	kern_return_t kr = vm_map_entry_copy_object(map, e, start, end, &p->object, &p->offset,
	                                            &p->needs_copy);
	if (kr != KERN_SUCCESS) {
		if (p != &copy->first)
			kfree(p, sizeof(*p));
		return kr;
	}
	p->size = end - start;
	*tail = p;
	copy->npieces++;
	return KERN_SUCCESS;
}

/* A buffer copy of [addr, addr+len) of src (checked).  => map locked */
static kern_return_t copyin_buffer(vm_map_t src, vm_offset_t addr, vm_size_t len,
                                   vm_map_copy_t *copyp)
{
	VM_MAP_ASSERT_LOCKED(src);
	vm_map_copy_t copy = buffer_copy_new(len);

	if (copy == NULL)
		return KERN_RESOURCE_SHORTAGE;
	vm_map_read_locked(src, addr, copy->buffer, len);
	*copyp = copy;
	return KERN_SUCCESS;
}

/* A copy-on-write copy of the whole pages under [addr, addr+len) of src (checked).  => map locked */
static kern_return_t copyin_pieces(vm_map_t src, vm_offset_t addr, vm_size_t len,
                                   vm_map_copy_t *copyp)
{
	VM_MAP_ASSERT_LOCKED(src);
	vm_offset_t start = trunc_page(addr), end = round_page(addr + len);
	vm_map_copy_t copy = copy_new(len);
	struct copy_piece **tail;
	struct vm_map_entry *e = vm_map_lookup_entry(src, start);

	if (copy == NULL)
		return KERN_RESOURCE_SHORTAGE;
	copy->offset = addr & PAGE_MASK;
	tail = &copy->pieces;
	for (vm_offset_t at = start; at < end; e = e->next) {
		vm_offset_t piece_end = e->end < end ? e->end : end;
		if (copy_add_piece(src, copy, tail, e, at, piece_end) != KERN_SUCCESS) {
			vm_map_copy_discard(copy);
			return KERN_RESOURCE_SHORTAGE;
		}
		tail = &(*tail)->next;
		at = piece_end;
	}
	*copyp = copy;
	return KERN_SUCCESS;
}

kern_return_t vm_map_copyin(vm_map_t src, vm_address_t addr, vm_size_t len, vm_map_copy_t *copyp)
{
	vm_offset_t end = round_page(addr + len);
	kern_return_t kr;

	if (len == 0)
		return vm_map_copy_from_kernel(NULL, 0, copyp);
	if (addr + len < addr || end == 0)
		return KERN_INVALID_ADDRESS;
	if (!vm_map_lock(src))
		return KERN_ABORTED;
	kr = vm_map_check_range(src, trunc_page(addr), end, VM_PROT_READ);
	bool whole_pages = ((addr | len) & PAGE_MASK) == 0;
	if (kr == KERN_SUCCESS)
		kr = (len < VM_MAP_COPY_BUFFER_LIMIT && !whole_pages) ?
		     copyin_buffer(src, addr, len, copyp) : copyin_pieces(src, addr, len, copyp);
	vm_map_unlock(src);
	return kr;
}

/* ------------------------------------------------------------- the copy's bytes */

/* The frames holding the copy's pages, piece by piece, into src[] (NULL: a page of zeroes). */
static void copy_find_pages(vm_map_copy_t copy, struct vm_page **src)
{
	for (struct copy_piece *p = copy->pieces; p; p = p->next) {
		size_t n = p->size >> PAGE_SHIFT;
		if (p->object)
			vm_object_page_find_run(p->object, p->offset, n, src);
		else
			memset(src, 0, n * sizeof(*src));
		src += n;
	}
}

/* Where byte off of frame p is, in the direct map. */
static inline char *frame_byte(struct vm_page *p, vm_offset_t off)
{
	return (char *)pmap_phys_to_virt(vm_page_to_phys(p)) + off;
}

/*
 * Copies the data into the destination frames pages[] (the data starts
 * addr's offset into the first), in pieces that end wherever a source or
 * a destination page does; src[] holds the copy's frames (NULL: a page
 * of zeroes; unused for a buffer copy).  The copy's fields are read once,
 * into locals: memcpy might write anywhere, as far as the compiler knows,
 * and would have them loaded again for every page.
 */
static void copy_bytes_to_pages(vm_map_copy_t copy, vm_offset_t addr, struct vm_page **pages,
                                struct vm_page **src)
{
	const char *buffer = copy->is_buffer ? copy->buffer : NULL;
	vm_offset_t to = addr & PAGE_MASK, from = buffer ? 0 : copy->offset;

	for (vm_size_t left = copy->size, n; left > 0; left -= n, to += n, from += n) {
		vm_offset_t to_in = to & PAGE_MASK, from_in = buffer ? 0 : from & PAGE_MASK;
		n = PAGE_SIZE - (to_in > from_in ? to_in : from_in);
		if (n > left)
			n = left;
		char *dst = frame_byte(pages[to >> PAGE_SHIFT], to_in);
		struct vm_page *frame = buffer ? NULL : src[from >> PAGE_SHIFT];
		if (buffer)
			memcpy(dst, buffer + from, n);
		else if (frame)
			memcpy(dst, frame_byte(frame, from_in), n);
		else
			memset(dst, 0, n);
	}
}

/* ------------------------------------------------------------- overwrite: the copy path */

/*
 * Faults every destination page in for writing, then copies.  Nothing is
 * written until every page is there.  => map locked
 */
static kern_return_t overwrite_by_copying(vm_map_t dst, vm_offset_t addr, vm_map_copy_t copy)
{
	VM_MAP_ASSERT_LOCKED(dst);
	vm_offset_t start = trunc_page(addr), end = round_page(addr + copy->size);
	size_t npages = (end - start) >> PAGE_SHIFT;
	size_t nsrc = copy->is_buffer ? 0 : round_page(copy->offset + copy->size) >> PAGE_SHIFT;
	size_t bytes = (npages + nsrc) * sizeof(struct vm_page *);
	struct vm_page **pages = kalloc(bytes);

	if (pages == NULL)
		return KERN_RESOURCE_SHORTAGE;
	/*
	 * A page the pmap maps writable is the entry's own (an entry shared
	 * copy-on-write is never mapped writable): a write there would not
	 * fault, so neither does the copy.  Every other takes the fault path.
	 */
	size_t missing = pmap_extract_pages(dst->pmap, start, npages, VM_PROT_WRITE, pages);
	struct fault_journal j = { .pages = NULL };
	kern_return_t kr = missing ? fault_journal_open(&j, dst, start, end) : KERN_SUCCESS;
	for (size_t i = 0; kr == KERN_SUCCESS && missing > 0 && i < npages; i++) {
		if (pages[i])
			continue;
		kr = fault_journal_fault(&j, start + (i << PAGE_SHIFT), VM_PROT_WRITE, &pages[i]);
		if (kr != KERN_SUCCESS)
			fault_journal_undo(&j);    /* the destination as it was, memory too */
		missing--;
	}
	if (j.pages)
		fault_journal_close(&j);
	if (kr != KERN_SUCCESS) {
		kfree(pages, bytes);
		return kr;
	}
	if (!copy->is_buffer)
		copy_find_pages(copy, pages + npages);   /* after the faults: they may move pages */
	copy_bytes_to_pages(copy, addr, pages, pages + npages);
	kfree(pages, bytes);
	vm_map_copy_discard(copy);
	return KERN_SUCCESS;
}

/* ------------------------------------------------------------- overwrite: substitution */

/* Whole pages, aligned on both sides, into memory no one else writes or wires.  => map locked */
static bool can_substitute(vm_map_t dst, vm_offset_t addr, vm_map_copy_t copy, unsigned *nentries)
{
	vm_offset_t end = addr + copy->size;

	VM_MAP_ASSERT_LOCKED(dst);
	if (copy->is_buffer || copy->offset != 0 || (addr & PAGE_MASK) || (copy->size & PAGE_MASK))
		return false;
	*nentries = 0;
	for (struct vm_map_entry *e = vm_map_lookup_entry(dst, addr);
	     e != &dst->header && e->start < end; e = e->next) {
		if (e->wired_count || (e->object && e->object->shared))
			return false;
		(*nentries)++;
	}
	return true;
}

/* The rights of the destination, remembered across the replacement. */
struct dst_rights {
	vm_offset_t end;
	vm_prot_t protection, max_protection;
	vm_inherit_t inheritance;
};

/* Maps the copy's pieces at addr, cut where the destination's rights change.  => map locked */
static void substitute_pieces(vm_map_t dst, vm_offset_t addr, vm_map_copy_t copy,
                              const struct dst_rights *rights, struct entry_reserve *r)
{
	vm_offset_t at = addr;
	unsigned ri = 0;

	VM_MAP_ASSERT_LOCKED(dst);
	for (struct copy_piece *p = copy->pieces; p; p = p->next) {
		vm_offset_t piece_start = at, piece_end = at + p->size;
		while (at < piece_end) {
			while (rights[ri].end <= at)
				ri++;
			vm_offset_t stop = rights[ri].end < piece_end ? rights[ri].end : piece_end;
			struct vm_map_entry attrs = {
				.protection = rights[ri].protection,
				.max_protection = rights[ri].max_protection,
				.inheritance = rights[ri].inheritance,
				.needs_copy = p->needs_copy,
			};
			if (p->object && at != piece_start)
				vm_object_reference(p->object);   /* one reference per entry */
			vm_map_insert(dst, at, stop, p->object, p->offset + (at - piece_start), &attrs, r);
			at = stop;
		}
		p->object = NULL;                          /* handed to dst's entries */
	}
}

/*
 * Writing the same place again, the common case: one piece, and one
 * destination entry covering exactly the range.  The entry takes the
 * piece's object in place of its own (its rights stay), with no clip and
 * no new entry.  False, with nothing changed, for any other shape.
 * => map locked, can_substitute said yes
 */
static bool substitute_in_place(vm_map_t dst, vm_offset_t addr, vm_map_copy_t copy)
{
	VM_MAP_ASSERT_LOCKED(dst);
	struct vm_map_entry *e = vm_map_lookup_entry(dst, addr);
	struct copy_piece *p = copy->pieces;

	if (copy->npieces != 1 || e == NULL || e->start != addr || e->end != addr + copy->size)
		return false;
	pmap_remove(dst->pmap, e->start, e->end);
	if (e->object)
		vm_object_deallocate(e->object);
	e->object = p->object;
	e->offset = p->offset;
	e->needs_copy = p->needs_copy;
	p->object = NULL;                  /* handed to the entry */
	copy_free(copy);
	return true;
}

/*
 * Replaces [addr, addr+size) of dst by the copy's pieces, keeping each
 * destination range's rights; the old entries go, and their pages with
 * them when nothing else holds them.  => map locked
 */
static kern_return_t overwrite_by_substitution(vm_map_t dst, vm_offset_t addr, vm_map_copy_t copy,
                                               unsigned ndst)
{
	vm_offset_t end = addr + copy->size;
	struct dst_rights *rights;
	struct entry_reserve r;
	unsigned n = 0;

	VM_MAP_ASSERT_LOCKED(dst);
	if (ndst == 1 && substitute_in_place(dst, addr, copy))
		return KERN_SUCCESS;
	rights = kalloc(ndst * sizeof(*rights));
	if (rights == NULL)
		return KERN_RESOURCE_SHORTAGE;
	if (!entry_reserve(&r, dst, 2 + ndst + copy->npieces)) {
		kfree(rights, ndst * sizeof(*rights));
		return KERN_RESOURCE_SHORTAGE;
	}
	for (struct vm_map_entry *e = vm_map_clip_range(dst, addr, end, &r);
	     e != &dst->header && e->start < end; e = e->next)
		rights[n++] = (struct dst_rights){ e->end, e->protection, e->max_protection,
		                                   e->inheritance };
	vm_map_delete(dst, addr, end, &r);
	substitute_pieces(dst, addr, copy, rights, &r);
	entry_reserve_release(&r);
	kfree(rights, ndst * sizeof(*rights));
	vm_map_simplify_range(dst, addr, end);
	copy_free(copy);                   /* its objects now belong to dst's entries */
	return KERN_SUCCESS;
}

/* ------------------------------------------------------------- overwrite and copyout */

kern_return_t vm_map_copy_overwrite(vm_map_t dst, vm_address_t addr, vm_map_copy_t copy)
{
	vm_size_t size = copy->size;
	unsigned ndst;
	kern_return_t kr;

	if (size == 0) {
		vm_map_copy_discard(copy);
		return KERN_SUCCESS;
	}
	if (addr + size < addr || addr < dst->min || addr + size > dst->max)
		return KERN_INVALID_ADDRESS;
	if (!vm_map_lock(dst))
		return KERN_ABORTED;
	kr = vm_map_check_range(dst, trunc_page(addr), round_page(addr + size), VM_PROT_WRITE);
	if (kr == KERN_SUCCESS)
		kr = can_substitute(dst, addr, copy, &ndst) ?
		     overwrite_by_substitution(dst, addr, copy, ndst) :
		     overwrite_by_copying(dst, addr, copy);
	vm_map_unlock(dst);
	return kr;
}

/* Fills a new object with a buffer copy's bytes, from the start of its first page. */
static struct vm_object *object_from_buffer(vm_map_copy_t copy)
{
	vm_size_t size = round_page(copy->size);
	struct vm_object *obj = vm_object_allocate(size);

	for (vm_offset_t at = 0; obj && at < size; at += PAGE_SIZE) {
		struct vm_page *p = vm_page_alloc(VM_PAGE_OBJECT, VM_PAGE_ZERO);
		if (p == NULL) {
			vm_object_deallocate(obj);
			return NULL;
		}
		vm_size_t n = copy->size - at < PAGE_SIZE ? copy->size - at : PAGE_SIZE;
		memcpy((char *)pmap_phys_to_virt(vm_page_to_phys(p)), copy->buffer + at, n);
		spin_lock(&obj->lock);
		vm_object_page_insert(obj, p, at);
		spin_unlock(&obj->lock);
	}
	return obj;
}

kern_return_t vm_map_copyout(vm_map_t dst, vm_address_t *addr, vm_map_copy_t copy)
{
	static const struct vm_map_entry rw = {
		.protection = VM_PROT_DEFAULT, .max_protection = VM_PROT_ALL,
		.inheritance = VM_INHERIT_DEFAULT,
	};
	vm_size_t size = round_page(copy->offset + copy->size);
	struct vm_object *buffer_obj = NULL;
	struct entry_reserve r;
	vm_offset_t start;

	if (copy->size == 0) {
		*addr = 0;
		vm_map_copy_discard(copy);
		return KERN_SUCCESS;
	}
	if (copy->is_buffer && (buffer_obj = object_from_buffer(copy)) == NULL)
		return KERN_RESOURCE_SHORTAGE;
	if (!vm_map_lock(dst)) {
		if (buffer_obj)
			vm_object_deallocate(buffer_obj);
		return KERN_ABORTED;
	}
	bool found = vm_map_find_space(dst, size, &start);
	if (!found || !entry_reserve(&r, dst, copy->is_buffer ? 1 : copy->npieces)) {
		vm_map_unlock(dst);
		if (buffer_obj)
			vm_object_deallocate(buffer_obj);
		return found ? KERN_RESOURCE_SHORTAGE : KERN_NO_SPACE;
	}
	if (buffer_obj) {
		vm_map_insert(dst, start, start + size, buffer_obj, 0, &rw, &r);
	} else {
		vm_offset_t at = start;
		for (struct copy_piece *p = copy->pieces; p; at += p->size, p = p->next) {
			struct vm_map_entry attrs = rw;
			attrs.needs_copy = p->needs_copy;
			vm_map_insert(dst, at, at + p->size, p->object, p->offset, &attrs, &r);
			p->object = NULL;
		}
	}
	entry_reserve_release(&r);
	vm_map_unlock(dst);
	*addr = start + copy->offset;
	copy_free(copy);                   /* its objects now belong to dst's entries */
	return KERN_SUCCESS;
}
