/*
 * Round-robin scheduling and waits (kern/sched.h).
 *
 * sched_lock covers the run queue, the waiting threads and every thread's
 * state, wait and suspend count.  It is held across machine_switch: the
 * thread that takes the CPU releases it (a new thread does so in
 * thread_start).
 *
 * A waiting thread is in one of WAIT_BUCKETS lists, by its event's hash,
 * linked through run_next as the run queue is (a thread is in one or the
 * other, never both).  Its state is THREAD_WAITING from assert_wait on,
 * even while it still runs towards thread_block.
 *
 * Each CPU has its own run queue.  A thread made runnable joins the queue
 * of the CPU it is bound to, else of the CPU it last ran on, where its
 * cached translations (tagged by its pmap's PCID) and lines may still be;
 * one that never ran joins the queue of the CPU that made it.  A CPU
 * takes from its own queue first, and only when that has nothing it may
 * run does it take from another's, the longest: so an idle CPU takes
 * work, and a CPU whose quantum ends with its own queue empty takes a
 * thread waiting behind a busy one, which is all the balancing there is.
 * A thread made runnable wakes its queue's CPU if that one idles, else
 * another idle CPU, which then takes it.  A quantum that ends on one CPU
 * for a thread on another kicks that one.
 *
 * The queues are per CPU; the lock is not.  sched_lock still covers them
 * all, with every thread's state and wait: a thread's wakeup, its queue
 * and its switch are then one critical section, with no lock order
 * between CPUs' queues to keep.  Measured on two and four CPUs, the time
 * spent waiting for it is small (docs/performance.md), and the entries
 * that need not wait for it (a preemption, a kick, a user's yield) only
 * try it.
 *
 * A thread is `running` from the switch to it to the switch away from
 * it, both under sched_lock, which the switch holds until the next thread
 * runs: so no CPU takes a thread whose registers another is still saving.
 */
#include "kern/sched.h"
#include "kern/clock.h"
#include "kern/lock.h"
#include "kern/machine.h"
#include "kern/panic.h"
#include "kern/task.h"
#include "kern/thread.h"
#include "kern/timer.h"
#include "lib/printf.h"
#include "vm/vm_map.h"

struct spinlock sched_lock = SPINLOCK_INIT("sched", LOCK_RANK_SCHED);

static struct thread *zombies;         /* halted, waiting to be freed off their stacks */
static uint64_t zombies_made, zombies_reaped;   /* (s) */
#define WAIT_BUCKETS 64
static struct thread *waiters[WAIT_BUCKETS];   /* waiting threads by event, oldest first */
static struct thread boot_thread = { .name = "kernel_main", .state = THREAD_RUNNING,
                                     .running = true };
static bool preempt_always;            /* (c) set at boot: sched_preempt_always */

/*
 * What the scheduler keeps for each CPU, indexed by machine_cpu_number():
 * (s), or (i) that CPU's own, touched only there with interrupts off.
 */
struct sched_cpu {
	struct thread *idle;           /* (c) runs when no other thread can */
	struct thread *current;        /* (s) the thread it runs */
	struct thread *run_head, *run_tail;   /* (s) threads queued to run here, oldest first */
	struct timer_call quantum;     /* ends each quantum, on this CPU; its fields are its
	                                  timer queue's */
	bool quantum_queued;           /* (i) quantum is in the timer queue */
	bool quantum_over;             /* (i) a quantum ended since the last switch */
};
static uint32_t idling;                /* (s) a bit per CPU whose idle thread found nothing to
                                          run and halts: a thread made runnable kicks one */
static uint32_t queued_total;          /* (s) threads on every CPU's queue; glanced at without
                                          the lock where only a hint is needed */
static struct sched_cpu sched_cpus[MACHINE_MAX_CPUS];
static struct thread cpu_start_threads[MACHINE_MAX_CPUS];   /* the other CPUs' idle threads */

static void switch_away(struct thread *to);

/* This CPU's.  => sched_lock held, or interrupts off */
static struct sched_cpu *here(void)
{
	return &sched_cpus[machine_cpu_number()];
}

/*
 * The CPU whose queue t joins: the one it is bound to, else the one it
 * last ran on, or, if it never ran, this one.  => sched_lock held
 */
static unsigned home_cpu(const struct thread *t)
{
	if (t->bound_to != 0)
		return t->bound_to - 1;
	return t->switches != 0 ? t->last_cpu : machine_cpu_number();
}

/* Queues t on q, CPU home_cpu(t)'s.  => sched_lock held */
static inline void runq_push(struct sched_cpu *q, struct thread *t)
{
	t->run_next = NULL;
	if (q->run_tail)
		q->run_tail->run_next = t;
	else
		q->run_head = t;
	q->run_tail = t;
	__atomic_store_n(&queued_total, queued_total + 1, __ATOMIC_RELAXED);
}

/* Takes t, which follows prev (NULL: t is first), off q.  => sched_lock held */
static inline void runq_unlink(struct sched_cpu *q, struct thread *prev, struct thread *t)
{
	if (prev)
		prev->run_next = t->run_next;
	else
		q->run_head = t->run_next;
	if (q->run_tail == t)
		q->run_tail = prev;
	__atomic_store_n(&queued_total, queued_total - 1, __ATOMIC_RELAXED);
}

/*
 * Neither t nor its task is suspended: a suspended thread stays queued,
 * passed over until it is resumed.  The answer holds while sched_lock is
 * held; without it, it is a glimpse (the counts are read atomically).
 */
static inline __attribute__((always_inline)) bool may_run(const struct thread *t)
{
	const struct task *task = t->task;

	if (t->preempted_in_kernel || t->wait_in_call)
		return true;                   /* it stops on its way out (sched_stop_if_suspended) */
	if (t->terminating)
		return false;                  /* its terminator takes it off the queue */
	return (__atomic_load_n(&t->suspend_count, __ATOMIC_RELAXED) == 0 &&
	       (task == NULL || __atomic_load_n(&task->suspend_count, __ATOMIC_RELAXED) == 0));
}

/* May t run on this CPU (it is bound to no other)?  => sched_lock held */
static inline __attribute__((always_inline)) bool may_run_here(const struct thread *t)
{
	return t->bound_to == 0 || t->bound_to == machine_cpu_number() + 1;
}

/* May t, queued, be taken by this CPU now?  => sched_lock held */
static inline __attribute__((always_inline)) bool may_take(const struct thread *t)
{
	return may_run(t) && may_run_here(t);
}

/*
 * The oldest thread on q this CPU may take, or NULL; *prev is the one
 * before it.  => sched_lock held
 */
static struct thread *runq_first_takeable(const struct sched_cpu *q, struct thread **prev)
{
	struct thread *before = NULL, *t = q->run_head;

	while (t && !may_take(t)) {
		before = t;
		t = t->run_next;
	}
	*prev = before;
	return t;
}

/*
 * Does CPU i look at its own queue soon, by itself?  It does when it runs
 * its idle thread and has not halted: it was kicked, or is on its way to
 * look.  Another CPU with nothing to run leaves that queue to it, so that
 * a thread woken for it is not taken by whichever idle CPU looked first;
 * a CPU that gives way (a yield, a quantum's end) takes from it all the
 * same, as the kicked CPU's wakeup may be slow to come (where CPUs are a
 * host's threads, the host may not be running it).  => sched_lock held
 */
static bool looks_soon(unsigned i)
{
	return sched_cpus[i].current == sched_cpus[i].idle && !(idling & 1u << i);
}

/*
 * A thread for this CPU from another CPU's queue: the oldest it may take
 * from the longest queue that has one, of a CPU busy with another thread
 * or halted, or, giving_way, of any CPU.  => sched_lock held
 */
static struct thread *runq_steal(bool giving_way)
{
	unsigned me = machine_cpu_number(), n = machine_cpu_count(), longest = 0;
	struct sched_cpu *from = NULL;
	struct thread *found = NULL, *found_prev = NULL;

	for (unsigned i = 0; i < n; i++) {
		struct sched_cpu *q = &sched_cpus[i];
		struct thread *prev, *t;
		unsigned length = 0;
		if (i == me || q->run_head == NULL || (!giving_way && looks_soon(i)))
			continue;
		for (t = q->run_head; t; t = t->run_next)
			length++;
		if (length > longest && (t = runq_first_takeable(q, &prev)) != NULL) {
			longest = length;
			from = q;
			found = t;
			found_prev = prev;
		}
	}
	if (found)
		runq_unlink(from, found_prev, found);
	return found;
}

/* runq_pop's way when own's oldest thread may not run here, or there is none. */
static __attribute__((noinline)) struct thread *runq_pop_slow(struct sched_cpu *own,
                                                              bool giving_way)
{
	struct thread *prev, *t;

	if (__atomic_load_n(&queued_total, __ATOMIC_RELAXED) == 0)
		return NULL;
	if (own->run_head != NULL && (t = runq_first_takeable(own, &prev)) != NULL) {
		runq_unlink(own, prev, t);
		return t;
	}
	return runq_steal(giving_way);
}

/*
 * The next thread this CPU, own's, runs: its own queue's first it may
 * take, else one taken from another's (runq_steal); NULL if none.
 * giving_way: the current thread gives the CPU up without having to.
 * => sched_lock held
 */
static inline struct thread *runq_pop_here(struct sched_cpu *own, bool giving_way)
{
	LOCK_ASSERT_HELD(&sched_lock);
	struct thread *t = own->run_head;

	if (__builtin_expect(t != NULL && may_take(t), 1)) {
		runq_unlink(own, NULL, t);     /* the usual case: the oldest of its own */
		return t;
	}
	return runq_pop_slow(own, giving_way);
}

/* For a CPU whose thread stops: it waits, ends, or may not run on. */
static struct thread *runq_pop(void)
{
	return runq_pop_here(here(), false);
}

/* Is a thread queued that runq_pop_here would give this CPU now?  => sched_lock held */
static bool runnable_exists(bool giving_way)
{
	unsigned me = machine_cpu_number();
	struct thread *prev;

	for (unsigned i = 0, n = machine_cpu_count(); i < n && queued_total != 0; i++)
		if ((i == me || giving_way || !looks_soon(i)) &&
		    runq_first_takeable(&sched_cpus[i], &prev))
			return true;
	return false;
}

/* Takes t off whichever queue holds it, if one does.  => sched_lock held */
static void runq_remove(struct thread *t)
{
	for (unsigned i = 0, n = machine_cpu_count(); i < n; i++) {
		struct sched_cpu *q = &sched_cpus[i];
		for (struct thread *prev = NULL, *x = q->run_head; x; prev = x, x = x->run_next) {
			if (x == t) {
				runq_unlink(q, prev, t);
				return;
			}
		}
	}
}

/* A thread may have become runnable: one idle CPU, if any, looks.  => sched_lock held */
static inline __attribute__((always_inline)) void kick_idle_cpu(void)
{
	LOCK_ASSERT_HELD(&sched_lock);
	uint32_t others = idling & ~(1u << machine_cpu_number());

	if (others == 0)
		return;                        /* the usual case on one CPU, or a busy machine */
	unsigned i = (unsigned)__builtin_ctz(others);
	idling &= ~(1u << i);
	machine_cpu_kick(i);
}

/*
 * Queues t, and wakes a CPU to run it: its queue's, if that one runs its
 * idle thread (halted, or about to look at its queue: a kick too many
 * costs an interrupt) or t is bound to it, else any idle one, which takes
 * t from that queue.  => sched_lock held
 */
static void runq_push_kick(struct thread *t)
{
	LOCK_ASSERT_HELD(&sched_lock);
	unsigned home = home_cpu(t);
	struct sched_cpu *h = &sched_cpus[home];

	runq_push(h, t);
	if (home != machine_cpu_number() && (t->bound_to != 0 || h->current == h->idle)) {
		idling &= ~(1u << home);
		machine_cpu_kick(home);
	} else {
		kick_idle_cpu();
	}
}

void sched_bind(unsigned n)
{
	struct thread *t = machine_current_thread();

	KASSERT(n == SCHED_ANY_CPU || n < machine_cpu_count(), "sched_bind: no CPU %u", n);
	spin_lock(&sched_lock);
	t->bound_to = n == SCHED_ANY_CPU ? 0 : n + 1;
	if (may_run_here(t)) {
		spin_unlock(&sched_lock);
		return;
	}
	t->state = THREAD_RUNNABLE;
	runq_push_kick(t);
	switch_away(runq_pop());           /* CPU n takes it from the queue */
}

void sched_make_runnable(struct thread *t)
{
	spin_lock(&sched_lock);
	t->state = THREAD_RUNNABLE;
	runq_push_kick(t);
	spin_unlock(&sched_lock);
}

void sched_may_run_again(void)
{
	spin_lock(&sched_lock);
	kick_idle_cpu();
	spin_unlock(&sched_lock);
}

static struct thread **wait_bucket(event_t event)
{
	uintptr_t e = (uintptr_t)event;

	return &waiters[(e >> 4 ^ e >> 12) % WAIT_BUCKETS];
}

/* Adds the current thread t to event's waiters.  => sched_lock held */
static void wait_enqueue(struct thread *t, event_t event, const char *what, uint64_t deadline)
{
	struct thread **pp = wait_bucket(event);

	LOCK_ASSERT_HELD(&sched_lock);
	KASSERT(t->state == THREAD_RUNNING, "assert_wait: %s is already waiting", t->name);
	while (*pp)
		pp = &(*pp)->run_next;
	t->run_next = NULL;
	*pp = t;
	t->wait_event = event;
	t->wait_what = what;
	t->wait_deadline = deadline;
	t->wait_result = THREAD_AWAKENED;
	t->state = THREAD_WAITING;
}

/*
 * Ends t's wait with result: out of its bucket, its timer cancelled, and
 * runnable again, or, not yet blocked, left running for thread_block to
 * return at once.  False if t was not waiting.  => sched_lock held
 */
static bool wait_end(struct thread *t, wait_result_t result)
{
	LOCK_ASSERT_HELD(&sched_lock);
	if (t->state != THREAD_WAITING)
		return false;
	for (struct thread **pp = wait_bucket(t->wait_event); *pp; pp = &(*pp)->run_next) {
		if (*pp == t) {
			*pp = t->run_next;
			break;
		}
	}
	if (t->wait_deadline)
		timer_call_cancel(&t->wait_timer);   /* it may have just run: that is fine */
	t->wait_event = NULL;
	t->wait_deadline = 0;
	t->wait_result = result;
	if (t->running) {              /* on its way to thread_block, which returns at once */
		t->state = THREAD_RUNNING;
	} else {
		t->state = THREAD_RUNNABLE;
		runq_push_kick(t);
	}
	return true;
}

/* wakeup's step under the lock.  => sched_lock held */
static void wakeup_locked(event_t event, bool one)
{
	LOCK_ASSERT_HELD(&sched_lock);
	for (struct thread *t = *wait_bucket(event), *next; t; t = next) {
		next = t->run_next;
		if (t->wait_event == event && wait_end(t, THREAD_AWAKENED) && one)
			break;
	}
}

/*
 * A thread preempted inside the kernel may hold memory, references, a
 * sleep lock: it is let run on (the caller sleeps meanwhile) until it
 * waits outside any call or is back in user mode, where it holds nothing.
 * One running on another CPU is kicked off it first.
 */
void sched_remove(struct thread *t)
{
	spin_lock(&sched_lock);
	t->terminating = true;
	while (t->running || t->preempted_in_kernel || t->wait_in_call) {
		if (t->running)
			machine_cpu_kick(t->last_cpu);
		/*
		 * In a wait inside a call (a sleep lock's), t is told
		 * THREAD_INTERRUPTED and unwinds its call.  Preempted after
		 * declaring a wait but before blocking, t is on no queue and
		 * runs again only when woken, which may be never (a receive
		 * without a deadline): its wait ends here too, so that its
		 * thread_block returns at once.  Either way it runs on to a wait
		 * outside any call or its way out, where its end stops it.  An
		 * uninterruptible wait (lock_write_unint) is left to end.
		 */
		if (!(t->wait_in_call && t->wait_unint))
			wait_end(t, THREAD_INTERRUPTED);
		KASSERT(cpu_locks()->preempt.count == 0 && cpu_locks()->stack.depth == 1,
		        "sched_remove: a lock held, or preemption disabled, across the wait");
		wait_enqueue(machine_current_thread(), &t->preempted_in_kernel, "its way out", 0);
		switch_away(runq_pop());       /* until t stops where it holds nothing */
		spin_lock(&sched_lock);
	}
	wait_end(t, THREAD_INTERRUPTED);
	runq_remove(t);
	spin_unlock(&sched_lock);
}

/*
 * A task ending itself lets go of its map before it lets go of the task
 * and may be preempted in between: it runs on in the kernel's space.
 */
static struct pmap *address_space(const struct thread *t)
{
	return t->task && t->task->map ? t->task->map->pmap : kernel_pmap;
}

/*
 * The reaper: a kernel thread that frees halted threads, off their
 * stacks, and finishes what their ends left (thread_reap: their ports
 * die, a task they ended is finished).  A thread of its own, as Mach's,
 * because that work may sleep (a map's lock), which the idle thread, or
 * whichever thread a switch lands on, must not.  A zombie is on the list
 * only once the switch away from it is over: sched_lock is held from
 * sched_exit's push to the next thread's unlock.
 */
static void __attribute__((noreturn)) reaper_loop(void *unused)
{
	(void)unused;
	for (;;) {
		spin_lock(&sched_lock);
		struct thread *list = zombies;
		zombies = NULL;
		if (list == NULL)
			wait_enqueue(machine_current_thread(), &zombies, "halted threads", 0);
		spin_unlock(&sched_lock);
		if (list == NULL)
			thread_block();
		while (list) {
			struct thread *t = list;
			list = t->run_next;
			thread_reap(t);
			spin_lock(&sched_lock);
			zombies_reaped++;
			spin_unlock(&sched_lock);
		}
	}
}

/*
 * Quanta follow one another while threads other than idle run, the
 * clock tick's rhythm without the tick: a switch between two of them
 * costs no timer call.  The next clock interrupt that finds another
 * thread runnable switches.  The idle thread gets none, so an idle CPU
 * takes no interrupt for it; the thread it hands over to starts a quantum.
 */
static void quantum_end(struct timer_call *t)
{
	struct sched_cpu *sc = here();

	KASSERT(t == &sc->quantum, "quantum_end: another CPU's quantum ran here");
	sc->quantum_over = true;
	sc->quantum_queued = sc->current != sc->idle;
	if (sc->quantum_queued)
		timer_call_enter(t, clock_ns() + SCHED_QUANTUM_NS, quantum_end);
}

/*
 * to is about to run on this CPU, sc's: a quantum is under way unless to
 * is idle.  => sched_lock held
 */
static inline void quantum_switch(struct sched_cpu *sc, struct thread *to)
{
	sc->quantum_over = false;
	cpu_locks()->preempt.pending = false;     /* the CPU changes hands: what was asked is done */
	if (__builtin_expect(to != sc->idle && !sc->quantum_queued, 0)) {
		sc->quantum_queued = true;
		timer_call_enter(&sc->quantum, clock_ns() + SCHED_QUANTUM_NS, quantum_end);
	}
}

/*
 * The thread that has the CPU again (or for the first time) lets go of
 * sched_lock, which the switch held.
 * With preempt_always it asks for the next switch only now: asked for
 * earlier, the unlock would switch again, on and on, each thread
 * nesting one more preemption on its stack.
 */
static void switched_in(void)
{
	spin_unlock(&sched_lock);
	if (preempt_always)
		cpu_locks()->preempt.pending = true;
}

void sched_thread_begin(void)
{
	switched_in();
}

/*
 * Gives the CPU to to (taken off the run queue), or to idle when to is
 * NULL; the current thread must already have its new state (and be
 * queued, if runnable).
 * => sched_lock held; returns with it released
 */
static void switch_away(struct thread *to)
{
	LOCK_ASSERT_HELD(&sched_lock);
	struct thread *from = machine_current_thread();

	/*
	 * Off the CPU where it holds nothing (not preempted inside a call,
	 * not waiting inside one): whoever ends it may go on.
	 */
	if (from->terminating && !from->preempted_in_kernel &&
	    !(from->state == THREAD_WAITING && from->wait_in_call))
		wakeup_locked(&from->preempted_in_kernel, false);
	unsigned cpu = machine_cpu_number();
	struct sched_cpu *sc = &sched_cpus[cpu];

	if (to == NULL)
		to = sc->idle;
	if (to != from) {
		/*
		 * Whoever releases sched_lock restores what its taker had; the
		 * thread that takes the CPU must get back its own interrupt
		 * state, not that of the thread it follows.
		 */
		bool own_interrupts = sched_lock.saved_interrupts;
		from->running = false;
		if (from->stop_watched) {
			from->stop_watched = false;
			wakeup_locked(&from->running, false);
		}
		to->state = THREAD_RUNNING;
		to->running = true;
		to->last_cpu = cpu;
		sc->current = to;
		quantum_switch(sc, to);
		to->switches++;
		machine_switch(from, to, address_space(to));
		/*
		 * Back, perhaps on another CPU, whose last thread may have had
		 * interrupts off throughout (its idle thread): the stretch this
		 * thread's unlock ends begins here.
		 */
		if (own_interrupts && !sched_lock.saved_interrupts)
			OFF_STRETCH_BEGIN(&cpu_locks()->interrupts_off);
		sched_lock.saved_interrupts = own_interrupts;
	} else {
		from->state = THREAD_RUNNING;
	}
	switched_in();
}

/*
 * A thread that has declared a wait but not yet blocked (a kernel thread
 * with interrupts on, preempted on its way to thread_block) is not
 * queued: it blocks here, and its thread_block returns once it is woken.
 * => sched_lock held; returns with it released (switch_away)
 */
static inline void yield_locked(struct thread *t)
{
	struct sched_cpu *sc = here();
	/* before t is queued: alone on this CPU's queue, t would be chosen over another's thread */
	struct thread *next = runq_pop_here(sc, t != sc->idle && t->state != THREAD_WAITING);

	if (t->state != THREAD_WAITING && t != sc->idle) {
		if (next == NULL && may_take(t)) {
			next = t;              /* nothing else may run here: t goes on */
		} else {
			t->state = THREAD_RUNNABLE;
			if (t->bound_to != 0) {
				runq_push_kick(t);
			} else {           /* runq_push_kick's way for a home that is here */
				runq_push(sc, t);
				kick_idle_cpu();   /* an idle CPU may take it, or what this one passes over */
			}
		}
	}
	switch_away(next);
}

void sched_yield(void)
{
	machine_spin_pause();              /* a yield loop with interrupts off still answers */
	spin_lock(&sched_lock);
	yield_locked(machine_current_thread());
}

/*
 * A glance at the run queue without the lock: a user's yield with no
 * thread queued has nothing to give way to, and a loop of them would
 * only keep the other CPUs off sched_lock.  Nor does it wait for the
 * lock (see sched_preempt): a yield is a hint, and the caller's next one
 * may find the lock free.
 */
void sched_yield_to_others(void)
{
	if (__atomic_load_n(&queued_total, __ATOMIC_RELAXED) != 0 && spin_trylock(&sched_lock))
		yield_locked(machine_current_thread());
}

/* A waiting thread's deadline has passed: its timer's fn, from the clock interrupt. */
static void wait_timed_out(struct timer_call *timer)
{
	struct thread *t = (struct thread *)((char *)timer -
	                                     __builtin_offsetof(struct thread, wait_timer));

	spin_lock(&sched_lock);
	if (t->state == THREAD_WAITING && t->wait_deadline) {
		t->wait_deadline = 0;              /* no timer left to cancel */
		wait_end(t, THREAD_TIMED_OUT);
	}
	spin_unlock(&sched_lock);
}

void assert_wait_deadline(event_t event, const char *what, uint64_t deadline)
{
	struct thread *t = machine_current_thread();

	KASSERT(event != NULL, "assert_wait: no event");
	spin_lock(&sched_lock);
	wait_enqueue(t, event, what, deadline);
	if (deadline)
		timer_call_enter(&t->wait_timer, deadline, wait_timed_out);
	spin_unlock(&sched_lock);
}

void assert_wait(event_t event, const char *what)
{
	assert_wait_deadline(event, what, 0);
}

/* assert_wait_in_call's step under the lock, for the current thread t.  => sched_lock held */
static void wait_enqueue_in_call(struct thread *t, event_t event, const char *what,
                                 bool interruptible)
{
	wait_enqueue(t, event, what, 0);
	t->wait_in_call = true;
	t->wait_unint = !interruptible;
	if (interruptible && t->terminating)   /* its end has begun: it unwinds, not sleeps */
		wait_end(t, THREAD_INTERRUPTED);
}

void assert_wait_in_call(event_t event, const char *what, bool interruptible)
{
	KASSERT(event != NULL, "assert_wait_in_call: no event");
	spin_lock(&sched_lock);
	wait_enqueue_in_call(machine_current_thread(), event, what, interruptible);
	spin_unlock(&sched_lock);
}

/* A thread asleep holding a lock would deadlock whoever wakes it, so none may be held. */
wait_result_t thread_block(void)
{
	struct thread *t = machine_current_thread();

	const struct cpu_locks *c = cpu_locks();

	KASSERT(c->stack.depth == 0, "thread_block: %s is held across a wait",
	        c->stack.depth ? c->stack.held[c->stack.depth - 1]->name : "");
	KASSERT(c->preempt.count == 0, "thread_block: preemption is disabled");
	spin_lock(&sched_lock);
	if (t->state == THREAD_WAITING)
		switch_away(runq_pop());
	else
		spin_unlock(&sched_lock);
	t->wait_in_call = false;
	return t->wait_result;
}

/*
 * Wakes event's waiters, every one or only the oldest.  A bucket seen
 * empty needs no lock: a waiter declares itself before it lets go of the
 * lock its waker then takes to change the condition.
 */
static void wakeup(event_t event, bool one)
{
	if (__atomic_load_n(wait_bucket(event), __ATOMIC_ACQUIRE) == NULL)
		return;
	spin_lock(&sched_lock);
	wakeup_locked(event, one);
	spin_unlock(&sched_lock);
}

void thread_wakeup(event_t event)
{
	wakeup(event, false);
}

void thread_wakeup_one(event_t event)
{
	wakeup(event, true);
}

bool clear_wait(struct thread *t, wait_result_t result)
{
	spin_lock(&sched_lock);
	bool ended = wait_end(t, result);
	spin_unlock(&sched_lock);
	return ended;
}

/* The count is the CPU's: what the ending thread disabled must not pass to the next. */
void sched_exit(void)
{
	struct thread *t = machine_current_thread();

	spin_lock(&sched_lock);
	KASSERT(cpu_locks()->preempt.count <= 1, "sched_exit: preemption disabled %u times",
	        cpu_locks()->preempt.count);
	cpu_locks()->preempt.count = 0;
	t->state = THREAD_HALTED;
	t->run_next = zombies;
	zombies = t;
	zombies_made++;
	wakeup_locked(&zombies, false);
	switch_away(runq_pop());
	panic("sched_exit: a halted thread ran again");
}

/*
 * A thread interrupted after its quantum gives way, if another can run:
 * the interrupt's way out makes the switch (sched_interrupt_exit), where
 * preemption may be allowed.  The run queue is only glanced at here,
 * without the lock: the switch looks again under it, once per quantum's
 * end with anything queued, not once per interrupt.  A thread queued later
 * waits for the next quantum's end, or for an idle CPU.  The idle thread
 * has no quantum: its loop looks for runnable threads after each interrupt.
 */
void sched_tick(void)
{
	if (here()->quantum_over && __atomic_load_n(&queued_total, __ATOMIC_RELAXED) != 0)
		cpu_locks()->preempt.pending = true;   /* sched_preempt looks, under the lock */
}

/*
 * Another CPU kicked this one: a thread became runnable while it idled,
 * its quantum ended there, or its thread must stop (suspended or being
 * terminated: sched_wait_stopped, sched_remove).  The interrupt's way out
 * makes the switch.
 */
void sched_kicked(void)
{
	struct thread *t = machine_current_thread();

	if (!spin_trylock(&sched_lock)) {
		cpu_locks()->preempt.pending = true;   /* sched_preempt looks, once it has the lock */
		return;
	}
	struct sched_cpu *sc = here();
	idling &= ~(1u << machine_cpu_number());
	if (((sc->quantum_over || t == sc->idle) && runnable_exists(t != sc->idle)) || !may_run(t))
		cpu_locks()->preempt.pending = true;
	spin_unlock(&sched_lock);
}

/*
 * The current thread gives way to the next, marked as preempted where
 * in_kernel says.  It waits for no one: with sched_lock taken, the switch
 * stays asked for, and the next outermost unlock or interrupt tries
 * again.  A CPU that queued for the lock would wait behind every ticket
 * drawn before its own, and where CPUs are threads of a host with fewer
 * cores, the CPU holding the next ticket may not be running at all: four
 * CPUs on two cores spent most of their time so, switching.
 */
static void sched_preempt(bool in_kernel)
{
	struct thread *t = machine_current_thread();

	KASSERT(preempt_allowed(), "sched_preempt: preemption is not allowed here");
	if (!spin_trylock(&sched_lock)) {
		cpu_locks()->preempt.pending = true;
		return;
	}
	cpu_locks()->preempt.pending = false;
	if (may_run(t) && !runnable_exists(t != here()->idle)) {   /* one that must stop goes */
		here()->quantum_over = false;            /* looked: the next quantum's end looks again */
		spin_unlock(&sched_lock);
		cpu_locks()->preempt.pending = preempt_always;
		return;
	}
	t->preempted_in_kernel = in_kernel;
	yield_locked(t);
	t->preempted_in_kernel = false;
}

void sched_preempt_pending(void)
{
	sched_preempt(true);
}

void sched_interrupt_enter(void)
{
	cpu_locks()->preempt.interrupt_depth++;
}

/*
 * The interrupted code gives way now if the clock asked and it may be
 * preempted (it holds no spin lock, as its interrupts were on, and has not
 * disabled preemption); otherwise the request stays pending until it may.
 */
void sched_interrupt_exit(bool from_user)
{
	KASSERT(cpu_locks()->preempt.interrupt_depth > 0, "sched_interrupt_exit: not in an interrupt");
	cpu_locks()->preempt.interrupt_depth--;
	if (cpu_locks()->preempt.pending && preempt_allowed())
		sched_preempt(!from_user);
}

/* t, or its task, is being terminated: t is let run only on to a wait or its way out. */
static bool ending(const struct thread *t)
{
	return __atomic_load_n(&t->terminating, __ATOMIC_RELAXED) ||
	       (t->task && __atomic_load_n(&t->task->terminated, __ATOMIC_RELAXED));
}

/*
 * Is t, or its task, suspended or ending?  A glance without the lock,
 * never false where may_run or ending would stop t.
 */
static inline bool stop_asked(const struct thread *t)
{
	const struct task *task = t->task;

	if (__atomic_load_n(&t->suspend_count, __ATOMIC_RELAXED) ||
	    __atomic_load_n(&t->terminating, __ATOMIC_RELAXED))
		return true;
	return task && (__atomic_load_n(&task->suspend_count, __ATOMIC_RELAXED) ||
	                __atomic_load_n(&task->terminated, __ATOMIC_RELAXED));
}

/*
 * A thread suspended, or whose task was, stops here on its way back to
 * user mode (arch/x86_64/syscall.c), where it holds nothing.  It waits on
 * the count that stops it (thread_resume and task_resume wake it), and
 * looks again when woken, as the other count may stop it still.  A thread
 * being terminated, or whose task is (let run on from the middle of a
 * call by sched_remove), stops here for good, on an event nobody wakes:
 * the termination's sched_remove ends it there.
 */
void sched_stop_if_suspended(void)
{
	struct thread *t = machine_current_thread();

	/*
	 * A first look without the lock, as this runs on every way out:
	 * suspension is rare, and a thread suspended just after it looked
	 * stops on its next way out, as Mach allows.  What nothing asks to
	 * stop goes on at once; what something does looks again, closer.
	 */
	if (__builtin_expect(!stop_asked(t), 1))
		return;
	while (!may_run(t) || ending(t)) {
		spin_lock(&sched_lock);
		bool waits = true;
		if (ending(t))
			wait_enqueue(t, &t->terminating, "its end", 0);
		else if (t->suspend_count)
			wait_enqueue(t, &t->suspend_count, "thread_resume", 0);
		else if (!may_run(t))
			wait_enqueue(t, &t->task->suspend_count, "task_resume", 0);
		else
			waits = false;
		/*
		 * Blocks in the same hold: preempted between the two, it would
		 * be off the CPU waiting, yet counted as preempted inside a
		 * call, and its terminator would wait for it forever.
		 */
		if (waits)
			switch_away(runq_pop());
		else
			spin_unlock(&sched_lock);
	}
}

/*
 * A CPU's idle thread: runs what can run, else halts until an interrupt.
 * It says it idles under sched_lock, so a thread made runnable after it
 * looked kicks it, and the kick's interrupt, taken at the halt, wakes it.
 */
static void __attribute__((noreturn)) idle_loop(void *unused)
{
	(void)unused;
	for (;;) {
		spin_lock(&sched_lock);
		struct thread *t = runq_pop();
		if (t) {
			idling &= ~(1u << machine_cpu_number());
			switch_away(t);
			continue;
		}
		idling |= 1u << machine_cpu_number();
		spin_unlock(&sched_lock);
		machine_idle();
	}
}

/* Asking again at once, where a switch was asked for and made, is what "always" means. */
void sched_preempt_always(bool on)
{
	preempt_always = on;
	cpu_locks()->preempt.pending = on;
}

void sched_init(void)
{
	struct thread *idle;

	machine_set_current_thread(&boot_thread);
	spin_lock(&sched_lock);
	sched_cpus[0].current = &boot_thread;
	quantum_switch(&sched_cpus[0], &boot_thread);   /* its first quantum counts from clock_init */
	spin_unlock(&sched_lock);
	idle = thread_create_kernel("idle", idle_loop, NULL);
	if (idle == NULL)
		panic("sched_init: no memory for the idle thread");
	sched_remove(idle);
	idle->terminating = false;         /* taken off the queue, not ended */
	sched_cpus[0].idle = idle;
	if (thread_create_kernel("reaper", reaper_loop, NULL) == NULL)
		panic("sched_init: no memory for the reaper");
}

void sched_cpu_run(void)
{
	unsigned n = machine_cpu_number();
	struct thread *self = &cpu_start_threads[n];

	ksnprintf(self->name, sizeof(self->name), "idle%u", n);
	self->state = THREAD_RUNNING;
	self->running = true;
	self->last_cpu = n;
	machine_set_current_thread(self);
	spin_lock(&sched_lock);
	sched_cpus[n].idle = self;
	sched_cpus[n].current = self;
	spin_unlock(&sched_lock);
	idle_loop(NULL);
}

/* Off every CPU, and not in the middle of a call.  => sched_lock held */
static bool thread_stopped(const struct thread *t)
{
	return !t->running && !t->preempted_in_kernel;
}

/*
 * Declares the current thread's wait for t to be stopped, inside a call,
 * or says t is stopped already.  => sched_lock held
 */
static bool stop_wait_declare(struct thread *t)
{
	if (thread_stopped(t))
		return false;
	if (t->running)
		machine_cpu_kick(t->last_cpu);
	t->stop_watched = true;
	wait_enqueue_in_call(machine_current_thread(), &t->running, "it to stop", true);
	return true;
}

bool sched_quiescent(void)
{
	unsigned me = machine_cpu_number(), n = machine_cpu_count();
	bool quiet;

	spin_lock(&sched_lock);
	quiet = zombies_made == zombies_reaped && !runnable_exists(true);
	for (unsigned i = 0; quiet && i < n; i++)
		quiet = i == me || sched_cpus[i].current == sched_cpus[i].idle;
	spin_unlock(&sched_lock);
	return quiet;
}

void sched_nudge(struct thread *t)
{
	spin_lock(&sched_lock);
	if (t->running && t->last_cpu != machine_cpu_number())
		machine_cpu_kick(t->last_cpu);
	spin_unlock(&sched_lock);
}

bool sched_thread_stopped(struct thread *t)
{
	spin_lock(&sched_lock);
	bool stopped = thread_stopped(t);
	spin_unlock(&sched_lock);
	return stopped;
}

bool sched_wait_stopped(struct thread *t)
{
	if (t == machine_current_thread())
		return true;
	for (;;) {
		spin_lock(&sched_lock);
		bool waits = stop_wait_declare(t);
		spin_unlock(&sched_lock);
		if (!waits)
			return true;
		if (thread_block() == THREAD_INTERRUPTED)
			return false;
	}
}
