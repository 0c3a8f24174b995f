/*
 * Where a runnable thread runs (kern/sched.c): a woken thread goes back
 * to the CPU it last ran on when that CPU idles, and a thread queued
 * behind a busy CPU is taken by another, one that idles or one whose
 * quantum ends with nothing of its own to run.
 *
 * The busy CPUs run spinners with interrupts off: they take no kick and
 * end no quantum, so a thread queued on their CPU runs only if another
 * CPU takes it.  Each spinner gives up after a second, so that a failure
 * is a failed check, not a hung boot.
 */
#include "kern/clock.h"
#include "kern/machine.h"
#include "kern/sched.h"
#include "kern/thread.h"
#include "tests/harness/ktest.h"

#define SPIN_LIMIT_NS 1000000000ull

/* A thread that waits on its own address and, each time it is woken, says where it ran. */
struct sleeper {
	unsigned first_cpu;            /* where it runs before its first wait */
	volatile unsigned wakes;       /* wakes seen */
	volatile unsigned ran_on;      /* the CPU it ran on after its last wake */
	volatile bool stop;
	volatile bool stopped;
};

static void sleeper_run(void *arg)
{
	struct sleeper *s = arg;

	sched_bind(s->first_cpu);
	sched_bind(SCHED_ANY_CPU);         /* free to move, but last ran there */
	while (!s->stop) {
		assert_wait(s, "the test");
		thread_block();
		s->ran_on = machine_cpu_number();
		__atomic_add_fetch(&s->wakes, 1, __ATOMIC_RELEASE);
	}
	s->stopped = true;
}

/* Starts s on CPU s->first_cpu and waits until it has blocked there. */
static struct thread *sleeper_start(struct sleeper *s)
{
	struct thread *t = thread_create_kernel("sleeper", sleeper_run, s);

	KT_ASSERT(t != NULL);
	KT_WAIT_FOR(t->state == THREAD_WAITING && t->last_cpu == s->first_cpu);
	KT_ASSERT(t->state == THREAD_WAITING && t->last_cpu == s->first_cpu);
	return t;
}

/* Wakes s once more and waits until it has run; false if it did not within a second. */
static bool sleeper_wake(struct sleeper *s)
{
	unsigned before = s->wakes;

	thread_wakeup(s);
	KT_WAIT_FOR(s->wakes != before);
	return s->wakes != before;
}

static void sleeper_end(struct sleeper *s)
{
	s->stop = true;
	thread_wakeup(s);
	KT_WAIT_FOR(s->stopped);
	KT_EXPECT(s->stopped);
}

/*
 * The CPU it last ran on idles, so it runs there again, though other
 * CPUs idle too (a lower-numbered one among them): where its
 * translations and cache lines may still be.
 */
KTEST(sched, a_woken_thread_runs_where_it_last_ran_when_that_cpu_idles)
{
	static struct sleeper s;

	if (machine_cpu_count() < 3)
		KT_SKIP("fewer than three CPUs");
	sched_bind(0);
	s = (struct sleeper){ .first_cpu = 2 };
	struct thread *t = sleeper_start(&s);
	for (int i = 0; i < 10; i++) {
		KT_ASSERT(sleeper_wake(&s));
		KT_EXPECT_EQ(s.ran_on, 2);
		KT_WAIT_FOR(t->state == THREAD_WAITING);
	}
	sleeper_end(&s);
	sched_bind(SCHED_ANY_CPU);
}

/* A thread that holds CPU cpu, interrupts off, until told to stop or a second has passed. */
struct spinner {
	unsigned cpu;
	volatile bool spinning, stop, stopped;
};

static void spinner_run(void *arg)
{
	struct spinner *p = arg;

	sched_bind(p->cpu);
	machine_interrupts_off();
	p->spinning = true;
	for (uint64_t until = clock_ns() + SPIN_LIMIT_NS; !p->stop && clock_ns() < until;)
		machine_spin_pause();
	machine_interrupts_on();
	sched_bind(SCHED_ANY_CPU);
	p->stopped = true;
}

/* Spinners on CPUs [1, upto), each started and spinning. */
static void spinners_start(struct spinner *p, unsigned upto)
{
	for (unsigned i = 1; i < upto; i++) {
		p[i] = (struct spinner){ .cpu = i };
		KT_ASSERT(thread_create_kernel("spinner", spinner_run, &p[i]) != NULL);
		KT_WAIT_FOR(p[i].spinning);
		KT_ASSERT(p[i].spinning);
	}
}

static void spinners_stop(struct spinner *p, unsigned upto)
{
	for (unsigned i = 1; i < upto; i++)
		p[i].stop = true;
	for (unsigned i = 1; i < upto; i++) {
		KT_WAIT_FOR(p[i].stopped);
		KT_EXPECT(p[i].stopped);
	}
}

/*
 * The sleeper last ran on CPU 1, which a spinner then holds; it is woken
 * from CPU 0.  busy_upto: CPUs [1, busy_upto) spin, so that the others
 * idle.  *ran_on: where it ran, once woken (~0u if it did not run while
 * CPU 1 was held).
 */
static void wake_behind_a_busy_cpu(unsigned busy_upto, bool cpu0_naps, unsigned *ran_on)
{
	static struct sleeper s;
	static struct spinner p[MACHINE_MAX_CPUS];

	sched_bind(0);
	s = (struct sleeper){ .first_cpu = 1 };
	sleeper_start(&s);
	spinners_start(p, busy_upto);
	unsigned before = s.wakes;
	thread_wakeup(&s);
	if (cpu0_naps) {
		KT_WAIT_FOR(s.wakes != before);
	} else {                               /* CPU 0 stays busy: only its quantum's end lets go */
		bool was_on = machine_interrupts_save_off();
		machine_interrupts_on();
		for (uint64_t until = clock_ns() + SPIN_LIMIT_NS / 2;
		     s.wakes == before && clock_ns() < until;)
			machine_spin_pause();
		if (!was_on)
			machine_interrupts_off();
	}
	*ran_on = s.wakes != before && !p[1].stopped ? s.ran_on : ~0u;
	spinners_stop(p, busy_upto);
	sleeper_end(&s);
	sched_bind(SCHED_ANY_CPU);
}

/* CPU 1 is held; the others idle: one of them takes the thread from CPU 1's queue. */
KTEST(sched, an_idle_cpu_takes_a_thread_queued_behind_a_busy_one)
{
	unsigned ran_on;

	if (machine_cpu_count() < 2)
		KT_SKIP("one CPU");
	wake_behind_a_busy_cpu(2, true, &ran_on);
	KT_EXPECT(ran_on != 1 && ran_on < machine_cpu_count());
}

/*
 * Every CPU but 0 is held, and CPU 0 keeps busy: when its quantum ends
 * with nothing queued of its own, it takes the thread waiting on CPU 1.
 */
KTEST(sched, a_cpu_whose_quantum_ends_takes_a_thread_waiting_on_another)
{
	unsigned ran_on;

	if (machine_cpu_count() < 2)
		KT_SKIP("one CPU");
	wake_behind_a_busy_cpu(machine_cpu_count(), false, &ran_on);
	KT_EXPECT_EQ(ran_on, 0);
}
