/*
 * Threads on x86-64: the stack a new thread starts on, the switch between
 * threads (address space, TSS.rsp0, FPU state, thread pointer, registers),
 * and the user register frame behind thread_set_state.
 */
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/layout.h"
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/trap.h"
#include "kern/machine.h"
#include "lib/string.h"
#include "kern/thread.h"
#include "vm/pmap.h"
#include "vm/vm_kern.h"

extern void switch_context(uint64_t *save_rsp, uint64_t load_rsp);
extern void thread_trampoline(void);
extern void trap_return(struct trap_frame *frame) __attribute__((noreturn));

#define FXSAVE_FCW   0
#define FXSAVE_MXCSR 24

static uint64_t stack_top(const struct thread *t)
{
	return t->kstack + KSTACK_SIZE;
}

/*
 * Lays out a stack that switch_context "returns" into: six callee-saved
 * registers (fn in r12, arg in r13), then thread_trampoline's address,
 * placed so the trampoline's call sees an ABI-aligned stack.
 */
static void prepare_stack(struct thread *t, uint64_t top, void (*fn)(void *), void *arg)
{
	uint64_t *sp = (uint64_t *)(top - 8);

	*sp = (uint64_t)thread_trampoline;
	*--sp = 0;                     /* rbp */
	*--sp = 0;                     /* rbx */
	*--sp = (uint64_t)fn;          /* r12 */
	*--sp = (uint64_t)arg;         /* r13 */
	*--sp = 0;                     /* r14 */
	*--sp = 0;                     /* r15 */
	t->md.rsp = (uint64_t)sp;
}

void machine_thread_init_kernel(struct thread *t, void (*fn)(void *), void *arg)
{
	prepare_stack(t, stack_top(t), fn, arg);
}

/* A user thread's kernel side: leave for ring 3 through its frame. */
static void enter_user(void *arg)
{
	struct thread *t = arg;

	trap_return(t->md.user_frame);
}

void machine_thread_init_user(struct thread *t)
{
	struct trap_frame *f = (struct trap_frame *)(stack_top(t) - sizeof(*f));

	memset(f, 0, sizeof(*f));
	f->cs = SEL_UCODE;
	f->ss = SEL_UDATA;
	f->rflags = RFLAGS_IF | 0x2;   /* bit 1 is always set */
	t->md.user_frame = f;
	t->md.fs_base = 0;                                  /* none until it sets its own */
	memset(t->md.fpu, 0, sizeof(t->md.fpu));
	*(uint16_t *)&t->md.fpu[FXSAVE_FCW] = 0x37f;       /* the FNINIT defaults */
	*(uint32_t *)&t->md.fpu[FXSAVE_MXCSR] = 0x1f80;
	prepare_stack(t, (uint64_t)f, enter_user, t);
}

/*
 * Gives this CPU the user thread t's FS base.  WRMSR costs much under
 * TCG, so it is written only when it differs from what the CPU holds;
 * kernel threads never read FS, so switching to one leaves it as it is.
 * Interrupts off.
 */
static void load_fs_base(struct cpu *c, const struct thread *t)
{
	if (t->md.fs_base == c->fs_base)
		return;
	wrmsr(MSR_FS_BASE, t->md.fs_base);
	c->fs_base = t->md.fs_base;
}

void machine_switch(struct thread *from, struct thread *to, pmap_t pmap)
{
	struct cpu *c = curcpu();

	if (from->task)
		__asm__ volatile("fxsave64 %0" : "=m"(from->md.fpu));
	c->thread = to;
	if (to->kstack) {
		c->kernel_rsp = stack_top(to);
		c->tss.rsp[0] = stack_top(to);
	}
	if (pmap_current() != pmap)
		pmap_activate(pmap);
	if (to->task) {
		__asm__ volatile("fxrstor64 %0" : : "m"(to->md.fpu));
		load_fs_base(c, to);
	}
	switch_context(&from->md.rsp, to->md.rsp);
}

void machine_set_current_thread(struct thread *t)
{
	curcpu()->thread = t;
}

/* ------------------------------------------------------------- thread state */

/*
 * Only a user address may be a thread pointer: WRMSR faults in the
 * kernel on a non-canonical one, and a kernel address is no business of
 * user code's.  Interrupts are off between the field and the register,
 * so a switch in between cannot leave the CPU's record stale, and the
 * thread cannot move to another CPU while it writes this one's.
 */
kern_return_t machine_thread_set_pointer(uint64_t pointer)
{
	struct thread *t;
	bool was_on;

	if (pointer >= USER_MAX)
		return KERN_INVALID_ARGUMENT;
	was_on = machine_interrupts_save_off();
	t = machine_current_thread();
	t->md.fs_base = pointer;
	load_fs_base(curcpu(), t);
	if (was_on)
		machine_interrupts_on();
	return KERN_SUCCESS;
}

kern_return_t machine_thread_set_state(struct thread *t, const struct x86_thread_state64 *s)
{
	struct trap_frame *f = t->md.user_frame;

	if (f == NULL)
		return KERN_INVALID_ARGUMENT;
	/* as XNU: user addresses only, so the way back to ring 3 cannot fault in the kernel */
	if (s->rip >= USER_MAX || s->rsp >= USER_MAX)
		return KERN_INVALID_ARGUMENT;
	f->rax = s->rax; f->rbx = s->rbx; f->rcx = s->rcx; f->rdx = s->rdx;
	f->rdi = s->rdi; f->rsi = s->rsi; f->rbp = s->rbp; f->rsp = s->rsp;
	f->r8 = s->r8; f->r9 = s->r9; f->r10 = s->r10; f->r11 = s->r11;
	f->r12 = s->r12; f->r13 = s->r13; f->r14 = s->r14; f->r15 = s->r15;
	f->rip = s->rip;
	/* user code may not choose IOPL, interrupts off, or anything but ring 3 */
	f->rflags = (s->rflags & 0xcd5) | RFLAGS_IF | 0x2;
	t->md.frame_changed = true;
	return KERN_SUCCESS;
}

kern_return_t machine_thread_get_state(struct thread *t, struct x86_thread_state64 *s)
{
	const struct trap_frame *f = t->md.user_frame;

	if (f == NULL)
		return KERN_INVALID_ARGUMENT;
	*s = (struct x86_thread_state64){
		.rax = f->rax, .rbx = f->rbx, .rcx = f->rcx, .rdx = f->rdx,
		.rdi = f->rdi, .rsi = f->rsi, .rbp = f->rbp, .rsp = f->rsp,
		.r8 = f->r8, .r9 = f->r9, .r10 = f->r10, .r11 = f->r11,
		.r12 = f->r12, .r13 = f->r13, .r14 = f->r14, .r15 = f->r15,
		.rip = f->rip, .rflags = f->rflags, .cs = f->cs,
	};
	return KERN_SUCCESS;
}
