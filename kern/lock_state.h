/*
 * What the lock layer keeps for each CPU (kern/lock.h): the locks it
 * holds, its preemption count, and the longest stretches it measured.
 * Apart from kern/lock.h so that the machine's per-CPU structure can hold
 * it (machine_cpu_locks) without including the lock layer itself.
 * Locks: (i) this CPU, with interrupts off (every spin lock keeps them
 * off).
 */
#ifndef MICA_KERN_LOCK_STATE_H
#define MICA_KERN_LOCK_STATE_H

#include <stdbool.h>
#include <stdint.h>

#define LOCK_HELD_MAX 16

struct spinlock;

/* The spin locks this CPU holds, innermost last: the lock-order checker's record. */
struct lock_stack {
	const struct spinlock *held[LOCK_HELD_MAX];    /* (i) */
	unsigned depth;                                 /* (i) */
};

/*
 * Preemption, counted per CPU (FreeBSD's critical_enter): while count is
 * above 0, or a spin lock is held, or an interrupt is being handled, the
 * clock may not give the CPU to another thread; it sets pending instead,
 * and the thread gives way when the last of these ends (preempt_enable,
 * the outermost spin_unlock).  A thread that blocks must have count 0, so
 * each CPU needs one count, and a thread cannot move to another CPU while
 * it is above 0.
 */
struct preempt_state {
	unsigned count;                /* (i) preempt_disable()s not yet undone */
	unsigned interrupt_depth;      /* (i) interrupts being handled, nested */
	bool pending;                  /* (i) the clock asked for a switch it could not make */
};

/*
 * With INVARIANTS, the longest stretch on this CPU with interrupts off or
 * with preemption off, in cycles of machine_cycle_count, with an address
 * in the function that ended it (lock_report_stretches says them).
 */
struct off_stretch {
	uint64_t began;                /* (i) when the one under way began */
	uint64_t longest;              /* (i) */
	uintptr_t ended_in;            /* (i) */
	bool timed;                    /* (c) this CPU times its stretches (kern/lock.h: the
	                                  boot CPU only) */
};

struct cpu_locks {
	uint16_t tag;                  /* (c) 1 + the CPU's number: what a lock it holds says */
	struct lock_stack stack;
	struct preempt_state preempt;
	struct off_stretch interrupts_off, preempt_off;
};

#endif
