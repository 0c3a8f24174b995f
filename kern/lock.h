/*
 * Spin locks.  Mica runs on one CPU today, but every shared structure
 * already has its lock, taken in the order each file documents, so SMP is
 * a matter of starting the other CPUs.  Holding a spin lock keeps
 * interrupts off on this CPU (an interrupt handler taking the same lock
 * would otherwise deadlock); unlock restores what lock found.
 */
#ifndef MICA_KERN_LOCK_H
#define MICA_KERN_LOCK_H

#include <stdbool.h>
#include <stdint.h>

struct spinlock {
	volatile uint32_t locked;
	bool saved_interrupts;     /* were interrupts on when it was taken? */
	const char *name;
};

#define SPINLOCK_INIT(n) { .locked = 0, .saved_interrupts = false, .name = (n) }

void spin_lock_init(struct spinlock *l, const char *name);
void spin_lock(struct spinlock *l);
/* Takes l if it is free; false (and nothing taken) otherwise. */
bool spin_trylock(struct spinlock *l);
void spin_unlock(struct spinlock *l);
bool spin_held(const struct spinlock *l);

#endif
