/*
 * vm_write's contract (docs/vm_write.md), row by row: the exact code, the
 * target's bytes read back through its map, its entries (vm_region), and
 * the page-table bits after the target itself writes.
 */
#include "tests/kern/vm_user_test.h"
#include "vm/vm_fault.h"

#define A 0x100000ul                  /* a scratch address in every test map */

/* A copy of len bytes of test pattern seed from a kernel buffer (the copy path). */
static vm_map_copy_t buffer_data(vm_size_t len, uint8_t seed)
{
	vm_map_t src = test_map();
	vm_map_copy_t copy;

	test_alloc_at(src, A, round_page(len));
	test_fill(src, A, len, seed);
	uint8_t *buf = kalloc(len);
	KT_ASSERT(buf && vm_map_read(src, A, buf, len) == KERN_SUCCESS);
	KT_ASSERT_EQ(vm_map_copy_from_kernel(buf, len, &copy), KERN_SUCCESS);
	kfree(buf, len);
	vm_map_deallocate(src);
	return copy;
}

/* A copy of the same bytes from another map at offset off in its page (whole pages when off = 0). */
static vm_map_copy_t map_data(vm_map_t src, vm_size_t off, vm_size_t len, uint8_t seed)
{
	vm_map_copy_t copy;

	test_alloc_at(src, A, round_page(off + len));
	test_fill(src, A + off, len, seed);
	KT_ASSERT_EQ(vm_map_copyin(src, A + off, len, &copy), KERN_SUCCESS);
	return copy;
}

KTEST(vm_write, vm_write_zero_count_succeeds_anywhere)
{
	vm_map_t map = test_map();
	static const vm_address_t anywhere[] = { 0, A, 0x0000800000000000ul, ~0ul };

	for (unsigned i = 0; i < 4; i++)
		KT_EXPECT_EQ(vm_write(map, anywhere[i], NULL, 0), KERN_SUCCESS);
	KT_EXPECT_EQ(vm_map_entry_count(map), 0);
	vm_map_deallocate(map);
}

KTEST(vm_write, vm_write_every_size_and_alignment)
{
	static const vm_size_t sizes[] = { 1, 4095, 4096, 4097, 8192, 3 * 4096 + 5 };
	static const vm_size_t offsets[] = { 0, 1, 4095 };

	for (unsigned s = 0; s < 6; s++) {
		for (unsigned o = 0; o < 3; o++) {
			vm_map_t map = test_map();
			vm_size_t len = sizes[s], off = offsets[o];
			test_alloc_at(map, A, 8 * PAGE_SIZE);
			test_fill(map, A, 8 * PAGE_SIZE, 0x55);       /* old contents around it */
			vm_map_copy_t data = buffer_data(len, (uint8_t)(s * 3 + o));
			KT_EXPECT_EQ(vm_write(map, A + off, data, len), KERN_SUCCESS);
			KT_EXPECT(test_holds(map, A + off, len, (uint8_t)(s * 3 + o)));
			KT_EXPECT(off == 0 || test_holds(map, A, off, 0x55));
			uint8_t after[1];
			KT_EXPECT_EQ(vm_map_read(map, A + off + len, after, 1), KERN_SUCCESS);
			vm_map_deallocate(map);
		}
	}
}

KTEST(vm_write, vm_write_sixteen_mib_both_paths)
{
	vm_size_t len = 16ul << 20;
	vm_map_t map = test_map(), src = test_map();

	test_alloc_at(map, A, len + PAGE_SIZE);
	vm_map_copy_t aligned = map_data(src, 0, len, 9);
	KT_EXPECT_EQ(vm_write(map, A, aligned, len), KERN_SUCCESS);
	KT_EXPECT(test_holds(map, A, len, 9));
	vm_map_copy_t unaligned;
	KT_ASSERT_EQ(vm_map_copyin(src, A, len, &unaligned), KERN_SUCCESS);
	KT_EXPECT_EQ(vm_write(map, A + 1, unaligned, len), KERN_SUCCESS);
	KT_EXPECT(test_holds(map, A + 1, len, 9));
	vm_map_deallocate(map);
	vm_map_deallocate(src);
}

KTEST(vm_write, vm_write_wrapping_or_outside_the_map_is_invalid_address)
{
	vm_map_t map = test_map();
	vm_map_copy_t data = buffer_data(64, 1);

	test_alloc_at(map, A, PAGE_SIZE);
	KT_EXPECT_EQ(vm_write(map, ~0ul - 10, data, 64), KERN_INVALID_ADDRESS);
	KT_EXPECT_EQ(vm_write(map, USER_MAX - 32, data, 64), KERN_INVALID_ADDRESS);
	KT_EXPECT_EQ(vm_write(map, MAP_MIN - 32, data, 64), KERN_INVALID_ADDRESS);
	KT_EXPECT_EQ(vm_write(map, 0xffffffff80000000ul, data, 64), KERN_INVALID_ADDRESS);
	KT_EXPECT(test_zero(map, A, PAGE_SIZE));
	vm_map_copy_discard(data);
	vm_map_deallocate(map);
}

/* [first][second] at A: each one page, RW, RO or a hole; writes across both. */
static kern_return_t write_across(vm_prot_t first, vm_prot_t second, bool *unchanged)
{
	vm_map_t map = test_map();
	vm_prot_t rights[2] = { first, second };

	for (int i = 0; i < 2; i++) {
		if (rights[i] == VM_PROT_NONE)
			continue;                                     /* a hole */
		test_alloc_at(map, A + i * PAGE_SIZE, PAGE_SIZE);
		test_fill(map, A + i * PAGE_SIZE, PAGE_SIZE, (uint8_t)(40 + i));
		vm_protect(map, A + i * PAGE_SIZE, PAGE_SIZE, false, rights[i]);
	}
	vm_map_copy_t data = buffer_data(100, 7);
	kern_return_t kr = vm_write(map, A + PAGE_SIZE - 50, data, 100);   /* 50 bytes in each */
	*unchanged = true;
	for (int i = 0; i < 2; i++)
		if (rights[i] != VM_PROT_NONE)
			*unchanged &= test_holds(map, A + i * PAGE_SIZE, PAGE_SIZE, (uint8_t)(40 + i));
	if (kr != KERN_SUCCESS)
		vm_map_copy_discard(data);
	vm_map_deallocate(map);
	return kr;
}

#define RW (VM_PROT_READ | VM_PROT_WRITE)
#define RO VM_PROT_READ
#define HOLE VM_PROT_NONE

KTEST(vm_write, vm_write_hole_is_invalid_address_and_nothing_changes)
{
	bool unchanged;

	KT_EXPECT_EQ(write_across(RW, HOLE, &unchanged), KERN_INVALID_ADDRESS);
	KT_EXPECT(unchanged);
	KT_EXPECT_EQ(write_across(HOLE, RW, &unchanged), KERN_INVALID_ADDRESS);
	KT_EXPECT(unchanged);
}

KTEST(vm_write, vm_write_read_only_is_protection_failure_and_nothing_changes)
{
	bool unchanged;

	KT_EXPECT_EQ(write_across(RW, RO, &unchanged), KERN_PROTECTION_FAILURE);
	KT_EXPECT(unchanged);
	KT_EXPECT_EQ(write_across(RO, RW, &unchanged), KERN_PROTECTION_FAILURE);
	KT_EXPECT(unchanged);
}

KTEST(vm_write, vm_write_first_problem_in_address_order_decides)
{
	bool unchanged;

	KT_EXPECT_EQ(write_across(RO, HOLE, &unchanged), KERN_PROTECTION_FAILURE);
	KT_EXPECT(unchanged);
	KT_EXPECT_EQ(write_across(HOLE, RO, &unchanged), KERN_INVALID_ADDRESS);
	KT_EXPECT(unchanged);
	KT_EXPECT_EQ(write_across(RW, RW, &unchanged), KERN_SUCCESS);
}

KTEST(vm_write, vm_write_count_must_match_the_data)
{
	vm_map_t map = test_map();
	vm_map_copy_t data = buffer_data(100, 3);

	test_alloc_at(map, A, PAGE_SIZE);
	KT_EXPECT_EQ(vm_write(map, A, data, 99), KERN_FAILURE);
	KT_EXPECT(test_zero(map, A, PAGE_SIZE));
	vm_map_copy_discard(data);
	vm_map_deallocate(map);
}

KTEST(vm_write, vm_write_out_of_memory_midway_leaves_target_unchanged)
{
	vm_size_t len = 64 * PAGE_SIZE;
	vm_map_t map = test_map();

	test_alloc_at(map, A, len);
	test_fill(map, A, 8 * PAGE_SIZE, 0x31);           /* some pages resident, most untouched */
	vm_map_copy_t data = buffer_data(len - 1, 0x77);
	vm_page_set_reserve_floor(vm_page_free_count() - 20);   /* runs out after about 20 pages */
	kern_return_t kr = vm_write(map, A + 1, data, len - 1);
	vm_page_set_reserve_floor(0);
	KT_EXPECT_EQ(kr, KERN_RESOURCE_SHORTAGE);
	KT_EXPECT(test_holds(map, A, 8 * PAGE_SIZE, 0x31));
	KT_EXPECT(test_zero(map, A + 8 * PAGE_SIZE, len - 8 * PAGE_SIZE));
	KT_EXPECT_EQ(vm_write(map, A + 1, data, len - 1), KERN_SUCCESS);
	KT_EXPECT(test_holds(map, A + 1, len - 1, 0x77));
	vm_map_deallocate(map);
}

KTEST(vm_write, vm_write_copy_on_write_target_gets_a_private_copy)
{
	vm_map_t parent = test_map();

	test_alloc_at(parent, A, 4 * PAGE_SIZE);
	test_fill(parent, A, 4 * PAGE_SIZE, 0x10);
	vm_map_t child = vm_map_fork(parent, pmap_create());
	KT_ASSERT(child != NULL);
	test_fill(child, A + 100, 2 * PAGE_SIZE, 0x20);
	KT_EXPECT(test_holds(child, A + 100, 2 * PAGE_SIZE, 0x20));
	KT_EXPECT(test_holds(parent, A, 4 * PAGE_SIZE, 0x10));   /* the other map still sees the old bytes */
	test_fill(parent, A, PAGE_SIZE, 0x30);
	KT_EXPECT(test_holds(child, A + 100, 2 * PAGE_SIZE, 0x20));
	vm_map_deallocate(child);
	vm_map_deallocate(parent);
}

KTEST(vm_write, vm_write_shared_target_is_written_in_place)
{
	vm_map_t parent = test_map();

	test_alloc_at(parent, A, 4 * PAGE_SIZE);
	test_fill(parent, A, 4 * PAGE_SIZE, 0x10);
	KT_ASSERT_EQ(vm_inherit(parent, A, 4 * PAGE_SIZE, VM_INHERIT_SHARE), KERN_SUCCESS);
	vm_map_t child = vm_map_fork(parent, pmap_create());
	KT_ASSERT(child != NULL);
	test_fill(child, A + 100, 2 * PAGE_SIZE, 0x20);
	KT_EXPECT(test_holds(parent, A + 100, 2 * PAGE_SIZE, 0x20));
	/* whole pages too: a shared target never takes the substitution path */
	vm_map_t src = test_map();
	vm_map_copy_t pages = map_data(src, 0, 2 * PAGE_SIZE, 0x44);
	KT_EXPECT_EQ(vm_write(child, A, pages, 2 * PAGE_SIZE), KERN_SUCCESS);
	KT_EXPECT(test_holds(parent, A, 2 * PAGE_SIZE, 0x44));
	vm_map_deallocate(src);
	vm_map_deallocate(child);
	vm_map_deallocate(parent);
}

/* The page-table bits of va after the target writes it. */
static uint64_t pte_after_target_write(vm_map_t map, vm_address_t va)
{
	uint64_t pte = 0;
	int level;

	KT_ASSERT_EQ(vm_fault(map, va, VM_PROT_WRITE), KERN_SUCCESS);
	KT_ASSERT(pmap_leaf_entry(map->pmap, trunc_page(va), &pte, &level));
	return pte & (PTE_P | PTE_RW | PTE_US | PTE_NX);
}

KTEST(vm_write, vm_write_paths_agree_on_bytes_rights_and_ptes)
{
	vm_map_t sub = test_map(), cpy = test_map(), src = test_map();
	vm_size_t len = 4 * PAGE_SIZE;

	for (int i = 0; i < 2; i++) {
		vm_map_t map = i ? cpy : sub;
		test_alloc_at(map, A, len);
		vm_protect(map, A + 2 * PAGE_SIZE, 2 * PAGE_SIZE, false, VM_PROT_ALL);
		vm_inherit(map, A, PAGE_SIZE, VM_INHERIT_NONE);
	}
	KT_EXPECT_EQ(vm_write(sub, A, map_data(src, 0, len, 0x66), len), KERN_SUCCESS);
	KT_EXPECT_EQ(vm_write(cpy, A, buffer_data(len, 0x66), len), KERN_SUCCESS);
	for (vm_offset_t off = 0; off < len; off += PAGE_SIZE) {
		struct vm_region_basic_info_64 a = test_region(sub, A + off), b = test_region(cpy, A + off);
		KT_EXPECT_EQ(a.protection, b.protection);
		KT_EXPECT_EQ(a.max_protection, b.max_protection);
		KT_EXPECT_EQ(a.inheritance, b.inheritance);
		KT_EXPECT_EQ(pte_after_target_write(sub, A + off), pte_after_target_write(cpy, A + off));
	}
	KT_EXPECT(test_holds(sub, A, len, 0x66) && test_holds(cpy, A, len, 0x66));
	KT_EXPECT_EQ(test_region(sub, A).inheritance, VM_INHERIT_NONE);
	KT_EXPECT_EQ(test_region(sub, A + 3 * PAGE_SIZE).protection, VM_PROT_ALL);
	KT_EXPECT_EQ(pte_after_target_write(sub, A), PTE_P | PTE_RW | PTE_US | PTE_NX);
	KT_EXPECT_EQ(pte_after_target_write(sub, A + 3 * PAGE_SIZE), PTE_P | PTE_RW | PTE_US);
	vm_map_deallocate(src);
	vm_map_deallocate(sub);
	vm_map_deallocate(cpy);
}

KTEST(vm_write, vm_write_whole_pages_move_without_copying)
{
	vm_map_t map = test_map(), src = test_map();
	paddr_t src_pa, dst_pa;

	test_alloc_at(map, A, PAGE_SIZE);
	test_fill(map, A, PAGE_SIZE, 0x12);
	vm_map_copy_t data = map_data(src, 0, PAGE_SIZE, 0x34);
	KT_ASSERT_EQ(vm_fault(src, A, VM_PROT_READ), KERN_SUCCESS);
	KT_ASSERT(pmap_extract(src->pmap, A, &src_pa));
	KT_EXPECT_EQ(vm_write(map, A, data, PAGE_SIZE), KERN_SUCCESS);
	KT_ASSERT_EQ(vm_fault(map, A, VM_PROT_READ), KERN_SUCCESS);
	KT_ASSERT(pmap_extract(map->pmap, A, &dst_pa));
	KT_EXPECT_EQ(dst_pa, src_pa);                     /* the very same frame */
	KT_EXPECT_EQ(pmap_access(map->pmap, A), VM_PROT_READ);   /* until someone writes */
	test_fill(map, A, 10, 0x56);
	KT_EXPECT(test_holds(src, A, PAGE_SIZE, 0x34));   /* the writer got its own copy */
	vm_map_deallocate(src);
	vm_map_deallocate(map);
}

/*
 * Whole pages written again over an entry that covers exactly their range
 * (the path substitute_in_place takes): the new bytes, the entry's rights
 * kept, no new entry, the old pages let go, and nothing leaked.
 */
KTEST(vm_write, vm_write_same_pages_again_replaces_in_place)
{
	struct leak_counts before;
	vm_size_t len = 2 * PAGE_SIZE;

	for (int round = 0; round < 2; round++) {      /* the first round grows the zones */
		before = test_leak_counts();
		vm_map_t map = test_map(), one = test_map(), two = test_map();
		paddr_t first_pa, now_pa, two_pa;
		test_alloc_at(map, A, len);
		vm_inherit(map, A, len, VM_INHERIT_NONE);
		KT_EXPECT_EQ(vm_write(map, A, map_data(one, 0, len, 0x11), len), KERN_SUCCESS);
		KT_ASSERT_EQ(vm_fault(map, A, VM_PROT_READ), KERN_SUCCESS);
		KT_ASSERT(pmap_extract(map->pmap, A, &first_pa));
		uint32_t entries = vm_map_entry_count(map);
		KT_EXPECT_EQ(vm_write(map, A, map_data(two, 0, len, 0x22), len), KERN_SUCCESS);
		KT_EXPECT(test_holds(map, A, len, 0x22));
		KT_EXPECT_EQ(vm_map_entry_count(map), entries);
		KT_EXPECT_EQ(test_region(map, A).inheritance, VM_INHERIT_NONE);
		KT_EXPECT_EQ(test_region(map, A).protection, VM_PROT_DEFAULT);
		KT_EXPECT_EQ(pmap_access(map->pmap, A), VM_PROT_NONE);   /* the old page is unmapped */
		KT_ASSERT_EQ(vm_fault(map, A, VM_PROT_READ), KERN_SUCCESS);
		KT_ASSERT(pmap_extract(map->pmap, A, &now_pa) && pmap_extract(two->pmap, A, &two_pa));
		KT_EXPECT_EQ(now_pa, two_pa);             /* the second data's own frame */
		KT_EXPECT_NE(now_pa, first_pa);
		KT_EXPECT(test_holds(one, A, len, 0x11)); /* the first source is untouched */
		KT_EXPECT(vm_map_check_invariants(map) == NULL);
		vm_map_deallocate(one);
		vm_map_deallocate(two);
		vm_map_deallocate(map);
	}
	KT_EXPECT_NO_LEAK(before);
}

KTEST(vm_write, vm_write_to_itself_behaves_like_memmove)
{
	vm_map_t map = test_map();
	vm_map_copy_t data;

	test_alloc_at(map, A, 4 * PAGE_SIZE);
	test_fill(map, A, 3 * PAGE_SIZE, 0x21);
	KT_ASSERT_EQ(vm_map_copyin(map, A, 3 * PAGE_SIZE, &data), KERN_SUCCESS);
	KT_EXPECT_EQ(vm_write(map, A + 100, data, 3 * PAGE_SIZE), KERN_SUCCESS);
	KT_EXPECT(test_holds(map, A + 100, 3 * PAGE_SIZE, 0x21));
	vm_map_deallocate(map);
}

KTEST(vm_write, vm_write_into_untouched_memory_zero_fills_around)
{
	vm_map_t map = test_map();

	test_alloc_at(map, A, 3 * PAGE_SIZE);
	vm_map_copy_t data = buffer_data(10, 0x5a);
	KT_EXPECT_EQ(vm_write(map, A + PAGE_SIZE + 20, data, 10), KERN_SUCCESS);
	KT_EXPECT(test_zero(map, A, PAGE_SIZE + 20));
	KT_EXPECT(test_holds(map, A + PAGE_SIZE + 20, 10, 0x5a));
	KT_EXPECT(test_zero(map, A + PAGE_SIZE + 30, 2 * PAGE_SIZE - 30));
	vm_map_deallocate(map);
}

KTEST(vm_write, vm_write_leaks_nothing)
{
	struct leak_counts before;

	for (int round = 0; round < 2; round++) {      /* the first round grows the zones */
		before = test_leak_counts();
		vm_map_t map = test_map(), src = test_map();
		test_alloc_at(map, A, 8 * PAGE_SIZE);
		KT_EXPECT_EQ(vm_write(map, A, map_data(src, 0, 4 * PAGE_SIZE, 1), 4 * PAGE_SIZE),
		             KERN_SUCCESS);
		KT_EXPECT_EQ(vm_write(map, A + 5, buffer_data(3 * PAGE_SIZE, 2), 3 * PAGE_SIZE),
		             KERN_SUCCESS);
		KT_EXPECT_EQ(vm_copy(map, A, 2 * PAGE_SIZE, A + 4 * PAGE_SIZE), KERN_SUCCESS);
		KT_EXPECT_EQ(vm_deallocate(map, A + PAGE_SIZE, PAGE_SIZE), KERN_SUCCESS);
		vm_map_deallocate(src);
		vm_map_deallocate(map);
	}
	KT_EXPECT_NO_LEAK(before);
}
