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

struct lock_stack lock_stack;

void spin_lock_init(struct spinlock *l, const char *name, enum lock_rank rank)
{
	l->locked = 0;
	l->saved_interrupts = false;
	l->rank = rank;
	l->name = name;
}

/* Panics when taking l now would break the lock order (with INVARIANTS).  => a lock held */
void lock_check_order(const struct spinlock *l)
{
#ifdef INVARIANTS
	KASSERT(lock_stack.depth > 0, "lock_check_order: no lock is held");
	for (unsigned i = 0; i < lock_stack.depth; i++) {
		const struct spinlock *h = lock_stack.held[i];
		bool chain = h->rank == LOCK_RANK_OBJECT && l->rank == LOCK_RANK_OBJECT;
		if (l->rank < h->rank || (l->rank == h->rank && !chain))
			panic("lock order: taking %s (rank %u) while holding %s (rank %u)", l->name,
			      l->rank, h->name, h->rank);
	}
#else
	(void)l;
#endif
}

/* Takes l off the stack of held locks wherever it is; panics if it is not there. */
void lock_pop_inner(const struct spinlock *l)
{
	for (unsigned i = lock_stack.depth; i-- > 0;) {
		if (lock_stack.held[i] != l)
			continue;
		for (; i + 1 < lock_stack.depth; i++)
			lock_stack.held[i] = lock_stack.held[i + 1];
		lock_stack.depth--;
		return;
	}
	panic("spin_unlock: %s is not held on this CPU", l->name);
}

void lock_panic_deadlock(const struct spinlock *l)
{
	panic("spin_lock: %s is already held (one CPU: a deadlock)", l->name);
}

bool spin_trylock(struct spinlock *l)
{
	bool was_on = lock_interrupts_save_off();

	if (__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE) != 0) {
		if (was_on)
			machine_interrupts_on();
		return false;
	}
	lock_push(l, was_on);
	return true;
}

bool spin_held(const struct spinlock *l)
{
	return l->locked != 0;
}
