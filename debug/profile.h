/*
 * A sampling profiler for make bench PROFILE=1 (boot option `profile`).
 * machine_profile_start raises an NMI PROFILE_HZ times a second; while a
 * slot is being filled, each one records the instruction it interrupted
 * there, whether interrupts were on or off, kernel or user.  A report
 * then names the functions the samples fell in, most first.
 *
 * What it can see: under QEMU's TCG an NMI is taken between translation
 * blocks, so a sample names the block that had just run, and a short
 * function right after a call or a return gets more than its share.  Use
 * it to find where time goes; measure how much with the benchmarks.
 */
#ifndef MICA_DEBUG_PROFILE_H
#define MICA_DEBUG_PROFILE_H

#include <stdbool.h>
#include <stdint.h>

#define PROFILE_HZ 4000
#define PROFILE_PERIOD_NS (1000000000ul / PROFILE_HZ)   /* between samples, on average */
#define PROFILE_SLOTS 3                /* cases measured together (BENCH_GROUP_MAX) */
#define PROFILE_SAMPLES 16384          /* per slot; more are counted, not kept */
#define PROFILE_TOP 8                  /* functions a report names */

/*
 * Starts the sampling clock; false when the machine cannot (no I/O APIC),
 * having printed why.  From then on the sampler serves SYS_profile, the
 * user program's way to fill slots and report them (kern/service.h).
 */
bool profile_start(void);
void profile_stop(void);
bool profile_running(void);

/* Samples go to slot from now on (-1: to none). */
void profile_fill(int slot);

/* One sample: the interrupted instruction, in user mode or not.  Called from the NMI. */
void profile_sample(uint64_t rip, bool user);

/*
 * Prints slot's top functions, one line each, then empties it:
 *   PROFILE name=<case> size=<n> pct=<p> samples=<k> fn=<function>
 * (fn=(user) for user mode, fn=(unknown) outside every kernel symbol).
 */
void profile_report(int slot, const char *name, uint64_t size,
                    int (*print)(const char *fmt, ...));

#endif
