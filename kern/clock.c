/*
 * The clock, machine-independent half: counts ticks, calls the tick
 * handler, and turns cycle-counter readings into nanoseconds.  The
 * hardware (which timer, which counter, how they are calibrated) is the
 * machine layer's, behind kern/machine.h.
 *
 * Everything but the tick count and the handler is written once, by
 * clock_init, before any tick can be taken; readers need no lock.
 */
#include "kern/clock.h"
#include "kern/machine.h"
#include "kern/panic.h"
#include "kern/timer.h"

#define NSEC_PER_SEC 1000000000ull

static unsigned tick_hz;
static uint64_t cycle_hz;
static uint64_t cycles_at_init;
static uint64_t ns_per_cycle;        /* 32.32 fixed point: nanoseconds per 2^32 cycles */

static uint64_t ticks;               /* updated by the tick interrupt */
static clock_tick_fn tick_handler;   /* replaced at any moment: read it once per tick */

void clock_init(unsigned hz)
{
	KASSERT(hz > 0, "clock_init: a tick rate of 0 Hz");
	tick_hz = hz;
	cycle_hz = machine_clock_start(hz);
	if (cycle_hz == 0)
		panic("clock_init: the cycle counter does not advance");
	ns_per_cycle = (NSEC_PER_SEC << 32) / cycle_hz;
	cycles_at_init = machine_cycle_count();
}

unsigned clock_hz(void)
{
	return tick_hz;
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

uint64_t clock_tsc_hz(void)
{
	return cycle_hz;
}

clock_tick_fn clock_set_tick_handler(clock_tick_fn fn)
{
	return __atomic_exchange_n(&tick_handler, fn, __ATOMIC_ACQ_REL);
}

/*
 * The count goes up before the handler runs, so the handler sees its own
 * tick; timers run before it too, so that a thread they wake may be the
 * one the handler's scheduling picks.
 */
void clock_interrupt(void)
{
	clock_tick_fn fn = __atomic_load_n(&tick_handler, __ATOMIC_ACQUIRE);

	__atomic_fetch_add(&ticks, 1, __ATOMIC_RELAXED);
	timer_expire(clock_ns());
	if (fn)
		fn();
}
