/*
 * The timer queues (kern/timer.h): one per CPU, each a list sorted by
 * deadline, so that CPU's clock finds its next deadline at the head and
 * its interrupt's step stops at the first timer not yet due.  A timer is
 * queued on the CPU that enters it, and its function runs there: a CPU's
 * quantum is its own business, and no CPU's clock takes another's lock or
 * interrupts it.  Lists are short (a quantum and the waits with
 * timeouts), so a walk to insert costs less than a heap.
 */
#include "kern/timer.h"
#include "kern/clock.h"
#include "kern/lock.h"
#include "kern/machine.h"

struct timer_queue {
	struct spinlock lock;
	struct timer_call *head;        /* (q) by deadline */
};

static struct timer_queue timer_queues[MACHINE_MAX_CPUS] = {
	[0 ... MACHINE_MAX_CPUS - 1] = { .lock = SPINLOCK_INIT("timer", LOCK_RANK_TIMER) },
};

/* This CPU's queue.  => interrupts off, so the CPU stays this one */
static struct timer_queue *queue_here(void)
{
	KASSERT(!machine_interrupts_enabled(), "timer: this CPU's queue, with interrupts on");
	return &timer_queues[machine_cpu_number()];
}

/* Takes t out of q, where it must be.  => q->lock held */
static void timer_unlink(struct timer_queue *q, struct timer_call *t)
{
	struct timer_call **pp = &q->head;

	LOCK_ASSERT_HELD(&q->lock);
	while (*pp != t) {
		KASSERT(*pp != NULL, "timer_unlink: timer %p is not in the queue", (void *)t);
		pp = &(*pp)->next;
	}
	*pp = t->next;
	t->next = NULL;
	t->queued = false;
}

/* Puts t behind q's timers due no later: equal deadlines run in order.  => q->lock held */
static void timer_insert(struct timer_queue *q, struct timer_call *t)
{
	struct timer_call **pp = &q->head;

	LOCK_ASSERT_HELD(&q->lock);
	while (*pp != NULL && (*pp)->deadline <= t->deadline)
		pp = &(*pp)->next;
	t->next = *pp;
	*pp = t;
	t->queued = true;
	t->cpu = (unsigned)(q - timer_queues);
}

/*
 * A timer that becomes the head asks this CPU's clock to interrupt by its
 * deadline, with the lock held so that no interrupt re-arms in between.
 * One queued on another CPU leaves that queue first: the two locks are
 * never held together.
 */
void timer_call_enter(struct timer_call *t, uint64_t deadline, void (*fn)(struct timer_call *t))
{
	KASSERT(fn != NULL, "timer_call_enter: timer %p without a function", (void *)t);
	struct timer_queue *q = queue_here();
	if (t->queued && t->cpu != (unsigned)(q - timer_queues))
		(void)timer_call_cancel(t);
	spin_lock(&q->lock);
	if (t->queued)
		timer_unlink(q, t);
	t->deadline = deadline;
	t->fn = fn;
	timer_insert(q, t);
	if (q->head == t)
		clock_arm(deadline);
	spin_unlock(&q->lock);
}

/*
 * t's queue is read before its lock is taken: only t's owner enters or
 * cancels t, so t stays in that queue meanwhile, or leaves it only as it
 * runs (timer_expire).  The clock stays armed for a cancelled head: one
 * early interrupt costs less than re-arming.
 */
bool timer_call_cancel(struct timer_call *t)
{
	struct timer_queue *q = &timer_queues[__atomic_load_n(&t->cpu, __ATOMIC_RELAXED)];
	bool was_queued;

	spin_lock(&q->lock);
	was_queued = t->queued;
	if (was_queued)
		timer_unlink(q, t);
	spin_unlock(&q->lock);
	return was_queued;
}

/*
 * Each due timer leaves the queue before its function runs, and runs
 * without the lock: it may enter timers (itself included) or wake
 * threads.  One entered again for a time already passed runs again here.
 * The deadline returned is read under the lock, but only this CPU enters
 * timers here and it has interrupts off: until its clock is armed, the
 * queue can only lose timers (another CPU's cancel), which costs one
 * early interrupt at worst.
 * => interrupts off (the clock interrupt)
 */
uint64_t timer_expire(uint64_t now)
{
	struct timer_queue *q = queue_here();

	for (;;) {
		spin_lock(&q->lock);
		struct timer_call *t = q->head;
		if (t == NULL || t->deadline > now) {
			uint64_t next = t ? t->deadline : TIMER_NONE;
			spin_unlock(&q->lock);
			return next;
		}
		timer_unlink(q, t);
		void (*fn)(struct timer_call *) = t->fn;
		spin_unlock(&q->lock);
		fn(t);
	}
}

uint64_t timer_next_deadline(void)
{
	struct timer_queue *q = queue_here();

	spin_lock(&q->lock);
	uint64_t next = q->head ? q->head->deadline : TIMER_NONE;
	spin_unlock(&q->lock);
	return next;
}
