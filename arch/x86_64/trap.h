/*
 * Traps: the frame every trap stub builds, the vector numbers, and the
 * expected-trap mechanism tests use to say "this access must fault".
 */
#ifndef MICA_ARCH_TRAP_H
#define MICA_ARCH_TRAP_H

#include <stdbool.h>
#include <stdint.h>
#include "kern/setjmp.h"

enum {
	T_DIVIDE = 0, T_DEBUG = 1, T_NMI = 2, T_BREAKPOINT = 3, T_OVERFLOW = 4,
	T_BOUND = 5, T_INVALID_OPCODE = 6, T_DEVICE_NA = 7, T_DOUBLE_FAULT = 8,
	T_COPROC_OVERRUN = 9, T_INVALID_TSS = 10, T_SEGMENT_NP = 11,
	T_STACK_FAULT = 12, T_GENERAL_PROTECTION = 13, T_PAGE_FAULT = 14,
	T_X87_FPU = 16, T_ALIGNMENT_CHECK = 17, T_MACHINE_CHECK = 18,
	T_SIMD_FP = 19, T_VIRTUALIZATION = 20, T_CONTROL_PROTECTION = 21,
	T_EXCEPTIONS = 32,
	T_IRQ_BASE = 32,           /* the 8259s are remapped here, and masked */
	T_TIMER = 0x30,            /* the local APIC timer: the clock's one-shot (kern/clock.c) */
	T_RESCHEDULE = 0x31,       /* another CPU asks this one to look at its threads again */
	T_SHOOTDOWN = 0x32,        /* another CPU asks this one to drop stale translations */
	T_APIC_SPURIOUS = 0xff,    /* the local APIC's spurious vector: needs no EOI */
};

/* Page-fault error code bits (Intel SDM vol. 3, 4.7). */
enum {
	PF_P = 1 << 0,             /* 0: page not present; 1: protection violation */
	PF_W = 1 << 1,             /* write access */
	PF_U = 1 << 2,             /* from user mode */
	PF_RSVD = 1 << 3,          /* reserved bit set in a paging entry */
	PF_I = 1 << 4,             /* instruction fetch */
	PF_PK = 1 << 5,            /* protection key */
};

/* Laid out by trap_entry.asm: general registers, then vector and error, then the CPU's frame. */
struct trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;
};

/*
 * An expected-trap recovery point.  Arm it with TRAP_CATCH(&tc), which
 * returns 0; when an exception strikes on this CPU while it is armed, the
 * trap handler records vector, error code, CR2 and RIP, disarms it, and
 * makes TRAP_CATCH return 1 again, wherever the faulting RIP was:
 *
 *	struct trap_catch tc;
 *	if (TRAP_CATCH(&tc) == 0) {
 *		risky_access();
 *		trap_catch_disarm(&tc);      // it did not trap
 *	} else {
 *		... tc.vector, tc.error, tc.cr2 ...
 *	}
 *
 * Only exceptions (vectors 0-31) are caught; interrupts are not.
 */
struct trap_catch {
	struct kjmp_buf jb;
	uint64_t vector, error, cr2, rip;
};

#define TRAP_CATCH(tc) (trap_catch_arm(tc), kern_setjmp(&(tc)->jb))
void trap_catch_arm(struct trap_catch *tc);
void trap_catch_disarm(struct trap_catch *tc);
struct trap_catch *trap_catch_current(void);   /* the armed one, or NULL */

const char *trap_name(uint64_t vector);
void trap_dispatch(struct trap_frame *tf);

/* The gdb stub's hooks (gdbstub_md.c); each does nothing unless the stub is on. */
bool gdbstub_trap(struct trap_frame *tf);     /* true if the trap was the debugger's */
void gdbstub_poll(struct trap_frame *tf);     /* a clock interrupt: did gdb send Ctrl-C? */
void gdbstub_fatal(struct trap_frame *tf);    /* a fatal trap: gdb sees it first */

#endif
