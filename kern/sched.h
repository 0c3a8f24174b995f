/*
 * The scheduler: a run queue per CPU, each served round-robin, with
 * threads taken from another CPU's queue when a CPU's own has none it may
 * run (kern/sched.c says which); waits on events; and an idle thread per
 * CPU that halts it.  While threads other than idle run,
 * a timer (kern/timer.h) ends a quantum every SCHED_QUANTUM_NS; the clock
 * interrupt that ends one (sched_tick) gives the CPU to the next runnable
 * thread, so preemption comes where interrupts are on (a user thread, a
 * kernel thread that turns them on); kernel code otherwise runs until it
 * blocks or yields.  The idle thread has no quantum, so an idle CPU takes
 * no interrupt for it.
 *
 * A thread switches with sched_lock held and the next thread releases it
 * (as in xv6).
 *
 * Waiting, in Mach's terms.  An event is any address both sides agree on
 * (a port, a task, a count).  A thread that waits declares it with
 * assert_wait (or assert_wait_deadline), lets go of every lock, and calls
 * thread_block; it is then off the run queue, using no CPU, until
 * thread_wakeup on its event, its deadline, or its termination ends the
 * wait, and thread_block says which.  Declaring before letting go of the
 * lock that covers the condition is what keeps a wakeup from being lost:
 * the waker changes the condition under that lock, then wakes.  A woken
 * thread checks its condition again, as others may have woken with it.
 */
#ifndef MICA_KERN_SCHED_H
#define MICA_KERN_SCHED_H

#include <stdbool.h>
#include <stdint.h>

#define SCHED_QUANTUM_NS 10000000ull   /* 10 ms: the period of the clock tick it replaces */

struct thread;

typedef const void *event_t;

/* Why a wait ended (thread_block's answer). */
typedef enum {
	THREAD_AWAKENED,               /* thread_wakeup on its event */
	THREAD_TIMED_OUT,              /* its deadline passed */
	THREAD_INTERRUPTED,            /* ended by clear_wait: the thread is being terminated */
} wait_result_t;

/* Makes the boot context the first thread and starts the idle thread. */
void sched_init(void);

/*
 * Another CPU, once up, joins the scheduler: its start-up context becomes
 * its idle thread, which runs whatever is runnable.  => interrupts off
 */
void sched_cpu_run(void) __attribute__((noreturn));

/*
 * Binds the current thread to CPU n, and moves it there, or (n is
 * SCHED_ANY_CPU) lets it run anywhere again: for a test that must run on
 * one CPU, or keep threads on one CPU as if there were only one.
 */
#define SCHED_ANY_CPU (~0u)
void sched_bind(unsigned n);

/* From the interrupt another CPU's machine_cpu_kick raised here. */
void sched_kicked(void);

/*
 * A thread on the run queue may run again (its suspension, or its task's,
 * ended): an idle CPU looks.
 */
void sched_may_run_again(void);

/*
 * Waits until t is stopped: off every CPU, and not in the middle of a
 * call (it waits, or is queued from user mode).  A t running on another
 * CPU is kicked, so it must already have reason to stop (suspended, being
 * terminated).  False if the wait was interrupted as the current thread
 * is being terminated (the caller unwinds its call).
 */
bool sched_wait_stopped(struct thread *t);

/* t is stopped as sched_wait_stopped means it, now (it may be started again). */
bool sched_thread_stopped(struct thread *t);

/*
 * Nothing but the caller runs or may run, and every thread that ended is
 * freed: a test's baseline taken now counts no one else's leftovers.
 */
bool sched_quiescent(void);

/* If t runs on another CPU, kicks that CPU to look whether t may go on (it may not wait). */
void sched_nudge(struct thread *t);

/*
 * on: every point where preemption becomes allowed (kern/lock.h) gives
 * the CPU away if another thread can run, as if each quantum ended
 * there; a test mode that makes a race with preemption happen at once.
 */
void sched_preempt_always(bool on);

/* A new thread's first step: the switch that ran it holds sched_lock. */
void sched_thread_begin(void);

void sched_make_runnable(struct thread *t);
/*
 * Takes t off the run queue (it must not be running); a wait it was in
 * ends first, THREAD_INTERRUPTED, so that no event or timer still names it.
 * A t inside a call (preempted in the kernel, or in a wait declared by
 * assert_wait_in_call) first runs on, its wait interrupted if it may be,
 * to a wait outside any call or to its way out.
 */
void sched_remove(struct thread *t);

void sched_yield(void);

/* sched_yield if any thread is queued (a glance, without the lock); a user's yield. */
void sched_yield_to_others(void);

/*
 * The current thread will wait for event: it stays on the CPU until it
 * calls thread_block, and a wakeup meanwhile makes that return at once.
 * what says what it waits for, for the debugger ("a message on port").
 * May be called with locks held (they rank before sched_lock).
 */
void assert_wait(event_t event, const char *what);

/* The same, and the wait ends with THREAD_TIMED_OUT at or after deadline (clock_ns()). */
void assert_wait_deadline(event_t event, const char *what, uint64_t deadline);

/*
 * Like assert_wait, for a wait inside a call that holds memory, references
 * or locks (a sleep lock's).  Terminating the thread does not reap it
 * where it waits: an interruptible wait ends THREAD_INTERRUPTED (at once,
 * if the termination has begun already) and the thread unwinds its call;
 * another runs on once woken.  Either way it then stops on its way out.
 */
void assert_wait_in_call(event_t event, const char *what, bool interruptible);

/*
 * Gives the CPU away until the wait assert_wait declared ends, unless it
 * already has; returns why it ended.  => no lock held
 */
wait_result_t thread_block(void);

/* Ends the wait of every thread waiting for event (THREAD_AWAKENED). */
void thread_wakeup(event_t event);
/* Ends the wait of the thread that has waited longest for event, if any. */
void thread_wakeup_one(event_t event);

/* Ends t's wait, if it waits, with result; true if it did.  The current thread may cancel its own. */
bool clear_wait(struct thread *t, wait_result_t result);

/*
 * The current thread is done: switch away for good.  It may have
 * disabled preemption once, so that its last steps and its end are seen
 * together (thread_exit, task_terminate); no other lock held.
 */
void sched_exit(void) __attribute__((noreturn));

/* Waits until neither the current thread nor its task is suspended. */
void sched_stop_if_suspended(void);

/* Called on every clock interrupt; asks for a switch if the quantum has run out. */
void sched_tick(void);

/*
 * Brackets the handling of an interrupt: preemption waits meanwhile, and
 * the exit makes the switch sched_tick asked for, if the interrupted code
 * may be preempted (kern/lock.h).  => interrupts off
 */
void sched_interrupt_enter(void);
void sched_interrupt_exit(bool from_user);

#endif
