/*
 * Timer calls: a function run from the clock interrupt once a deadline
 * (clock_ns()) has passed, never before it.  Waits with a deadline use
 * one (kern/sched.h's assert_wait_deadline).
 *
 * A timer_call belongs to its owner, who keeps it alive while it is
 * queued.  fn runs with interrupts off and with no timer lock held, so it
 * may enter or cancel timers, its own included.  How late it runs is the
 * clock's business: up to one tick with a periodic clock.
 */
#ifndef MICA_KERN_TIMER_H
#define MICA_KERN_TIMER_H

#include <stdbool.h>
#include <stdint.h>

/* Locks: (q) the timer queue's lock (kern/timer.c). */
struct timer_call {
	struct timer_call *next;          /* (q) the queue, by deadline */
	uint64_t deadline;                /* (q) clock_ns() at or after which fn runs */
	void (*fn)(struct timer_call *t); /* (q) runs from the clock interrupt, interrupts off */
	bool queued;                      /* (q) */
};

/* Queues t to run fn at or after deadline (clock_ns()); re-entering a queued t moves it. */
void timer_call_enter(struct timer_call *t, uint64_t deadline, void (*fn)(struct timer_call *t));

/* Takes t off the queue; true if it was queued (its fn has not run and will not). */
bool timer_call_cancel(struct timer_call *t);

/* The clock interrupt's step: runs every queued timer whose deadline has passed. */
void timer_expire(uint64_t now);

#endif
