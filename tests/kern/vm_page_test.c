/* The frame table, the buddy allocator and each CPU's cache of frames. */
#include "kern/bootinfo.h"
#include "kern/machine.h"
#include "kern/sched.h"
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

/* A frame freed on a CPU waits in its cache and is that CPU's next, zeroed when asked. */
KTEST(vm_page, a_cpu_takes_back_the_frame_it_freed_zeroed_when_asked)
{
	sched_bind(0);
	struct vm_page *p = vm_page_alloc(VM_PAGE_KERNEL, 0);
	unsigned cached = vm_page_cached(0);
	if (p) {
		memset(pmap_phys_to_virt(vm_page_to_phys(p)), 0xa5, PAGE_SIZE);
		vm_page_free(p);
	}
	unsigned cached_freed = vm_page_cached(0);
	struct vm_page *q = vm_page_alloc(VM_PAGE_KERNEL, VM_PAGE_ZERO);
	sched_bind(SCHED_ANY_CPU);
	KT_ASSERT(p != NULL);
	KT_EXPECT_EQ(cached_freed, cached + 1);
	KT_EXPECT(q == p);
	bool zero = true;
	for (size_t i = 0; q && i < PAGE_SIZE / 8; i++)
		zero &= ((const uint64_t *)pmap_phys_to_virt(vm_page_to_phys(q)))[i] == 0;
	KT_EXPECT(zero);
	if (q)
		vm_page_free(q);
}

/*
 * The floor counts the frames another CPU's cache holds as free, and no
 * cache hands out one past it: twenty frames above the floor are twenty
 * allocations, while both CPUs' caches hold frames.
 */
KTEST(vm_page, the_floor_holds_while_caches_hold_frames)
{
	enum { ABOVE = 20, WARM = 8 };
	struct vm_page *warm[WARM], *got[ABOVE + 1];
	unsigned n = 0;

	if (machine_cpu_count() < 2)
		KT_SKIP("one CPU");
	for (int cpu = 1; cpu >= 0; cpu--) {   /* frames freed into both caches */
		sched_bind((unsigned)cpu);
		for (int i = 0; i < WARM; i++)
			warm[i] = vm_page_alloc(VM_PAGE_KERNEL, 0);
		for (int i = 0; i < WARM; i++)
			if (warm[i])
				vm_page_free(warm[i]);
	}
	unsigned on_1 = vm_page_cached(1), on_0 = vm_page_cached(0);
	vm_page_set_reserve_floor(vm_page_free_count() - ABOVE);
	while (n < ABOVE + 1 && (got[n] = vm_page_alloc(VM_PAGE_KERNEL, 0)) != NULL)
		n++;
	vm_page_set_reserve_floor(0);
	sched_bind(SCHED_ANY_CPU);
	for (unsigned i = 0; i < n; i++)
		vm_page_free(got[i]);
	KT_EXPECT(on_0 > 0 && on_1 > 0);
	KT_EXPECT_EQ(n, ABOVE);
}

/* Every frame vm_page_alloc gives, on a list through next and prev (a frame in use is its owner's). */
static struct vm_page *take_every_frame(void)
{
	struct vm_page *all = NULL, *p;

	while ((p = vm_page_alloc(VM_PAGE_KERNEL, 0)) != NULL)
		vm_page_list_insert(&all, p);
	return all;
}

/* A frame on list whose successor is on it too, at an even frame number: two that make a block. */
static struct vm_page *a_pair_on(struct vm_page *list)
{
	for (struct vm_page *p = list; p; p = p->next)
		if ((p - vm_pages) % 2 == 0 && p + 1 < vm_pages + vm_page_count &&
		    p[1].use == VM_PAGE_KERNEL)
			for (struct vm_page *q = list; q; q = q->next)
				if (q == p + 1)
					return p;
	return NULL;
}

/*
 * Memory is full but for frames another CPU's cache holds: a run of two,
 * then a single frame when this CPU's cache is empty too, come from it
 * (the caches go back to the buddy lists, where the two merge) rather
 * than fail.
 */
KTEST(vm_page, runs_and_frames_come_from_other_cpus_caches_when_only_they_are_free)
{
	if (machine_cpu_count() < 2)
		KT_SKIP("one CPU");
	sched_bind(0);
	struct vm_page *all = take_every_frame();
	struct vm_page *pair = a_pair_on(all), *single = NULL, *run = NULL, *one = NULL;
	if (pair) {
		vm_page_list_remove(&all, pair);
		vm_page_list_remove(&all, pair + 1);
		single = all;
	}
	if (single)
		vm_page_list_remove(&all, single);
	if (single) {
		sched_bind(1);
		vm_page_free(pair);
		vm_page_free(pair + 1);
		sched_bind(0);
		run = vm_page_alloc_contig(2, VM_PAGE_KERNEL, 0);
		sched_bind(1);
		vm_page_free(single);
		sched_bind(0);
		one = vm_page_alloc(VM_PAGE_KERNEL, 0);
	}
	sched_bind(SCHED_ANY_CPU);
	for (struct vm_page *p; (p = all) != NULL;) {
		vm_page_list_remove(&all, p);
		vm_page_free(p);
	}
	if (run)
		vm_page_free_contig(run, 2);
	if (one)
		vm_page_free(one);
	KT_ASSERT(single != NULL);
	KT_EXPECT(run == pair);
	KT_EXPECT(one == single);
}
