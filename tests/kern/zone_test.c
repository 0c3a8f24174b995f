/*
 * Zone reservations (kern/zone.c): all or none, taken and given back at
 * once, counted as in use while reserved.  A zone of its own, so that no
 * other user's elements are counted.
 */
#include "kern/ktest.h"
#include "kern/zone.h"
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
