/*
 * The Mach VM calls other than vm_write, and the map underneath: entries,
 * clipping and merging, copy-on-write isolation, zero fill, wiring,
 * vm_region, kernel memory, and no leaks.
 */
#include "tests/kern/vm_user_test.h"
#include "vm/vm_fault.h"
#include "vm/vm_kern.h"

#define A 0x100000ul

static void expect_sane(vm_map_t map)
{
	const char *wrong = vm_map_check_invariants(map);

	if (wrong)
		KT_FAIL("map invariant broken: %s", wrong);
}

KTEST(vm_map, allocate_fixed_and_anywhere)
{
	vm_map_t map = test_map();
	vm_address_t addr = A;

	KT_EXPECT_EQ(vm_allocate(map, &addr, 3 * PAGE_SIZE, VM_FLAGS_FIXED), KERN_SUCCESS);
	KT_EXPECT_EQ(addr, A);
	addr = A + PAGE_SIZE;
	KT_EXPECT_EQ(vm_allocate(map, &addr, PAGE_SIZE, VM_FLAGS_FIXED), KERN_NO_SPACE);
	addr = 12345;
	KT_EXPECT_EQ(vm_allocate(map, &addr, 5, VM_FLAGS_ANYWHERE), KERN_SUCCESS);
	KT_EXPECT_EQ(addr, MAP_MIN);                       /* first fit from the bottom */
	addr = 0;
	KT_EXPECT_EQ(vm_allocate(map, &addr, PAGE_SIZE, VM_FLAGS_FIXED), KERN_INVALID_ADDRESS);
	KT_EXPECT_EQ(vm_allocate(map, &addr, PAGE_SIZE, 0x100), KERN_INVALID_ARGUMENT);
	addr = A;
	KT_EXPECT_EQ(vm_allocate(map, &addr, ~0ul, VM_FLAGS_FIXED), KERN_INVALID_ARGUMENT);
	KT_EXPECT_EQ(vm_allocate(map, &addr, 0, VM_FLAGS_ANYWHERE), KERN_SUCCESS);
	KT_EXPECT_EQ(addr, 0);                             /* nothing allocated: no address, as XNU */
	addr = A + 5 * PAGE_SIZE + 7;
	KT_EXPECT_EQ(vm_allocate(map, &addr, 0, VM_FLAGS_FIXED), KERN_SUCCESS);
	KT_EXPECT_EQ(addr, 0);
	struct vm_region_basic_info_64 info = test_region(map, A);
	KT_EXPECT_EQ(info.protection, VM_PROT_DEFAULT);
	KT_EXPECT_EQ(info.max_protection, VM_PROT_ALL);
	KT_EXPECT_EQ(info.inheritance, VM_INHERIT_DEFAULT);
	KT_EXPECT(test_zero(map, A, 3 * PAGE_SIZE));
	expect_sane(map);
	vm_map_deallocate(map);
}

KTEST(vm_map, deallocate_a_hole_in_the_middle_clips)
{
	vm_map_t map = test_map();
	vm_address_t addr;

	test_alloc_at(map, A, 8 * PAGE_SIZE);
	test_fill(map, A, 8 * PAGE_SIZE, 3);
	KT_EXPECT_EQ(vm_map_entry_count(map), 1);
	KT_EXPECT_EQ(vm_deallocate(map, A + 3 * PAGE_SIZE + 10, PAGE_SIZE), KERN_SUCCESS);
	KT_EXPECT_EQ(vm_map_entry_count(map), 2);          /* pages 3 and 4 are gone */
	KT_EXPECT(test_holds(map, A, 3 * PAGE_SIZE, 3));
	uint8_t b;
	KT_EXPECT_EQ(vm_map_read(map, A + 3 * PAGE_SIZE, &b, 1), KERN_INVALID_ADDRESS);
	KT_EXPECT_EQ(vm_map_read(map, A + 4 * PAGE_SIZE, &b, 1), KERN_INVALID_ADDRESS);
	KT_EXPECT_EQ(vm_fault(map, A + 4 * PAGE_SIZE, VM_PROT_READ), KERN_INVALID_ADDRESS);
	/* the survivors keep their bytes at their offsets */
	uint8_t tail[16];
	KT_ASSERT_EQ(vm_map_read(map, A + 5 * PAGE_SIZE, tail, 16), KERN_SUCCESS);
	KT_EXPECT_EQ(tail[0], test_byte(5 * PAGE_SIZE, 3));
	/* holes and ranges beyond the map are fine to deallocate */
	KT_EXPECT_EQ(vm_deallocate(map, A - 64 * PAGE_SIZE, 200 * PAGE_SIZE), KERN_SUCCESS);
	KT_EXPECT_EQ(vm_map_entry_count(map), 0);
	addr = A;
	KT_EXPECT_EQ(vm_deallocate(map, ~0ul - 5, 100), KERN_INVALID_ARGUMENT);
	KT_EXPECT_EQ(vm_allocate(map, &addr, PAGE_SIZE, VM_FLAGS_FIXED), KERN_SUCCESS);
	KT_EXPECT(test_zero(map, A, PAGE_SIZE));           /* fresh memory, not old pages */
	expect_sane(map);
	vm_map_deallocate(map);
}

KTEST(vm_map, protect_cannot_raise_above_maximum)
{
	vm_map_t map = test_map();

	test_alloc_at(map, A, 4 * PAGE_SIZE);
	KT_EXPECT_EQ(vm_protect(map, A, 2 * PAGE_SIZE, true, VM_PROT_READ), KERN_SUCCESS);
	KT_EXPECT_EQ(test_region(map, A).max_protection, VM_PROT_READ);
	KT_EXPECT_EQ(test_region(map, A).protection, VM_PROT_READ);
	/* raising the current protection above the new maximum fails, all or nothing */
	KT_EXPECT_EQ(vm_protect(map, A, 4 * PAGE_SIZE, false, VM_PROT_DEFAULT),
	             KERN_PROTECTION_FAILURE);
	KT_EXPECT_EQ(test_region(map, A + 3 * PAGE_SIZE).protection, VM_PROT_DEFAULT);
	/* nor can a new maximum go back up: a maximum only ever falls */
	KT_EXPECT_EQ(vm_protect(map, A, PAGE_SIZE, true, VM_PROT_ALL), KERN_PROTECTION_FAILURE);
	KT_EXPECT_EQ(test_region(map, A).max_protection, VM_PROT_READ);
	KT_EXPECT_EQ(vm_protect(map, A + 2 * PAGE_SIZE, PAGE_SIZE, false, VM_PROT_NONE), KERN_SUCCESS);
	KT_EXPECT_EQ(vm_fault(map, A + 2 * PAGE_SIZE, VM_PROT_READ), KERN_PROTECTION_FAILURE);
	KT_EXPECT_EQ(vm_fault(map, A, VM_PROT_WRITE), KERN_PROTECTION_FAILURE);
	KT_EXPECT_EQ(vm_fault(map, A, VM_PROT_READ), KERN_SUCCESS);
	KT_EXPECT_EQ(vm_protect(map, A + 10 * PAGE_SIZE, PAGE_SIZE, false, VM_PROT_READ),
	             KERN_INVALID_ADDRESS);
	KT_EXPECT_EQ(vm_protect(map, A, PAGE_SIZE, false, 0x10), KERN_INVALID_ARGUMENT);
	expect_sane(map);
	vm_map_deallocate(map);
}

KTEST(vm_map, protect_lowers_existing_mappings_at_once)
{
	vm_map_t map = test_map();

	test_alloc_at(map, A, PAGE_SIZE);
	KT_ASSERT_EQ(vm_fault(map, A, VM_PROT_WRITE), KERN_SUCCESS);
	KT_EXPECT_EQ(pmap_access(map->pmap, A), VM_PROT_READ | VM_PROT_WRITE);
	KT_EXPECT_EQ(vm_protect(map, A, PAGE_SIZE, false, VM_PROT_READ), KERN_SUCCESS);
	KT_EXPECT_EQ(pmap_access(map->pmap, A), VM_PROT_READ);
	KT_EXPECT_EQ(vm_protect(map, A, PAGE_SIZE, false, VM_PROT_READ | VM_PROT_EXECUTE),
	             KERN_SUCCESS);
	KT_ASSERT_EQ(vm_fault(map, A, VM_PROT_EXECUTE), KERN_SUCCESS);
	KT_EXPECT_EQ(pmap_access(map->pmap, A), VM_PROT_READ | VM_PROT_EXECUTE);
	vm_map_deallocate(map);
}

KTEST(vm_map, inherit_sets_and_checks_values)
{
	vm_map_t map = test_map();

	test_alloc_at(map, A, 2 * PAGE_SIZE);
	KT_EXPECT_EQ(vm_inherit(map, A, PAGE_SIZE, VM_INHERIT_SHARE), KERN_SUCCESS);
	KT_EXPECT_EQ(test_region(map, A).inheritance, VM_INHERIT_SHARE);
	KT_EXPECT_EQ(test_region(map, A + PAGE_SIZE).inheritance, VM_INHERIT_COPY);
	KT_EXPECT_EQ(vm_inherit(map, A, PAGE_SIZE, 7), KERN_INVALID_ARGUMENT);
	KT_EXPECT_EQ(vm_inherit(map, A - PAGE_SIZE, 4 * PAGE_SIZE, VM_INHERIT_NONE), KERN_SUCCESS);
	KT_EXPECT_EQ(test_region(map, A).inheritance, VM_INHERIT_NONE);
	vm_map_deallocate(map);
}

KTEST(vm_map, copy_is_copy_on_write_and_isolated)
{
	vm_map_t map = test_map();

	test_alloc_at(map, A, 8 * PAGE_SIZE);
	test_fill(map, A, 4 * PAGE_SIZE, 0x61);
	KT_EXPECT_EQ(vm_copy(map, A, 4 * PAGE_SIZE, A + 4 * PAGE_SIZE), KERN_SUCCESS);
	KT_EXPECT(test_holds(map, A + 4 * PAGE_SIZE, 4 * PAGE_SIZE, 0x61));
	test_fill(map, A, PAGE_SIZE, 0x62);                /* write the source ... */
	KT_EXPECT(test_holds(map, A + 4 * PAGE_SIZE, PAGE_SIZE, 0x61));   /* ... the copy keeps */
	test_fill(map, A + 5 * PAGE_SIZE, PAGE_SIZE, 0x63);    /* and the other way round */
	uint8_t b;
	KT_ASSERT_EQ(vm_map_read(map, A + PAGE_SIZE, &b, 1), KERN_SUCCESS);
	KT_EXPECT_EQ(b, test_byte(PAGE_SIZE, 0x61));
	KT_EXPECT_EQ(vm_copy(map, A, PAGE_SIZE, A + 20 * PAGE_SIZE), KERN_INVALID_ADDRESS);
	KT_EXPECT_EQ(vm_copy(map, A + 20 * PAGE_SIZE, PAGE_SIZE, A), KERN_INVALID_ADDRESS);
	expect_sane(map);
	vm_map_deallocate(map);
}

KTEST(vm_map, fork_follows_inheritance)
{
	vm_map_t parent = test_map();

	test_alloc_at(parent, A, 3 * PAGE_SIZE);
	test_fill(parent, A, 3 * PAGE_SIZE, 0x70);
	vm_inherit(parent, A, PAGE_SIZE, VM_INHERIT_SHARE);
	vm_inherit(parent, A + 2 * PAGE_SIZE, PAGE_SIZE, VM_INHERIT_NONE);
	vm_map_t child = vm_map_fork(parent, pmap_create());
	KT_ASSERT(child != NULL);
	test_fill(child, A, PAGE_SIZE, 0x71);              /* shared: the parent sees it */
	KT_EXPECT(test_holds(parent, A, PAGE_SIZE, 0x71));
	test_fill(child, A + PAGE_SIZE, PAGE_SIZE, 0x72);  /* copied: the parent does not */
	uint8_t b;
	KT_ASSERT_EQ(vm_map_read(parent, A + PAGE_SIZE, &b, 1), KERN_SUCCESS);
	KT_EXPECT_EQ(b, test_byte(PAGE_SIZE, 0x70));
	KT_EXPECT_EQ(vm_map_read(child, A + 2 * PAGE_SIZE, &b, 1), KERN_INVALID_ADDRESS);  /* none */
	KT_EXPECT(test_region(child, A).shared);
	expect_sane(parent);
	expect_sane(child);
	vm_map_deallocate(child);
	vm_map_deallocate(parent);
}

KTEST(vm_map, zero_fill_on_first_touch)
{
	vm_map_t map = test_map();
	struct vm_page_stats before, after;

	test_alloc_at(map, A, 16 * PAGE_SIZE);
	vm_page_get_stats(&before);
	KT_EXPECT_EQ(vm_fault(map, A + 5 * PAGE_SIZE, VM_PROT_WRITE), KERN_SUCCESS);
	vm_page_get_stats(&after);
	KT_EXPECT_EQ(after.count[VM_PAGE_OBJECT], before.count[VM_PAGE_OBJECT] + 1);   /* one page, lazily */
	KT_EXPECT(test_zero(map, A, 16 * PAGE_SIZE));
	vm_map_deallocate(map);
}

KTEST(vm_map, wired_pages_stay_resident_and_mapped)
{
	vm_map_t map = test_map();
	paddr_t pa;

	test_alloc_at(map, A, 4 * PAGE_SIZE);
	KT_EXPECT_EQ(vm_wire(map, A, 4 * PAGE_SIZE, VM_PROT_READ | VM_PROT_WRITE), KERN_SUCCESS);
	for (int i = 0; i < 4; i++) {
		KT_EXPECT(pmap_extract(map->pmap, A + i * PAGE_SIZE, &pa));
		KT_EXPECT_EQ(vm_page_from_phys(pa)->wire_count, 1);
	}
	KT_EXPECT_EQ(test_region(map, A).user_wired_count, 1);
	KT_EXPECT_EQ(vm_wire(map, A, 4 * PAGE_SIZE, VM_PROT_NONE), KERN_SUCCESS);
	KT_EXPECT_EQ(vm_page_from_phys(pa)->wire_count, 0);
	KT_EXPECT_EQ(vm_wire(map, A + 8 * PAGE_SIZE, PAGE_SIZE, VM_PROT_READ), KERN_INVALID_ADDRESS);
	vm_protect(map, A, PAGE_SIZE, false, VM_PROT_READ);
	KT_EXPECT_EQ(vm_wire(map, A, PAGE_SIZE, VM_PROT_WRITE), KERN_PROTECTION_FAILURE);
	vm_map_deallocate(map);
}

/*
 * A wire that runs out of memory partway, past entries it has already
 * faulted in, leaves the map as it was: no entry wired or split, no page
 * wired, and no page it faulted in kept.
 */
KTEST(vm_map, wire_that_runs_out_of_memory_changes_nothing)
{
	vm_map_t map = test_map();
	struct vm_page_stats before, after;
	paddr_t pa;

	test_alloc_at(map, A, 40 * PAGE_SIZE);
	test_fill(map, A, 2 * PAGE_SIZE, 7);
	vm_protect(map, A + 4 * PAGE_SIZE, 4 * PAGE_SIZE, false, VM_PROT_ALL);  /* three entries */
	uint32_t entries = vm_map_entry_count(map);
	vm_page_get_stats(&before);
	vm_page_set_reserve_floor(vm_page_free_count() - 12);   /* runs out in the third entry */
	kern_return_t kr = vm_wire(map, A + PAGE_SIZE, 38 * PAGE_SIZE, VM_PROT_READ);
	vm_page_set_reserve_floor(0);
	vm_page_get_stats(&after);
	KT_EXPECT_EQ(kr, KERN_RESOURCE_SHORTAGE);
	KT_EXPECT_EQ(vm_map_entry_count(map), entries);
	KT_EXPECT_EQ(test_region(map, A).user_wired_count, 0);
	KT_EXPECT_EQ(test_region(map, A + 4 * PAGE_SIZE).user_wired_count, 0);
	KT_ASSERT(pmap_extract(map->pmap, A, &pa));
	KT_EXPECT_EQ(vm_page_from_phys(pa)->wire_count, 0);
	KT_EXPECT(after.count[VM_PAGE_OBJECT] <= before.count[VM_PAGE_OBJECT]);
	KT_EXPECT(test_holds(map, A, 2 * PAGE_SIZE, 7));
	KT_EXPECT_EQ(vm_wire(map, A + PAGE_SIZE, 38 * PAGE_SIZE, VM_PROT_READ), KERN_SUCCESS);
	KT_EXPECT_EQ(test_region(map, A + 4 * PAGE_SIZE).user_wired_count, 1);
	expect_sane(map);
	vm_map_deallocate(map);
}

/* Unwiring finds the wired pages through the entry's object, even unmapped. */
KTEST(vm_map, unwire_counts_pages_the_pmap_no_longer_maps)
{
	vm_map_t map = test_map();
	paddr_t pa;

	test_alloc_at(map, A, 2 * PAGE_SIZE);
	KT_ASSERT_EQ(vm_wire(map, A, 2 * PAGE_SIZE, VM_PROT_READ), KERN_SUCCESS);
	KT_ASSERT(pmap_extract(map->pmap, A, &pa));
	vm_protect(map, A, 2 * PAGE_SIZE, false, VM_PROT_NONE);   /* unmaps them */
	KT_EXPECT_EQ(vm_wire(map, A, 2 * PAGE_SIZE, VM_PROT_NONE), KERN_SUCCESS);
	KT_EXPECT_EQ(vm_page_from_phys(pa)->wire_count, 0);
	vm_map_deallocate(map);
}

/*
 * Wiring a page shared copy-on-write, even to read, gives the entry its
 * own copy first: the first write must find the wired page, not copy it
 * up to another one, and the map it was shared with keeps its own.
 */
KTEST(vm_map, wiring_to_read_resolves_copy_on_write_first)
{
	vm_map_t parent = test_map();
	paddr_t wired, after, theirs;

	test_alloc_at(parent, A, 2 * PAGE_SIZE);
	test_fill(parent, A, 2 * PAGE_SIZE, 0x40);
	vm_map_t child = vm_map_fork(parent, pmap_create());
	KT_ASSERT(child != NULL);
	KT_ASSERT_EQ(vm_wire(child, A, 2 * PAGE_SIZE, VM_PROT_READ), KERN_SUCCESS);
	KT_ASSERT(pmap_extract(child->pmap, A, &wired));
	KT_EXPECT_EQ(vm_page_from_phys(wired)->wire_count, 1);
	test_fill(child, A, PAGE_SIZE, 0x41);              /* the first write */
	KT_ASSERT(pmap_extract(child->pmap, A, &after));
	KT_EXPECT_EQ(after, wired);
	KT_EXPECT(test_holds(child, A, PAGE_SIZE, 0x41));
	KT_ASSERT_EQ(vm_fault(parent, A, VM_PROT_READ), KERN_SUCCESS);
	KT_ASSERT(pmap_extract(parent->pmap, A, &theirs));
	KT_EXPECT(theirs != wired);
	KT_EXPECT(test_holds(parent, A, 2 * PAGE_SIZE, 0x40));
	KT_EXPECT_EQ(vm_wire(child, A, 2 * PAGE_SIZE, VM_PROT_NONE), KERN_SUCCESS);
	expect_sane(parent);
	expect_sane(child);
	vm_map_deallocate(child);
	vm_map_deallocate(parent);
}

/* A small read is a kernel buffer and lands page-aligned, as XNU's; a larger one keeps its offset. */
KTEST(vm_map, read_data_lands_aligned_when_small)
{
	vm_map_t map = test_map(), dst = test_map();
	vm_size_t sizes[] = { 1, 5000, 2 * PAGE_SIZE - 1, 2 * PAGE_SIZE, 3 * PAGE_SIZE };

	test_alloc_at(map, A, 5 * PAGE_SIZE);
	test_fill(map, A, 5 * PAGE_SIZE, 0x50);
	for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		vm_map_copy_t copy;
		vm_address_t at = 0;
		KT_ASSERT_EQ(vm_read(map, A + 100, sizes[i], &copy), KERN_SUCCESS);
		KT_ASSERT_EQ(vm_map_copyout(dst, &at, copy), KERN_SUCCESS);
		KT_EXPECT_EQ(at & PAGE_MASK, sizes[i] < 2 * PAGE_SIZE ? 0 : 100);
		uint8_t first, last;
		KT_ASSERT_EQ(vm_map_read(dst, at, &first, 1), KERN_SUCCESS);
		KT_ASSERT_EQ(vm_map_read(dst, at + sizes[i] - 1, &last, 1), KERN_SUCCESS);
		KT_EXPECT_EQ(first, test_byte(100, 0x50));
		KT_EXPECT_EQ(last, test_byte(100 + sizes[i] - 1, 0x50));
		KT_EXPECT_EQ(vm_deallocate(dst, at, sizes[i]), KERN_SUCCESS);
	}
	vm_map_deallocate(dst);
	vm_map_deallocate(map);
}

KTEST(vm_map, region_walks_entries)
{
	vm_map_t map = test_map();
	struct vm_region_basic_info_64 info;
	mach_msg_type_number_t count = VM_REGION_BASIC_INFO_COUNT_64;
	vm_address_t addr = 0;
	vm_size_t size;

	test_alloc_at(map, A, 2 * PAGE_SIZE);
	test_alloc_at(map, A + 4 * PAGE_SIZE, PAGE_SIZE);
	vm_protect(map, A + 4 * PAGE_SIZE, PAGE_SIZE, false, VM_PROT_READ);
	KT_EXPECT_EQ(vm_region(map, &addr, &size, VM_REGION_BASIC_INFO_64, (vm_region_info_t)&info,
	                       &count), KERN_SUCCESS);
	KT_EXPECT_EQ(addr, A);
	KT_EXPECT_EQ(size, 2 * PAGE_SIZE);
	KT_EXPECT_EQ(count, VM_REGION_BASIC_INFO_COUNT_64);
	addr = A + 2 * PAGE_SIZE;                          /* in a hole: the next region */
	KT_EXPECT_EQ(vm_region(map, &addr, &size, VM_REGION_BASIC_INFO_64, (vm_region_info_t)&info,
	                       &count), KERN_SUCCESS);
	KT_EXPECT_EQ(addr, A + 4 * PAGE_SIZE);
	KT_EXPECT_EQ(info.protection, VM_PROT_READ);
	addr = A + 5 * PAGE_SIZE;
	KT_EXPECT_EQ(vm_region(map, &addr, &size, VM_REGION_BASIC_INFO_64, (vm_region_info_t)&info,
	                       &count), KERN_INVALID_ADDRESS);
	count = 3;
	KT_EXPECT_EQ(vm_region(map, &addr, &size, VM_REGION_BASIC_INFO_64, (vm_region_info_t)&info,
	                       &count), KERN_INVALID_ARGUMENT);
	vm_map_deallocate(map);
}

KTEST(vm_map, many_entries_stay_ordered_and_searchable)
{
	vm_map_t map = test_map();
	uint64_t x = ktest_seed() | 1;

	/* 10,000 single-page entries that cannot merge (alternating rights) */
	for (unsigned i = 0; i < 10000; i++) {
		vm_address_t addr = A + 2ul * i * PAGE_SIZE;
		KT_ASSERT_EQ(vm_allocate(map, &addr, PAGE_SIZE, VM_FLAGS_FIXED), KERN_SUCCESS);
		if (i & 1)
			vm_protect(map, addr, PAGE_SIZE, false, VM_PROT_READ);
	}
	KT_EXPECT_EQ(vm_map_entry_count(map), 10000);
	KT_EXPECT(map->index.height >= 2);                /* more than one page-sized leaf */
	KT_EXPECT(map->index.nodes * VM_MAP_NODE_SLOTS <= 2 * 10000);   /* appends packed them */
	expect_sane(map);
	for (int i = 0; i < 1000; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		unsigned k = x % 20000;
		bool mapped = (k & 1) == 0;
		KT_EXPECT_EQ(vm_fault(map, A + k * PAGE_SIZE, VM_PROT_READ),
		             mapped ? KERN_SUCCESS : KERN_INVALID_ADDRESS);
	}
	/* the holes are one page: a two-page request must go past the end */
	vm_address_t addr = 0;
	KT_EXPECT_EQ(vm_allocate(map, &addr, 2 * PAGE_SIZE, VM_FLAGS_ANYWHERE), KERN_SUCCESS);
	KT_EXPECT(addr == MAP_MIN || addr == A + 20000 * PAGE_SIZE);
	addr = 0;
	KT_EXPECT_EQ(vm_allocate(map, &addr, PAGE_SIZE, VM_FLAGS_ANYWHERE), KERN_SUCCESS);
	expect_sane(map);
	vm_map_deallocate(map);
}

KTEST(vm_map, kernel_memory_is_wired_and_zeroed)
{
	vm_offset_t k = kmem_alloc(3 * PAGE_SIZE + 5);

	KT_ASSERT(k != 0);
	KT_EXPECT_EQ(pmap_access(kernel_pmap, k), VM_PROT_READ | VM_PROT_WRITE);
	bool zero = true;
	for (size_t i = 0; i < 4 * PAGE_SIZE; i++)
		zero &= ((volatile uint8_t *)k)[i] == 0;
	KT_EXPECT(zero);
	((volatile uint8_t *)k)[4 * PAGE_SIZE - 1] = 1;     /* writable to the last byte */
	kmem_free(k, 3 * PAGE_SIZE + 5);
	KT_EXPECT_PAGE_FAULT(test_read, k, 0);
}

/* kmem_alloc allocates and wires in one step: when the wiring fails, nothing stays. */
KTEST(vm_map, kernel_memory_out_of_memory_leaves_kernel_map_as_it_was)
{
	uint32_t entries = vm_map_entry_count(kernel_map);
	vm_size_t size = kernel_map->size;

	vm_page_set_reserve_floor(vm_page_free_count() - 4);
	vm_offset_t k = kmem_alloc(16 * PAGE_SIZE);
	vm_page_set_reserve_floor(0);
	KT_EXPECT_EQ(k, 0);
	KT_EXPECT_EQ(vm_map_entry_count(kernel_map), entries);
	KT_EXPECT_EQ(kernel_map->size, size);
	if (k)
		kmem_free(k, 16 * PAGE_SIZE);
}

KTEST(vm_map, out_of_memory_fails_cleanly)
{
	vm_map_t map = test_map();

	test_alloc_at(map, A, 4 * PAGE_SIZE);
	vm_page_set_reserve_floor(vm_page_free_count());
	kern_return_t kr = vm_fault(map, A, VM_PROT_WRITE);
	vm_page_set_reserve_floor(0);
	KT_EXPECT_EQ(kr, KERN_RESOURCE_SHORTAGE);
	KT_EXPECT_EQ(pmap_access(map->pmap, A), VM_PROT_NONE);
	KT_EXPECT_EQ(vm_fault(map, A, VM_PROT_WRITE), KERN_SUCCESS);
	vm_map_deallocate(map);
}

/* A fork that cannot have one index node gives up, and releases nothing it did not reserve. */
KTEST(vm_map, fork_without_an_index_node_fails_cleanly)
{
	vm_map_t parent = test_map();
	pmap_t child_pmap = pmap_create();

	KT_ASSERT(child_pmap != NULL);
	test_alloc_at(parent, A, PAGE_SIZE);
	zone_drain();                          /* index nodes take a frame each: none is left free */
	vm_page_set_reserve_floor(vm_page_free_count());
	vm_map_t child = vm_map_fork(parent, child_pmap);
	vm_page_set_reserve_floor(0);
	KT_EXPECT(child == NULL);
	pmap_destroy(child_pmap);              /* a failed fork leaves the pmap the caller's */
	vm_map_deallocate(parent);
}

KTEST(vm_map, teardown_returns_every_frame)
{
	struct leak_counts before;

	for (int round = 0; round < 2; round++) {      /* the first round grows the zones */
		before = test_leak_counts();
		vm_map_t parent = test_map();
		test_alloc_at(parent, A, 16 * PAGE_SIZE);
		test_fill(parent, A, 16 * PAGE_SIZE, 5);
		vm_inherit(parent, A, 4 * PAGE_SIZE, VM_INHERIT_SHARE);
		vm_map_t child = vm_map_fork(parent, pmap_create());
		KT_ASSERT(child != NULL);
		test_fill(child, A + 2 * PAGE_SIZE, 8 * PAGE_SIZE, 6);
		vm_copy(parent, A, 8 * PAGE_SIZE, A + 8 * PAGE_SIZE);
		vm_deallocate(parent, A + 3 * PAGE_SIZE, 2 * PAGE_SIZE);
		vm_map_deallocate(parent);
		vm_map_deallocate(child);
	}
	KT_EXPECT_NO_LEAK(before);
}

/* How many objects deep the shadow chain behind addr goes. */
static unsigned chain_length(vm_map_t map, vm_address_t addr)
{
	unsigned n = 0;

	vm_map_lock_unint(map);
	struct vm_map_entry *e = vm_map_lookup_entry(map, addr);
	for (struct vm_object *o = e ? e->object : NULL; o; o = o->shadow)
		n++;
	vm_map_unlock(map);
	return n;
}

KTEST(vm_map, shadow_chains_collapse)
{
	vm_map_t map = test_map();
	uint64_t objects_before = vm_object_count();

	test_alloc_at(map, A, PAGE_SIZE);
	test_alloc_at(map, A + 4 * PAGE_SIZE, PAGE_SIZE);
	test_fill(map, A, PAGE_SIZE, 1);
	for (int i = 0; i < 20; i++) {
		/* a copy-on-write copy, a write that shadows, and the copy goes away */
		KT_ASSERT_EQ(vm_copy(map, A, PAGE_SIZE, A + 4 * PAGE_SIZE), KERN_SUCCESS);
		test_fill(map, A, 100, (uint8_t)(2 + i));
		KT_ASSERT_EQ(vm_deallocate(map, A + 4 * PAGE_SIZE, PAGE_SIZE), KERN_SUCCESS);
		test_alloc_at(map, A + 4 * PAGE_SIZE, PAGE_SIZE);
	}
	KT_EXPECT_EQ(vm_fault(map, A, VM_PROT_WRITE), KERN_SUCCESS);
	KT_EXPECT(chain_length(map, A) <= 2);              /* not 20 deep */
	KT_EXPECT(test_holds(map, A, 100, 21));
	KT_EXPECT(vm_object_count() - objects_before <= 2);
	vm_map_deallocate(map);
	KT_EXPECT_EQ(vm_object_count(), objects_before);
}
