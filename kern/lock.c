#include "kern/lock.h"
#include "kern/machine.h"
#include "kern/panic.h"

void spin_lock_init(struct spinlock *l, const char *name)
{
	l->locked = 0;
	l->saved_interrupts = false;
	l->name = name;
}

void spin_lock(struct spinlock *l)
{
	bool was_on = machine_interrupts_save_off();

	while (__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE) != 0) {
		KASSERT(false, "spin_lock: %s is already held (one CPU: a deadlock)", l->name);
	}
	l->saved_interrupts = was_on;
}

bool spin_trylock(struct spinlock *l)
{
	bool was_on = machine_interrupts_save_off();

	if (__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE) != 0) {
		if (was_on)
			machine_interrupts_on();
		return false;
	}
	l->saved_interrupts = was_on;
	return true;
}

void spin_unlock(struct spinlock *l)
{
	bool restore = l->saved_interrupts;

	KASSERT(l->locked, "spin_unlock: %s is not held", l->name);
	__atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
	if (restore)
		machine_interrupts_on();
}

bool spin_held(const struct spinlock *l)
{
	return l->locked != 0;
}
