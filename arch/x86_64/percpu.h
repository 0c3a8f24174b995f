/*
 * Per-CPU state.  Each CPU's GS base points at its struct cpu, whose first
 * field points at itself, so curcpu() is one load from %gs:0.  cpus[0] is
 * the boot processor; arch/x86_64/mp.c starts the others, which come up
 * in the same protection state and join the scheduler.
 */
#ifndef MICA_ARCH_PERCPU_H
#define MICA_ARCH_PERCPU_H

#include <stdbool.h>
#include <stdint.h>
#include "kern/lock_state.h"

#define MAX_CPUS 16

/* Interrupt stack table slots: faults that must not trust the current stack. */
enum { IST_DOUBLE_FAULT = 1, IST_NMI = 2, IST_MACHINE_CHECK = 3, IST_COUNT = 3 };

/*
 * GDT selectors.  The order of user segments is what SYSRET requires: it
 * takes SS and CS at SEL_SYSRET_BASE + 8 and + 16.  The base itself is
 * where a 32-bit user code segment would go; its slot stays null.
 */
enum {
	SEL_KCODE = 0x08,
	SEL_KDATA = 0x10,
	SEL_SYSRET_BASE = 0x18 | 3,
	SEL_UDATA = 0x20 | 3,
	SEL_UCODE = 0x28 | 3,
	SEL_TSS = 0x30,
	GDT_ENTRIES = 8,            /* the TSS descriptor takes two */
};

struct tss {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];            /* IST1..IST7: ist[n - 1] is slot n */
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __attribute__((packed));

struct trap_catch;
struct pmap;
struct thread;

/*
 * The state a CPU found itself in once it was up, read back from the
 * registers (not from what it was told to load), so that a test can
 * compare every CPU with the boot processor.
 */
struct cpu_seen {
	uint64_t cr0, cr4, efer, pat;
	uint64_t gs_base;
	uint32_t apic_id;                /* from its local APIC's ID register */
	uint32_t tsc_aux;                /* what RDTSCP reports: its number, when it has RDTSCP */
};

struct cpu {
	struct cpu *self;
	unsigned id;
	struct trap_catch *trap_catch;   /* armed expected-trap point, or NULL */
	struct pmap *pmap;               /* the active address space */
	uint64_t kernel_rsp;             /* top of the running thread's kernel stack (SYSCALL) */
	uint64_t user_rsp;               /* the user RSP, between SYSCALL and the frame */
	struct thread *thread;           /* the running thread */
	uint64_t gdt[GDT_ENTRIES] __attribute__((aligned(16)));
	struct tss tss __attribute__((aligned(16)));
	uint32_t apic_id;                /* the local APIC ID other CPUs address it by */
	volatile bool online;            /* set by the CPU itself, last, once it is up */
	struct cpu_seen seen;
	struct cpu_locks locks;          /* the lock layer's: held locks, preemption count */
	uint64_t fs_base;                /* what MSR_FS_BASE holds: the last user thread's */
};

/* syscall_entry.asm reads these with %gs-relative moves */
#define CPU_KERNEL_RSP 32
#define CPU_USER_RSP   40
_Static_assert(__builtin_offsetof(struct cpu, kernel_rsp) == CPU_KERNEL_RSP, "percpu layout");
_Static_assert(__builtin_offsetof(struct cpu, user_rsp) == CPU_USER_RSP, "percpu layout");

extern struct cpu cpus[MAX_CPUS];

/*
 * One field of this CPU's struct cpu, read with one %gs-relative load: a
 * thread preempted between finding its struct cpu and reading a field
 * could read another CPU's.
 */
#define CPU_FIELD(field)                                                              \
	({                                                                            \
		__typeof__(((struct cpu *)0)->field) v_;                              \
		_Static_assert(sizeof(v_) == 8 || sizeof(v_) == 4, "one load");       \
		__asm__ volatile("mov %%gs:%c1, %0" : "=r"(v_)                        \
		                 : "i"(__builtin_offsetof(struct cpu, field)));       \
		v_;                                                                   \
	})

static inline struct cpu *curcpu(void)
{
	struct cpu *c;
	__asm__ volatile("movq %%gs:0, %0" : "=r"(c));
	return c;
}

#endif
