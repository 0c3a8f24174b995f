/*
 * TLB shootdown (docs/vm_write.md, "Many CPUs"): once a call that narrows
 * or removes a mapping returns, no CPU may still use the old translation.
 * Three threads of a task, each on a CPU of its own, keep counting in one
 * page; the test, on a fourth, makes the page read-only in the task's map
 * (or takes it away) and then reads it twice, a while apart: it must not
 * have changed, as every store after the call faults (and the fault ends
 * the task).  A CPU that kept its writable translation would go on
 * counting.  The same writers prove that task_suspend, too, stops every
 * store of the task's before it returns, and that a vm_write that
 * substitutes their page leaves no store landing in the old one.
 */
#include "kern/task.h"
#include "kern/thread.h"
#include "tests/harness/ktest.h"
#include "tests/kern/vm_user_test.h"
#include "vm/pmap.h"
#include "vm/vm_map_copy.h"
#include "vm/vm_object.h"
#include "vm/vm_page.h"

#define CODE_VA   0x400000ul
#define DATA_VA   0x600000ul
#define WRITERS   3

extern const uint8_t ucode_count_at_rdi[], ucode_count_at_rdi_end[];

/* A task whose WRITERS threads count, each in its own quadword of the page at DATA_VA. */
static struct task *counting_task(struct thread *threads[WRITERS])
{
	size_t len = (size_t)(ucode_count_at_rdi_end - ucode_count_at_rdi);
	struct task *task;
	vm_map_copy_t copy;

	KT_ASSERT_EQ(task_create(NULL, false, &task), KERN_SUCCESS);
	test_alloc_at(task->map, CODE_VA, PAGE_SIZE);
	test_alloc_at(task->map, DATA_VA, PAGE_SIZE);
	KT_ASSERT_EQ(vm_map_copy_from_kernel(ucode_count_at_rdi, len, &copy), KERN_SUCCESS);
	KT_ASSERT_EQ(vm_write(task->map, CODE_VA, copy, len), KERN_SUCCESS);
	KT_ASSERT_EQ(vm_protect(task->map, CODE_VA, PAGE_SIZE, false,
	                        VM_PROT_READ | VM_PROT_EXECUTE), KERN_SUCCESS);
	for (int i = 0; i < WRITERS; i++) {
		struct x86_thread_state64 regs = { .rip = CODE_VA, .rdi = DATA_VA + 64 * i,
		                                   .rsp = DATA_VA + PAGE_SIZE };
		KT_ASSERT_EQ(thread_create(task, &threads[i]), KERN_SUCCESS);
		KT_ASSERT_EQ(thread_set_state(threads[i], x86_THREAD_STATE64, &regs,
		                              x86_THREAD_STATE64_COUNT), KERN_SUCCESS);
	}
	return task;
}

/* Each writer runs, on a CPU of its own that is not this one. */
static bool spread(struct thread *const threads[WRITERS])
{
	unsigned seen = 1u << machine_cpu_number();

	for (int i = 0; i < WRITERS; i++) {
		unsigned bit = 1u << threads[i]->last_cpu;
		if (!threads[i]->running || (seen & bit))
			return false;
		seen |= bit;
	}
	return true;
}

/* Every writer's count has moved past what counts[] says. */
static bool all_counted(vm_map_t map, const uint64_t counts[WRITERS])
{
	uint64_t now[WRITERS];

	for (int i = 0; i < WRITERS; i++)
		if (vm_map_read(map, DATA_VA + 64 * i, &now[i], sizeof(now[i])) != KERN_SUCCESS ||
		    now[i] <= counts[i])
			return false;
	return true;
}

/* The writers' counts in map, now. */
static void read_counts(vm_map_t map, uint64_t counts[WRITERS])
{
	for (int i = 0; i < WRITERS; i++)
		KT_ASSERT_EQ(vm_map_read(map, DATA_VA + 64 * i, &counts[i], sizeof(counts[i])),
		             KERN_SUCCESS);
}

static void pause_ms(unsigned ms)
{
	uint64_t until = clock_ns() + ms * 1000000ull;

	while (clock_ns() < until)
		sched_yield();
}

/* Resumes the writers and waits until each counts, on a CPU of its own. */
static void start_counting(vm_map_t map, struct thread *threads[WRITERS])
{
	uint64_t zero[WRITERS] = { 0 };
	bool started = false;

	for (int i = 0; i < WRITERS; i++)
		KT_ASSERT_EQ(thread_resume(threads[i]), KERN_SUCCESS);
	KT_WAIT_FOR((started = spread(threads) && all_counted(map, zero)));
	KT_ASSERT(started);       /* as last seen: a writer may be preempted for a moment after */
}

/* The page at DATA_VA of map, read twice 50 ms apart: the same? */
static bool page_holds_still(vm_map_t map)
{
	static uint64_t before[PAGE_SIZE / 8], after[PAGE_SIZE / 8];

	if (vm_map_read(map, DATA_VA, before, PAGE_SIZE) != KERN_SUCCESS)
		return false;
	pause_ms(50);
	if (vm_map_read(map, DATA_VA, after, PAGE_SIZE) != KERN_SUCCESS)
		return false;
	return memcmp(before, after, PAGE_SIZE) == 0;
}

/*
 * The same with the page taken away: vm_deallocate in the writers' task,
 * while a second task, which shares the page (inherited VM_INHERIT_SHARE),
 * keeps it and reads it.
 */
KTEST(shootdown, no_store_lands_after_vm_deallocate_returns)
{
	struct thread *threads[WRITERS];
	struct task *sharer;

	if (machine_cpu_count() < WRITERS + 1)
		KT_SKIP("fewer than four CPUs");
	sched_bind(0);
	struct task *task = counting_task(threads);
	KT_ASSERT_EQ(vm_inherit(task->map, DATA_VA, PAGE_SIZE, VM_INHERIT_SHARE), KERN_SUCCESS);
	KT_ASSERT_EQ(task_create(task, true, &sharer), KERN_SUCCESS);
	start_counting(sharer->map, threads);       /* seen through the sharer: one page */
	KT_ASSERT_EQ(vm_deallocate(task->map, DATA_VA, PAGE_SIZE), KERN_SUCCESS);
	KT_EXPECT(page_holds_still(sharer->map));
	KT_EXPECT(task_wait_timeout(task, 2000000000ull));   /* each writer's store faulted */
	task_terminate(task);
	task_deallocate(task);
	task_terminate(sharer);
	task_deallocate(sharer);
	sched_bind(SCHED_ANY_CPU);
}

KTEST(shootdown, no_store_lands_after_vm_protect_returns)
{
	struct thread *threads[WRITERS];

	if (machine_cpu_count() < WRITERS + 1)
		KT_SKIP("fewer than four CPUs");
	sched_bind(0);                         /* the writers take the other CPUs */
	struct task *task = counting_task(threads);
	vm_map_t map = task->map;
	vm_map_reference(map);                 /* read after the writers' faults end the task */
	start_counting(map, threads);
	KT_ASSERT_EQ(vm_protect(map, DATA_VA, PAGE_SIZE, false, VM_PROT_READ), KERN_SUCCESS);
	KT_EXPECT(page_holds_still(map));
	KT_EXPECT(task_wait_timeout(task, 2000000000ull));   /* each writer's store faulted */
	task_terminate(task);
	task_deallocate(task);
	vm_map_deallocate(map);
	sched_bind(SCHED_ANY_CPU);
}

/*
 * A copy-in snapshot: the writers' page, page-aligned, is copied into
 * another task (vm_map_copyin shares it copy-on-write, which takes write
 * away from the writers' mappings) while they keep counting in it.  Once
 * the copy is in the target, no later store of theirs may show there: each
 * faults and writes a page of its own.
 */
KTEST(shootdown, a_page_copied_out_is_a_snapshot)
{
	struct thread *threads[WRITERS];
	struct task *target;
	vm_map_copy_t copy;

	if (machine_cpu_count() < WRITERS + 1)
		KT_SKIP("fewer than four CPUs");
	sched_bind(0);
	struct task *task = counting_task(threads);
	KT_ASSERT_EQ(task_create(NULL, false, &target), KERN_SUCCESS);
	test_alloc_at(target->map, DATA_VA, PAGE_SIZE);
	start_counting(task->map, threads);
	KT_ASSERT_EQ(vm_map_copyin(task->map, DATA_VA, PAGE_SIZE, &copy), KERN_SUCCESS);
	KT_ASSERT_EQ(vm_map_copy_overwrite(target->map, DATA_VA, copy), KERN_SUCCESS);
	KT_EXPECT(page_holds_still(target->map));
	uint64_t counts[WRITERS];
	read_counts(target->map, counts);
	KT_WAIT_FOR(all_counted(task->map, counts));
	KT_EXPECT(all_counted(task->map, counts));  /* they count on, in pages of their own */
	task_terminate(task);
	task_deallocate(task);
	task_terminate(target);
	task_deallocate(target);
	sched_bind(SCHED_ANY_CPU);
}

/*
 * task_suspend returns, as Mach's does, once every thread of the task is
 * stopped: the writers, counting on three other CPUs, store nothing after
 * the call, and count again once the task is resumed.
 */
KTEST(shootdown, no_store_lands_after_task_suspend_returns)
{
	struct thread *threads[WRITERS];
	uint64_t counts[WRITERS];

	if (machine_cpu_count() < WRITERS + 1)
		KT_SKIP("fewer than four CPUs");
	sched_bind(0);
	struct task *task = counting_task(threads);
	start_counting(task->map, threads);
	KT_ASSERT_EQ(task_suspend(task), KERN_SUCCESS);
	KT_EXPECT(page_holds_still(task->map));
	for (int i = 0; i < WRITERS; i++)
		KT_EXPECT(!threads[i]->running);
	read_counts(task->map, counts);
	KT_ASSERT_EQ(task_resume(task), KERN_SUCCESS);
	KT_WAIT_FOR(all_counted(task->map, counts));
	KT_EXPECT(all_counted(task->map, counts));
	task_terminate(task);
	task_deallocate(task);
	sched_bind(SCHED_ANY_CPU);
}

/* The first page of obj, which must be resident, through the kernel's direct map. */
static const uint64_t *object_first_page(struct vm_object *obj)
{
	spin_lock(&obj->lock);
	struct vm_page *p = vm_object_page_lookup(obj, 0);
	spin_unlock(&obj->lock);
	KT_ASSERT(p != NULL);
	return pmap_phys_to_virt(vm_page_to_phys(p));
}

/* The object map's entry at addr maps, with a reference for the caller. */
static struct vm_object *object_at(vm_map_t map, vm_address_t addr)
{
	KT_ASSERT(vm_map_lock(map));
	struct vm_map_entry *e = vm_map_lookup_entry(map, addr);
	struct vm_object *obj = e ? e->object : NULL;
	if (obj)
		vm_object_reference(obj);
	vm_map_unlock(map);
	KT_ASSERT(obj != NULL);
	return obj;
}

/* Does the page at page, read twice 50 ms apart, hold still? */
static bool frame_holds_still(const uint64_t *page)
{
	static uint64_t before[PAGE_SIZE / 8];

	memcpy(before, page, PAGE_SIZE);
	pause_ms(50);
	return memcmp(before, page, PAGE_SIZE) == 0;
}

/* Does the page at DATA_VA of map hold test_fill(seed)'s bytes, the writers' counts aside? */
static bool holds_fill_but_counts(vm_map_t map, uint8_t seed)
{
	static uint8_t page[PAGE_SIZE];

	if (vm_map_read(map, DATA_VA, page, PAGE_SIZE) != KERN_SUCCESS)
		return false;
	for (size_t i = 0; i < PAGE_SIZE; i++)
		if (!(i / 64 < WRITERS && i % 64 < 8) && page[i] != test_byte(i, seed))
			return false;
	return true;
}

/*
 * Page substitution: a page-aligned vm_write of a whole page into the
 * writers' page gives their entry the copy's page in place of theirs, and
 * the old page is let go.  Kept here by a reference on its object, the
 * old page must hold still once vm_write returns: a writer still holding
 * its old translation would count on in it (or, the page freed, in
 * whatever the frame became).  The writers count on in the new page, from
 * the values written, and nothing else of it changes.
 */
KTEST(shootdown, no_store_lands_in_the_old_page_after_vm_write_substitutes)
{
	struct thread *threads[WRITERS];
	struct task *source;
	vm_map_copy_t copy;
	uint64_t written[WRITERS];

	if (machine_cpu_count() < WRITERS + 1)
		KT_SKIP("fewer than four CPUs");
	sched_bind(0);
	struct task *task = counting_task(threads);
	KT_ASSERT_EQ(task_create(NULL, false, &source), KERN_SUCCESS);
	test_alloc_at(source->map, DATA_VA, PAGE_SIZE);
	test_fill(source->map, DATA_VA, PAGE_SIZE, 0x35);
	read_counts(source->map, written);
	start_counting(task->map, threads);
	struct vm_object *old = object_at(task->map, DATA_VA);
	const uint64_t *old_page = object_first_page(old);
	KT_ASSERT_EQ(vm_map_copyin(source->map, DATA_VA, PAGE_SIZE, &copy), KERN_SUCCESS);
	KT_ASSERT_EQ(vm_write(task->map, DATA_VA, copy, PAGE_SIZE), KERN_SUCCESS);
	struct vm_object *now = object_at(task->map, DATA_VA);
	KT_EXPECT(now != old);                     /* substituted, not copied */
	vm_object_deallocate(now);
	KT_EXPECT(frame_holds_still(old_page));
	KT_WAIT_FOR(all_counted(task->map, written));
	KT_EXPECT(all_counted(task->map, written));   /* on in the new page, from what came */
	KT_EXPECT(holds_fill_but_counts(task->map, 0x35));
	task_terminate(task);
	task_deallocate(task);
	task_terminate(source);
	task_deallocate(source);
	vm_object_deallocate(old);
	sched_bind(SCHED_ANY_CPU);
}
