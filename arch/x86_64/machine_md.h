/*
 * The inline part of kern/machine.h on x86-64: the interrupt flag and the
 * cycle counter.  Every spin lock reads and clears the flag (and, with
 * INVARIANTS, may read the counter), and under QEMU's TCG a call and its
 * return cost more than these instructions do (docs/performance.md).
 * The host tests stand in for them with functions (tests/host/fake_kernel.c).
 */
#ifndef MICA_ARCH_X86_64_MACHINE_MD_H
#define MICA_ARCH_X86_64_MACHINE_MD_H

#include <stdbool.h>
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/percpu.h"

static inline void machine_interrupts_off(void)
{
	cli();
}

static inline void machine_interrupts_on(void)
{
	sti();
}

/* Are interrupts on, on this CPU? */
static inline bool machine_interrupts_enabled(void)
{
	return read_rflags() & RFLAGS_IF;
}

/* Turns interrupts off and says whether they were on. */
static inline bool machine_interrupts_save_off(void)
{
	bool was_on = read_rflags() & RFLAGS_IF;

	cli();
	return was_on;
}

/* The thread running on this CPU: every sleep-lock assertion asks. */
static inline struct thread *machine_current_thread(void)
{
	return CPU_FIELD(thread);
}

/* This CPU's number, 0 for the boot CPU. */
static inline unsigned machine_cpu_number(void)
{
	return CPU_FIELD(id);
}

/* This CPU's lock state (kern/lock_state.h): meaningful while the thread stays on it. */
static inline struct cpu_locks *machine_cpu_locks(void)
{
	return &curcpu()->locks;
}

void pmap_tlb_service(void);        /* arch/x86_64/pmap_cpu.h */

/*
 * One step of a spin-wait: tells the CPU (and a hyperthread sibling) it
 * is spinning, and drops the translations a TLB shootdown asks of it,
 * whose initiator may hold the lock this CPU spins for.
 */
static inline void machine_spin_pause(void)
{
	__builtin_ia32_pause();
	pmap_tlb_service();
}

/* The cycle counter: counts at a constant rate and never goes back on one CPU. */
static inline uint64_t machine_cycle_count(void)
{
	return rdtsc();
}

#endif
