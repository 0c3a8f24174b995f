/*
 * The pmap interface, checked through the page-table bits and by real
 * accesses: enter/protect/remove round trips, A/D bits, the reverse map
 * across several pmaps, direct-map large pages, and leak-free teardown.
 */
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/pmap_md.h"
#include "kern/bootinfo.h"
#include "kern/clock.h"
#include "kern/machine.h"
#include "kern/sched.h"
#include "kern/thread.h"
#include "lib/string.h"
#include "tests/kern/vm_test.h"

void kernel_main(uint64_t boot_info_phys);

static uint64_t leaf(pmap_t pm, vm_offset_t va)
{
	uint64_t pte = 0;
	int level;

	return pmap_leaf_entry(pm, va, &pte, &level) ? pte : 0;
}

static uint64_t *page_words(struct vm_page *p)
{
	return pmap_phys_to_virt(vm_page_to_phys(p));
}

KTEST(pmap, enter_protect_remove_round_trip)
{
	struct vm_page *p = vm_page_alloc(VM_PAGE_KERNEL, VM_PAGE_ZERO);
	paddr_t pa = 0;

	KT_ASSERT(p != NULL);
	KT_ASSERT_EQ(pmap_enter(kernel_pmap, TEST_KVA, p, VM_PROT_READ | VM_PROT_WRITE, 0),
	             KERN_SUCCESS);
	uint64_t pte = leaf(kernel_pmap, TEST_KVA);
	KT_EXPECT_EQ(pte & (PTE_P | PTE_RW | PTE_US | PTE_NX | PTE_G), PTE_P | PTE_RW | PTE_NX | PTE_G);
	KT_EXPECT(pmap_extract(kernel_pmap, TEST_KVA + 0x123, &pa));
	KT_EXPECT_EQ(pa, vm_page_to_phys(p) + 0x123);
	KT_EXPECT_NO_TRAP(test_write, TEST_KVA);
	KT_EXPECT_EQ(page_words(p)[0], 0x1234);

	pmap_protect(kernel_pmap, TEST_KVA, TEST_KVA + PAGE_SIZE, VM_PROT_READ);
	KT_EXPECT_EQ(leaf(kernel_pmap, TEST_KVA) & (PTE_P | PTE_RW | PTE_NX), PTE_P | PTE_NX);
	KT_EXPECT_EQ(pmap_access(kernel_pmap, TEST_KVA), VM_PROT_READ);
	KT_EXPECT_PAGE_FAULT(test_write, TEST_KVA, PF_P | PF_W);
	KT_EXPECT_NO_TRAP(test_read, TEST_KVA);

	pmap_remove(kernel_pmap, TEST_KVA, TEST_KVA + PAGE_SIZE);
	KT_EXPECT(!pmap_extract(kernel_pmap, TEST_KVA, &pa));
	KT_EXPECT_PAGE_FAULT(test_read, TEST_KVA, 0);
	KT_EXPECT(p->pv_list == NULL);
	vm_page_free(p);
}

KTEST(pmap, user_mappings_carry_us_and_rights)
{
	struct vm_page *p = vm_page_alloc(VM_PAGE_KERNEL, VM_PAGE_ZERO);
	pmap_t pm = pmap_create();
	uint64_t pv_before = pmap_pv_entries();

	KT_ASSERT(p && pm);
	KT_ASSERT_EQ(pmap_enter(pm, TEST_UVA, p, VM_PROT_READ | VM_PROT_EXECUTE, 0), KERN_SUCCESS);
	uint64_t pte = leaf(pm, TEST_UVA);
	KT_EXPECT_EQ(pte & (PTE_P | PTE_RW | PTE_US | PTE_NX | PTE_G), PTE_P | PTE_US);
	KT_EXPECT_EQ(pmap_access(pm, TEST_UVA), VM_PROT_READ | VM_PROT_EXECUTE);
	/* re-entering the same page with new rights replaces them, one pv entry still */
	KT_ASSERT_EQ(pmap_enter(pm, TEST_UVA, p, VM_PROT_READ | VM_PROT_WRITE, 0), KERN_SUCCESS);
	KT_EXPECT_EQ(leaf(pm, TEST_UVA) & (PTE_RW | PTE_NX), PTE_RW | PTE_NX);
	KT_EXPECT_EQ(pmap_pv_entries(), pv_before + 1);
	/* the kernel half is shared: kernel text is mapped the same way */
	KT_EXPECT_EQ(leaf(pm, (vm_offset_t)kernel_main), leaf(kernel_pmap, (vm_offset_t)kernel_main));
	pmap_destroy(pm);
	KT_EXPECT(p->pv_list == NULL);
	vm_page_free(p);
}

KTEST(pmap, execute_right_decides_whether_code_runs)
{
	struct vm_page *p = test_ret_page();

	KT_ASSERT(p != NULL);
	KT_ASSERT_EQ(pmap_enter(kernel_pmap, TEST_KVA, p, VM_PROT_READ | VM_PROT_EXECUTE, 0),
	             KERN_SUCCESS);
	KT_EXPECT_NO_TRAP(test_call, TEST_KVA);
	pmap_protect(kernel_pmap, TEST_KVA, TEST_KVA + PAGE_SIZE, VM_PROT_READ);
	KT_EXPECT_PAGE_FAULT(test_call, TEST_KVA, PF_P | PF_I);
	pmap_remove(kernel_pmap, TEST_KVA, TEST_KVA + PAGE_SIZE);
	vm_page_free(p);
}

KTEST(pmap, accessed_and_dirty_bits_follow_real_accesses)
{
	struct vm_page *p = vm_page_alloc(VM_PAGE_KERNEL, VM_PAGE_ZERO);

	KT_ASSERT(p != NULL);
	KT_ASSERT_EQ(pmap_enter(kernel_pmap, TEST_KVA, p, VM_PROT_READ | VM_PROT_WRITE, 0),
	             KERN_SUCCESS);
	pmap_clear_reference(p);
	pmap_clear_modify(p);
	KT_EXPECT(!pmap_is_referenced(p));
	KT_EXPECT(!pmap_is_modified(p));
	test_read(TEST_KVA);
	KT_EXPECT(pmap_is_referenced(p));
	KT_EXPECT(!pmap_is_modified(p));
	test_write(TEST_KVA);
	KT_EXPECT(pmap_is_modified(p));
	KT_EXPECT(leaf(kernel_pmap, TEST_KVA) & PTE_D);
	pmap_clear_modify(p);
	KT_EXPECT(!pmap_is_modified(p));
	KT_EXPECT(!(leaf(kernel_pmap, TEST_KVA) & PTE_D));
	/* the clear reached the TLB: the next write sets D again */
	test_write(TEST_KVA);
	KT_EXPECT(pmap_is_modified(p));
	/* removing the mapping keeps what it saw */
	pmap_remove(kernel_pmap, TEST_KVA, TEST_KVA + PAGE_SIZE);
	KT_EXPECT(pmap_is_modified(p));
	pmap_clear_modify(p);
	KT_EXPECT(!pmap_is_modified(p));
	vm_page_free(p);
}

KTEST(pmap, page_protect_reaches_every_pmap)
{
	struct vm_page *p = vm_page_alloc(VM_PAGE_KERNEL, VM_PAGE_ZERO);
	pmap_t pm[3];
	paddr_t pa;

	KT_ASSERT(p != NULL);
	for (int i = 0; i < 3; i++) {
		pm[i] = pmap_create();
		KT_ASSERT(pm[i] != NULL);
		KT_ASSERT_EQ(pmap_enter(pm[i], TEST_UVA + i * PAGE_SIZE, p,
		                        VM_PROT_READ | VM_PROT_WRITE, 0), KERN_SUCCESS);
	}
	pmap_page_protect(p, VM_PROT_READ);
	for (int i = 0; i < 3; i++) {
		pmap_activate(pm[i]);
		KT_EXPECT_PAGE_FAULT(test_user_write, TEST_UVA + i * PAGE_SIZE, PF_P | PF_W);
		KT_EXPECT_NO_TRAP(test_user_read, TEST_UVA + i * PAGE_SIZE);
	}
	pmap_page_protect(p, VM_PROT_NONE);
	KT_EXPECT(p->pv_list == NULL);
	for (int i = 0; i < 3; i++) {
		pmap_activate(pm[i]);
		KT_EXPECT(!pmap_extract(pm[i], TEST_UVA + i * PAGE_SIZE, &pa));
		KT_EXPECT_PAGE_FAULT(test_user_read, TEST_UVA + i * PAGE_SIZE, 0);
	}
	pmap_activate(kernel_pmap);
	for (int i = 0; i < 3; i++)
		pmap_destroy(pm[i]);
	vm_page_free(p);
}

/*
 * A walk from a page must not return while another CPU, having unlinked
 * one of the page's mappings, has yet to flush it (arch/x86_64/pmap.c,
 * "Removal windows"): the walk no longer sees the mapping, and a TLB may
 * still hold it.  CPU 3 keeps the pmap active with interrupts off and
 * answers no shootdown, so the removal on CPU 1 waits in its flush;
 * meanwhile the walk on CPU 2 must wait too.
 */
struct window_case {
	pmap_t pmap;
	struct vm_page *page;
	volatile bool holding, release;     /* CPU 3's part */
	volatile bool held, removed, walked;
};

static void hold_pmap_active(void *arg)
{
	struct window_case *c = arg;

	sched_bind(3);
	bool was_on = machine_interrupts_save_off();
	pmap_activate(c->pmap);
	c->holding = true;
	for (uint64_t until = clock_ns() + 1000000000ull; !c->release && clock_ns() < until;)
		__asm__ volatile("pause");     /* not machine_spin_pause: that answers shootdowns */
	pmap_activate(kernel_pmap);
	if (was_on)
		machine_interrupts_on();
	c->held = true;
}

static void remove_the_mapping(void *arg)
{
	struct window_case *c = arg;

	sched_bind(1);
	pmap_remove(c->pmap, TEST_UVA, TEST_UVA + PAGE_SIZE);
	c->removed = true;
}

static void walk_from_the_page(void *arg)
{
	struct window_case *c = arg;

	sched_bind(2);
	pmap_page_protect(c->page, VM_PROT_READ);
	c->walked = true;
}

KTEST(pmap, page_protect_waits_for_a_removal_another_cpu_has_not_flushed)
{
	static struct window_case c;

	if (machine_cpu_count() < 4)
		KT_SKIP("fewer than four CPUs");
	sched_bind(0);
	c = (struct window_case){ .pmap = pmap_create(), .page = vm_page_alloc(VM_PAGE_KERNEL, 0) };
	KT_ASSERT(c.pmap != NULL && c.page != NULL);
	KT_ASSERT_EQ(pmap_enter(c.pmap, TEST_UVA, c.page, VM_PROT_READ | VM_PROT_WRITE, 0),
	             KERN_SUCCESS);
	KT_ASSERT(thread_create_kernel("holder", hold_pmap_active, &c) != NULL);
	KT_WAIT_FOR(c.holding);
	KT_ASSERT(thread_create_kernel("remover", remove_the_mapping, &c) != NULL);
	KT_WAIT_FOR(c.page->pv_list == NULL);       /* unlinked: it waits for CPU 3 now */
	KT_ASSERT(thread_create_kernel("walker", walk_from_the_page, &c) != NULL);
	for (uint64_t until = clock_ns() + 20000000ull; clock_ns() < until;)
		ktest_nap();
	KT_EXPECT(c.holding && !c.held);           /* CPU 3 still held the pmap throughout */
	KT_EXPECT(!c.removed);
	KT_EXPECT(!c.walked);
	c.release = true;
	KT_WAIT_FOR(c.held && c.removed && c.walked);
	KT_EXPECT(c.removed && c.walked);
	pmap_destroy(c.pmap);
	vm_page_free(c.page);
	sched_bind(SCHED_ANY_CPU);
}

/*
 * Range operations pass over user page tables that count no present entry
 * (arch/x86_64/pmap.c): the counts must follow every way an entry comes
 * and goes, or a range operation would miss a mapping.
 */
KTEST(pmap, range_operations_see_every_mapping_a_table_holds)
{
	const vm_offset_t second_table = TEST_UVA + (2ul << 20);
	struct vm_page *p[3];
	pmap_t pm = pmap_create();
	paddr_t pa;

	KT_ASSERT(pm != NULL);
	for (int i = 0; i < 3; i++)
		KT_ASSERT((p[i] = vm_page_alloc(VM_PAGE_KERNEL, VM_PAGE_ZERO)) != NULL);
	KT_ASSERT_EQ(pmap_enter(pm, TEST_UVA, p[0], VM_PROT_READ | VM_PROT_WRITE, 0), KERN_SUCCESS);
	KT_ASSERT_EQ(pmap_enter(pm, TEST_UVA + PAGE_SIZE, p[1], VM_PROT_READ | VM_PROT_WRITE, 0),
	             KERN_SUCCESS);
	KT_ASSERT_EQ(pmap_enter(pm, second_table, p[2], VM_PROT_READ | VM_PROT_WRITE, 0),
	             KERN_SUCCESS);
	pmap_page_protect(p[0], VM_PROT_NONE);              /* the first table keeps one entry */
	pmap_protect(pm, TEST_UVA, second_table + PAGE_SIZE, VM_PROT_READ);
	KT_EXPECT_EQ(leaf(pm, TEST_UVA + PAGE_SIZE) & (PTE_P | PTE_RW), PTE_P);
	KT_EXPECT_EQ(leaf(pm, second_table) & (PTE_P | PTE_RW), PTE_P);
	pmap_remove(pm, TEST_UVA, second_table + PAGE_SIZE);
	KT_EXPECT(!pmap_extract(pm, TEST_UVA + PAGE_SIZE, &pa));
	KT_EXPECT(!pmap_extract(pm, second_table, &pa));
	KT_EXPECT(p[1]->pv_list == NULL && p[2]->pv_list == NULL);
	/* a table emptied and filled again counts again */
	KT_ASSERT_EQ(pmap_enter(pm, TEST_UVA, p[1], VM_PROT_READ, 0), KERN_SUCCESS);
	pmap_remove(pm, TEST_UVA, TEST_UVA + PAGE_SIZE);
	KT_EXPECT(!pmap_extract(pm, TEST_UVA, &pa));
	KT_EXPECT(p[1]->pv_list == NULL);
	pmap_destroy(pm);                                   /* checks each table's count */
	for (int i = 0; i < 3; i++)
		vm_page_free(p[i]);
}

/* Checks that the direct map translates the bytes on both sides of a boundary. */
static void expect_dmap_edge(paddr_t edge)
{
	paddr_t pa = 0;

	KT_EXPECT(pmap_extract(kernel_pmap, DMAP_BASE + edge - 1, &pa));
	KT_EXPECT_EQ(pa, edge - 1);
	KT_EXPECT(pmap_extract(kernel_pmap, DMAP_BASE + edge, &pa));
	KT_EXPECT_EQ(pa, edge);
}

KTEST(pmap, direct_map_large_pages_translate_at_edges)
{
	uint64_t pte;
	int level, seen[4] = { 0 };

	/* walk the direct map of usable RAM in 2 MiB steps, checking every large-page edge */
	for (uint32_t i = 0; i < boot_info.mmap_count; i++) {
		const struct boot_mmap_entry *e = &boot_info.mmap[i];
		if (e->type != BOOT_MEM_USABLE)
			continue;
		for (paddr_t pa = (e->base + (2ul << 20) - 1) & ~((2ul << 20) - 1);
		     pa + (2ul << 20) <= e->base + e->length; pa += 2ul << 20) {
			KT_ASSERT(pmap_leaf_entry(kernel_pmap, DMAP_BASE + pa, &pte, &level));
			seen[level]++;
			KT_EXPECT(pte & PTE_NX);
			if (level > 1 && pa > 0)
				expect_dmap_edge(pa);
		}
	}
	KT_EXPECT(seen[2] > 0);
	/* 1 GiB pages wherever a whole aligned GiB of RAM has one protection */
	KT_EXPECT(seen[3] > 0 || !cpu_features.page1g || boot_info_usable_bytes(&boot_info) < (2ul << 30));
}

KTEST(pmap, destroy_returns_every_table_frame)
{
	struct vm_page_stats before, after;
	struct vm_page *pages[16];
	uint64_t pv_before = pmap_pv_entries(), x = ktest_seed() | 1;

	for (int i = 0; i < 16; i++)
		KT_ASSERT((pages[i] = vm_page_alloc(VM_PAGE_KERNEL, 0)) != NULL);
	vm_page_get_stats(&before);
	pmap_t pm = pmap_create();
	KT_ASSERT(pm != NULL);
	for (int i = 0; i < 10000; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;          /* xorshift */
		vm_offset_t va = TEST_UVA + ((x % (1ul << 20)) << PAGE_SHIFT);   /* a 4 GiB window */
		KT_ASSERT_EQ(pmap_enter(pm, va, pages[i % 16], VM_PROT_READ, 0), KERN_SUCCESS);
	}
	KT_EXPECT(pmap_pv_entries() - pv_before > 9000);     /* random VAs may repeat */
	pmap_destroy(pm);
	vm_page_get_stats(&after);
	KT_EXPECT_EQ(after.count[VM_PAGE_PAGETABLE], before.count[VM_PAGE_PAGETABLE]);
	KT_EXPECT_EQ(pmap_pv_entries(), pv_before);
	for (int i = 0; i < 16; i++) {
		KT_EXPECT(pages[i]->pv_list == NULL);
		vm_page_free(pages[i]);
	}
}

static uint64_t table_frames(void)
{
	struct vm_page_stats s;

	vm_page_get_stats(&s);
	return s.count[VM_PAGE_PAGETABLE];
}

/* A page to map, an empty pmap, and the page-table frames in use with it. */
struct table_fixture {
	struct vm_page *page;
	pmap_t pm;
	uint64_t tables;
};

static bool table_fixture_init(struct table_fixture *f)
{
	f->page = vm_page_alloc(VM_PAGE_KERNEL, VM_PAGE_ZERO);
	f->pm = pmap_create();
	f->tables = table_frames();
	return f->page && f->pm;
}

static void table_fixture_fini(struct table_fixture *f)
{
	pmap_destroy(f->pm);
	KT_EXPECT(f->page->pv_list == NULL);
	vm_page_free(f->page);
}

/* Maps the fixture's page, read-only, at each of the n addresses. */
static void enter_all(struct table_fixture *f, const vm_offset_t *va, int n)
{
	for (int i = 0; i < n; i++)
		KT_EXPECT_EQ(pmap_enter(f->pm, va[i], f->page, VM_PROT_READ, 0), KERN_SUCCESS);
}

KTEST(pmap, remove_frees_the_tables_it_empties)
{
	const vm_offset_t a = TEST_UVA, gib = 1ul << 30;
	/* two page tables under one directory, a second directory, a second PDPT */
	const vm_offset_t va[] = { a, a + (2ul << 20), a + gib, a + 512 * gib };
	struct table_fixture f;

	KT_ASSERT(table_fixture_init(&f));
	enter_all(&f, va, 4);
	KT_EXPECT_EQ(table_frames(), f.tables + 9);
	pmap_remove(f.pm, va[0], va[0] + PAGE_SIZE);        /* its page table only */
	KT_EXPECT_EQ(table_frames(), f.tables + 8);
	pmap_remove(f.pm, va[1], va[1] + PAGE_SIZE);        /* its page table and directory */
	KT_EXPECT_EQ(table_frames(), f.tables + 6);
	pmap_remove(f.pm, a, va[3] + PAGE_SIZE);            /* everything, both PDPTs */
	KT_EXPECT_EQ(table_frames(), f.tables);
	/* a table pmap_page_protect emptied goes with the next remove over it */
	enter_all(&f, va, 1);
	pmap_page_protect(f.page, VM_PROT_NONE);
	KT_EXPECT_EQ(table_frames(), f.tables + 3);
	pmap_remove(f.pm, a, a + PAGE_SIZE);
	KT_EXPECT_EQ(table_frames(), f.tables);
	table_fixture_fini(&f);
}

KTEST(pmap, a_failed_enter_leaves_no_table_behind)
{
	struct table_fixture f;

	KT_ASSERT(table_fixture_init(&f));
	/* two frames: a pv entry's or a PDPT, then a directory, but never the three tables */
	vm_page_set_reserve_floor(vm_page_free_count() - 2);
	kern_return_t kr = pmap_enter(f.pm, TEST_UVA, f.page, VM_PROT_READ, 0);
	vm_page_set_reserve_floor(0);
	KT_EXPECT_EQ(kr, KERN_RESOURCE_SHORTAGE);
	KT_EXPECT_EQ(table_frames(), f.tables);
	enter_all(&f, (const vm_offset_t[]){ TEST_UVA }, 1);
	table_fixture_fini(&f);
}

KTEST(pmap, pcid_tags_address_spaces)
{
	if (!cpu_features.pcid)
		KT_SKIP("CPU lacks PCID");
	pmap_t a = pmap_create(), b = pmap_create();
	KT_ASSERT(a && b);
	KT_EXPECT(read_cr4() & CR4_PCIDE);
	KT_EXPECT(pmap_pcid(a) != 0 && pmap_pcid(b) != 0 && pmap_pcid(a) != pmap_pcid(b));
	pmap_activate(a);
	KT_EXPECT_EQ(read_cr3() & 0xfff, pmap_pcid(a));
	pmap_activate(kernel_pmap);
	pmap_destroy(a);
	pmap_destroy(b);
}
