/*
 * VM objects (vm/vm_object.h): resident pages by offset, shadow chains,
 * reference counts, termination and collapse.
 *
 * Locking: an object's lock covers its pages, its shadow link and
 * `shared`; its reference count is atomic and needs none, as a map's,
 * port's and task's.  A walk down a chain and a collapse take the locks
 * of a chain top down, the next one before letting go of the one above,
 * so neither steps into an object the other is freeing.  Faults of one
 * map run side by side under read holds of it, so a fault puts a page
 * into an object only under the object's lock, after checking that none
 * came meanwhile (vm/vm_fault.c).
 *
 * Resident pages are found through one hash table keyed by (object,
 * offset), as in Mach: O(1) on average whatever the object's size.  Each
 * object also lists its pages, for termination and collapse.
 */
#include "vm/vm_object.h"
#include "kern/panic.h"
#include "lib/string.h"
#include "kern/zone.h"
#include "vm/pmap.h"

static struct zone object_zone;
static struct vm_page **page_hash;
static uint64_t page_hash_mask;
static struct spinlock page_hash_lock = SPINLOCK_INIT("vm_page_hash", LOCK_RANK_PAGE_HASH);
static uint64_t objects_alive;

/* A hash table with about one bucket per four frames, in whole frames. */
void vm_object_bootstrap(void)
{
	struct vm_page_stats st;
	uint64_t buckets = 1;

	vm_page_get_stats(&st);
	while (buckets < st.total / 4 && buckets * sizeof(void *) < (PAGE_SIZE << VM_PAGE_MAX_ORDER))
		buckets <<= 1;
	struct vm_page *p = vm_page_alloc_contig(round_page(buckets * sizeof(void *)) / PAGE_SIZE,
	                                         VM_PAGE_KERNEL, VM_PAGE_ZERO);
	if (p == NULL)
		panic("vm_object_bootstrap: no memory for %lu hash buckets", buckets);
	page_hash = pmap_phys_to_virt(vm_page_to_phys(p));
	page_hash_mask = buckets - 1;
	zone_init(&object_zone, "vm_object", sizeof(struct vm_object));
}

static struct vm_page **bucket(const struct vm_object *obj, uint64_t offset)
{
	uint64_t h = ((uintptr_t)obj >> 4) * 0x9e3779b97f4a7c15ull + (offset >> PAGE_SHIFT);

	return &page_hash[(h ^ (h >> 29)) & page_hash_mask];
}

struct vm_object *vm_object_allocate(uint64_t size)
{
	struct vm_object *obj = zalloc(&object_zone);

	if (obj == NULL)
		return NULL;
	memset(obj, 0, sizeof(*obj));
	spin_lock_init(&obj->lock, "vm_object", LOCK_RANK_OBJECT);
	obj->ref_count = 1;
	obj->size = size;
	__atomic_fetch_add(&objects_alive, 1, __ATOMIC_RELAXED);
	return obj;
}

/* Only a holder of a reference adds one, so the count cannot rise from 0 meanwhile. */
void vm_object_reference(struct vm_object *obj)
{
	__atomic_fetch_add(&obj->ref_count, 1, __ATOMIC_RELAXED);
}

void vm_object_share(struct vm_object *obj)
{
	spin_lock(&obj->lock);
	__atomic_fetch_add(&obj->ref_count, 1, __ATOMIC_RELAXED);
	obj->shared = true;
	spin_unlock(&obj->lock);
}

uint64_t vm_object_count(void)
{
	return objects_alive;
}

/* => page_hash_lock held */
static struct vm_page *hash_lookup(struct vm_object *obj, uint64_t offset)
{
	struct vm_page *p;

	LOCK_ASSERT_HELD(&page_hash_lock);
	for (p = *bucket(obj, offset); p; p = p->hash_next)
		if (p->object == obj && p->offset == offset)
			break;
	return p;
}

struct vm_page *vm_object_page_lookup(struct vm_object *obj, uint64_t offset)
{
	VM_OBJECT_ASSERT_LOCKED(obj);
	spin_lock(&page_hash_lock);
	struct vm_page *p = hash_lookup(obj, offset);
	spin_unlock(&page_hash_lock);
	return p;
}

/* Puts page in the hash as obj's at offset.  => obj locked, and the page hash */
static void hash_link(struct vm_object *obj, struct vm_page *page, uint64_t offset)
{
	struct vm_page **b = bucket(obj, offset);

	KASSERT(page->object == NULL, "vm_object_page_insert: page already has an object");
	page->object = obj;
	page->offset = offset;
	page->hash_next = *b;
	*b = page;
}

/* Puts page on obj's list of pages, which the hash already finds.  => obj locked */
static void list_link(struct vm_object *obj, struct vm_page *page)
{
	page->prev = NULL;
	page->next = obj->pages;
	if (obj->pages)
		obj->pages->prev = page;
	obj->pages = page;
	obj->resident_count++;
}

void vm_object_page_insert(struct vm_object *obj, struct vm_page *page, uint64_t offset)
{
	VM_OBJECT_ASSERT_LOCKED(obj);
	spin_lock(&page_hash_lock);
	hash_link(obj, page, offset);
	spin_unlock(&page_hash_lock);
	list_link(obj, page);
}

bool vm_object_page_insert_if_absent(struct vm_object *obj, struct vm_page *page,
                                     uint64_t offset)
{
	VM_OBJECT_ASSERT_LOCKED(obj);
	spin_lock(&page_hash_lock);
	bool absent = hash_lookup(obj, offset) == NULL;
	if (absent)
		hash_link(obj, page, offset);
	spin_unlock(&page_hash_lock);
	if (absent)
		list_link(obj, page);
	return absent;
}


/* Takes page out of its object's hash chain and list; it keeps its mappings. */
static void page_detach(struct vm_object *obj, struct vm_page *page)
{
	struct vm_page **pp = bucket(obj, page->offset);

	spin_lock(&page_hash_lock);
	while (*pp != page)
		pp = &(*pp)->hash_next;
	*pp = page->hash_next;
	spin_unlock(&page_hash_lock);
	if (page->prev)
		page->prev->next = page->next;
	else
		obj->pages = page->next;
	if (page->next)
		page->next->prev = page->prev;
	page->next = page->prev = page->hash_next = NULL;
	page->object = NULL;
	obj->resident_count--;
}

void vm_object_page_free(struct vm_object *obj, struct vm_page *page)
{
	VM_OBJECT_ASSERT_LOCKED(obj);
	pmap_page_protect(page, VM_PROT_NONE);
	page_detach(obj, page);
	vm_page_free(page);
}

/*
 * vm_object_page_find_run for one batch.  The walk down the chain holds
 * the next object's lock before it lets go of the one above, as a
 * collapse holds both of the pair it merges: so the walk never steps into
 * a backing object a collapse is freeing.
 */
static void find_batch(struct vm_object *obj, uint64_t offset, size_t n, struct vm_page **pages)
{
	size_t missing = n;

	if (obj == NULL) {
		memset(pages, 0, n * sizeof(*pages));
		return;
	}
	spin_lock(&obj->lock);
	/* The top object fills every slot; each shadow, only those still empty. */
	for (bool top = true;; top = false) {
		spin_lock(&page_hash_lock);
		for (size_t i = 0; i < n; i++) {
			if (top || pages[i] == NULL) {
				pages[i] = hash_lookup(obj, offset + i * PAGE_SIZE);
				missing -= pages[i] != NULL;
			}
		}
		spin_unlock(&page_hash_lock);
		struct vm_object *backing = missing > 0 ? obj->shadow : NULL;
		if (backing)
			spin_lock(&backing->lock);
		offset += obj->shadow_offset;
		spin_unlock(&obj->lock);
		if (backing == NULL)
			return;
		obj = backing;
	}
}

void vm_object_page_find_run(struct vm_object *obj, uint64_t offset, size_t n,
                             struct vm_page **pages)
{
	for (size_t done = 0; done < n; done += VM_OBJECT_FIND_BATCH) {
		size_t batch = n - done < VM_OBJECT_FIND_BATCH ? n - done : VM_OBJECT_FIND_BATCH;
		find_batch(obj, offset + done * PAGE_SIZE, batch, pages + done);
	}
}

/* A run of one; the page's owner is the object it is resident in. */
struct vm_page *vm_object_page_find(struct vm_object *obj, uint64_t offset,
                                    struct vm_object **owner)
{
	struct vm_page *p;

	vm_object_page_find_run(obj, offset, 1, &p);
	*owner = p ? p->object : NULL;
	return p;
}

/*
 * Frees every page of an object no one references any more, a batch per
 * hold of its lock: no one else reaches a dead object, and between the
 * batches interrupts come in and the thread may be preempted (a 64 MiB
 * object holds 16,384 pages).
 */
#define TERMINATE_BATCH 32

static void object_terminate(struct vm_object *obj)
{
	bool more = true;

	while (more) {
		spin_lock(&obj->lock);
		for (unsigned n = 0; obj->pages && n < TERMINATE_BATCH; n++)
			vm_object_page_free(obj, obj->pages);
		more = obj->pages != NULL;
		spin_unlock(&obj->lock);
	}
	zfree(&object_zone, obj);
	__atomic_fetch_sub(&objects_alive, 1, __ATOMIC_RELAXED);
}

/*
 * One user left: nothing to keep in sync.  Under the lock, as
 * vm_object_share sets the flag, so that a share racing with the drop
 * to one reference is never undone.
 */
static void unshare_if_alone(struct vm_object *obj)
{
	spin_lock(&obj->lock);
	if (__atomic_load_n(&obj->ref_count, __ATOMIC_RELAXED) == 1)
		obj->shared = false;
	spin_unlock(&obj->lock);
}

void vm_object_deallocate(struct vm_object *obj)
{
	while (obj != NULL) {                 /* a loop, not recursion, down the chain */
		uint32_t left = __atomic_sub_fetch(&obj->ref_count, 1, __ATOMIC_ACQ_REL);
		KASSERT(left != UINT32_MAX, "vm_object_deallocate: object %p is already dead", obj);
		if (left == 1 && obj->shared)
			unshare_if_alone(obj);
		if (left > 0)
			return;
		struct vm_object *backing = obj->shadow;
		object_terminate(obj);
		obj = backing;
	}
}

struct vm_object *vm_object_shadow(struct vm_object *obj, uint64_t offset, uint64_t size)
{
	struct vm_object *s = vm_object_allocate(size);

	if (s == NULL)
		return NULL;
	s->shadow = obj;
	s->shadow_offset = offset;
	return s;
}

struct vm_object *vm_object_unshadow(struct vm_object *s)
{
	struct vm_object *obj = s->shadow;

	KASSERT(s->ref_count == 1 && s->resident_count == 0,
	        "vm_object_unshadow: the shadow is in use (%u references, %lu pages)",
	        s->ref_count, s->resident_count);
	s->shadow = NULL;                  /* its reference is the caller's now */
	vm_object_deallocate(s);
	return obj;
}

struct vm_object *vm_object_copy_now(struct vm_object *obj, uint64_t offset, uint64_t size)
{
	struct vm_object *copy = vm_object_allocate(size), *owner;

	if (copy == NULL)
		return NULL;
	for (uint64_t off = 0; off < size; off += PAGE_SIZE) {
		struct vm_page *src = vm_object_page_find(obj, offset + off, &owner);
		if (src == NULL)
			continue;                     /* zeroes stay implicit */
		struct vm_page *dst = vm_page_alloc(VM_PAGE_OBJECT, 0);
		if (dst == NULL) {
			vm_object_deallocate(copy);
			return NULL;
		}
		pmap_copy_page(src, dst);
		spin_lock(&copy->lock);
		vm_object_page_insert(copy, dst, off);
		spin_unlock(&copy->lock);
	}
	return copy;
}

/*
 * Moves the pages of backing (which only front uses) that front does not
 * hide into front, and frees the rest.  Moved pages keep their mappings:
 * the data are the same, only the owner changes.
 * => front and backing locked
 */
static void collapse_pages(struct vm_object *front, struct vm_object *backing)
{
	VM_OBJECT_ASSERT_LOCKED(front);
	VM_OBJECT_ASSERT_LOCKED(backing);
	while (backing->pages) {
		struct vm_page *p = backing->pages;
		uint64_t off = p->offset - front->shadow_offset;
		bool visible = p->offset >= front->shadow_offset && off < front->size &&
		               vm_object_page_lookup(front, off) == NULL;
		if (!visible) {
			vm_object_page_free(backing, p);
			continue;
		}
		page_detach(backing, p);
		vm_object_page_insert(front, p, off);
	}
}

bool vm_object_collapsible(struct vm_object *front)
{
	struct vm_object *obj = front;
	bool found = false;

	if (__atomic_load_n(&front->shadow, __ATOMIC_RELAXED) == NULL)
		return false;                  /* no chain: the usual case, answered without the lock */
	spin_lock(&obj->lock);
	while (!found && obj->shadow != NULL) {
		struct vm_object *backing = obj->shadow;
		spin_lock(&backing->lock);
		spin_unlock(&obj->lock);
		found = __atomic_load_n(&backing->ref_count, __ATOMIC_RELAXED) == 1 &&
		        !backing->shared;
		obj = backing;
	}
	spin_unlock(&obj->lock);
	return found;
}

/*
 * Folds backing into front if only front still uses it; false, with
 * backing's lock kept for the walk to go on from, if it is shared.
 * => front and backing locked; front's lock is let go either way
 */
static bool collapse_pair(struct vm_object *front, struct vm_object *backing)
{
	if (backing->ref_count != 1 || backing->shared) {
		spin_unlock(&front->lock);
		return false;
	}
	collapse_pages(front, backing);
	front->shadow = backing->shadow;
	front->shadow_offset += backing->shadow_offset;
	backing->shadow = NULL;
	backing->ref_count = 0;
	spin_unlock(&backing->lock);
	spin_unlock(&front->lock);
	zfree(&object_zone, backing);
	__atomic_fetch_sub(&objects_alive, 1, __ATOMIC_RELAXED);
	return true;
}

void vm_object_collapse(struct vm_object *front)
{
	spin_lock(&front->lock);
	for (;;) {
		struct vm_object *backing = front->shadow;
		if (backing == NULL)
			break;
		spin_lock(&backing->lock);
		if (collapse_pair(front, backing))
			spin_lock(&front->lock);   /* its new backing object may fold too */
		else
			front = backing;           /* shared here, but a pair further down may merge */
	}
	spin_unlock(&front->lock);
}
