/*
 * The few machine-dependent primitives the machine-independent core uses
 * (arch/x86_64 implements them), so kern/ names no x86 detail.
 */
#ifndef MICA_KERN_MACHINE_H
#define MICA_KERN_MACHINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* How Mica leaves QEMU (docs/testing.md): QEMU exits with (code << 1) | 1. */
enum mica_exit {
	MICA_EXIT_PASS = 0x10,
	MICA_EXIT_FAIL = 0x11,
	MICA_EXIT_PANIC = 0x12,
	MICA_EXIT_UNSUPPORTED = 0x13,
};

void console_hw_init(void);
void console_hw_putc(char c);

struct thread;
struct cpu_locks;

#ifdef MICA_HOST
/* The host tests' stand-ins (tests/host/fake_kernel.c). */
/* The thread running on this CPU. */
struct thread *machine_current_thread(void);
void machine_interrupts_off(void);
void machine_interrupts_on(void);
/* Turns interrupts off and says whether they were on. */
bool machine_interrupts_save_off(void);
/* The cycle counter: counts at a constant rate and never goes back on one CPU. */
uint64_t machine_cycle_count(void);
/* This CPU's number, 0 for the boot CPU. */
unsigned machine_cpu_number(void);
/* This CPU's lock state (kern/lock_state.h). */
struct cpu_locks *machine_cpu_locks(void);
/* One step of a spin-wait. */
void machine_spin_pause(void);
#else
#include "arch/x86_64/machine_md.h"     /* the same, inline */
#endif

/* Leaves the emulator with this code; on real hardware, halts for good. */
void machine_exit(enum mica_exit code) __attribute__((noreturn));

/* Prints the caller's backtrace, function names included. */
void machine_backtrace_here(void);

/*
 * The RAM the machine says it has, from a source independent of the boot
 * loader (the CMOS size registers PC firmware and QEMU fill in), so tests
 * can check the loader's memory map against it.
 */
uint64_t machine_installed_ram(void);

/* ---- threads (arch/x86_64/thread_md.c) ---- */
struct thread;
struct pmap;
struct x86_thread_state64;

/* Prepares t's kernel stack so that switching to it runs fn(arg). */
void machine_thread_init_kernel(struct thread *t, void (*fn)(void *), void *arg);
/* Prepares a user thread: zero registers, ring 3; switching to it enters user mode. */
void machine_thread_init_user(struct thread *t);
/* Saves from, makes to (in address space pmap) the running thread; returns when from runs again. */
void machine_switch(struct thread *from, struct thread *to, struct pmap *pmap);
void machine_set_current_thread(struct thread *t);
int machine_thread_set_state(struct thread *t, const struct x86_thread_state64 *s);
int machine_thread_get_state(struct thread *t, struct x86_thread_state64 *s);
/*
 * Sets the calling user thread's thread pointer (SYS_thread_set_pointer),
 * which it keeps across switches; a new thread's is 0.  A value that is
 * no user address: KERN_INVALID_ARGUMENT, the old one kept.
 */
int machine_thread_set_pointer(uint64_t pointer);
/* Waits for an interrupt with interrupts on, then turns them off again. */
void machine_idle(void);

/* A random 64-bit value (RDRAND where the CPU has it, else the TSC). */
uint64_t machine_entropy(void);

/* ---- the clock's hardware, for kern/clock.c (arch/x86_64/apic.c) ---- */

/*
 * Measures the cycle counter's rate once and readies a one-shot timer
 * whose interrupt calls clock_interrupt() with interrupts off; nothing is
 * armed yet.  The interrupt is taken only where interrupts are on: this
 * leaves them as they were.  Returns the cycle counter's rate in Hz.
 * Panics, saying why, on a machine without a timer it can drive.
 */
uint64_t machine_clock_start(void);

/*
 * Arms the one-shot timer to interrupt once, ns nanoseconds from now (0:
 * as soon as it can), replacing what was armed.  It may come a little
 * early, as two separately calibrated clocks disagree: clock_interrupt
 * arms again for what is not yet due.  Interrupts off.
 */
void machine_timer_oneshot(uint64_t ns);

/* Disarms the one-shot timer: no clock interrupt until the next machine_timer_oneshot. */
void machine_timer_stop(void);

/* Nanoseconds until the one-shot timer goes off, by its own clock; 0 if it is not armed. */
uint64_t machine_timer_left_ns(void);


/* ---- the other processors (arch/x86_64/mp.c) ---- */

struct boot_info;

/*
 * Learns from the firmware's tables (ACPI's MADT, through bi->acpi_rsdp)
 * which processors the machine has.  Early, while the loader's identity
 * map is in force: before pmap_bootstrap.
 */
void machine_cpus_find(const struct boot_info *bi);

/*
 * Starts every processor machine_cpus_find found, each with its own
 * descriptor tables, interrupt stacks and per-CPU data, in the boot
 * processor's protection state, its local APIC timer ready; each then
 * joins the scheduler (sched_cpu_run) as its idle thread.  Prints
 * `cpus: N started (APIC IDs ...)`.  After clock_init, which times the
 * start-up.  It borrows pages below 640 KiB from bi's map, which no
 * allocator owns; where too few are free, or no table lists the
 * processors, it starts none and says why.
 */
void machine_cpus_start(const struct boot_info *bi);

#define MACHINE_MAX_CPUS 16

/* How many CPUs run threads: the boot CPU and those machine_cpus_start started. */
unsigned machine_cpu_count(void);

/* Interrupts CPU n, which then calls sched_kicked (kern/sched.h). */
void machine_cpu_kick(unsigned n);

/* CPU n's lock state, or NULL if there is no CPU n online: CPUs are numbered from 0 up. */
struct cpu_locks *machine_cpu_locks_of(unsigned n);

/* ---- the profiler's clock, for debug/profile.c (arch/x86_64/profile_md.c) ---- */

/*
 * Starts a non-maskable interrupt hz times a second, each of which calls
 * profile_sample() with the interrupted instruction, whatever the
 * interrupt flag; false, with nothing started, on a machine without the
 * hardware for it.  machine_profile_stop stops it.
 */
bool machine_profile_start(unsigned hz);
void machine_profile_stop(void);
/* From the sampling NMI: moves the next one by a random fraction of the period. */
void machine_profile_rearm(void);

#endif
