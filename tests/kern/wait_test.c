/*
 * Waits that sleep: a thread blocked in mach_msg is never given the CPU
 * until it is woken, a receive's timeout ends it no earlier than asked
 * and about a tick later at most, and terminating a task whose threads
 * are blocked in receive and in send leaves nothing behind.
 *
 * The waiting threads are kernel threads that turn interrupts off; the
 * test thread lets time pass with interrupts on, yielding, so that any
 * thread still runnable would be given the CPU.  A thread waiting for a
 * map's lock is inside a call that holds memory: terminating it makes it
 * unwind the call, which fails, and nothing it held stays behind.
 */
#include "ipc/ipc_port.h"
#include "ipc/ipc_space.h"
#include "ipc/mach_msg.h"
#include "kern/clock.h"
#include "kern/machine.h"
#include "kern/mach_port_server.h"
#include "kern/sched.h"
#include "kern/task.h"
#include "kern/thread.h"
#include "tests/harness/ktest.h"
#include "tests/kern/vm_user_test.h"
#include "vm/vm_map_copy.h"

#define NS_PER_MS 1000000ull

/* Lets n clock ticks pass, offering the CPU to every runnable thread meanwhile. */
static void let_ticks_pass(uint64_t n)
{
	uint64_t start = clock_ticks();

	machine_interrupts_on();
	while (clock_ticks() - start < n)
		sched_yield();
	machine_interrupts_off();
}

/* The same, until done is set or n ticks have passed. */
static void yield_until(volatile bool *done, uint64_t n)
{
	uint64_t start = clock_ticks();

	machine_interrupts_on();
	while (!*done && clock_ticks() - start < n)
		sched_yield();
	machine_interrupts_off();
}

/* What one waiting thread does: mach_msg on a name of space, with its outcome. */
struct waiter {
	struct ipc_space *space;
	mach_port_name_t name;
	bool send;                     /* a send to name, else a receive from it */
	mach_msg_timeout_t ms[3];      /* with MACH_*_TIMEOUT, if nonzero; up to 3 in turn */
	mach_msg_return_t mr[3];
	uint64_t took_ns[3];
	volatile bool done;
};

static mach_msg_return_t waiter_call(struct waiter *w, mach_msg_timeout_t ms)
{
	mach_msg_header_t m = {
		.msgh_bits = MACH_MSGH_BITS(MACH_MSG_TYPE_MAKE_SEND, 0),
		.msgh_size = sizeof(m),
		.msgh_remote_port = w->name,
	};

	if (w->send)
		return ipc_msg_send(w->space, NULL, &m, sizeof(m), ms ? MACH_SEND_TIMEOUT : 0, ms);
	return ipc_msg_receive(w->space, NULL, w->name, &m, sizeof(m), ms ? MACH_RCV_TIMEOUT : 0,
	                       ms);
}

static void waiter_run(void *arg)
{
	struct waiter *w = arg;

	machine_interrupts_off();
	for (int i = 0; i < 3 && (i == 0 || w->ms[i]); i++) {
		uint64_t start = clock_ns();
		w->mr[i] = waiter_call(w, w->ms[i]);
		w->took_ns[i] = clock_ns() - start;
	}
	w->done = true;
}

/* A kernel thread running w, in task if there is one. */
static struct thread *start_waiter(struct waiter *w, struct task *task)
{
	struct thread *t = thread_create_kernel("waiter", waiter_run, w);

	KT_ASSERT(t != NULL);
	if (task)
		task_add_thread(task, t);          /* before it first runs: we have not yielded */
	return t;
}

KTEST(wait, a_thread_blocked_in_receive_is_never_run)
{
	struct waiter w = { .space = ipc_space_create() };

	KT_ASSERT(w.space != NULL);
	KT_ASSERT_EQ(mach_port_allocate(w.space, MACH_PORT_RIGHT_RECEIVE, &w.name), KERN_SUCCESS);
	struct thread *t = start_waiter(&w, NULL);
	let_ticks_pass(2);                                  /* it runs, and blocks */
	KT_WAIT_FOR(t->state == THREAD_WAITING);            /* on another CPU, perhaps later */
	KT_EXPECT_EQ(t->state, THREAD_WAITING);
	uint64_t switches = t->switches;
	let_ticks_pass(110);
	KT_EXPECT_EQ(t->switches, switches);                /* not once in 110 ticks */
	KT_EXPECT_EQ(t->state, THREAD_WAITING);
	struct waiter sender = { .space = w.space, .name = w.name, .send = true };
	waiter_call(&sender, 0);
	yield_until(&w.done, 100);
	KT_EXPECT(w.done);
	KT_EXPECT_EQ(w.mr[0], MACH_MSG_SUCCESS);
	ipc_space_destroy(w.space);
}

/*
 * One waiter's three receives with timeouts: each must end
 * MACH_RCV_TIMED_OUT, never early (checked here), and says whether each
 * ended within two quanta of its deadline.
 */
static bool timeouts_in_time(void)
{
	struct waiter w = { .ms = { 1, 5, 20 } };
	uint64_t tick_ns = SCHED_QUANTUM_NS;        /* a woken thread may wait out a quantum */
	bool in_time = true;

	w.space = ipc_space_create();
	KT_ASSERT(w.space != NULL);
	KT_ASSERT_EQ(mach_port_allocate(w.space, MACH_PORT_RIGHT_RECEIVE, &w.name), KERN_SUCCESS);
	struct thread *t = start_waiter(&w, NULL);
	uint64_t switches = t->switches;
	KT_WAIT_FOR(w.done);
	KT_ASSERT(w.done);
	KT_EXPECT(t->switches - switches <= 5);   /* its start (a tick may preempt it before it
	                                             turns interrupts off), then once per timeout */
	for (int i = 0; i < 3; i++) {
		uint64_t asked = w.ms[i] * NS_PER_MS;
		KT_EXPECT_EQ(w.mr[i], MACH_RCV_TIMED_OUT);
		if (w.took_ns[i] < asked)
			ktest_fail_at(__FILE__, __LINE__, "a %u ms timeout ended early, after %llu us",
			              w.ms[i], (unsigned long long)(w.took_ns[i] / 1000));
		if (w.took_ns[i] > asked + 2 * tick_ns) {
			kprintf("    # a %u ms timeout took %llu us\n", w.ms[i],
			        (unsigned long long)(w.took_ns[i] / 1000));
			in_time = false;
		}
	}
	ipc_space_destroy(w.space);
	return in_time;
}

/*
 * Never early, every time; late by more than two quanta is the host's
 * doing if one of three tries is in time (under TCG the host may hold a
 * CPU for tens of milliseconds), the kernel's if all three are late.
 */
KTEST(wait, receive_timeouts_end_no_earlier_than_asked_and_within_two_quanta)
{
	bool in_time = false;

	for (int try = 0; try < 3 && !in_time; try++)
		in_time = timeouts_in_time();
	KT_EXPECT(in_time);
}

/* Every thread of task has blocked. */
static bool all_waiting(const struct task *task)
{
	for (const struct thread *t = task->threads; t; t = t->task_next)
		if (t->state != THREAD_WAITING)
			return false;
	return true;
}

/* Blocks four threads of task: receives forever and with a deadline, sends to a full queue. */
static void block_four(struct task *task, struct waiter w[4])
{
	mach_port_name_t empty, full;

	KT_ASSERT_EQ(mach_port_allocate(task->space, MACH_PORT_RIGHT_RECEIVE, &empty), KERN_SUCCESS);
	KT_ASSERT_EQ(mach_port_allocate(task->space, MACH_PORT_RIGHT_RECEIVE, &full), KERN_SUCCESS);
	for (int i = 0; i < IPC_PORT_QLIMIT_DEFAULT; i++) {
		struct waiter filler = { .space = task->space, .name = full, .send = true };
		KT_ASSERT_EQ(waiter_call(&filler, 0), MACH_MSG_SUCCESS);
	}
	for (int i = 0; i < 4; i++) {
		w[i] = (struct waiter){ .space = task->space, .name = i < 2 ? empty : full,
		                        .send = i >= 2, .ms = { i % 2 ? 200 : 0 } };
		start_waiter(&w[i], task);
	}
}

KTEST(wait, terminating_a_task_blocked_in_receive_and_send_leaves_nothing)
{
	struct leak_counts before = test_leak_counts();
	uint64_t ports = ipc_port_count();
	unsigned tasks = task_count(), threads = thread_count();
	struct waiter w[4];
	struct task *task;

	KT_ASSERT_EQ(task_create(NULL, false, &task), KERN_SUCCESS);
	block_four(task, w);
	let_ticks_pass(2);
	KT_WAIT_FOR(all_waiting(task));                 /* on other CPUs too */
	KT_EXPECT_EQ(task->thread_count, 4);
	for (struct thread *t = task->threads; t; t = t->task_next)
		KT_EXPECT_EQ(t->state, THREAD_WAITING);     /* blocked, not polling */
	task_terminate(task);
	task_deallocate(task);
	let_ticks_pass(30);                    /* past the deadlines: their timers went with them */
	for (int i = 0; i < 4; i++)
		KT_EXPECT(!w[i].done);                      /* none returned: each ended where it waited */
	KT_EXPECT_NO_LEAK(before);
	KT_EXPECT_EQ(ipc_port_count(), ports);
	KT_EXPECT_EQ(task_count(), tasks);
	KT_WAIT_FOR(thread_count() == threads);
	KT_EXPECT_EQ(thread_count(), threads);
}

/* Holds a map's lock, as a long call into the map would, until told to let go. */
struct map_holder {
	vm_map_t map;
	volatile bool held;
	volatile bool release;
	volatile bool done;                    /* it has let go of the lock and the map */
};

static void hold_map(void *arg)
{
	struct map_holder *h = arg;

	if (!vm_map_lock(h->map))
		return;
	h->held = true;
	for (;;) {                             /* a sleep lock may be held across a wait */
		assert_wait(h, "the test's word");
		if (h->release)
			break;
		thread_block();
	}
	clear_wait(current_thread(), THREAD_AWAKENED);
	vm_map_unlock(h->map);
	vm_map_deallocate(h->map);
	h->done = true;
}

/* Writes two pages into a map, holding their copy while it waits for the map. */
struct map_writer {
	vm_map_t map;
	vm_address_t addr;
	kern_return_t kr;
	volatile bool done;
};

static void write_into_map(void *arg)
{
	static char data[2 * PAGE_SIZE];
	struct map_writer *w = arg;
	vm_map_copy_t copy;

	w->kr = vm_map_copy_from_kernel(data, sizeof(data), &copy);
	if (w->kr == KERN_SUCCESS) {
		w->kr = vm_map_copy_overwrite(w->map, w->addr, copy);
		if (w->kr != KERN_SUCCESS)
			vm_map_copy_discard(copy);
	}
	w->done = true;
}

KTEST(wait, terminating_a_task_blocked_on_its_map_lock_leaves_nothing)
{
	const vm_address_t addr = 0x40000000;
	struct leak_counts before = test_leak_counts();
	uint64_t ports = ipc_port_count();
	unsigned tasks = task_count(), threads = thread_count();
	struct task *task;

	KT_ASSERT_EQ(task_create(NULL, false, &task), KERN_SUCCESS);
	test_alloc_at(task->map, addr, 2 * PAGE_SIZE);
	struct map_holder h = { .map = task->map };
	vm_map_reference(h.map);
	KT_ASSERT(thread_create_kernel("holder", hold_map, &h) != NULL);
	yield_until(&h.held, 100);
	KT_ASSERT(h.held);
	struct map_writer w = { .map = task->map, .addr = addr };
	struct thread *t = thread_create_kernel("writer", write_into_map, &w);
	KT_ASSERT(t != NULL);
	task_add_thread(task, t);              /* before it first runs: we have not yielded */
	let_ticks_pass(2);
	KT_WAIT_FOR(t->state == THREAD_WAITING);   /* on another CPU, perhaps later */
	KT_EXPECT_EQ(t->state, THREAD_WAITING);
	KT_EXPECT(t->wait_event == &task->map->lock);      /* asleep on the lock, its copy held */
	task_terminate(task);
	KT_EXPECT(w.done);                                  /* it unwound its call ... */
	KT_EXPECT_EQ(w.kr, KERN_ABORTED);                   /* ... which failed */
	h.release = true;
	thread_wakeup(&h);
	yield_until(&h.done, 100);
	KT_EXPECT(h.done);
	task_deallocate(task);
	let_ticks_pass(2);
	KT_EXPECT_NO_LEAK(before);
	KT_EXPECT_EQ(ipc_port_count(), ports);
	KT_EXPECT_EQ(task_count(), tasks);
	KT_WAIT_FOR(thread_count() == threads);
	KT_EXPECT_EQ(thread_count(), threads);
}
