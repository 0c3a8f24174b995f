/*
 * Tasks and threads: kernel threads taking turns, sleep and wakeup, user
 * code in ring 3 through SYSCALL, faults that end a task but not the
 * kernel, thread state, and 1,000 task lifetimes without a leak.
 */
#include "arch/x86_64/layout.h"
#include "arch/x86_64/percpu.h"
#include "ipc/ipc_port.h"
#include "kern/clock.h"
#include "kern/exec.h"
#include "kern/machine.h"
#include <mica/elf64.h>
#include "kern/programs.h"
#include "kern/sched.h"
#include "kern/task.h"
#include "kern/thread.h"
#include "tests/kern/vm_user_test.h"
#include "vm/vm_fault.h"
#include <mica/syscall.h>

extern char _text_start[], _data_start[], boot_stack_guard[];   /* linker.ld, entry.asm */

#define CODE_VA  0x400000ul
#define STACK_VA 0x800000ul

#define ROUTINE(name) extern const uint8_t name[], name##_end[]
ROUTINE(ucode_exit42);
ROUTINE(ucode_touch_exit);
ROUTINE(ucode_yield_exit);
ROUTINE(ucode_write_exit);
ROUTINE(ucode_bad_syscall);
ROUTINE(ucode_write_text);
ROUTINE(ucode_read_kernel);
ROUTINE(ucode_hlt);
ROUTINE(ucode_jump_rdi);
ROUTINE(ucode_syscall_at_rdi);
ROUTINE(ucode_read_rdi);
ROUTINE(ucode_write_rdi);
ROUTINE(ucode_syscall_in_segment_rdi);
ROUTINE(ucode_far_return_rdi);
#define CODE(name) name, (size_t)(name##_end - name)

/* A task whose one page of code (R-X) is code, with a stack page; not yet running. */
static struct task *task_with_code(const uint8_t *code, size_t len, uint64_t rdi,
                                   struct thread **thread)
{
	struct task *task;
	struct x86_thread_state64 regs = { .rip = CODE_VA, .rsp = STACK_VA + PAGE_SIZE, .rdi = rdi };

	KT_ASSERT_EQ(task_create(NULL, false, &task), KERN_SUCCESS);
	test_alloc_at(task->map, CODE_VA, PAGE_SIZE);
	test_alloc_at(task->map, STACK_VA, PAGE_SIZE);
	vm_map_copy_t copy;
	KT_ASSERT_EQ(vm_map_copy_from_kernel(code, len, &copy), KERN_SUCCESS);
	KT_ASSERT_EQ(vm_write(task->map, CODE_VA, copy, len), KERN_SUCCESS);
	KT_ASSERT_EQ(vm_protect(task->map, CODE_VA, PAGE_SIZE, false,
	                        VM_PROT_READ | VM_PROT_EXECUTE), KERN_SUCCESS);
	KT_ASSERT_EQ(thread_create(task, thread), KERN_SUCCESS);
	KT_ASSERT_EQ(thread_set_state(*thread, x86_THREAD_STATE64, &regs, x86_THREAD_STATE64_COUNT),
	             KERN_SUCCESS);
	return task;
}

/* Runs code in a fresh task until it ends; returns its exit status. */
static int run_code(const uint8_t *code, size_t len, uint64_t rdi)
{
	struct thread *t;
	struct task *task = task_with_code(code, len, rdi, &t);

	KT_ASSERT_EQ(thread_resume(t), KERN_SUCCESS);
	task_wait(task);
	int status = task->exit_status;
	task_deallocate(task);
	return status;
}

/* A spawned program's console, shown as KTAP diagnostics so its lines cannot pass for results. */
struct diag_lines {
	char line[160];
	size_t len;
};

static void as_diagnostics(struct task *task, const char *buf, size_t len, void *arg)
{
	struct diag_lines *d = arg;

	(void)task;
	for (size_t i = 0; i < len; i++) {
		if (buf[i] != '\n' && d->len < sizeof(d->line))
			d->line[d->len++] = buf[i];
		if (buf[i] == '\n' || d->len == sizeof(d->line)) {
			kprintf("    # %.*s\n", (int)d->len, d->line);
			d->len = 0;
		}
	}
}

/* Starts two programs at once and expects both to exit 0 within a minute. */
/*
 * Runs n (1 or 2) programs at once to their ends, what they print (and
 * their children) becoming diagnostics; each must exit 0.
 */
static void run_programs(const char *const *names, int n)
{
	static struct diag_lines lines[2];
	struct task *tasks[2];
	const char *why;

	for (int i = 0; i < n; i++) {
		lines[i].len = 0;
		KT_ASSERT_EQ(task_spawn_with_output(NULL, names[i], as_diagnostics, &lines[i],
		                                    &tasks[i], &why), KERN_SUCCESS);
	}
	for (int i = 0; i < n; i++) {
		KT_EXPECT(task_wait_timeout(tasks[i], 60ull * 1000 * 1000 * 1000));
		KT_EXPECT_EQ(tasks[i]->exit_status, 0);
		task_deallocate(tasks[i]);
	}
}

KTEST(task, user_code_runs_and_exits_with_its_status)
{
	KT_EXPECT_EQ(run_code(CODE(ucode_exit42), 0), 42);
	KT_EXPECT_EQ(run_code(CODE(ucode_touch_exit), 5), 5);
	KT_EXPECT_EQ(run_code(CODE(ucode_yield_exit), 0), 7);
}

KTEST(task, system_calls_refuse_bad_input)
{
	KT_EXPECT_EQ(run_code(CODE(ucode_write_exit), 0xffffffff80200000ul), KERN_INVALID_ADDRESS);
	KT_EXPECT_EQ(run_code(CODE(ucode_write_exit), 0x0000800000000000ul), KERN_INVALID_ADDRESS);
	KT_EXPECT_EQ(run_code(CODE(ucode_write_exit), 0x7000000ul), KERN_INVALID_ADDRESS);
	KT_EXPECT_EQ(run_code(CODE(ucode_write_exit), ~0ul - 1), KERN_INVALID_ADDRESS);
	KT_EXPECT_EQ(run_code(CODE(ucode_bad_syscall), 0), KERN_INVALID_ARGUMENT);
}

KTEST(task, faults_end_the_task_not_the_kernel)
{
	KT_EXPECT_EQ(run_code(CODE(ucode_write_text), 0), TASK_KILLED);
	KT_EXPECT_EQ(run_code(CODE(ucode_read_kernel), 0), TASK_KILLED);
	KT_EXPECT_EQ(run_code(CODE(ucode_hlt), 0), TASK_KILLED);
	KT_EXPECT_EQ(run_code(CODE(ucode_jump_rdi), 0x0000800000000000ul), TASK_KILLED);
	KT_EXPECT_EQ(run_code(CODE(ucode_jump_rdi), STACK_VA), TASK_KILLED);   /* NX data */
	KT_EXPECT_EQ(run_code(CODE(ucode_jump_rdi), 0), TASK_KILLED);          /* the null guard */
	KT_EXPECT_EQ(run_code(CODE(ucode_exit42), 0), 42);                     /* and life goes on */
}

KTEST(task, thread_state_round_trips)
{
	struct thread *t;
	struct task *task = task_with_code(CODE(ucode_exit42), 0x1234, &t);
	struct x86_thread_state64 s;
	unsigned count = x86_THREAD_STATE64_COUNT;

	KT_EXPECT_EQ(thread_get_state(t, x86_THREAD_STATE64, &s, &count), KERN_SUCCESS);
	KT_EXPECT_EQ(s.rdi, 0x1234);
	KT_EXPECT_EQ(s.rip, CODE_VA);
	KT_EXPECT(s.rflags & (1 << 9));                   /* interrupts stay on in user mode */
	count = 3;
	KT_EXPECT_EQ(thread_get_state(t, x86_THREAD_STATE64, &s, &count), KERN_INVALID_ARGUMENT);
	KT_EXPECT_EQ(thread_set_state(t, 99, &s, x86_THREAD_STATE64_COUNT), KERN_INVALID_ARGUMENT);
	thread_resume(t);
	task_wait(task);
	KT_EXPECT_EQ(task->exit_status, 42);
	task_deallocate(task);
}

static volatile unsigned turns[2], bound;
static volatile int last_turn = -1, switches;

static void take_turns(void *arg)
{
	unsigned me = (unsigned)(uintptr_t)arg;

	sched_bind(0);                         /* taking turns is one CPU's matter */
	__atomic_add_fetch(&bound, 1, __ATOMIC_RELAXED);
	while (bound < 2)
		sched_yield();                 /* the other may reach CPU 0 later */
	for (int i = 0; i < 50; i++) {
		turns[me]++;
		if (last_turn != (int)me)
			switches++;
		last_turn = (int)me;
		sched_yield();
	}
}

KTEST(task, kernel_threads_take_turns)
{
	unsigned before = thread_count();

	turns[0] = turns[1] = bound = 0;
	switches = 0;
	sched_bind(0);
	KT_ASSERT(thread_create_kernel("turn0", take_turns, (void *)0) != NULL);
	KT_ASSERT(thread_create_kernel("turn1", take_turns, (void *)1) != NULL);
	while (turns[0] < 50 || turns[1] < 50)
		sched_yield();
	sched_yield();                                    /* let them finish and be reaped */
	sched_yield();
	KT_EXPECT_EQ(turns[0], 50);
	KT_EXPECT_EQ(turns[1], 50);
	KT_EXPECT(switches > 50);                         /* interleaved, not one after the other */
	sched_bind(SCHED_ANY_CPU);
	KT_WAIT_FOR(thread_count() == before);
	KT_EXPECT_EQ(thread_count(), before);
}

static volatile int woken;

static void sleeper(void *event)
{
	assert_wait(event, "a test's wakeup");
	KT_EXPECT_EQ(thread_block(), THREAD_AWAKENED);
	woken++;
}

KTEST(task, wait_until_wakeup)
{
	static int event;

	woken = 0;
	struct thread *a = thread_create_kernel("sleeper", sleeper, &event);
	struct thread *b = thread_create_kernel("sleeper", sleeper, &event);
	KT_ASSERT(a != NULL && b != NULL);
	KT_WAIT_FOR(a->state == THREAD_WAITING && b->state == THREAD_WAITING);  /* other CPUs too */
	for (int i = 0; i < 10; i++)
		sched_yield();
	KT_EXPECT_EQ(woken, 0);                           /* asleep, however often we yield */
	thread_wakeup_one(&event);
	KT_WAIT_FOR(woken >= 1);
	for (int i = 0; i < 10; i++)
		sched_yield();
	KT_EXPECT_EQ(woken, 1);                           /* one only */
	thread_wakeup(&event);
	KT_WAIT_FOR(woken == 2);
	KT_EXPECT_EQ(woken, 2);
}

KTEST(task, a_thousand_lifetimes_leak_nothing)
{
	struct leak_counts before;
	unsigned tasks = task_count(), threads = thread_count();

	run_code(CODE(ucode_touch_exit), 0);               /* grow the zones once */
	before = test_leak_counts();
	uint64_t ports = ipc_port_count();
	for (int i = 0; i < 1000; i++)
		KT_ASSERT_EQ(run_code(CODE(ucode_touch_exit), (uint64_t)i & 0x7f), i & 0x7f);
	KT_EXPECT_NO_LEAK(before);
	KT_EXPECT_EQ(task_count(), tasks);
	KT_WAIT_FOR(thread_count() == threads);
	KT_EXPECT_EQ(thread_count(), threads);
	KT_EXPECT_EQ(ipc_port_count(), ports);
}

#define NSEC_PER_SEC 1000000000ull

static volatile uint64_t spins[2];
static volatile bool stop_spinning;

/* Spins with interrupts on and never yields: only the clock can take the CPU away. */
static void spin(void *arg)
{
	unsigned me = (unsigned)(uintptr_t)arg;

	sched_bind(0);                         /* preempted, not each on a CPU of its own */
	machine_interrupts_on();
	while (!stop_spinning)
		spins[me]++;
	machine_interrupts_off();
}

KTEST(task, preempted_threads_both_make_progress)
{
	uint64_t start = clock_ticks(), until = clock_ns() + 20 * NSEC_PER_SEC;

	spins[0] = spins[1] = 0;
	stop_spinning = false;
	sched_bind(0);
	KT_ASSERT(thread_create_kernel("spin0", spin, (void *)0) != NULL);
	KT_ASSERT(thread_create_kernel("spin1", spin, (void *)1) != NULL);
	/* each turn we get ends with our quantum, after which both spinners ran a while */
	while ((spins[0] < 1000 || spins[1] < 1000) && clock_ns() < until)
		sched_yield();
	stop_spinning = true;
	for (int i = 0; i < 4; i++)
		sched_yield();
	KT_EXPECT(spins[0] >= 1000);
	KT_EXPECT(spins[1] >= 1000);
	KT_EXPECT(clock_ticks() > start);
	sched_bind(SCHED_ANY_CPU);
}

KTEST(task, one_task_writes_into_another)
{
	/* the writer spawns the target and exits 0 once every answer was right and it ended */
	static const char *const writer[] = { "demo_writer" };

	run_programs(writer, 1);
}

KTEST(task, malformed_programs_are_refused_with_a_reason)
{
	const struct program *p = program_find("demo_target");
	size_t size = p->end - p->start;
	uint8_t *image = kalloc(size);
	struct task *task;
	vm_address_t entry, sp;
	const char *why = NULL;
	unsigned tasks = task_count();

	KT_ASSERT(image != NULL);
	static const struct { size_t off; uint8_t value; size_t len; const char *why; } cases[] = {
		{ 0, 'X', 0, "not an ELF file" },                           /* bad magic */
		{ 4, 1, 0, "not a little-endian ELF64 x86-64 file" },       /* ELF32 */
		{ 16, 3, 0, "not an executable" },                          /* ET_DYN */
		{ 0, 0, 100, "program headers missing or outside the file" }, /* truncated */
	};
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memcpy(image, p->start, size);
		if (cases[i].len == 0)
			image[cases[i].off] = cases[i].value;
		KT_ASSERT_EQ(task_create(NULL, false, &task), KERN_SUCCESS);
		KT_EXPECT_EQ(exec_load(task, image, cases[i].len ? cases[i].len : size, &entry, &sp, &why),
		             KERN_INVALID_ARGUMENT);
		KT_EXPECT_STREQ(why, cases[i].why);
		task_deallocate(task);
	}
	/* a segment moved into kernel space, and two segments made to overlap */
	struct elf64_ehdr *h = (struct elf64_ehdr *)image;
	struct elf64_phdr *ph = (struct elf64_phdr *)(image + h->phoff);
	unsigned loads[2], n = 0;
	memcpy(image, p->start, size);
	for (unsigned i = 0; i < h->phnum && n < 2; i++)
		if (ph[i].type == PT_LOAD)
			loads[n++] = i;
	KT_ASSERT_EQ(n, 2);
	ph[loads[0]].vaddr = 0xffffffff80000000ul;
	KT_ASSERT_EQ(task_create(NULL, false, &task), KERN_SUCCESS);
	KT_EXPECT_EQ(exec_load(task, image, size, &entry, &sp, &why), KERN_INVALID_ARGUMENT);
	KT_EXPECT_STREQ(why, "a segment lies outside user space (or on the null guard or the stack)");
	task_deallocate(task);
	memcpy(image, p->start, size);
	ph[loads[1]].vaddr = ph[loads[0]].vaddr;
	KT_ASSERT_EQ(task_create(NULL, false, &task), KERN_SUCCESS);
	KT_EXPECT_EQ(exec_load(task, image, size, &entry, &sp, &why), KERN_INVALID_ARGUMENT);
	KT_EXPECT_STREQ(why, "two segments overlap (or share a page)");
	task_deallocate(task);
	kfree(image, size);
	KT_EXPECT_EQ(task_count(), tasks);
}

KTEST(task, sysret_to_a_non_canonical_address_kills_only_the_task)
{
	static const uint8_t syscall_insn[] = { 0x0f, 0x05 };
	vm_address_t last = USER_MAX - PAGE_SIZE;
	struct thread *t;
	struct task *task = task_with_code(CODE(ucode_syscall_at_rdi), USER_MAX - 2, &t);

	/* a SYSCALL in the last two bytes of user space returns to 2^47: not canonical */
	test_alloc_at(task->map, last, PAGE_SIZE);
	vm_map_copy_t copy;
	KT_ASSERT_EQ(vm_map_copy_from_kernel(syscall_insn, 2, &copy), KERN_SUCCESS);
	KT_ASSERT_EQ(vm_write(task->map, USER_MAX - 2, copy, 2), KERN_SUCCESS);
	vm_protect(task->map, last, PAGE_SIZE, false, VM_PROT_READ | VM_PROT_EXECUTE);
	thread_resume(t);
	task_wait(task);
	KT_EXPECT_EQ(task->exit_status, TASK_KILLED);
	task_deallocate(task);
	KT_EXPECT_EQ(run_code(CODE(ucode_exit42), 0), 42);        /* the kernel is fine */
}

KTEST(task, suspended_tasks_do_not_run)
{
	struct thread *t;
	struct task *task = task_with_code(CODE(ucode_yield_exit), 0, &t);

	KT_EXPECT_EQ(task_suspend(task), KERN_SUCCESS);
	KT_EXPECT_EQ(task_suspend(task), KERN_SUCCESS);         /* counted */
	thread_resume(t);
	for (int i = 0; i < 300; i++)
		sched_yield();
	KT_EXPECT(!task->terminated);
	KT_EXPECT_EQ(task_resume(task), KERN_SUCCESS);
	for (int i = 0; i < 300; i++)
		sched_yield();
	KT_EXPECT(!task->terminated);                           /* one suspend is still in force */
	KT_EXPECT_EQ(task_resume(task), KERN_SUCCESS);
	KT_EXPECT_EQ(task_resume(task), KERN_FAILURE);
	task_wait(task);
	KT_EXPECT_EQ(task->exit_status, 7);
	KT_EXPECT_EQ(task_suspend(task), KERN_INVALID_ARGUMENT); /* it is gone */
	task_deallocate(task);
}

KTEST(task, a_child_inherits_memory_by_each_regions_inheritance)
{
	struct task *parent, *child;
	uint8_t b;

	KT_ASSERT_EQ(task_create(NULL, false, &parent), KERN_SUCCESS);
	test_alloc_at(parent->map, CODE_VA, 3 * PAGE_SIZE);
	test_fill(parent->map, CODE_VA, 3 * PAGE_SIZE, 0x40);
	vm_inherit(parent->map, CODE_VA, PAGE_SIZE, VM_INHERIT_SHARE);
	vm_inherit(parent->map, CODE_VA + 2 * PAGE_SIZE, PAGE_SIZE, VM_INHERIT_NONE);
	KT_ASSERT_EQ(task_create(parent, true, &child), KERN_SUCCESS);
	KT_EXPECT(child->threads == NULL);                       /* a new task has no threads */
	test_fill(child->map, CODE_VA, 2 * PAGE_SIZE, 0x41);
	KT_EXPECT(test_holds(parent->map, CODE_VA, PAGE_SIZE, 0x41));              /* shared */
	KT_ASSERT_EQ(vm_map_read(parent->map, CODE_VA + PAGE_SIZE, &b, 1), KERN_SUCCESS);
	KT_EXPECT_EQ(b, test_byte(PAGE_SIZE, 0x40));                               /* copied */
	KT_EXPECT_EQ(vm_map_read(child->map, CODE_VA + 2 * PAGE_SIZE, &b, 1), KERN_INVALID_ADDRESS);
	struct task *orphan;
	KT_EXPECT_EQ(task_create(NULL, true, &orphan), KERN_INVALID_ARGUMENT);  /* no parent */
	task_deallocate(child);
	task_deallocate(parent);
}

KTEST(task, fpu_state_is_per_thread)
{
	/* two copies at once: each yields with live XMM registers to the other */
	static const char *const pair[] = { "fpu", "fpu" };

	run_programs(pair, 2);
}

KTEST(task, spawning_an_unknown_program_fails_cleanly)
{
	unsigned tasks = task_count();
	struct task *t = NULL;

	KT_EXPECT_EQ(task_spawn(NULL, "no_such_program", &t), KERN_INVALID_ARGUMENT);
	KT_EXPECT(t == NULL);
	KT_EXPECT_EQ(task_count(), tasks);
}

/*
 * hostile: ring 3 against the kernel's walls.  Had the kernel got any of
 * these wrong, the machine would hang (a fault that refills forever, a
 * clock whose registers turned into RAM, ring 0 entered on the user's
 * stack), so the suite runs last in its boot.
 */

/* Kernel addresses of every kind, mapped or not, and the non-canonical ones beside them. */
static unsigned kernel_addresses(uint64_t *out)
{
	const struct vm_map_entry *first = kernel_map->header.next, *last = kernel_map->header.prev;
	unsigned n = 0;

	out[n++] = first->start;                  /* the local APIC's registers */
	out[n++] = last->end - PAGE_SIZE;         /* the newest kernel_map memory */
	out[n++] = last->end + 16 * PAGE_SIZE;    /* kernel VM nobody holds */
	out[n++] = KVA_BASE;                      /* the first kernel stack's guard page */
	out[n++] = KVA_BASE + PAGE_SIZE;          /* and that stack */
	out[n++] = DMAP_BASE;                     /* RAM, through the direct map */
	out[n++] = (uint64_t)_text_start;
	out[n++] = (uint64_t)_data_start;
	out[n++] = (uint64_t)boot_stack_guard;
	out[n++] = ~(uint64_t)PAGE_MASK;          /* the last page of the address space */
	out[n++] = USER_MAX;                      /* non-canonical, just above user space */
	out[n++] = DMAP_BASE - PAGE_SIZE;         /* non-canonical, just below the kernel half */
	return n;
}

/* Does the timer tick within 100 ms (of the cycle counter's time), interrupts let in? */
static bool clock_still_ticks(void)
{
	uint64_t before = clock_ticks(), until = clock_ns() + 100ull * 1000 * 1000;

	__asm__ volatile("sti" ::: "memory");
	while (clock_ticks() == before && clock_ns() < until)
		__asm__ volatile("pause" ::: "memory");
	__asm__ volatile("cli" ::: "memory");
	return clock_ticks() != before;
}

/* Where kernel_map's first page (the APIC's) leads in the page tables, or 0. */
static paddr_t first_kernel_page_frame(void)
{
	paddr_t pa;

	return pmap_extract(kernel_pmap, kernel_map->header.next->start, &pa) ? pa : 0;
}

KTEST_LAST(hostile, user_access_to_any_kernel_address_ends_the_task)
{
	uint64_t addr[16];
	unsigned n = kernel_addresses(addr), entries = vm_map_entry_count(kernel_map);
	paddr_t apic = first_kernel_page_frame();

	KT_ASSERT(kernel_map->header.next->device);
	for (unsigned i = 0; i < n; i++) {
		KT_EXPECT_EQ(run_code(CODE(ucode_read_rdi), addr[i]), TASK_KILLED);
		KT_EXPECT_EQ(run_code(CODE(ucode_write_rdi), addr[i]), TASK_KILLED);
		KT_EXPECT_EQ(run_code(CODE(ucode_jump_rdi), addr[i]), TASK_KILLED);
	}
	/* and nothing of the kernel's moved: no entry, no page, and the clock ticks on */
	KT_EXPECT_EQ(vm_map_entry_count(kernel_map), entries);
	KT_EXPECT_EQ(first_kernel_page_frame(), apic);
	KT_EXPECT(clock_still_ticks());
}

KTEST_LAST(hostile, no_fault_fills_a_device_page)
{
	vm_offset_t va = kernel_map->header.next->start;
	paddr_t apic = first_kernel_page_frame();

	KT_EXPECT_EQ(vm_fault(kernel_map, va, VM_PROT_READ), KERN_MEMORY_FAILURE);
	KT_EXPECT_EQ(vm_fault(kernel_map, va, VM_PROT_WRITE), KERN_MEMORY_FAILURE);
	KT_EXPECT_EQ(first_kernel_page_frame(), apic);
}

KTEST_LAST(hostile, syscall_outside_64_bit_mode_ends_the_task)
{
	/* the slot a 32-bit user code segment would take, kernel code, data and the TSS */
	static const uint64_t selectors[] = {
		SEL_SYSRET_BASE, SEL_KCODE | 3, SEL_KDATA | 3, SEL_TSS | 3, SEL_UDATA,
	};

	for (unsigned i = 0; i < sizeof(selectors) / sizeof(selectors[0]); i++) {
		KT_EXPECT_EQ(run_code(CODE(ucode_syscall_in_segment_rdi), selectors[i]), TASK_KILLED);
		KT_EXPECT_EQ(run_code(CODE(ucode_far_return_rdi), selectors[i]), TASK_KILLED);
	}
	/* into 64-bit code, the jump works and exits; the far return reaches its ud2, or,
	 * under QEMU, faults first reading its stack as the kernel */
	KT_EXPECT_EQ(run_code(CODE(ucode_syscall_in_segment_rdi), SEL_UCODE), 7);
	KT_EXPECT_EQ(run_code(CODE(ucode_far_return_rdi), SEL_UCODE), TASK_KILLED);
	KT_EXPECT(clock_still_ticks());
}
