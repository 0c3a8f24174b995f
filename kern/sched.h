/*
 * The scheduler: one run queue served round-robin, sleep and wakeup on
 * channels, and an idle thread that halts the CPU.  Preemption comes from
 * the clock tick (sched_tick) when a user thread or the idle loop is
 * interrupted; kernel code otherwise runs until it blocks or yields.
 *
 * A thread switches with sched_lock held and the next thread releases it
 * (as in xv6).  Callers of sched_sleep hold no other lock.
 */
#ifndef MICA_KERN_SCHED_H
#define MICA_KERN_SCHED_H

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

/* Called on every clock tick from an interrupt; may switch threads. */
void sched_tick(void);

#endif
