/*
 * Spin locks, and the one statement of Mica's concurrency model and lock
 * order.
 *
 * The model, as it is today.  Mica runs on one CPU.  System calls, page
 * faults and kernel-object routines run with interrupts off from entry to
 * exit, so the clock interrupt arrives only in user mode, in the idle
 * loop, or in a kernel thread that has them on.  The clock is one-shot:
 * it interrupts for the nearest deadline of the timer queue, the running
 * thread's quantum among them (kern/clock.h), and runs the due timers
 * with interrupts off and no lock held, so a timer may take any lock but
 * the timer queue's, whose holder is never interrupted.  A spin lock therefore
 * never waits: finding one taken means this CPU holds it already, a
 * deadlock, and spin_lock panics saying so.  A thread that waits
 * (mach_msg on a full or empty queue, a task wait, a suspension) sleeps:
 * it declares the wait under the lock that covers its condition, lets go
 * of every lock (thread_block asserts it) and is off the run queue until
 * woken (kern/sched.h).  A map's lock is held across whole faults and
 * copies, an unaligned 16 MiB vm_write included.  None of this would hold
 * with a second CPU: before one starts, spin locks must spin, system
 * calls must run with interrupts on, and long holds must become sleeping
 * locks.
 *
 * Kinds.  Every lock is a spin lock.  Holding one keeps interrupts off on
 * this CPU (an interrupt handler taking the same lock would deadlock);
 * unlock restores what lock found.
 *
 * The lock order is enum lock_rank below, outermost first, and is written
 * nowhere else.  With INVARIANTS (the default build), taking a lock of a
 * lower rank than one already held panics, naming both: the order is
 * checked on every acquisition, not hoped for.  Objects of a shadow chain
 * share a rank and are taken front to back.  Each structure says, beside
 * its fields, which lock protects each (the legend letters of its header),
 * and a function that expects a lock held asserts it (LOCK_ASSERT_HELD).
 */
#ifndef MICA_KERN_LOCK_H
#define MICA_KERN_LOCK_H

#include <stdbool.h>
#include <stdint.h>
#include "kern/machine.h"
#include "kern/panic.h"

/*
 * The lock order, outermost first: a lock may be taken only while every
 * lock this CPU holds ranks below it (objects of one shadow chain share a
 * rank; spin_trylock is exempt).  Beside each rank, what its locks
 * protect and what else the order asks of them.
 */
enum lock_rank {
	LOCK_RANK_ALL_TASKS = 4,   /* the list of every task */
	LOCK_RANK_TASK = 5,        /* a task's thread list, state and suspend count; a call on
	                              the task's space holds it, so the space stays meanwhile */
	LOCK_RANK_IPC_SPACE = 7,   /* a space's names and entries; like every IPC lock, never
	                              held across a VM call (a dying port's messages are
	                              destroyed once it is let go: they may hold memory) */
	LOCK_RANK_IPC_TRANSIT = 8, /* every port's destination: taken only by a send that moves
	                              a receive right, and by that right's arrival or death */
	LOCK_RANK_IPC_PORT = 9,    /* a port's rights, queue and state; one port at a time, and
	                              a kernel object's reference taken under it takes no lock */
	LOCK_RANK_MAP = 10,        /* a vm_map's entries, index and hint, held across a whole
	                              operation, faults included; one map at a time (between two
	                              maps, data goes through a vm_map_copy) */
	LOCK_RANK_OBJECT = 20,     /* a vm_object's pages, shadow link and shared flag; several
	                              only along one shadow chain, front to back */
	LOCK_RANK_PAGE_HASH = 24,  /* the (object, offset) -> page hash */
	LOCK_RANK_AUDIT = 28,      /* pmap_audit's bitmaps */
	LOCK_RANK_PMAP = 30,       /* a pmap's page tables and resident count */
	LOCK_RANK_PV = 35,         /* every page's pv list and gathered A/D bits; the walk from a
	                              page to its mappings holds it first, so it only try-locks
	                              each pmap and starts again when one is taken */
	LOCK_RANK_ALL_ZONES = 39,  /* the list of every zone */
	LOCK_RANK_ZONE = 40,       /* a zone's frames and counts, and its frames' zone fields */
	LOCK_RANK_VM_PAGE = 50,    /* the free frames and the count of frames per use */
	LOCK_RANK_SCHED = 90,      /* the run queue, the waiting threads, and every thread's
	                              state, wait and suspend count; held across a switch, and
	                              let go by the thread switched to */
	LOCK_RANK_TIMER = 95,      /* the timer queue (kern/timer.c): taken under sched_lock to
	                              start a quantum or by a wait with a deadline; takes none
	                              itself, and a timer's function runs with it let go */
	LOCK_RANK_LEAF = 100,      /* nothing is taken while a leaf lock is held (the
	                              port-to-name hash, the kernel stacks' bitmap) */
};

/*
 * Locks: (a) atomic, (h) its holder, (c) constant after initialization.
 */
struct spinlock {
	volatile uint32_t locked;  /* (a) */
	bool saved_interrupts;     /* (h) were interrupts on when it was taken? */
	uint8_t rank;              /* (c) enum lock_rank */
	const char *name;          /* (c) */
};

#define SPINLOCK_INIT(n, r) { .locked = 0, .saved_interrupts = false, .rank = (r), .name = (n) }

void spin_lock_init(struct spinlock *l, const char *name, enum lock_rank rank);
/* Takes l if it is free; false (and nothing taken) otherwise.  Exempt from the order check. */
bool spin_trylock(struct spinlock *l);
bool spin_held(const struct spinlock *l);

/*
 * A precondition "l is held" (or "is not held"), checked in the
 * INVARIANTS build.  Each structure with a lock has its own, built on
 * these (VM_MAP_ASSERT_LOCKED, IPC_SPACE_ASSERT_LOCKED, ...).
 */
#ifdef INVARIANTS
#define LOCK_ASSERT_HELD(l) KASSERT(spin_held(l), "%s must be held", (l)->name)
#define LOCK_ASSERT_NOT_HELD(l) KASSERT(!spin_held(l), "%s must not be held", (l)->name)
#else
#define LOCK_ASSERT_HELD(l) ((void)(l))
#define LOCK_ASSERT_NOT_HELD(l) ((void)(l))
#endif

/*
 * spin_lock and spin_unlock are inline: a kernel call takes eight locks,
 * and under QEMU's TCG the calls cost more than the locking (a 4 KiB
 * vm_write by RPC 2,647 -> 2,506 guest instructions, docs/performance.md).
 * What is rare stays out of line in kern/lock.c: the order check under
 * other locks, an unlock out of order, and the panics.
 */
#define LOCK_HELD_MAX 16

/*
 * The locks held on this CPU, innermost last (one CPU for now: SMP makes
 * this per-CPU).  Locks: (i) this CPU, with interrupts off (every lock
 * keeps them off).
 */
struct lock_stack {
	const struct spinlock *held[LOCK_HELD_MAX];    /* (i) */
	unsigned depth;                                 /* (i) */
};
extern struct lock_stack lock_stack;

void lock_check_order(const struct spinlock *l);
void lock_pop_inner(const struct spinlock *l);
void lock_panic_deadlock(const struct spinlock *l) __attribute__((noreturn));

/*
 * Interrupts off, saying whether they were on.  A CPU that already holds
 * a lock has them off (every lock turns them off), so only the first lock
 * needs to ask the CPU: reading the flags is dear under emulation.
 */
static inline bool lock_interrupts_save_off(void)
{
	return lock_stack.depth == 0 && machine_interrupts_save_off();
}

/* l is now held, taken with interrupts was_on. */
static inline void lock_push(struct spinlock *l, bool was_on)
{
	l->saved_interrupts = was_on;
	KASSERT(lock_stack.depth < LOCK_HELD_MAX, "spin_lock: more than %d locks held",
	        LOCK_HELD_MAX);
	lock_stack.held[lock_stack.depth++] = l;
}

static inline void spin_lock(struct spinlock *l)
{
	bool was_on = lock_interrupts_save_off();

	if (lock_stack.depth > 0)
		lock_check_order(l);
	if (__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE) != 0)
		lock_panic_deadlock(l);
	lock_push(l, was_on);
}

static inline void spin_unlock(struct spinlock *l)
{
	bool restore = l->saved_interrupts;

	KASSERT(l->locked, "spin_unlock: %s is not held", l->name);
	if (lock_stack.depth > 0 && lock_stack.held[lock_stack.depth - 1] == l)
		lock_stack.depth--;            /* the usual order: the innermost lock first */
	else
		lock_pop_inner(l);
	__atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
	if (restore)
		machine_interrupts_on();
}

#endif
