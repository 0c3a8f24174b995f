/*
 * The clock: time in nanoseconds, and a one-shot interrupt for the
 * nearest deadline.
 *
 * Time is the cycle counter (the TSC), exact whatever interrupts do.
 * The interrupt is not periodic: the clock arms the machine's one-shot
 * timer of each CPU for the earliest deadline of that CPU's timer queue
 * (kern/timer.h), the end of its running thread's quantum among them, and an idle CPU with
 * nothing queued takes none.  Each interrupt, taken only where interrupts
 * are on, adds one to clock_ticks(), runs the timers that are due, arms
 * for the next deadline, then calls the tick handler, if one is set, with
 * interrupts off.  A deadline that passes while interrupts are off is
 * served when they come back on.
 */
#ifndef MICA_KERN_CLOCK_H
#define MICA_KERN_CLOCK_H

#include <stdint.h>

typedef void (*clock_tick_fn)(void);

/*
 * Calibrates the cycle counter and starts the one-shot timer, armed for
 * whatever the timer queue already holds.  Once, at boot; leaves
 * interrupts as they were (off).
 */
void clock_init(void);

/* Clock interrupts taken since clock_init: as many as deadlines needed, not a rate. */
uint64_t clock_ticks(void);

/* Nanoseconds since clock_init; never goes back.  0 before clock_init. */
uint64_t clock_ns(void);

/*
 * When, in clock_ns() time, the armed interrupt is to come, read from the
 * timer itself (now, if it has gone off and its interrupt waits for
 * interrupts to come back on); TIMER_NONE if none is armed.  It may be
 * early by the time between two readings, never late.  Interrupts off,
 * so that nothing re-arms the timer in between.
 */
uint64_t clock_armed_for(void);

/* The cycle counter's rate, measured at boot. */
uint64_t clock_tsc_hz(void);

/*
 * Makes fn (NULL for none) the function every clock interrupt calls, with
 * interrupts off, after its timers ran; returns the one it replaces.  May
 * be called before clock_init and with interrupts on.
 */
clock_tick_fn clock_set_tick_handler(clock_tick_fn fn);

/*
 * For kern/timer.c, with interrupts off: a clock interrupt is to come at
 * deadline or soon after (it may come earlier).  Arms the timer only if
 * nothing armed comes by then.
 */
void clock_arm(uint64_t deadline);

/*
 * For the machine-dependent interrupt path only: the one-shot timer has
 * gone off (interrupts are off, and the interrupt controller has been
 * told it is done, so the handler may switch threads and return much
 * later).
 */
void clock_interrupt(void);

#endif
