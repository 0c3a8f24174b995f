/* The frame table and the buddy allocator. */
#include "kern/bootinfo.h"
#include "lib/string.h"
#include "tests/kern/vm_test.h"

KTEST(vm_page, alloc_and_free_keep_the_counts)
{
	struct vm_page_stats before, during, after;

	vm_page_get_stats(&before);
	struct vm_page *p = vm_page_alloc(VM_PAGE_OBJECT, 0);
	KT_ASSERT(p != NULL);
	vm_page_get_stats(&during);
	KT_EXPECT_EQ(during.count[VM_PAGE_FREE], before.count[VM_PAGE_FREE] - 1);
	KT_EXPECT_EQ(during.count[VM_PAGE_OBJECT], before.count[VM_PAGE_OBJECT] + 1);
	KT_EXPECT_EQ(p->use, VM_PAGE_OBJECT);
	vm_page_free(p);
	vm_page_get_stats(&after);
	KT_EXPECT(memcmp(&before, &after, sizeof(before)) == 0);
}

KTEST(vm_page, contiguous_runs_are_contiguous)
{
	uint64_t free_before = vm_page_free_count();
	struct vm_page *p = vm_page_alloc_contig(5, VM_PAGE_KERNEL, VM_PAGE_ZERO);

	KT_ASSERT(p != NULL);
	for (int i = 1; i < 5; i++)
		KT_EXPECT_EQ(vm_page_to_phys(&p[i]), vm_page_to_phys(p) + i * PAGE_SIZE);
	/* an 8-frame buddy block was split: exactly 5 frames left the pool */
	KT_EXPECT_EQ(vm_page_free_count(), free_before - 5);
	const uint64_t *words = pmap_phys_to_virt(vm_page_to_phys(p));
	bool zero = true;
	for (size_t i = 0; i < 5 * PAGE_SIZE / 8; i++)
		zero &= words[i] == 0;
	KT_EXPECT(zero);
	vm_page_free_contig(p, 5);
	KT_EXPECT_EQ(vm_page_free_count(), free_before);
}

KTEST(vm_page, phys_round_trips)
{
	struct vm_page *p = vm_page_alloc(VM_PAGE_KERNEL, 0);

	KT_ASSERT(p != NULL);
	KT_EXPECT(vm_page_from_phys(vm_page_to_phys(p)) == p);
	KT_EXPECT(vm_page_from_phys(vm_page_to_phys(p) + 0xfff) == p);
	KT_EXPECT(vm_page_from_phys(1ul << 50) == NULL);
	vm_page_free(p);
}

KTEST(vm_page, kernel_low_memory_and_firmware_are_never_free)
{
	KT_EXPECT_EQ(vm_page_from_phys(0)->use, VM_PAGE_RESERVED);
	KT_EXPECT_EQ(vm_page_from_phys(0x9f000)->use, VM_PAGE_RESERVED);
	for (paddr_t pa = boot_info.kernel_phys_start; pa < boot_info.kernel_phys_end; pa += PAGE_SIZE)
		KT_EXPECT_EQ(vm_page_from_phys(pa)->use, VM_PAGE_RESERVED);
	for (uint32_t i = 0; i < boot_info.mmap_count; i++) {
		const struct boot_mmap_entry *e = &boot_info.mmap[i];
		if (e->type == BOOT_MEM_USABLE || e->base >= boot_info.mmap[boot_info.mmap_count - 1].base)
			continue;
		struct vm_page *p = vm_page_from_phys(e->base);
		if (p)
			KT_EXPECT_EQ(p->use, VM_PAGE_RESERVED);
	}
}

KTEST(vm_page, every_frame_is_counted_once)
{
	struct vm_page_stats s;
	uint64_t sum = 0;

	vm_page_get_stats(&s);
	for (int u = 0; u < VM_PAGE_USES; u++)
		sum += s.count[u];
	KT_EXPECT_EQ(sum, s.total);
	/* nearly all usable RAM is free after boot (the rest: frame table, stacks, tables) */
	KT_EXPECT(s.count[VM_PAGE_FREE] * PAGE_SIZE > boot_info_usable_bytes(&boot_info) / 100 * 95);
}

KTEST(vm_page, reserve_floor_makes_allocation_fail)
{
	vm_page_set_reserve_floor(vm_page_free_count());
	struct vm_page *p = vm_page_alloc(VM_PAGE_KERNEL, 0);
	vm_page_set_reserve_floor(0);
	KT_EXPECT(p == NULL);
	p = vm_page_alloc(VM_PAGE_KERNEL, 0);
	KT_EXPECT(p != NULL);
	if (p)
		vm_page_free(p);
}

KTEST(vm_page, freed_blocks_merge_back)
{
	/* take a 4 MiB block as single pages, free them, and get a 4 MiB block again */
	struct vm_page *big = vm_page_alloc_contig(1u << VM_PAGE_MAX_ORDER, VM_PAGE_KERNEL, 0);

	KT_ASSERT(big != NULL);
	vm_page_free_contig(big, 1u << VM_PAGE_MAX_ORDER);
	struct vm_page *again = vm_page_alloc_contig(1u << VM_PAGE_MAX_ORDER, VM_PAGE_KERNEL, 0);
	KT_EXPECT(again != NULL);
	if (again)
		vm_page_free_contig(again, 1u << VM_PAGE_MAX_ORDER);
}
