/*
 * Timer calls (kern/timer.h): one list sorted by deadline, earliest
 * first, which the clock interrupt's timer_expire walks from the front.
 * Few timers are queued at once (one per thread waiting with a deadline),
 * so a list is enough.
 */
#include "kern/timer.h"
#include "kern/lock.h"

static struct spinlock timer_lock = SPINLOCK_INIT("timer", LOCK_RANK_TIMER);
static struct timer_call *timer_queue;

/* Takes a queued t off the list.  => timer_lock held */
static void timer_unlink(struct timer_call *t)
{
	LOCK_ASSERT_HELD(&timer_lock);
	for (struct timer_call **pp = &timer_queue; *pp; pp = &(*pp)->next) {
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	}
	t->next = NULL;
	t->queued = false;
}

void timer_call_enter(struct timer_call *t, uint64_t deadline, void (*fn)(struct timer_call *t))
{
	struct timer_call **pp = &timer_queue;

	spin_lock(&timer_lock);
	if (t->queued)
		timer_unlink(t);
	t->deadline = deadline;
	t->fn = fn;
	while (*pp && (*pp)->deadline <= deadline)   /* after its equals: first come, first run */
		pp = &(*pp)->next;
	t->next = *pp;
	*pp = t;
	t->queued = true;
	spin_unlock(&timer_lock);
}

bool timer_call_cancel(struct timer_call *t)
{
	spin_lock(&timer_lock);
	bool was = t->queued;
	if (was)
		timer_unlink(t);
	spin_unlock(&timer_lock);
	return was;
}

/*
 * Each timer leaves the queue before its fn runs, and the lock is let go
 * meanwhile: fn may take locks that rank before the queue's (a waiting
 * thread's wakeup takes sched_lock) and may queue timers again.
 */
void timer_expire(uint64_t now)
{
	for (;;) {
		spin_lock(&timer_lock);
		struct timer_call *t = timer_queue;
		if (t == NULL || t->deadline > now) {
			spin_unlock(&timer_lock);
			return;
		}
		timer_queue = t->next;
		t->next = NULL;
		t->queued = false;
		void (*fn)(struct timer_call *) = t->fn;
		spin_unlock(&timer_lock);
		fn(t);
	}
}
