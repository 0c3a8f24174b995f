/*
 * Zones (kern/zone.c): reservations all or none, taken and given back at
 * once, counted as in use while reserved; frames given back once empty,
 * but for a small reserve; each CPU's cache, which serves what that CPU
 * freed without the zone, is not in use, and gives everything back to
 * zone_drain: in a zone of its own, so that no other user's elements are
 * counted.  And kalloc's size classes: each size from the smallest class
 * that holds it.
 */
#include "tests/harness/ktest.h"
#include "kern/kalloc.h"
#include "kern/machine.h"
#include "kern/sched.h"
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
	uint64_t in_use = zone_in_use(z);

	KT_ASSERT(zone_reserve(z, &r, 20));
	KT_EXPECT_EQ(r.count, 20);
	KT_EXPECT_EQ(zone_in_use(z), in_use + 20);
	for (int i = 0; i < 3; i++) {
		taken[i] = zone_reserve_take(&r);
		KT_ASSERT(taken[i] != NULL);
	}
	KT_EXPECT(taken[0] != taken[1] && taken[1] != taken[2] && taken[0] != taken[2]);
	KT_EXPECT_EQ(r.count, 17);
	zone_reserve_release(&r);
	KT_EXPECT_EQ(r.count, 0);
	KT_EXPECT(zone_reserve_take(&r) == NULL);
	KT_EXPECT_EQ(zone_in_use(z), in_use + 3);     /* the three taken stay the caller's */
	for (int i = 0; i < 3; i++)
		zfree(z, taken[i]);
	KT_EXPECT_EQ(zone_in_use(z), in_use);
	KT_EXPECT(zone_reserve(z, &r, 0));
	KT_EXPECT(zone_reserve_take(&r) == NULL);
}

KTEST(zone, reserve_is_all_or_none_when_memory_is_short)
{
	struct zone *z = the_zone();
	struct zone_reserve r;

	KT_ASSERT(zone_reserve(z, &r, 20));     /* the zone holds frames for at least 20 */
	zone_reserve_release(&r);
	uint64_t in_use = zone_in_use(z), free = z->pages * (PAGE_SIZE / ELEM) - in_use;
	vm_page_set_reserve_floor(vm_page_free_count());   /* no frame for a new slab */
	bool too_many = zone_reserve(z, &r, (unsigned)free + 1);
	unsigned left = r.count;
	bool all = zone_reserve(z, &r, (unsigned)free);
	vm_page_set_reserve_floor(0);
	KT_EXPECT(!too_many);
	KT_EXPECT_EQ(left, 0);
	KT_EXPECT(all);
	KT_EXPECT_EQ(zone_in_use(z), in_use + free);
	zone_reserve_release(&r);
	KT_EXPECT_EQ(zone_in_use(z), in_use);
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

	zone_flush_caches();                   /* so that the flush below frees no other zone's frame */
	uint64_t held = vm_page_free_count() + z->pages;

	KT_ASSERT_EQ(zone_in_use(z), 0);
	for (int i = 0; i < FRAMES * PER_FRAME; i++) {
		elems[i] = zalloc(z);
		KT_ASSERT(elems[i] != NULL);
	}
	KT_EXPECT(z->pages >= FRAMES);
	for (int i = 0; i < FRAMES * PER_FRAME; i++)
		zfree(z, elems[i]);
	KT_EXPECT_EQ(zone_in_use(z), 0);
	zone_flush_caches();                   /* the elements the CPUs keep back to their frames */
	KT_EXPECT(z->pages <= ZONE_EMPTY_RESERVE);
	KT_EXPECT_EQ(vm_page_free_count() + z->pages, held);
}

/* Freeing and allocating one element at a frame's edge takes no frame from vm_page each time. */
KTEST(zone, the_reserve_stops_a_frame_edge_from_thrashing)
{
	enum { PER_FRAME = PAGE_SIZE / ELEM };
	struct zone *z = the_zone();
	void *full[PER_FRAME];

	KT_ASSERT_EQ(zone_in_use(z), 0);
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

/* The frame of the zone element p. */
static struct vm_page *frame_of(const void *p)
{
	return vm_page_from_phys(pmap_direct_to_phys(p));
}

/* The zone element p came from: its frame's. */
static struct zone *zone_of(const void *p)
{
	return frame_of(p)->zone;
}

/*
 * What a CPU frees is what it allocates next, and neither call reaches
 * the zone: the element's frame still counts it off, and the CPU's cache
 * took no batch from the frames.  Yet it is not in use meanwhile.
 */
KTEST(zone, a_cpu_takes_back_what_it_freed_without_the_zone)
{
	struct zone *z = the_zone();

	zone_drain();                          /* this CPU's cache starts empty */
	sched_bind(0);
	void *e = zalloc(z);                   /* a batch into the cache, one of it out */
	uint64_t in_use = zone_in_use(z), refills = z->refills;
	uint16_t used = e ? frame_of(e)->zone_used : 0;
	if (e)
		zfree(z, e);
	uint64_t in_use_freed = zone_in_use(z);
	uint16_t used_freed = e ? frame_of(e)->zone_used : 0;
	void *again = zalloc(z);
	sched_bind(SCHED_ANY_CPU);
	KT_ASSERT(e != NULL);
	KT_EXPECT(again == e);
	KT_EXPECT_EQ(used_freed, used);        /* the frame never saw it back */
	KT_EXPECT_EQ(z->refills, refills);
	KT_EXPECT_EQ(in_use_freed, in_use - 1);
	if (again)
		zfree(z, again);
}

/*
 * Elements freed on two CPUs sit in two caches, in use by no one; and
 * zone_drain takes them back from both, so every frame goes back.
 */
KTEST(zone, drain_takes_back_what_two_cpus_cached)
{
	enum { N = 3 * PAGE_SIZE / ELEM };
	struct zone *z = the_zone();
	void *elems[N];
	unsigned got = 0;

	if (machine_cpu_count() < 2)
		KT_SKIP("one CPU");
	KT_ASSERT_EQ(zone_in_use(z), 0);
	zone_drain();
	uint64_t held = vm_page_free_count();
	sched_bind(0);
	while (got < N && (elems[got] = zalloc(z)) != NULL)
		got++;
	sched_bind(1);
	for (unsigned i = 0; i < got / 2; i++)
		zfree(z, elems[i]);
	unsigned on_1 = z->cache[1].count;
	sched_bind(0);
	for (unsigned i = got / 2; i < got; i++)
		zfree(z, elems[i]);
	unsigned on_0 = z->cache[0].count;
	sched_bind(SCHED_ANY_CPU);
	KT_EXPECT_EQ(got, N);
	KT_EXPECT(on_0 > 0 && on_1 > 0);
	KT_EXPECT_EQ(zone_in_use(z), 0);
	zone_drain();
	KT_EXPECT_EQ(z->pages, 0);
	KT_EXPECT_EQ(z->cache[0].count + z->cache[1].count, 0);
	KT_EXPECT_EQ(vm_page_free_count(), held);
}

/* What kalloc's classes cache on another CPU is not in use: host_vm_stats' counts stay exact. */
KTEST(zone, kalloc_elements_another_cpu_caches_are_not_in_use)
{
	enum { SIZE = 100 };
	uint64_t before[8], after[8], large_before, large_after;

	if (machine_cpu_count() < 2)
		KT_SKIP("one CPU");
	kalloc_zone_in_use(before, 8, &large_before);
	sched_bind(1);
	void *p = kalloc(SIZE);
	if (p)
		kfree(p, SIZE);
	unsigned cached = p ? zone_of(p)->cache[1].count : 0;
	sched_bind(0);
	kalloc_zone_in_use(after, 8, &large_after);
	sched_bind(SCHED_ANY_CPU);
	KT_ASSERT(p != NULL);
	KT_EXPECT(cached > 0);
	for (int i = 0; i < 8; i++)
		KT_EXPECT_EQ(after[i], before[i]);
	KT_EXPECT_EQ(large_after, large_before);
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
