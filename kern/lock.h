/*
 * Spin locks, and the one statement of Mica's concurrency model and lock
 * order.
 *
 * The model.  Mica runs on one CPU.  System calls, page faults from user
 * mode and the kernel-object routines they reach run with interrupts on
 * (arch/x86_64/syscall_entry.asm turns them on once it is on the kernel
 * stack with the kernel's GS); they are off only inside spin-lock
 * sections, in interrupt handlers, and from SYSCALL to that point and
 * back.  The clock is one-shot: it interrupts for the nearest deadline of
 * the timer queue, the running thread's quantum among them
 * (kern/clock.h), and runs the due timers with interrupts off and no lock
 * held, so a timer may take any spin lock but the timer queue's.
 *
 * Preemption.  When a quantum ends, the clock interrupt switches threads
 * on its way out if the interrupted code may be preempted: no spin lock
 * held, preemption not disabled (preempt_disable), no other interrupt
 * under way.  Otherwise the switch is left pending and made when the last
 * of those ends (preempt_enable, the outermost spin_unlock).  A thread
 * preempted inside the kernel may hold memory and references: it runs on
 * to a wait or to user mode before it is stopped or reaped (sched_remove).
 * Boot with preempt=always and every one of those points preempts.
 *
 * Kinds.  Spin locks cover short sections: the tasks, IPC, the objects,
 * pages, pmaps, zones, the scheduler and the timers.  Holding one keeps
 * interrupts off on this CPU (an interrupt handler taking the same lock
 * would deadlock) and so disables preemption; unlock restores what lock
 * found.  A spin lock held by another CPU is waited for in ticket order,
 * spinning with `pause` (and answering TLB shootdowns meanwhile:
 * machine_spin_pause); one held by this CPU already is a deadlock, and
 * spin_lock panics saying so.  Each CPU keeps its own held locks and
 * preemption count (kern/lock_state.h).  Sleep locks (struct sleep_lock) cover
 * long work: a map's lock is one, held across whole faults and copies (a
 * 64 MiB vm_write included) with interrupts on, so the copy's page steps
 * are preemption points.  Operations that change the map hold it for
 * writing; vm_region, and a task's fault that changes no entry, hold it
 * shared (a fault that must change its entry upgrades, and if the upgrade
 * fails, takes the write hold and checks the timestamp to know whether
 * its lookup still stands: vm/vm_fault.c); a thread that finds it taken sleeps, and a
 * termination interrupts that sleep: lock_read and lock_write then fail,
 * and the caller unwinds its call (a map operation returns KERN_ABORTED,
 * having changed nothing).  lock_write_unint, for teardowns and releases
 * that must be done, waits on regardless.  A sleep lock may be held
 * across a wait and a preemption; a spin lock may be held across
 * neither, and no sleep lock is taken while one is held.
 * A thread that waits (mach_msg on a full or empty queue, a task wait, a
 * suspension, a taken sleep lock) declares the wait under the lock that
 * covers its condition, lets go of every spin lock (thread_block asserts
 * it) and is off the run queue until woken (kern/sched.h).
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
#include "kern/lock_state.h"
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
	LOCK_RANK_MAP = 10,        /* a vm_map's entries, index and hint: a sleep lock, held
	                              (shared by readers and faults that change no entry)
	                              across a whole operation, faults and copies included, with
	                              interrupts on and preemptible; never taken while a spin lock
	                              is held; one map at a time (between two maps, data goes
	                              through a vm_map_copy) */
	LOCK_RANK_OBJECT = 20,     /* a vm_object's pages, shadow link and shared flag; several
	                              only along one shadow chain, front to back */
	LOCK_RANK_PAGE_HASH = 24,  /* the (object, offset) -> page hash */
	LOCK_RANK_AUDIT = 28,      /* pmap_audit's bitmaps */
	LOCK_RANK_PMAP = 30,       /* a pmap's page tables and resident count */
	LOCK_RANK_PV = 35,         /* every page's pv list and gathered A/D bits; the walk from a
	                              page to its mappings holds it first, so it only try-locks
	                              each pmap and starts again when one is taken */
	LOCK_RANK_ALL_ZONES = 37,  /* the list of every zone; zone_drain walks it into the caches */
	LOCK_RANK_ZONE_CPU = 38,   /* one CPU's cache of one zone's free elements (kern/zone.h):
	                              taken by zalloc and zfree on that CPU, by any CPU to flush
	                              it; one at a time, and the zone's lock is taken under it */
	LOCK_RANK_ZONE = 40,       /* a zone's frames and counts, and its frames' zone fields */
	LOCK_RANK_VM_PAGE_CPU = 45, /* one CPU's cache of free frames and its counts per use
	                              (vm/vm_page.c): taken by a single frame's allocation and
	                              free on that CPU (a zone's lock may be held), by any CPU to
	                              flush it; one at a time, and vm_page_free_lock under it */
	LOCK_RANK_VM_PAGE = 50,    /* the free frames and the count of frames per use */
	LOCK_RANK_SCHED = 90,      /* every CPU's run queue, the waiting threads, and every thread's
	                              state, wait and suspend count; held across a switch, and
	                              let go by the thread switched to */
	LOCK_RANK_TIMER = 95,      /* a CPU's timer queue (kern/timer.c): taken under sched_lock
	                              to start a quantum or by a wait with a deadline; takes
	                              none itself (no two at once), and a timer's function runs
	                              with it let go */
	LOCK_RANK_SLEEP_INTERLOCK = 85, /* a sleep lock's own state: held only to change it, and
	                              to declare a wait for it (sched_lock ranks after) */
	LOCK_RANK_LEAF = 100,      /* nothing is taken while a leaf lock is held (the
	                              port-to-name hash, the kernel stacks' bitmap) */
};

/*
 * A ticket lock: each CPU that wants it draws the next ticket and spins
 * (with pause) until the lock serves that ticket, so CPUs get it in the
 * order they asked.  owner says which CPU holds it, for the assertions
 * and to tell a deadlock on one CPU (it asks for a lock it holds) from
 * contention.  Locks: (a) atomic, (h) its holder, (c) constant after
 * initialization.
 */
struct spinlock {
	uint16_t next;             /* (a) the ticket the next CPU to ask draws */
	uint16_t serving;          /* (a) the ticket that holds the lock, or may take it */
	uint16_t owner;            /* (h) 1 + the holding CPU's number, 0 when free */
	bool saved_interrupts;     /* (h) were interrupts on when it was taken? */
	uint8_t rank;              /* (c) enum lock_rank */
	const char *name;          /* (c) */
};

#define SPINLOCK_INIT(n, r) { .next = 0, .serving = 0, .owner = 0, .saved_interrupts = false, \
	                      .rank = (r), .name = (n) }

void spin_lock_init(struct spinlock *l, const char *name, enum lock_rank rank);
/* Takes l if it is free; false (and nothing taken) otherwise.  Exempt from the order check. */
bool spin_trylock(struct spinlock *l);
/* Held by this CPU? */
static inline bool spin_held(const struct spinlock *l)
{
	return __atomic_load_n(&l->owner, __ATOMIC_RELAXED) == machine_cpu_number() + 1;
}

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
/* This CPU's: kern/lock_state.h.  => interrupts off, or a value that cannot depend on the CPU */
static inline struct cpu_locks *cpu_locks(void)
{
	return machine_cpu_locks();
}

/*
 * An interrupts-off stretch is one the kernel began where they were on: a
 * spin-lock section, a clock interrupt's handling; code that runs with
 * them off throughout (boot, the idle loop, a test's own thread) makes
 * none.  A preemption-off stretch is one of those or a preempt_disable
 * section.
 */
/* s's longest is now took cycles, ended in the caller's caller (out of line). */
void off_stretch_record(struct off_stretch *s, uint64_t took) __attribute__((noinline));

/* Ends the stretch under way in s; a new longest is recorded with where it ended. */
static inline __attribute__((always_inline)) void off_stretch_end(struct off_stretch *s)
{
	uint64_t took = machine_cycle_count() - s->began;

	if (__builtin_expect(took > s->longest, 0))
		off_stretch_record(s, took);
}

/*
 * Only the boot CPU times its stretches.  Under QEMU's TCG every read of
 * the TSC takes one lock of QEMU's that all virtual CPUs share (its
 * cpu_get_ticks), so timing every spin-lock section on every CPU would
 * make the CPUs take turns there: two tasks on two CPUs made 1.2 times
 * the vm_write calls of one, against 1.8 times with the boot CPU alone
 * timing (docs/performance.md).  Its stretches are a sample of all, as
 * any thread may run there; with one CPU they are all.
 */
#ifdef INVARIANTS
#define OFF_STRETCH_BEGIN(s) ((s)->timed ? (void)((s)->began = machine_cycle_count()) : (void)0)
#define OFF_STRETCH_END(s) ((s)->timed ? off_stretch_end(s) : (void)0)
#else
#define OFF_STRETCH_BEGIN(s) ((void)(s))
#define OFF_STRETCH_END(s) ((void)(s))
#endif

/* One line on the console: each kind's longest stretch so far, in microseconds, and where. */
void lock_report_stretches(void);

/* Gives the CPU away for the preemption the clock could not make; kern/sched.c. */
void sched_preempt_pending(void);

/*
 * The CPU stays with this thread until the matching preempt_enable (they
 * nest).  The count is the CPU's, so it is raised with interrupts off: a
 * preemption between finding the CPU's count and raising it could move
 * the thread to another CPU first.
 */
static inline void preempt_disable(void)
{
	bool was_on = machine_interrupts_save_off();
	struct cpu_locks *c = cpu_locks();

	if (c->preempt.count++ == 0)
		OFF_STRETCH_BEGIN(&c->preempt_off);
	if (was_on)
		machine_interrupts_on();
	__asm__ volatile("" ::: "memory");
}

/* May the clock switch threads here?  Interrupts on is also needed (the caller's to check). */
static inline bool preempt_allowed(void)
{
	const struct cpu_locks *c = cpu_locks();

	return c->preempt.count == 0 && c->stack.depth == 0 && c->preempt.interrupt_depth == 0;
}

/*
 * Takes a switch the clock asked for meanwhile, if it may be made here.
 * c is this CPU's, or was a moment ago: a thread that moved since asks
 * the old CPU's flag, which is at worst a switch taken late or looked for
 * in vain (sched_preempt asks again).
 */
static inline void preempt_check_on(const struct cpu_locks *c)
{
	if (__atomic_load_n(&c->preempt.pending, __ATOMIC_RELAXED) && preempt_allowed())
		sched_preempt_pending();
}

static inline void preempt_check(void)
{
	preempt_check_on(cpu_locks());
}

/* Undoes one preempt_disable; the last one takes a preemption left pending meanwhile. */
static inline void preempt_enable(void)
{
	struct cpu_locks *c = cpu_locks();     /* the thread cannot move before the count is 0 */

	KASSERT(c->preempt.count > 0, "preempt_enable: preemption is not disabled");
	__asm__ volatile("" ::: "memory");
	if (--c->preempt.count == 0)
		OFF_STRETCH_END(&c->preempt_off);
	preempt_check();
}

void lock_check_order(const struct spinlock *l);
void lock_pop_inner(const struct spinlock *l);
void lock_panic_deadlock(const struct spinlock *l) __attribute__((noreturn));
/* Spins (pause) until l serves ticket: another CPU holds l. */
void spin_lock_wait(struct spinlock *l, uint16_t ticket);

/*
 * Interrupts off, saying whether they were on.  A CPU that already holds
 * a lock has them off (every lock turns them off), so only the first lock
 * needs to ask the CPU: reading the flags is dear under emulation.  (A
 * thread that finds no lock held may move to another CPU before the
 * interrupts go off; it holds none there either.)
 */
static inline bool lock_interrupts_save_off(void)
{
	return cpu_locks()->stack.depth == 0 && machine_interrupts_save_off();
}

/* l is now held by this CPU, taken with interrupts was_on. */
static inline void lock_push(struct cpu_locks *c, struct spinlock *l, bool was_on)
{
	if (was_on)
		OFF_STRETCH_BEGIN(&c->interrupts_off);
	l->owner = c->tag;
	l->saved_interrupts = was_on;
	KASSERT(c->stack.depth < LOCK_HELD_MAX, "spin_lock: more than %d locks held",
	        LOCK_HELD_MAX);
	c->stack.held[c->stack.depth++] = l;
}

/*
 * The lock order: l may be taken while h is held if it ranks after h, or
 * both are objects of one shadow chain (taken front to back).
 */
static inline bool lock_may_follow(const struct spinlock *h, const struct spinlock *l)
{
	return l->rank > h->rank || (l->rank == h->rank && l->rank == LOCK_RANK_OBJECT);
}

/*
 * With one lock held, the order check is one comparison, made here; with
 * more, lock_check_order looks at each.  (Without INVARIANTS, none.)
 */
static inline void lock_order_check_inline(const struct cpu_locks *c, const struct spinlock *l)
{
#ifdef INVARIANTS
	if (c->stack.depth > 1 || !lock_may_follow(c->stack.held[0], l))
		lock_check_order(l);
#else
	(void)c;
	(void)l;
#endif
}

static inline void spin_lock(struct spinlock *l)
{
	struct cpu_locks *c = cpu_locks();
	bool was_on = false;

	if (c->stack.depth == 0) {
		was_on = machine_interrupts_save_off();
		c = cpu_locks();               /* the thread may have moved before they went off */
	} else {
		lock_order_check_inline(c, l);
	}
	/*
	 * Held by this CPU already: its interrupts are off from here to the
	 * unlock, so the holder cannot run again to let go.  Spinning would
	 * wait forever: panic, naming it.
	 */
	if (__atomic_load_n(&l->owner, __ATOMIC_RELAXED) == c->tag)
		lock_panic_deadlock(l);
	uint16_t ticket = __atomic_fetch_add(&l->next, 1, __ATOMIC_ACQUIRE);
	if (__atomic_load_n(&l->serving, __ATOMIC_ACQUIRE) != ticket)
		spin_lock_wait(l, ticket);
	lock_push(c, l, was_on);
}

static inline void spin_unlock(struct spinlock *l)
{
	struct cpu_locks *c = cpu_locks();
	bool restore = l->saved_interrupts;    /* read before the next holder writes it */

	KASSERT(l->owner == c->tag, "spin_unlock: %s is not held by this CPU", l->name);
	if (c->stack.depth > 0 && c->stack.held[c->stack.depth - 1] == l)
		c->stack.depth--;              /* the usual order: the innermost lock first */
	else
		lock_pop_inner(l);
	l->owner = 0;
	__atomic_store_n(&l->serving, (uint16_t)(l->serving + 1), __ATOMIC_RELEASE);
	if (restore) {
		OFF_STRETCH_END(&c->interrupts_off);
		machine_interrupts_on();
		preempt_check_on(c);           /* the outermost lock, preemptible here */
	}
}

/*
 * Sleep locks, Mach's lock_t: readers share, a writer is alone, and a
 * thread that finds one taken sleeps (assert_wait, thread_block) until it
 * is let go; the holder runs with interrupts on and may be preempted,
 * even sleep.  So a sleep lock is never taken while a spin lock is held
 * (sleeping there would deadlock the CPU): lock_read and lock_write
 * assert it.  timestamp changes with every write hold let go, so a path
 * that had to let go can tell whether anything changed meanwhile.
 * Locks: (l) interlock, (c) constant after initialization.
 */
struct sleep_lock {
	struct spinlock interlock;
	unsigned readers;              /* (l) read holds */
	bool writer;                   /* (l) held for writing */
	bool want_upgrade;             /* (l) a reader waits to become the writer */
	bool waiting;                  /* (l) someone sleeps on the lock */
	uint32_t timestamp;            /* (l) bumped as each write hold ends */
	const void *owner;             /* (l) the writing thread */
	uint8_t rank;                  /* (c) enum lock_rank */
	const char *name;              /* (c) */
};

void sleep_lock_init(struct sleep_lock *l, const char *name, enum lock_rank rank);
/*
 * Holds l shared, after sleeping while a writer holds it or a reader waits
 * to upgrade.  False, holding nothing, if the thread is being terminated
 * (kern/sched.h, assert_wait_in_call): the caller unwinds and fails.
 */
bool lock_read(struct sleep_lock *l) __attribute__((warn_unused_result));
/* Holds l alone, after sleeping while anyone holds it; false as lock_read. */
bool lock_write(struct sleep_lock *l) __attribute__((warn_unused_result));
/*
 * lock_write for work that a thread being terminated must still finish
 * (a teardown, a release): its wait is not interrupted, and the thread
 * runs on once it holds l.
 */
void lock_write_unint(struct sleep_lock *l);
/* Lets go of one hold, read or write, and wakes whoever sleeps on l. */
void lock_done(struct sleep_lock *l);
/*
 * A read hold becomes the write hold, once the other readers are gone;
 * false if another reader asked first, or the thread is being terminated:
 * the hold is then let go entirely (Mach's lock_read_to_write), and the
 * caller must start again (or unwind).
 */
bool lock_read_to_write(struct sleep_lock *l);
/* The write hold becomes a read hold, without a moment unheld. */
void lock_write_to_read(struct sleep_lock *l);
/* Held for writing by the current thread? */
static inline bool lock_write_held(const struct sleep_lock *l)
{
	return l->writer && l->owner == machine_current_thread();
}

/* Held at all (by some reader, or by the current thread for writing)? */
static inline bool lock_held(const struct sleep_lock *l)
{
	return lock_write_held(l) || l->readers > 0;
}

#ifdef INVARIANTS
#define SLEEP_LOCK_ASSERT_WRITE(l) KASSERT(lock_write_held(l), "%s must be held for writing", \
                                           (l)->name)
#define SLEEP_LOCK_ASSERT_HELD(l) KASSERT(lock_held(l), "%s must be held", (l)->name)
#else
#define SLEEP_LOCK_ASSERT_WRITE(l) ((void)(l))
#define SLEEP_LOCK_ASSERT_HELD(l) ((void)(l))
#endif

#endif
