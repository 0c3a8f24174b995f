/*
 * Timer calls: functions run from the clock interrupt at or after a
 * deadline on clock_ns()'s scale.  The clock arms its one-shot interrupt
 * for the earliest queued deadline (kern/clock.h), so a timer fires soon
 * after its deadline, however far off, and nothing is taken while none
 * is due.
 *
 * Each CPU has its own queue: a timer is queued on the CPU that enters
 * it, its function runs from that CPU's clock interrupt, and the earliest
 * deadline is that CPU's.  A timer_call belongs to its caller, who keeps
 * it alive while it is queued and alone enters or cancels it; its fields
 * are its queue's, read by nobody else.
 */
#ifndef MICA_KERN_TIMER_H
#define MICA_KERN_TIMER_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Locks: (q) the lock of the queue the timer is in (kern/timer.c).
 */
struct timer_call {
	struct timer_call *next;          /* (q) the queue, by deadline */
	uint64_t deadline;                /* (q) clock_ns() at or after which fn runs */
	void (*fn)(struct timer_call *t); /* (q) runs from the clock interrupt, interrupts off */
	bool queued;                      /* (q) */
	unsigned cpu;                     /* (q) whose queue it is or was last in */
};

/*
 * Queues t on this CPU to run fn here at or after deadline (clock_ns());
 * re-entering a queued t moves it, from another CPU's queue too.
 * => interrupts off (so this CPU stays the one), as for timer_next_deadline
 */
void timer_call_enter(struct timer_call *t, uint64_t deadline, void (*fn)(struct timer_call *t));

/* Takes t off the queue; true if it was queued (its fn has not run and will not). */
bool timer_call_cancel(struct timer_call *t);

#define TIMER_NONE UINT64_MAX

/*
 * The clock interrupt's step: runs every timer of this CPU's whose
 * deadline has passed, and returns the earliest deadline left (as
 * timer_next_deadline would, in the same hold of the queue's lock).
 */
uint64_t timer_expire(uint64_t now);

/* The earliest deadline queued on this CPU, or TIMER_NONE when none is. */
uint64_t timer_next_deadline(void);

#endif
