/*
 * The inline part of kern/machine.h on x86-64: the interrupt flag.  Every
 * spin lock reads and clears it, and under QEMU's TCG a call and its
 * return cost more than these instructions do (docs/performance.md).
 * The host tests stand in for them with functions (tests/host/fake_kernel.c).
 */
#ifndef MICA_ARCH_X86_64_MACHINE_MD_H
#define MICA_ARCH_X86_64_MACHINE_MD_H

#include <stdbool.h>
#include <stdint.h>

static inline void machine_interrupts_off(void)
{
	__asm__ volatile("cli" ::: "memory");
}

static inline void machine_interrupts_on(void)
{
	__asm__ volatile("sti" ::: "memory");
}

/* Turns interrupts off and says whether they were on (RFLAGS.IF, bit 9). */
static inline bool machine_interrupts_save_off(void)
{
	uint64_t rflags;

	__asm__ volatile("pushfq; popq %0; cli" : "=r"(rflags) : : "memory");
	return (rflags >> 9) & 1;
}

#endif
