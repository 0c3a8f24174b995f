/*
 * Trap dispatch.  An exception is either expected (a test armed a
 * trap_catch on this CPU: record it and jump back) or fatal (dump the
 * machine state with symbol names and panic).  Interrupts arrive here too:
 * the local APIC's timer and spurious vectors are the only ones expected,
 * and, while the profiler runs, its NMIs (debug/profile.h).
 */
#include "arch/x86_64/trap.h"
#include "arch/x86_64/apic.h"
#include "arch/x86_64/backtrace.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/layout.h"
#include "arch/x86_64/percpu.h"
#include "kern/clock.h"
#include "kern/console.h"
#include "kern/machine.h"
#include "kern/panic.h"
#include "kern/sched.h"
#include "lib/printf.h"
#include "debug/gdbstub.h"
#include "debug/profile.h"
#include "kern/task.h"
#include "kern/thread.h"
#include "vm/vm_fault.h"
#include "vm/vm_kern.h"
#include "vm/vm_map.h"
#include "vm/vm_page.h"

/* A copy routine's faulting range and where it resumes (copy.asm's `fixups`). */
struct fixup {
	uint64_t start, end, handler, flags;
};

enum { FIXUP_VM_FIRST = 1 };   /* the VM may resolve a fault before the fixup applies */

extern const struct fixup _fixups_start[], _fixups_end[];
extern char boot_stack_guard[];

static const char *const exception_names[T_EXCEPTIONS] = {
	[T_DIVIDE] = "#DE divide error",
	[T_DEBUG] = "#DB debug",
	[T_NMI] = "NMI",
	[T_BREAKPOINT] = "#BP breakpoint",
	[T_OVERFLOW] = "#OF overflow",
	[T_BOUND] = "#BR bound range exceeded",
	[T_INVALID_OPCODE] = "#UD invalid opcode",
	[T_DEVICE_NA] = "#NM device not available",
	[T_DOUBLE_FAULT] = "#DF double fault",
	[T_COPROC_OVERRUN] = "coprocessor segment overrun",
	[T_INVALID_TSS] = "#TS invalid TSS",
	[T_SEGMENT_NP] = "#NP segment not present",
	[T_STACK_FAULT] = "#SS stack fault",
	[T_GENERAL_PROTECTION] = "#GP general protection",
	[T_PAGE_FAULT] = "#PF page fault",
	[T_X87_FPU] = "#MF x87 floating point",
	[T_ALIGNMENT_CHECK] = "#AC alignment check",
	[T_MACHINE_CHECK] = "#MC machine check",
	[T_SIMD_FP] = "#XM SIMD floating point",
	[T_VIRTUALIZATION] = "#VE virtualization",
	[T_CONTROL_PROTECTION] = "#CP control protection",
};

const char *trap_name(uint64_t vector)
{
	if (vector < T_EXCEPTIONS && exception_names[vector])
		return exception_names[vector];
	return vector < T_EXCEPTIONS ? "reserved exception" : "interrupt";
}

void trap_catch_arm(struct trap_catch *tc)
{
	tc->vector = tc->error = tc->cr2 = tc->rip = ~0ull;
	curcpu()->trap_catch = tc;
}

void trap_catch_disarm(struct trap_catch *tc)
{
	struct cpu *c = curcpu();

	if (c->trap_catch == tc)
		c->trap_catch = NULL;
}

struct trap_catch *trap_catch_current(void)
{
	return curcpu()->trap_catch;
}

/*
 * A page fault as its trap saw it: the VM runs with interrupts on, so by
 * the time it answers, the thread may be on another CPU and CR2 (or
 * anything kept per CPU) another fault's.  The trap keeps its own.
 */
struct fault {
	uint64_t va;               /* CR2, read before interrupts came on; 0: not a page fault */
	kern_return_t result;      /* vm_fault's answer; KERN_INVALID_ADDRESS if it was not asked */
};

/* Hands an exception to the armed recovery point, if there is one. */
static void trap_catch_deliver(const struct trap_frame *tf, const struct fault *pf)
{
	struct trap_catch *tc = curcpu()->trap_catch;

	if (tc == NULL)
		return;
	curcpu()->trap_catch = NULL;
	tc->vector = tf->vector;
	tc->error = tf->error;
	tc->cr2 = pf->va;
	tc->rip = tf->rip;
	kern_longjmp(&tc->jb, 1);
}

/*
 * Handles the interrupts Mica expects; false for any other vector.  The
 * timer's EOI comes before the clock's step, whose handler may switch
 * threads and come back much later (interrupts stay off all the same).  A spurious
 * interrupt was never in service, so it gets no EOI.
 */
static bool interrupt_handled(struct trap_frame *tf)
{
	switch (tf->vector) {
	case T_TIMER:
		OFF_STRETCH_BEGIN(&cpu_locks()->interrupts_off);
		apic_eoi();
		gdbstub_poll(tf);
		sched_interrupt_enter();
		clock_interrupt();
		OFF_STRETCH_END(&cpu_locks()->interrupts_off);
		sched_interrupt_exit(tf->cs & 3);
		return true;
	case T_RESCHEDULE:
		apic_eoi();
		sched_interrupt_enter();
		sched_kicked();
		sched_interrupt_exit(tf->cs & 3);
		return true;
	case T_SHOOTDOWN:
		apic_eoi();
		pmap_tlb_service();
		return true;
	case T_APIC_SPURIOUS:
		return true;
	default:
		return false;
	}
}

static const struct fixup *fixup_for(uint64_t rip)
{
	for (const struct fixup *f = _fixups_start; f < _fixups_end; f++)
		if (rip >= f->start && rip < f->end)
			return f;
	return NULL;
}


/*
 * Offers a page fault to the VM.  A kernel-mode fault on a user address
 * is the VM's business only inside a copy routine: anywhere else it is a
 * kernel bug (or SMAP doing its job) and must not be papered over.  A
 * user-mode fault on a kernel address is never the VM's business: kernel
 * memory is not the user's to fault in, whatever kernel_map holds there.
 * Nor is a fault ring 3 caused that the CPU took as a supervisor access
 * (PF_U clear: the implicit reads of a far return's stack, under QEMU):
 * the page is there, so mapping it again would only fault again, forever.
 * The debugger's probe (copy_probe) is never the VM's business either.
 */
static bool page_fault_resolved(const struct trap_frame *tf, struct fault *pf)
{
	uint64_t va = pf->va;
	bool user_va = va < USER_MAX, user_mode = tf->cs & 3;
	vm_prot_t type = (tf->error & PF_I) ? VM_PROT_EXECUTE :
	                 (tf->error & PF_W) ? VM_PROT_WRITE : VM_PROT_READ;
	const struct fixup *f = user_mode ? NULL : fixup_for(tf->rip);

	if (f != NULL && !(f->flags & FIXUP_VM_FIRST))
		return false;
	if (user_va && !user_mode && f == NULL)
		return false;
	if (user_mode && (!user_va || !(tf->error & PF_U)))
		return false;
	struct task *task = current_task();
	vm_map_t map = user_va ? (task ? task->map : NULL) : kernel_map;
	/*
	 * The fault runs as preemptible as the code it interrupted: with
	 * interrupts on if they were (user mode, a system call), off if that
	 * code held a spin lock.
	 */
	bool interruptible = tf->rflags & RFLAGS_IF;
	if (interruptible)
		machine_interrupts_on();
	kern_return_t kr = vm_fault(map, va, type);
	if (interruptible)
		machine_interrupts_off();
	pf->result = kr;
	return kr == KERN_SUCCESS;
}

/*
 * Resumes a faulting copy routine at its error return, with its result:
 * KERN_RESOURCE_SHORTAGE when the VM could not make the page for want of
 * memory (the address is good: a caller may report a shortage, not a
 * bad buffer), else KERN_INVALID_ADDRESS.
 */
static bool fixup_applied(struct trap_frame *tf, const struct fault *pf)
{
	const struct fixup *f = fixup_for(tf->rip);

	if (f == NULL || (tf->cs & 3))
		return false;
	tf->rip = f->handler;
	tf->rax = pf->result == KERN_RESOURCE_SHORTAGE ? KERN_RESOURCE_SHORTAGE :
	                                                 KERN_INVALID_ADDRESS;
	return true;
}

static bool is_stack_guard(uint64_t va)
{
	return kmem_is_stack_guard(va) ||
	       (va >= (uint64_t)boot_stack_guard && va < (uint64_t)boot_stack_guard + PAGE_SIZE);
}

/* "write to a read-only page" etc.: the page-fault error code in words. */
static const char *page_fault_access(uint64_t error)
{
	if (error & PF_RSVD)
		return "reserved bit set in a page table entry for";
	if (error & PF_I)
		return error & PF_P ? "instruction fetch from no-execute page" :
		                      "instruction fetch from unmapped address";
	if (error & PF_W)
		return error & PF_P ? "write to read-only page" : "write to unmapped address";
	return error & PF_P ? "read from protected page" : "read from unmapped address";
}

/* One line naming the trap, the way a human would describe it. */
static void trap_describe(const struct trap_frame *tf, const struct fault *pf, char *buf,
                          size_t len)
{
	char where[128];
	const char *who = (tf->cs & 3) ? "user" : "kernel";

	backtrace_format_addr(tf->rip, where, sizeof(where));
	if (tf->vector == T_DOUBLE_FAULT && is_stack_guard(read_cr2()))
		ksnprintf(buf, len, "kernel stack overflow: double fault after touching the "
		          "guard page at %#lx, by %s at %s", read_cr2(), who, where);
	else if (tf->vector == T_PAGE_FAULT)
		ksnprintf(buf, len, "page fault: %s at %#lx%s by %s at %s",
		          page_fault_access(tf->error), pf->va,
		          pf->result == KERN_MEMORY_FAILURE ?
		          " in device memory (its mapping is gone, and RAM may not stand in)" : "",
		          who, where);
	else
		ksnprintf(buf, len, "unexpected trap %lu (%s), error code %#lx, by %s at %s",
		          tf->vector, trap_name(tf->vector), tf->error, who, where);
}

static void trap_dump_registers(const struct trap_frame *tf, const struct fault *pf)
{
	kprintf("trap %lu (%s) error %#lx cr2 0x%016lx\n", tf->vector, trap_name(tf->vector),
	        tf->error, tf->vector == T_PAGE_FAULT ? pf->va : read_cr2());
	kprintf("rax %016lx rbx %016lx rcx %016lx rdx %016lx\n", tf->rax, tf->rbx, tf->rcx, tf->rdx);
	kprintf("rsi %016lx rdi %016lx rbp %016lx rsp %016lx\n", tf->rsi, tf->rdi, tf->rbp, tf->rsp);
	kprintf("r8  %016lx r9  %016lx r10 %016lx r11 %016lx\n", tf->r8, tf->r9, tf->r10, tf->r11);
	kprintf("r12 %016lx r13 %016lx r14 %016lx r15 %016lx\n", tf->r12, tf->r13, tf->r14, tf->r15);
	kprintf("rip %016lx cs %04lx rflags %08lx ss %04lx\n", tf->rip, tf->cs, tf->rflags, tf->ss);
	kprintf("cr0 %016lx cr3 %016lx cr4 %016lx\n", read_cr0(), read_cr3(), read_cr4());
}

static void __attribute__((noreturn)) trap_fatal(struct trap_frame *tf, const struct fault *pf)
{
	char what[256];

	trap_describe(tf, pf, what, sizeof(what));
	panic_begin("%s", what);
	trap_dump_registers(tf, pf);
	backtrace_print(tf->rip, tf->rbp);
	gdbstub_fatal(tf);
	panic_end();
}

/*
 * A user task did something it may not (or faulted where nothing is
 * mapped): one report line, and the task ends; the kernel carries on.
 */
static void __attribute__((noreturn)) user_fatal(const struct trap_frame *tf,
                                                 const struct fault *pf)
{
	struct task *task = current_task();
	bool oom = tf->vector == T_PAGE_FAULT && pf->result == KERN_RESOURCE_SHORTAGE;

	kprintf("mica: task %s (%u) thread %u killed%s: trap %lu (%s) error %#lx rip %#lx cr2 %#lx\n",
	        task->name, task->id, current_thread()->id, oom ? " (out of memory)" : "",
	        tf->vector, trap_name(tf->vector), tf->error, tf->rip,
	        pf->va);
	task_exit(TASK_KILLED);
}

extern char trap_iret[];               /* the IRETQ back to user mode (trap_entry.asm) */

/*
 * IRETQ to a non-canonical RIP raises #GP in ring 0, before the switch to
 * user mode: the fault is the user's, and ends its task like any other.
 */
static bool iret_faulted(const struct trap_frame *tf)
{
	return !(tf->cs & 3) && tf->rip == (uint64_t)trap_iret && current_task() != NULL;
}

/*
 * An exception goes, in turn, to the VM (page faults), to a copy
 * routine's fixup, to the gdb stub if it is the debugger's, to an armed
 * expected-trap point, and otherwise brings the kernel down; from user
 * mode, it ends the task instead.
 */
void trap_dispatch(struct trap_frame *tf)
{
	/* First, and touching nothing per-CPU: an NMI may land between SYSCALL and SWAPGS. */
	if (tf->vector == T_NMI && gdbstub_md_park())
		return;                        /* the gdb stub held this CPU while gdb had another */
	if (tf->vector == T_NMI && profile_running()) {
		profile_sample(tf->rip, tf->cs & 3);
		machine_profile_rearm();
		return;
	}
	if (interrupt_handled(tf))
		return;
	struct fault pf = { .va = tf->vector == T_PAGE_FAULT ? read_cr2() : 0,
	                    .result = KERN_INVALID_ADDRESS };
	if (tf->vector == T_PAGE_FAULT && (page_fault_resolved(tf, &pf) || fixup_applied(tf, &pf)))
		return;
	if (tf->vector == T_PAGE_FAULT && (tf->cs & 3) && pf.result == KERN_ABORTED) {
		sched_stop_if_suspended();     /* being terminated: it stops here for good */
		return;                        /* else its access is tried again */
	}
	if (gdbstub_trap(tf))
		return;
	if (tf->vector < T_EXCEPTIONS && ((tf->cs & 3) || iret_faulted(tf)))
		user_fatal(tf, &pf);
	if (tf->vector < T_EXCEPTIONS)
		trap_catch_deliver(tf, &pf);
	trap_fatal(tf, &pf);   /* an interrupt from a source Mica never unmasked: a bug */
}
