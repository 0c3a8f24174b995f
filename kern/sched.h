/*
 * The scheduler: one run queue served round-robin, sleep and wakeup on
 * channels, and an idle thread that halts the CPU.  While threads other
 * than idle run, a timer (kern/timer.h) ends a quantum every
 * SCHED_QUANTUM_NS; the clock interrupt that ends one (sched_tick) gives
 * the CPU to the next runnable thread, so preemption comes where
 * interrupts are on (a user thread, a kernel thread that turns them on);
 * kernel code otherwise runs until it blocks or yields.  The idle thread
 * has no quantum, so an idle CPU takes no interrupt for it.
 *
 * A thread switches with sched_lock held and the next thread releases it
 * (as in xv6).  Callers of sched_sleep hold no other lock.
 */
#ifndef MICA_KERN_SCHED_H
#define MICA_KERN_SCHED_H

#define SCHED_QUANTUM_NS 10000000ull   /* 10 ms: the period of the clock tick it replaces */

struct thread;

/* Makes the boot context the first thread and starts the idle thread. */
void sched_init(void);

void sched_make_runnable(struct thread *t);
/* Takes t off the run queue (it must not be running). */
void sched_remove(struct thread *t);

void sched_yield(void);

/* Waits on channel until sched_wakeup(channel); callers re-check their condition. */
void sched_sleep(const void *channel);
void sched_wakeup(const void *channel);

/* The current thread is done: switch away for good. */
void sched_exit(void) __attribute__((noreturn));

/* Yields until neither the current thread nor its task is suspended. */
void sched_stop_if_suspended(void);

/* Called on every clock interrupt; switches threads if the quantum has run out. */
void sched_tick(void);

#endif
