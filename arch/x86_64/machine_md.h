/*
 * The inline part of kern/machine.h on x86-64: the interrupt flag.  Every
 * spin lock reads and clears it, and under QEMU's TCG a call and its
 * return cost more than these instructions do (docs/performance.md).
 * The host tests stand in for them with functions (tests/host/fake_kernel.c).
 */
#ifndef MICA_ARCH_X86_64_MACHINE_MD_H
#define MICA_ARCH_X86_64_MACHINE_MD_H

#include <stdbool.h>
#include "arch/x86_64/cpu.h"

static inline void machine_interrupts_off(void)
{
	cli();
}

static inline void machine_interrupts_on(void)
{
	sti();
}

/* Turns interrupts off and says whether they were on. */
static inline bool machine_interrupts_save_off(void)
{
	bool was_on = read_rflags() & RFLAGS_IF;

	cli();
	return was_on;
}

#endif
