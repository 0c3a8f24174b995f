/*
 * The physical frame database: one struct vm_page for every 4 KiB frame
 * below the top of usable RAM, and the allocator that hands frames out.
 *
 * Free frames live in a buddy allocator (free lists of 2^order-frame
 * blocks), which gives contiguous runs for page tables and stacks, and
 * merges frees back into large blocks; and a few in each CPU's cache of
 * single frames, which serves one-frame allocations and frees without the
 * buddy allocator's lock (vm_page.c says why).  A cached frame is free in
 * every count.  Each frame in use is counted by what uses it, so tests
 * can prove that tearing something down returned every frame.
 */
#ifndef MICA_VM_VM_PAGE_H
#define MICA_VM_VM_PAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <mica/boot_info.h>

typedef uint64_t paddr_t;

#define PAGE_SHIFT 12
#define PAGE_SIZE  (1ul << PAGE_SHIFT)
#define PAGE_MASK  (PAGE_SIZE - 1)
#define round_page(x) (((x) + PAGE_MASK) & ~PAGE_MASK)
#define trunc_page(x) ((x) & ~PAGE_MASK)

/* What a frame is doing; a frame in use is counted under its use. */
enum vm_page_use {
	VM_PAGE_RESERVED,          /* not RAM Mica may hand out: firmware, kernel image, holes */
	VM_PAGE_FREE,
	VM_PAGE_KERNEL,            /* wired kernel memory: stacks, zones, the frame table */
	VM_PAGE_PAGETABLE,         /* a page-table page of some pmap */
	VM_PAGE_OBJECT,            /* holds data of a vm_object */
	VM_PAGE_USES,
};

struct pv_entry;
struct vm_object;
struct zone;
struct zone_free;

/*
 * 64 bytes, a power of two, so that a frame's number and its vm_page turn
 * into each other by a shift: the copy path does that for both frames of
 * every page it copies.
 *
 * Locks, by what the frame is doing:
 *   (f) vm_page_free_lock (vm_page.c), or, while a CPU's cache holds the
 *       frame (and as it enters or leaves one), that cache's lock; whoever
 *       frees the frame clears what an owner left (offset, wire_count,
 *       pmap_flags)
 *   (o) the owning object's lock (VM_PAGE_OBJECT)
 *   (h) the page hash's lock (vm_object.c)
 *   (z) the owning zone's lock (a frame a zone carved)
 *   (t) the lock of the pmap whose page table the frame is
 *       (VM_PAGE_PAGETABLE), and whoever unlinked it, to free it
 *   (v) pv_lock (arch/x86_64/pmap.c)
 */
struct __attribute__((aligned(64))) vm_page {
	struct vm_page *next, *prev;   /* (f) free list, or the owner's list: (o), (z), (t) */
	struct vm_page *hash_next;     /* (h) (object, offset) hash chain */
	union {
		struct {                       /* VM_PAGE_OBJECT */
			struct vm_object *object;      /* (o) owner */
			uint64_t offset;               /* (o) byte offset in the object */
		};
		struct {                       /* a frame a zone carved (kern/zone.c) */
			struct zone_free *zone_free;   /* (z) its free elements */
			struct zone *zone;             /* (z) the zone that holds it */
		};
	};
	struct pv_entry *pv_list;      /* (v) every mapping of this frame (pmap-private) */
	uint32_t wire_count;           /* (o) wirings of an object's page; (t) present entries
	                                  of a page table */
	uint8_t use;                   /* (f) enum vm_page_use */
	uint8_t order;                 /* (f) free block head: its order; otherwise (in use,
	                                  inside a block, or in a CPU's cache) VM_PAGE_NOT_HEAD */
	uint8_t pmap_flags;            /* (v) pmap-private: referenced/modified gathered from
	                                  removed mappings */
	bool since_boot;               /* (f) free since boot, never handed out: it may hold
	                                  what the firmware or the loader left (vm_page.c);
	                                  cleared by the owner it is handed out to */
	uint16_t zone_used;            /* (z) a zone's frame: its elements in use */
};

#define VM_PAGE_MAX_ORDER 10       /* largest free block: 2^10 frames = 4 MiB */
#define VM_PAGE_NOT_HEAD  0xff

/* vm_page_alloc flags */
#define VM_PAGE_ZERO 0x1           /* fill with zeroes before returning it */

struct vm_page_stats {
	uint64_t count[VM_PAGE_USES];  /* frames per enum vm_page_use */
	uint64_t total;                /* frames described by the table */
};

/*
 * Builds the frame table for the RAM boot_info describes and frees every
 * usable frame the machine-dependent layer does not claim
 * (pmap_frame_available).  Called once, after pmap_bootstrap.
 */
void vm_page_bootstrap(const struct boot_info *bi);

/* One frame for this use, or NULL when none is free (in the buddy lists or any CPU's cache). */
struct vm_page *vm_page_alloc(enum vm_page_use use, unsigned flags);

/* npages physically contiguous frames (the first page returned), or NULL. */
struct vm_page *vm_page_alloc_contig(size_t npages, enum vm_page_use use, unsigned flags);

/* Returns a frame; it must have no mappings and no owner left. */
void vm_page_free(struct vm_page *p);
void vm_page_free_contig(struct vm_page *first, size_t npages);

/*
 * The frame table (vm_page.c fills it at boot), and the conversions
 * between a frame and its vm_page.  These are inline: the copy path and
 * the pmap convert a frame or two a page, and under emulation a call and
 * its return cost more than the arithmetic.
 */
extern struct vm_page *vm_pages;       /* indexed by frame number */
extern uint64_t vm_page_count;         /* frames in the table */

static inline paddr_t vm_page_to_phys(const struct vm_page *p)
{
	return (paddr_t)(p - vm_pages) << PAGE_SHIFT;
}

/* NULL outside the table. */
static inline struct vm_page *vm_page_from_phys(paddr_t pa)
{
	uint64_t pfn = pa >> PAGE_SHIFT;

	return pfn < vm_page_count ? &vm_pages[pfn] : NULL;
}

/* Exact when no CPU is allocating or freeing frames; cached frames count as free. */
void vm_page_get_stats(struct vm_page_stats *s);
uint64_t vm_page_free_count(void);

/*
 * Gives every frame the CPUs' caches hold back to the buddy allocator,
 * where it merges: for tests that count blocks (zone_drain calls it).
 */
void vm_page_drain_caches(void);

/* Frames CPU n's cache holds now (a count for tests). */
unsigned vm_page_cached(unsigned cpu);

/*
 * The size in frames of the largest free block, and in *count how many
 * free blocks have that size: what fragmentation has left of contiguous
 * memory.
 */
uint64_t vm_page_largest_free_block(uint64_t *count);

/*
 * A doubly linked list of frames through next and prev, for the free
 * lists and for owners that keep frames on lists of their own (zones).
 */
static inline void vm_page_list_insert(struct vm_page **head, struct vm_page *p)
{
	p->prev = NULL;
	p->next = *head;
	if (*head)
		(*head)->prev = p;
	*head = p;
}

static inline void vm_page_list_remove(struct vm_page **head, struct vm_page *p)
{
	if (p->prev)
		p->prev->next = p->next;
	else
		*head = p->next;
	if (p->next)
		p->next->prev = p->prev;
	p->next = p->prev = NULL;
}

/*
 * Test support: refuse allocations once only `floor` frames are free
 * (cached ones counted), so tests can run the kernel out of memory on
 * purpose.  0 lifts the limit.
 */
void vm_page_set_reserve_floor(uint64_t floor);

#endif
