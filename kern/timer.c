/*
 * The timer queue (kern/timer.h): one list sorted by deadline, so the
 * clock finds the next deadline at its head and the interrupt's step
 * stops at the first timer not yet due.  Lists are short (a quantum and
 * the waits with timeouts), so a walk to insert costs less than a heap.
 */
#include "kern/timer.h"
#include "kern/clock.h"
#include "kern/lock.h"

static struct spinlock timer_lock = SPINLOCK_INIT("timer", LOCK_RANK_TIMER);
static struct timer_call *timer_head;   /* (t) */

/* Takes t out of the queue, where it must be.  => timer_lock held */
static void timer_unlink(struct timer_call *t)
{
	struct timer_call **pp = &timer_head;

	LOCK_ASSERT_HELD(&timer_lock);
	while (*pp != t) {
		KASSERT(*pp != NULL, "timer_unlink: timer %p is not in the queue", (void *)t);
		pp = &(*pp)->next;
	}
	*pp = t->next;
	t->next = NULL;
	t->queued = false;
}

/* Puts t behind the timers due no later: equal deadlines run in order.  => timer_lock held */
static void timer_insert(struct timer_call *t)
{
	struct timer_call **pp = &timer_head;

	LOCK_ASSERT_HELD(&timer_lock);
	while (*pp != NULL && (*pp)->deadline <= t->deadline)
		pp = &(*pp)->next;
	t->next = *pp;
	*pp = t;
	t->queued = true;
}

/*
 * A timer that becomes the head asks the clock to interrupt by its
 * deadline, with the lock held so that no interrupt re-arms in between.
 */
void timer_call_enter(struct timer_call *t, uint64_t deadline, void (*fn)(struct timer_call *t))
{
	KASSERT(fn != NULL, "timer_call_enter: timer %p without a function", (void *)t);
	spin_lock(&timer_lock);
	if (t->queued)
		timer_unlink(t);
	t->deadline = deadline;
	t->fn = fn;
	timer_insert(t);
	if (timer_head == t)
		clock_arm(deadline);
	spin_unlock(&timer_lock);
}

/* The clock stays armed for a cancelled head: one early interrupt costs less than re-arming. */
bool timer_call_cancel(struct timer_call *t)
{
	bool was_queued;

	spin_lock(&timer_lock);
	was_queued = t->queued;
	if (was_queued)
		timer_unlink(t);
	spin_unlock(&timer_lock);
	return was_queued;
}

/*
 * Each due timer leaves the queue before its function runs, and runs
 * without the lock: it may enter timers (itself included) or wake
 * threads.  One entered again for a time already passed runs again here.
 */
void timer_expire(uint64_t now)
{
	for (;;) {
		spin_lock(&timer_lock);
		struct timer_call *t = timer_head;
		if (t == NULL || t->deadline > now) {
			spin_unlock(&timer_lock);
			return;
		}
		timer_unlink(t);
		void (*fn)(struct timer_call *) = t->fn;
		spin_unlock(&timer_lock);
		fn(t);
	}
}

uint64_t timer_next_deadline(void)
{
	spin_lock(&timer_lock);
	uint64_t next = timer_head ? timer_head->deadline : TIMER_NONE;
	spin_unlock(&timer_lock);
	return next;
}
