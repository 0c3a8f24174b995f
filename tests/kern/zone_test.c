/*
 * Zones (kern/zone.c): reservations all or none, taken and given back at
 * once, counted as in use while reserved; frames given back once empty,
 * but for a small reserve: in a zone of its own, so that no other user's
 * elements are counted.  And kalloc's size classes: each size from the
 * smallest class that holds it.
 */
#include "tests/harness/ktest.h"
#include "kern/kalloc.h"
#include "kern/zone.h"
#include "vm/pmap.h"
#include "vm/vm_page.h"

#define ELEM 512                        /* 8 a frame */

static struct zone test_zone;

static struct zone *the_zone(void)
{
	if (test_zone.name == NULL)
		zone_init(&test_zone, "ktest_zone", ELEM);
	return &test_zone;
}

KTEST(zone, reserve_hands_out_then_gives_back_the_rest)
{
	struct zone *z = the_zone();
	struct zone_reserve r;
	void *taken[3];
	uint64_t in_use = z->in_use;

	KT_ASSERT(zone_reserve(z, &r, 20));
	KT_EXPECT_EQ(r.count, 20);
	KT_EXPECT_EQ(z->in_use, in_use + 20);
	for (int i = 0; i < 3; i++) {
		taken[i] = zone_reserve_take(&r);
		KT_ASSERT(taken[i] != NULL);
	}
	KT_EXPECT(taken[0] != taken[1] && taken[1] != taken[2] && taken[0] != taken[2]);
	KT_EXPECT_EQ(r.count, 17);
	zone_reserve_release(&r);
	KT_EXPECT_EQ(r.count, 0);
	KT_EXPECT(zone_reserve_take(&r) == NULL);
	KT_EXPECT_EQ(z->in_use, in_use + 3);     /* the three taken stay the caller's */
	for (int i = 0; i < 3; i++)
		zfree(z, taken[i]);
	KT_EXPECT_EQ(z->in_use, in_use);
	KT_EXPECT(zone_reserve(z, &r, 0));
	KT_EXPECT(zone_reserve_take(&r) == NULL);
}

KTEST(zone, reserve_is_all_or_none_when_memory_is_short)
{
	struct zone *z = the_zone();
	struct zone_reserve r;

	KT_ASSERT(zone_reserve(z, &r, 20));     /* the zone holds frames for at least 20 */
	zone_reserve_release(&r);
	uint64_t in_use = z->in_use, free = z->pages * (PAGE_SIZE / ELEM) - in_use;
	vm_page_set_reserve_floor(vm_page_free_count());   /* no frame for a new slab */
	bool too_many = zone_reserve(z, &r, (unsigned)free + 1);
	unsigned left = r.count;
	bool all = zone_reserve(z, &r, (unsigned)free);
	vm_page_set_reserve_floor(0);
	KT_EXPECT(!too_many);
	KT_EXPECT_EQ(left, 0);
	KT_EXPECT(all);
	KT_EXPECT_EQ(z->in_use, in_use + free);
	zone_reserve_release(&r);
	KT_EXPECT_EQ(z->in_use, in_use);
}

/*
 * A burst of allocations and its release: the frames the burst took go
 * back to vm_page, but for the reserve, and the elements left in use
 * stay where they were.
 */
KTEST(zone, empty_frames_go_back_beyond_the_reserve)
{
	enum { FRAMES = 10, PER_FRAME = PAGE_SIZE / ELEM };
	struct zone *z = the_zone();
	static void *elems[FRAMES * PER_FRAME];
	uint64_t held = vm_page_free_count() + z->pages;

	KT_ASSERT_EQ(z->in_use, 0);
	for (int i = 0; i < FRAMES * PER_FRAME; i++) {
		elems[i] = zalloc(z);
		KT_ASSERT(elems[i] != NULL);
	}
	KT_EXPECT(z->pages >= FRAMES);
	for (int i = 0; i < FRAMES * PER_FRAME; i++)
		zfree(z, elems[i]);
	KT_EXPECT_EQ(z->in_use, 0);
	KT_EXPECT(z->pages <= ZONE_EMPTY_RESERVE);
	KT_EXPECT_EQ(vm_page_free_count() + z->pages, held);
}

/* Freeing and allocating one element at a frame's edge takes no frame from vm_page each time. */
KTEST(zone, the_reserve_stops_a_frame_edge_from_thrashing)
{
	enum { PER_FRAME = PAGE_SIZE / ELEM };
	struct zone *z = the_zone();
	void *full[PER_FRAME];

	KT_ASSERT_EQ(z->in_use, 0);
	for (int i = 0; i < PER_FRAME; i++)
		KT_ASSERT((full[i] = zalloc(z)) != NULL);
	void *edge = zalloc(z);                /* a second frame, for one element */
	KT_ASSERT(edge != NULL);
	zfree(z, edge);
	uint64_t free_frames = vm_page_free_count();
	for (int i = 0; i < 100; i++) {
		edge = zalloc(z);
		KT_ASSERT(edge != NULL);
		zfree(z, edge);
		KT_ASSERT_EQ(vm_page_free_count(), free_frames);
	}
	for (int i = 0; i < PER_FRAME; i++)
		zfree(z, full[i]);
}

/* zone_drain gives back even the reserve; the elements in use keep their frames. */
KTEST(zone, drain_gives_back_every_empty_frame)
{
	struct zone *z = the_zone();
	void *kept = zalloc(z), *other[2 * PAGE_SIZE / ELEM];

	KT_ASSERT(kept != NULL);
	for (unsigned i = 0; i < 2 * PAGE_SIZE / ELEM; i++)
		KT_ASSERT((other[i] = zalloc(z)) != NULL);
	for (unsigned i = 0; i < 2 * PAGE_SIZE / ELEM; i++)
		zfree(z, other[i]);
	zone_drain();
	KT_EXPECT_EQ(z->pages, 1);
	KT_EXPECT_EQ(z->empty_count, 0);
	zfree(z, kept);
	zone_drain();
	KT_EXPECT_EQ(z->pages, 0);
}

/* The zone element p came from: its frame's. */
static const struct zone *zone_of(const void *p)
{
	return vm_page_from_phys(pmap_direct_to_phys(p))->zone;
}

KTEST(zone, kalloc_takes_the_smallest_class_that_holds_the_size)
{
	for (size_t size = 1; size <= 2048; size++) {
		void *p = kalloc(size);
		KT_ASSERT(p != NULL);
		size_t elem = zone_of(p)->elem_size;
		kfree(p, size);
		if (elem < size || (size > 16 && elem >= 2 * size) || (size <= 16 && elem != 16))
			KT_FAIL("kalloc(%zu) came from a class of %zu bytes", size, elem);
	}
}
