/*
 * The clock: a periodic tick for the scheduler, and time in nanoseconds.
 *
 * The tick is a timer interrupt, taken only where interrupts are on.
 * Each one adds one to clock_ticks() and then calls the tick handler, if
 * one is set, with interrupts off.  Ticks count interrupts taken, not
 * periods elapsed: periods that pass while interrupts are off collapse
 * into one pending interrupt.  For elapsed time use clock_ns(), which
 * reads the cycle counter (the TSC) and is exact whatever interrupts do.
 */
#ifndef MICA_KERN_CLOCK_H
#define MICA_KERN_CLOCK_H

#include <stdint.h>

#define CLOCK_HZ 100               /* the tick rate kernel_main starts the clock at */

typedef void (*clock_tick_fn)(void);

/*
 * Calibrates the cycle counter and starts ticking hz times a second.
 * Once, at boot; leaves interrupts as they were (off).
 */
void clock_init(unsigned hz);

/* The tick rate clock_init was given. */
unsigned clock_hz(void);

/* Timer interrupts taken since clock_init. */
uint64_t clock_ticks(void);

/* Nanoseconds since clock_init; never goes back.  0 before clock_init. */
uint64_t clock_ns(void);

/* The cycle counter's rate, measured at boot. */
uint64_t clock_tsc_hz(void);

/*
 * Makes fn (NULL for none) the function every tick calls, with interrupts
 * off, after counting it; returns the one it replaces.  May be called
 * before clock_init and with interrupts on.
 */
clock_tick_fn clock_set_tick_handler(clock_tick_fn fn);

/*
 * For the machine-dependent interrupt path only: one tick has arrived
 * (interrupts are off, and the interrupt controller has been told it is
 * done, so the handler may switch threads and return much later).
 */
void clock_interrupt(void);

#endif
