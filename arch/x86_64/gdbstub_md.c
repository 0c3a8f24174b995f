/*
 * The x86-64 half of the gdb stub (debug/gdbstub.h): COM2, the trap frame
 * as gdb's registers, memory access that cannot fault, the traps that are
 * the debugger's (a planted int3, a single step, Ctrl-C), and the other
 * CPUs held still while gdb has the machine.
 */
#include <stddef.h>
#include "arch/x86_64/apic.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/serial.h"
#include "arch/x86_64/trap.h"
#include "debug/gdbstub.h"
#include "kern/machine.h"
#include "lib/string.h"
#include "mach/kern_return.h"

kern_return_t copy_probe(void *dst, const void *src, size_t len);   /* copy.asm */

#define RFLAGS_TF (1ull << 8)          /* trap flag: #DB after the next instruction */
#define RFLAGS_RESERVED_ONE (1ull << 1)

const uint8_t gdbstub_md_break_insn[GDBSTUB_BREAK_LEN] = { 0xcc };   /* int3 */

static bool stepping;                  /* gdb asked for a step: the next #DB is its */
static bool break_requested;           /* gdbstub_md_break's int3 is on its way */

void gdbstub_md_init(void)
{
	uart_init(COM2);
}

char gdbstub_md_getc(void)
{
	return uart_getc(COM2);
}

void gdbstub_md_putc(char c)
{
	uart_putc(COM2, c);
}

/*
 * Holding the other CPUs.  The CPU that stops for gdb claims the stub
 * (owner), then sends each other CPU an NMI, which stops it wherever it
 * is, interrupts off or not, and waits until each has parked in its NMI
 * handler; they leave together when the owner lets them go.  A CPU that
 * traps for gdb while another has the stub waits for its turn, parked
 * meanwhile by its own NMI.  The handler knows its CPU by its local
 * APIC's ID, never through GS, which an NMI between SYSCALL and SWAPGS
 * finds to be the user's; and by counting NMIs sent and taken it knows
 * one that came too late to park (after the owner let go) for the stub's.
 */
static uint32_t owner;                 /* (a) 1 + the CPU that has the stub; 0: none */
static bool others_wait;               /* (a) the other CPUs must stay parked */
static uint32_t parked;                /* (a) how many are parked */
static uint32_t nmis_sent[MAX_CPUS], nmis_taken[MAX_CPUS];   /* (a) per CPU, the stub's */
static uint32_t nmis_pending;          /* (a) sent and not yet taken, over all CPUs */

#define PARK_WAIT_CYCLES (1ull << 31)  /* about a second: a CPU that never parks is left */

/* This CPU's index in cpus[], from its local APIC: GS may be the user's. */
static unsigned cpu_from_apic(void)
{
	uint32_t id = apic_id();

	for (unsigned i = 0; i < MAX_CPUS; i++)
		if (cpus[i].online && cpus[i].apic_id == id)
			return i;
	return 0;
}

bool gdbstub_md_stop_others(void)
{
	unsigned me = curcpu()->id, n = machine_cpu_count();
	uint32_t none = 0;

	if (__atomic_load_n(&owner, __ATOMIC_ACQUIRE) == me + 1)
		return true;                   /* stopped already: a step's trap */
	while (!__atomic_compare_exchange_n(&owner, &none, me + 1, false, __ATOMIC_ACQUIRE,
	                                    __ATOMIC_RELAXED)) {
		none = 0;
		__asm__ volatile("pause");     /* another CPU has gdb: its NMI parks this one */
	}
	__atomic_store_n(&others_wait, true, __ATOMIC_SEQ_CST);
	for (unsigned i = 0; i < n; i++) {
		if (i == me)
			continue;
		__atomic_fetch_add(&nmis_pending, 1, __ATOMIC_SEQ_CST);
		__atomic_fetch_add(&nmis_sent[i], 1, __ATOMIC_SEQ_CST);
		apic_send_nmi(cpus[i].apic_id);
	}
	uint64_t until = rdtsc() + PARK_WAIT_CYCLES;
	while (__atomic_load_n(&parked, __ATOMIC_ACQUIRE) < n - 1 && rdtsc() < until)
		__asm__ volatile("pause");
	return __atomic_load_n(&parked, __ATOMIC_ACQUIRE) == n - 1;
}

void gdbstub_md_resume_others(void)
{
	__atomic_store_n(&others_wait, false, __ATOMIC_RELEASE);
	while (__atomic_load_n(&parked, __ATOMIC_ACQUIRE) != 0)
		__asm__ volatile("pause");
	__atomic_store_n(&owner, 0, __ATOMIC_RELEASE);
}

bool gdbstub_md_park(void)
{
	if (__atomic_load_n(&nmis_pending, __ATOMIC_ACQUIRE) == 0)
		return false;                  /* the profiler's, with no APIC read */
	unsigned i = cpu_from_apic();
	if (__atomic_load_n(&nmis_taken[i], __ATOMIC_ACQUIRE) ==
	    __atomic_load_n(&nmis_sent[i], __ATOMIC_ACQUIRE))
		return false;                  /* not the stub's NMI */
	__atomic_fetch_add(&nmis_taken[i], 1, __ATOMIC_ACQ_REL);
	__atomic_fetch_sub(&nmis_pending, 1, __ATOMIC_ACQ_REL);
	if (!__atomic_load_n(&others_wait, __ATOMIC_ACQUIRE))
		return true;                   /* late: the owner has let go already */
	__atomic_fetch_add(&parked, 1, __ATOMIC_ACQ_REL);
	while (__atomic_load_n(&others_wait, __ATOMIC_ACQUIRE))
		__asm__ volatile("pause");
	__atomic_fetch_sub(&parked, 1, __ATOMIC_ACQ_REL);
	return true;
}

void gdbstub_md_break(void)
{
	break_requested = true;
	__asm__ volatile("int3");
}

/*
 * gdb's amd64 `g` block, as in gdb/features/i386/64bit-core.xml: rax,
 * rbx, rcx, rdx, rsi, rdi, rbp, rsp, r8-r15 and rip as 64-bit values,
 * then eflags, cs, ss, ds, es, fs and gs as 32-bit ones.  The x87 and SSE
 * registers that come next there are left out: the kernel never uses them
 * (-mgeneral-regs-only), and gdb takes a shorter block, showing the
 * missing registers as unavailable.
 */
static const size_t gpr_offsets[] = {
	offsetof(struct trap_frame, rax), offsetof(struct trap_frame, rbx),
	offsetof(struct trap_frame, rcx), offsetof(struct trap_frame, rdx),
	offsetof(struct trap_frame, rsi), offsetof(struct trap_frame, rdi),
	offsetof(struct trap_frame, rbp), offsetof(struct trap_frame, rsp),
	offsetof(struct trap_frame, r8), offsetof(struct trap_frame, r9),
	offsetof(struct trap_frame, r10), offsetof(struct trap_frame, r11),
	offsetof(struct trap_frame, r12), offsetof(struct trap_frame, r13),
	offsetof(struct trap_frame, r14), offsetof(struct trap_frame, r15),
	offsetof(struct trap_frame, rip),
};
#define NGPRS (sizeof(gpr_offsets) / sizeof(gpr_offsets[0]))
#define NSEGS 6                        /* eflags's block: eflags and six selectors */
#define REGISTERS_SIZE (NGPRS * 8 + (1 + NSEGS) * 4)

static uint64_t *frame_slot(const struct trap_frame *tf, size_t i)
{
	return (uint64_t *)((char *)tf + gpr_offsets[i]);
}

static uint16_t read_selector(int which)
{
	uint16_t v = 0;

	switch (which) {
	case 0: __asm__ volatile("mov %%ds, %0" : "=r"(v)); break;
	case 1: __asm__ volatile("mov %%es, %0" : "=r"(v)); break;
	case 2: __asm__ volatile("mov %%fs, %0" : "=r"(v)); break;
	default: __asm__ volatile("mov %%gs, %0" : "=r"(v)); break;
	}
	return v;
}

/* ds, es, fs and gs are not in the frame: no trap changes them, so they are still the context's. */
size_t gdbstub_md_get_registers(const struct trap_frame *tf, uint8_t *out, size_t cap)
{
	uint32_t small[1 + NSEGS] = { (uint32_t)tf->rflags, (uint32_t)tf->cs, (uint32_t)tf->ss };

	if (cap < REGISTERS_SIZE)
		return 0;
	for (int i = 0; i < 4; i++)
		small[3 + i] = read_selector(i);
	for (size_t i = 0; i < NGPRS; i++)
		memcpy(out + 8 * i, frame_slot(tf, i), 8);
	memcpy(out + 8 * NGPRS, small, sizeof(small));
	return REGISTERS_SIZE;
}

/* The selectors are read-only here: what gdb writes to them is ignored. */
bool gdbstub_md_set_registers(struct trap_frame *tf, const uint8_t *in, size_t len)
{
	uint32_t eflags;

	if (len < REGISTERS_SIZE)
		return false;
	for (size_t i = 0; i < NGPRS; i++)
		memcpy(frame_slot(tf, i), in + 8 * i, 8);
	memcpy(&eflags, in + 8 * NGPRS, 4);
	tf->rflags = eflags | RFLAGS_RESERVED_ONE;
	return true;
}

void gdbstub_md_set_pc(struct trap_frame *tf, uint64_t pc)
{
	tf->rip = pc;
}

void gdbstub_md_set_step(struct trap_frame *tf, bool step)
{
	stepping = step;
	tf->rflags = step ? tf->rflags | RFLAGS_TF : tf->rflags & ~RFLAGS_TF;
}

static bool canonical(uint64_t va)
{
	return (uint64_t)((int64_t)(va << 16) >> 16) == va;
}

/* Both ends canonical and in the same half: no byte between them can raise #GP. */
static bool range_canonical(uint64_t addr, size_t len)
{
	uint64_t last = addr + len - 1;

	return len == 0 || (last >= addr && canonical(addr) && canonical(last) &&
	                    (addr >> 63) == (last >> 63));
}

bool gdbstub_md_read(uint64_t addr, void *buf, size_t len)
{
	return range_canonical(addr, len) && copy_probe(buf, (const void *)addr, len) == KERN_SUCCESS;
}

/* CR0.WP off for the copy: the kernel may then write pages mapped read-only (its text). */
bool gdbstub_md_write(uint64_t addr, const void *buf, size_t len)
{
	uint64_t cr0;
	kern_return_t kr;

	if (!range_canonical(addr, len))
		return false;
	cr0 = write_protect_off();
	kr = copy_probe((void *)addr, buf, len);
	write_cr0(cr0);
	return kr == KERN_SUCCESS;
}

/* The signal gdb shows for a fatal trap. */
static int signal_for(uint64_t vector)
{
	switch (vector) {
	case T_PAGE_FAULT: case T_GENERAL_PROTECTION: case T_STACK_FAULT: case T_SEGMENT_NP:
		return GDB_SIGSEGV;
	case T_DIVIDE: case T_X87_FPU: case T_SIMD_FP:
		return GDB_SIGFPE;
	case T_INVALID_OPCODE:
		return GDB_SIGILL;
	default:
		return GDB_SIGTRAP;
	}
}

/*
 * Takes the traps that are the debugger's: the #DB of a step gdb asked
 * for, an int3 gdb planted (the context resumes at the breakpoint's
 * address, as gdb expects) or gdbstub_md_break's.  Every other trap,
 * including an int3 a test expects, goes its usual way.
 */
bool gdbstub_trap(struct trap_frame *tf)
{
	if (!gdbstub_enabled())
		return false;
	if (tf->vector == T_DEBUG && stepping) {
		gdbstub_md_set_step(tf, false);
	} else if (tf->vector == T_BREAKPOINT && gdbstub_breakpoint_at(tf->rip - GDBSTUB_BREAK_LEN)) {
		tf->rip -= GDBSTUB_BREAK_LEN;
	} else if (tf->vector == T_BREAKPOINT && break_requested && !(tf->cs & 3)) {
		break_requested = false;
	} else {
		return false;
	}
	gdbstub_stop(tf, GDB_SIGTRAP);
	return true;
}

/* On each clock interrupt: has gdb sent Ctrl-C (or started talking) while the kernel ran? */
void gdbstub_poll(struct trap_frame *tf)
{
	if (gdbstub_enabled() && uart_byte_ready(COM2) &&
	    gdbstub_byte_while_running(uart_getc(COM2)))
		gdbstub_stop(tf, GDB_SIGINT);
}

void gdbstub_fatal(struct trap_frame *tf)
{
	gdbstub_panic_at(tf, signal_for(tf->vector));
}
