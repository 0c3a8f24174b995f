/*
 * Spin locks, and the lock-order checker: each CPU keeps the stack of
 * locks it holds, and an acquisition that would invert the documented
 * order panics at once, naming both locks, instead of deadlocking some
 * day on some other machine.
 */
#include "kern/lock.h"
#include "kern/machine.h"
#include "kern/panic.h"

#define MAX_HELD 16

/* Locks held on this CPU (one CPU for now: SMP makes this per-CPU). */
static struct {
	const struct spinlock *held[MAX_HELD];
	unsigned depth;
} lock_stack;

void spin_lock_init(struct spinlock *l, const char *name, enum lock_rank rank)
{
	l->locked = 0;
	l->saved_interrupts = false;
	l->rank = rank;
	l->name = name;
}

/* Panics when taking l now would break the lock order. */
static void check_order(const struct spinlock *l)
{
#ifdef INVARIANTS
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

static void push_held(const struct spinlock *l)
{
	KASSERT(lock_stack.depth < MAX_HELD, "spin_lock: more than %d locks held", MAX_HELD);
	lock_stack.held[lock_stack.depth++] = l;
}

static void pop_held(const struct spinlock *l)
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

/*
 * Interrupts off, saying whether they were on.  A CPU that already holds
 * a lock has them off (every lock turns them off), so only the first lock
 * needs to ask the CPU: reading the flags is dear under emulation.
 */
static bool interrupts_save_off(void)
{
	return lock_stack.depth == 0 && machine_interrupts_save_off();
}

void spin_lock(struct spinlock *l)
{
	bool was_on = interrupts_save_off();

	check_order(l);
	if (__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE) != 0)
		panic("spin_lock: %s is already held (one CPU: a deadlock)", l->name);
	l->saved_interrupts = was_on;
	push_held(l);
}

bool spin_trylock(struct spinlock *l)
{
	bool was_on = interrupts_save_off();

	if (__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE) != 0) {
		if (was_on)
			machine_interrupts_on();
		return false;
	}
	l->saved_interrupts = was_on;
	push_held(l);
	return true;
}

void spin_unlock(struct spinlock *l)
{
	bool restore = l->saved_interrupts;

	KASSERT(l->locked, "spin_unlock: %s is not held", l->name);
	pop_held(l);
	__atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
	if (restore)
		machine_interrupts_on();
}

bool spin_held(const struct spinlock *l)
{
	return l->locked != 0;
}
