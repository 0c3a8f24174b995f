/*
 * Running out of frames, then letting go: a map takes frames for data,
 * page tables and zone elements, across many entries, until vm_page
 * refuses; once the entries are gone every frame is back, in the blocks
 * it was in before, and the zones hold no more than their reserve.
 */
#include "tests/kern/vm_user_test.h"

#define BUDGET 3000                    /* frames the test may take: a floor stands for the rest */
#define ENTRY_PAGES 2
/* an entry a GiB and a page table apart from the last: each takes a directory and a page table */
#define STRIDE ((1ul << 30) + (2ul << 20))

struct frame_counts {
	uint64_t free, largest, largest_blocks, tables;
	struct zone_totals zones;
};

static struct frame_counts frame_counts(void)
{
	struct frame_counts c;
	struct vm_page_stats s;

	vm_page_get_stats(&s);
	c.free = s.count[VM_PAGE_FREE];
	c.tables = s.count[VM_PAGE_PAGETABLE];
	c.largest = vm_page_largest_free_block(&c.largest_blocks);
	zone_get_totals(&c.zones);
	return c;
}

static vm_address_t entry_at(unsigned i)
{
	return MAP_MIN + i * STRIDE;
}

/*
 * Makes and touches entries until memory runs out; returns how many it
 * began (the last may be half made), with the refusal in *kr.
 */
static unsigned exhaust(vm_map_t map, kern_return_t *kr)
{
	unsigned n = 0;

	do {
		vm_address_t addr = entry_at(n++);
		*kr = vm_allocate(map, &addr, ENTRY_PAGES * PAGE_SIZE, VM_FLAGS_FIXED);
		for (unsigned i = 0; *kr == KERN_SUCCESS && i < ENTRY_PAGES; i++)
			*kr = vm_fault(map, addr + i * PAGE_SIZE, VM_PROT_WRITE);
	} while (*kr == KERN_SUCCESS && n < BUDGET);   /* an entry takes more than a frame */
	return n;
}

KTEST(vm_exhaustion, every_frame_comes_back_in_its_block)
{
	kern_return_t kr;

	zone_drain();                          /* count from zones with no empty frame */
	struct frame_counts before = frame_counts();
	vm_map_t map = test_map();
	uint64_t top_table = frame_counts().tables;
	vm_page_set_reserve_floor(before.free - BUDGET);
	unsigned entries = exhaust(map, &kr);
	vm_page_set_reserve_floor(0);
	KT_EXPECT_EQ(kr, KERN_RESOURCE_SHORTAGE);
	KT_EXPECT(entries > 100);
	for (unsigned i = 0; i < entries; i++)
		vm_deallocate(map, entry_at(i), ENTRY_PAGES * PAGE_SIZE);
	KT_EXPECT_EQ(frame_counts().tables, top_table);   /* the map's own top table only */
	vm_map_deallocate(map);

	struct frame_counts after = frame_counts();
	KT_EXPECT_EQ(after.free + after.zones.frames, before.free + before.zones.frames);
	/* what the zones hold beyond before is empty frames, their reserve */
	KT_EXPECT(after.zones.frames <= before.zones.frames + after.zones.empty_frames);
	zone_drain();
	after = frame_counts();
	KT_EXPECT_EQ(after.free, before.free);
	KT_EXPECT_EQ(after.largest, before.largest);
	KT_EXPECT_EQ(after.largest_blocks, before.largest_blocks);
}
