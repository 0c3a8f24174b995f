/*
 * Running out of frames, then letting go: a map takes frames for data,
 * page tables and zone elements, across many entries, until vm_page
 * refuses; once the entries are gone every frame is back, in the blocks
 * it was in before, and the zones hold no more than their reserve.
 */
#include "tests/kern/vm_user_test.h"
#include "ipc/ipc_space.h"
#include "vm/vm_fault.h"

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
	/* what the zones hold beyond before, once the CPUs' caches are back, is their reserve */
	zone_flush_caches();
	after = frame_counts();
	KT_EXPECT_EQ(after.free + after.zones.frames, before.free + before.zones.frames);
	KT_EXPECT(after.zones.frames <= before.zones.frames + after.zones.empty_frames);
	zone_drain();
	after = frame_counts();
	KT_EXPECT_EQ(after.free, before.free);
	KT_EXPECT_EQ(after.largest, before.largest);
	KT_EXPECT_EQ(after.largest_blocks, before.largest_blocks);
}

#define NAMES_PAST_THE_OLD_LIMIT 70000  /* a table that had to double in one block stopped at 65,535 */
#define MACH_PORT_INDEX(name) ((name) >> 8)   /* a name is its index, then 8 bits of generation */

/* Receive rights made in space until one is refused (or max are made); how many were. */
static unsigned allocate_ports(struct ipc_space *space, unsigned max, kern_return_t *kr,
                               mach_port_name_t *highest)
{
	unsigned n = 0;
	mach_port_name_t name = MACH_PORT_NULL;

	*highest = MACH_PORT_NULL;
	while (n < max &&
	       (*kr = mach_port_allocate(space, MACH_PORT_RIGHT_RECEIVE, &name)) == KERN_SUCCESS) {
		n++;
		if (MACH_PORT_INDEX(name) > MACH_PORT_INDEX(*highest))
			*highest = name;
	}
	return n;
}

/*
 * Ports and names until frames run out, then letting go: every frame
 * comes back in its block, and a space can again name more ports than a
 * table doubling in one contiguous block ever could.
 */
KTEST(vm_exhaustion, names_and_ports_come_back)
{
	kern_return_t kr = KERN_SUCCESS;
	mach_port_name_t highest;

	zone_drain();
	struct frame_counts before = frame_counts();
	struct ipc_space *space = ipc_space_create();
	KT_ASSERT(space != NULL);
	vm_page_set_reserve_floor(before.free - BUDGET);
	unsigned made = allocate_ports(space, ~0u, &kr, &highest);
	vm_page_set_reserve_floor(0);
	KT_EXPECT_EQ(kr, KERN_RESOURCE_SHORTAGE);
	KT_EXPECT(made > 1000);
	ipc_space_destroy(space);
	zone_drain();
	struct frame_counts after = frame_counts();
	KT_EXPECT_EQ(after.free, before.free);
	KT_EXPECT_EQ(after.largest, before.largest);
	KT_EXPECT_EQ(after.largest_blocks, before.largest_blocks);

	space = ipc_space_create();
	KT_ASSERT(space != NULL);
	KT_EXPECT_EQ(allocate_ports(space, NAMES_PAST_THE_OLD_LIMIT, &kr, &highest),
	             NAMES_PAST_THE_OLD_LIMIT);
	KT_EXPECT(MACH_PORT_INDEX(highest) >= NAMES_PAST_THE_OLD_LIMIT);
	ipc_space_destroy(space);
	zone_drain();
	KT_EXPECT_EQ(frame_counts().free, before.free);
}
