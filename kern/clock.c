/*
 * The clock, machine-independent half: turns cycle-counter readings into
 * nanoseconds, counts interrupts, runs the timer queue from them and arms
 * the one-shot timer for its next deadline.  The hardware (which timer,
 * which counter, how they are calibrated) is the machine layer's, behind
 * kern/machine.h.
 *
 * The rates are written once, by clock_init, before any interrupt can be
 * taken; readers need no lock.  Each CPU has its own one-shot timer, and
 * what it is armed for is that CPU's, changed only with interrupts off:
 * (i) below.  It serves that CPU's own timer queue (kern/timer.c): a
 * timer that becomes the head arms it, and each of its interrupts runs
 * the queue's due calls and arms for the new head, so the head always
 * has the timer armed by its deadline or earlier.
 */
#include "kern/clock.h"
#include "kern/machine.h"
#include "kern/panic.h"
#include "kern/timer.h"

#define NSEC_PER_SEC 1000000000ull

static uint64_t cycle_hz;
static uint64_t cycles_at_init;
static uint64_t ns_per_cycle;        /* 32.32 fixed point: nanoseconds per 2^32 cycles */

static uint64_t ticks;               /* updated by the clock interrupt */
static clock_tick_fn tick_handler;   /* replaced at any moment: read it once per interrupt */

static bool started;                 /* (c) clock_init has started the timer */

/* Per CPU, indexed by machine_cpu_number(). */
struct clock_cpu {
	uint64_t armed;              /* (i) the deadline its one-shot timer is set for */
	bool in_step;                /* (i) its interrupt runs the timers: it arms afterwards */
};
static struct clock_cpu clock_cpus[MACHINE_MAX_CPUS];

/* This CPU's.  => interrupts off */
static struct clock_cpu *clock_here(void)
{
	return &clock_cpus[machine_cpu_number()];
}

/* Starts the timer only once the rates are known: timers queued before wait until then. */
void clock_init(void)
{
	cycle_hz = machine_clock_start();
	if (cycle_hz == 0)
		panic("clock_init: the cycle counter does not advance");
	ns_per_cycle = (NSEC_PER_SEC << 32) / cycle_hz;
	cycles_at_init = machine_cycle_count();
	for (unsigned n = 0; n < MACHINE_MAX_CPUS; n++)
		clock_cpus[n].armed = TIMER_NONE;
	started = true;
	clock_arm(timer_next_deadline());
}

uint64_t clock_ticks(void)
{
	return __atomic_load_n(&ticks, __ATOMIC_RELAXED);
}

/*
 * cycles * ns_per_cycle / 2^32, with a 128-bit product: a 64-bit one
 * would overflow after a few seconds.  Rounding down keeps it monotonic.
 */
uint64_t clock_ns(void)
{
	uint64_t cycles = machine_cycle_count() - cycles_at_init;

	return (uint64_t)(((unsigned __int128)cycles * ns_per_cycle) >> 32);
}

/*
 * Time first: whatever passes before the timer is read makes the answer
 * early, never late.  A timer that has run down while something is armed
 * has gone off, its interrupt waiting for interrupts to come back on: it
 * is due now.
 */
uint64_t clock_armed_for(void)
{
	uint64_t now = clock_ns();
	uint64_t left = machine_timer_left_ns();

	if (left == 0)
		return clock_here()->armed == TIMER_NONE ? TIMER_NONE : now;
	return now + left;
}

uint64_t clock_tsc_hz(void)
{
	return cycle_hz;
}

clock_tick_fn clock_set_tick_handler(clock_tick_fn fn)
{
	return __atomic_exchange_n(&tick_handler, fn, __ATOMIC_ACQ_REL);
}

/* Sets the one-shot timer for deadline (TIMER_NONE: for nothing), replacing what was armed. */
static void clock_program(uint64_t deadline)
{
	uint64_t now = clock_ns();

	clock_here()->armed = deadline;
	if (deadline == TIMER_NONE)
		machine_timer_stop();
	else
		machine_timer_oneshot(deadline > now ? deadline - now : 0);
}

void clock_arm(uint64_t deadline)
{
	struct clock_cpu *c = clock_here();

	if (started && !c->in_step && deadline < c->armed)
		clock_program(deadline);
}

/*
 * The one-shot timer is spent, so the step arms it again, for the next
 * deadline, before the handler runs: the handler may switch threads and
 * come back much later.  Timers entered by the timers that ran are in
 * that deadline already.  The count goes up first, so the handler sees
 * its own interrupt.
 */
void clock_interrupt(void)
{
	clock_tick_fn fn = __atomic_load_n(&tick_handler, __ATOMIC_ACQUIRE);

	struct clock_cpu *c = clock_here();

	__atomic_fetch_add(&ticks, 1, __ATOMIC_RELAXED);
	c->in_step = true;
	uint64_t next = timer_expire(clock_ns());
	c->in_step = false;
	clock_program(next);
	if (fn)
		fn();
}
