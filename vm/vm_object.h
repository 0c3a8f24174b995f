/*
 * VM objects: the memory behind map entries.
 *
 * An object is a sparse array of resident pages, indexed by byte offset.
 * Mica has no pager, so every object is anonymous memory: a page that is
 * not resident reads as zeroes (lazy zero fill).  Copy-on-write uses
 * shadow objects: a shadow holds the pages written since the copy and
 * falls back to its backing object (`shadow`, at `shadow_offset`) for the
 * rest.  A chain is collapsed when a backing object loses every other
 * reference, so chains stay short.
 */
#ifndef MICA_VM_VM_OBJECT_H
#define MICA_VM_VM_OBJECT_H

#include <stdbool.h>
#include <stdint.h>
#include <mach/kern_return.h>
#include "kern/lock.h"
#include "vm/vm_page.h"

/*
 * Locks:
 *   (o) obj->lock; an object no one else can reach (just made, or a shadow
 *       whose one reference is its maker's) is its maker's without it
 *   (a) atomic
 *   (c) constant after creation
 */
struct vm_object {
	struct spinlock lock;
	uint32_t ref_count;            /* (a) map entries, copies and shadows that point here */
	bool shared;                   /* (o) mapped writable by more than one entry: no symmetric
	                                  COW */
	uint64_t size;                 /* (c) bytes */
	struct vm_object *shadow;      /* (o) backing object, or NULL */
	uint64_t shadow_offset;        /* (o) where this object starts in the backing object */
	struct vm_page *pages;         /* (o) resident pages, a list through vm_page next/prev */
	uint64_t resident_count;       /* (o) */
};

/* => obj locked */
#define VM_OBJECT_ASSERT_LOCKED(obj) LOCK_ASSERT_HELD(&(obj)->lock)

void vm_object_bootstrap(void);

/*
 * Takes back a vm_object_shadow that was never used: s (one reference, no
 * pages) is freed, and the object it shadowed is returned with the
 * reference s held on it.
 */
struct vm_object *vm_object_unshadow(struct vm_object *s);

/* A new empty (all-zero) object of size bytes, with one reference; NULL when out of memory. */
struct vm_object *vm_object_allocate(uint64_t size);

/* Adds a reference; the caller holds one already.  No lock: the count is atomic. */
void vm_object_reference(struct vm_object *obj);

/* Adds a reference for another entry that maps obj writable (shared): no symmetric COW. */
void vm_object_share(struct vm_object *obj);

/* Drops a reference; the last one frees the object, its pages and its hold on its shadow. */
void vm_object_deallocate(struct vm_object *obj);

/* The resident page at offset (page-aligned) of obj itself, or NULL. => obj locked */
struct vm_page *vm_object_page_lookup(struct vm_object *obj, uint64_t offset);

/* Makes page (fresh from vm_page_alloc) obj's page at offset. => obj locked */
void vm_object_page_insert(struct vm_object *obj, struct vm_page *page, uint64_t offset);

/*
 * The same, unless obj already has a page at offset: false then, and page
 * is still the caller's.  One look and one insertion under one hold of
 * the page hash.  => obj locked
 */
bool vm_object_page_insert_if_absent(struct vm_object *obj, struct vm_page *page,
                                     uint64_t offset);

/* Unmaps and frees obj's page. => obj locked */
void vm_object_page_free(struct vm_object *obj, struct vm_page *page);

/*
 * The page that holds the data at offset of obj: obj's own, or the first
 * found down the shadow chain; NULL when none is resident (zeroes).
 * *owner is set to the object the page belongs to.
 */
struct vm_page *vm_object_page_find(struct vm_object *obj, uint64_t offset,
                                    struct vm_object **owner);

/*
 * vm_object_page_find for n consecutive pages from offset, into pages[]
 * (NULL where none is resident), with each object's lock and the page
 * hash's taken once for a batch of pages (VM_OBJECT_FIND_BATCH) rather
 * than once a page, nor for the whole run, which would keep interrupts
 * off for as long as a run of thousands of pages takes.
 */
#define VM_OBJECT_FIND_BATCH 512
void vm_object_page_find_run(struct vm_object *obj, uint64_t offset, size_t n,
                             struct vm_page **pages);

/*
 * A new object of size bytes that shadows obj from offset: the caller's
 * reference to obj passes to the shadow.  NULL when out of memory (then
 * the caller keeps its reference).
 */
struct vm_object *vm_object_shadow(struct vm_object *obj, uint64_t offset, uint64_t size);

/*
 * A new object holding a snapshot of size bytes of obj from offset,
 * copied now, page by page (for shared objects, where copy-on-write
 * cannot be used).  NULL when out of memory.
 */
struct vm_object *vm_object_copy_now(struct vm_object *obj, uint64_t offset, uint64_t size);

/*
 * Walks obj's whole chain and folds every backing object that only the
 * object above it still uses into that object, including below a shared
 * link (a fork's object, the parent's shadow over it): otherwise each
 * fork would leave one more link in the parent's chain.
 */
void vm_object_collapse(struct vm_object *obj);

/*
 * Whether vm_object_collapse would fold anything in obj's chain: so that
 * a fault under a read hold of its map knows it must hold it for writing
 * to collapse.  A hint, read one link at a time: an answer that is stale
 * at once costs one fault a needless write hold, or one collapse put off
 * to the next fault that holds the map for writing.
 */
bool vm_object_collapsible(struct vm_object *obj);

/* Objects and resident object pages in existence: leak checks for tests. */
uint64_t vm_object_count(void);

#endif
