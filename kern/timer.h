/*
 * Timer calls: functions run from the clock interrupt at or after a
 * deadline on clock_ns()'s scale.  The clock arms its one-shot interrupt
 * for the earliest queued deadline (kern/clock.h), so a timer fires soon
 * after its deadline, however far off, and nothing is taken while none
 * is due.
 *
 * A timer_call belongs to its caller, who keeps it alive while it is
 * queued; its fields are the queue's (timer_lock), read by nobody else.
 */
#ifndef MICA_KERN_TIMER_H
#define MICA_KERN_TIMER_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Locks: (t) timer_lock.
 */
struct timer_call {
	struct timer_call *next;          /* (t) the queue, by deadline */
	uint64_t deadline;                /* (t) clock_ns() at or after which fn runs */
	void (*fn)(struct timer_call *t); /* (t) runs from the clock interrupt, interrupts off */
	bool queued;                      /* (t) */
};

/* Queues t to run fn at or after deadline (clock_ns()); re-entering a queued t moves it. */
void timer_call_enter(struct timer_call *t, uint64_t deadline, void (*fn)(struct timer_call *t));

/* Takes t off the queue; true if it was queued (its fn has not run and will not). */
bool timer_call_cancel(struct timer_call *t);

/* The clock interrupt's step: runs every queued timer whose deadline has passed. */
void timer_expire(uint64_t now);

/* The earliest queued deadline, or TIMER_NONE when nothing is queued. */
#define TIMER_NONE UINT64_MAX
uint64_t timer_next_deadline(void);

#endif
