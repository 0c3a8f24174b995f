/*
 * Spin locks, and the lock-order checker: each CPU keeps the stack of
 * locks it holds, and an acquisition that would invert the documented
 * order panics at once, naming both locks, instead of deadlocking some
 * day on some other machine.  spin_lock and spin_unlock themselves are
 * inline (kern/lock.h); their rare and slow parts are here.
 */
#include "kern/lock.h"
#include "kern/machine.h"
#include "kern/panic.h"
#include "kern/sched.h"

void spin_lock_init(struct spinlock *l, const char *name, enum lock_rank rank)
{
	l->next = l->serving = l->owner = 0;
	l->saved_interrupts = false;
	l->rank = rank;
	l->name = name;
}

/* Panics when taking l now would break the lock order (with INVARIANTS).  => a lock held */
void lock_check_order(const struct spinlock *l)
{
#ifdef INVARIANTS
	const struct lock_stack *held = &cpu_locks()->stack;

	KASSERT(held->depth > 0, "lock_check_order: no lock is held");
	for (unsigned i = 0; i < held->depth; i++) {
		const struct spinlock *h = held->held[i];
		if (!lock_may_follow(h, l))
			panic("lock order: taking %s (rank %u) while holding %s (rank %u) on CPU %u",
			      l->name, l->rank, h->name, h->rank, machine_cpu_number());
	}
#else
	(void)l;
#endif
}

/* Takes l off the stack of held locks wherever it is; panics if it is not there. */
void lock_pop_inner(const struct spinlock *l)
{
	struct lock_stack *held = &cpu_locks()->stack;

	for (unsigned i = held->depth; i-- > 0;) {
		if (held->held[i] != l)
			continue;
		for (; i + 1 < held->depth; i++)
			held->held[i] = held->held[i + 1];
		held->depth--;
		return;
	}
	panic("spin_unlock: %s is not held on this CPU", l->name);
}

void lock_panic_deadlock(const struct spinlock *l)
{
	panic("spin_lock: %s is already held by this CPU (a deadlock)", l->name);
}

/*
 * With INVARIANTS, a wait this long (about 10 s of TSC at 2 GHz, far past
 * any section's length even under TCG on a busy host) is taken for a
 * deadlock between CPUs and panics naming the lock and its holder.
 */
#define SPIN_WAIT_LIMIT (20ull * 1000 * 1000 * 1000)

void spin_lock_wait(struct spinlock *l, uint16_t ticket)
{
#ifdef INVARIANTS
	uint64_t began = machine_cycle_count();
#endif
	while (__atomic_load_n(&l->serving, __ATOMIC_ACQUIRE) != ticket) {
		machine_spin_pause();
#ifdef INVARIANTS
		if (machine_cycle_count() - began > SPIN_WAIT_LIMIT)
			panic("spin_lock: %s held by CPU %d for too long (a deadlock?)", l->name,
			      (int)__atomic_load_n(&l->owner, __ATOMIC_RELAXED) - 1);
#endif
	}
}

bool spin_trylock(struct spinlock *l)
{
	bool was_on = lock_interrupts_save_off();
	uint16_t free = __atomic_load_n(&l->serving, __ATOMIC_ACQUIRE);

	/* free when no ticket is out: then drawing one gets the lock at once */
	if (!__atomic_compare_exchange_n(&l->next, &free, (uint16_t)(free + 1), false,
	                                 __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
		if (was_on)
			machine_interrupts_on();
		return false;
	}
	lock_push(cpu_locks(), l, was_on);
	return true;
}

/* ------------------------------------------------------------- sleep locks */

void sleep_lock_init(struct sleep_lock *l, const char *name, enum lock_rank rank)
{
	spin_lock_init(&l->interlock, name, LOCK_RANK_SLEEP_INTERLOCK);
	l->readers = 0;
	l->writer = l->want_upgrade = l->waiting = false;
	l->timestamp = 0;
	l->owner = NULL;
	l->rank = rank;
	l->name = name;
}

/* A sleep may follow: no spin lock may be held, nor preemption disabled. */
static void sleep_lock_may_sleep(const struct sleep_lock *l)
{
	const struct cpu_locks *c = cpu_locks();

	KASSERT(c->stack.depth == 0, "lock order: taking sleep lock %s (rank %u) while holding "
	        "spin lock %s", l->name, l->rank,
	        c->stack.depth ? c->stack.held[c->stack.depth - 1]->name : "");
	KASSERT(c->preempt.count == 0, "taking sleep lock %s with preemption disabled",
	        l->name);
}

/*
 * Sleeps until l changes; false if the sleep was interrupted, as the
 * thread is being terminated.  => l->interlock held; returns with it held
 */
static bool sleep_lock_wait(struct sleep_lock *l, bool interruptible)
{
	l->waiting = true;
	assert_wait_in_call(l, l->name, interruptible);
	spin_unlock(&l->interlock);
	wait_result_t why = thread_block();
	spin_lock(&l->interlock);
	return why != THREAD_INTERRUPTED;
}

/* Wakes l's sleepers, if any, once the interlock is let go.  => l->interlock held */
static void sleep_lock_release(struct sleep_lock *l)
{
	bool wake = l->waiting;

	l->waiting = false;
	spin_unlock(&l->interlock);
	if (wake)
		thread_wakeup(l);
}

bool lock_read(struct sleep_lock *l)
{
	sleep_lock_may_sleep(l);
	spin_lock(&l->interlock);
	while (l->writer || l->want_upgrade) {
		if (!sleep_lock_wait(l, true)) {
			spin_unlock(&l->interlock);
			return false;
		}
	}
	l->readers++;
	spin_unlock(&l->interlock);
	return true;
}

/* Waits for l alone; false, holding nothing, if an interruptible wait was interrupted. */
static bool lock_write_waiting(struct sleep_lock *l, bool interruptible)
{
	sleep_lock_may_sleep(l);
	spin_lock(&l->interlock);
	KASSERT(!(l->writer && l->owner == machine_current_thread()),
	        "lock_write: %s is already held by this thread", l->name);
	while (l->writer || l->want_upgrade || l->readers > 0) {
		if (!sleep_lock_wait(l, interruptible)) {
			spin_unlock(&l->interlock);
			return false;
		}
	}
	l->writer = true;
	l->owner = machine_current_thread();
	spin_unlock(&l->interlock);
	return true;
}

bool lock_write(struct sleep_lock *l)
{
	return lock_write_waiting(l, true);
}

void lock_write_unint(struct sleep_lock *l)
{
	lock_write_waiting(l, false);
}

void lock_done(struct sleep_lock *l)
{
	spin_lock(&l->interlock);
	if (l->writer) {
		KASSERT(l->owner == machine_current_thread(), "lock_done: %s is another's",
		        l->name);
		l->writer = false;
		l->owner = NULL;
		l->timestamp++;
	} else {
		KASSERT(l->readers > 0, "lock_done: %s is not held", l->name);
		l->readers--;
	}
	sleep_lock_release(l);
}

bool lock_read_to_write(struct sleep_lock *l)
{
	sleep_lock_may_sleep(l);
	spin_lock(&l->interlock);
	KASSERT(l->readers > 0, "lock_read_to_write: %s is not read-held", l->name);
	l->readers--;
	if (l->want_upgrade) {
		sleep_lock_release(l);     /* another reader upgrades first: ours is let go */
		return false;
	}
	l->want_upgrade = true;
	while (l->readers > 0) {
		if (!sleep_lock_wait(l, true)) {
			l->want_upgrade = false;   /* readers and writers it held back may go */
			sleep_lock_release(l);
			return false;
		}
	}
	l->want_upgrade = false;
	l->writer = true;
	l->owner = machine_current_thread();
	spin_unlock(&l->interlock);
	return true;
}

void lock_write_to_read(struct sleep_lock *l)
{
	spin_lock(&l->interlock);
	KASSERT(lock_write_held(l), "lock_write_to_read: %s is not write-held", l->name);
	l->writer = false;
	l->owner = NULL;
	l->timestamp++;
	l->readers++;
	sleep_lock_release(l);
}

/* ------------------------------------------------------------- stretches */

/* Called from an inline off_stretch_end: the return address is in the function that ended it. */
void off_stretch_record(struct off_stretch *s, uint64_t took)
{
	s->longest = took;
	s->ended_in = (uintptr_t)__builtin_return_address(0);
}

