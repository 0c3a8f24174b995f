/* The machine side of system calls: arguments out of the frame, the result back in. */
#include "arch/x86_64/layout.h"
#include "arch/x86_64/trap.h"
#include "kern/sched.h"
#include "kern/syscall.h"
#include "kern/thread.h"

/*
 * Called by syscall_entry.asm with the caller's registers in frame.
 * Returns nonzero when the way back must be IRETQ: SYSRET to a
 * non-canonical RIP faults in ring 0, and a frame rewritten by
 * thread_set_state may hold anything.  No stack protector: args is only
 * ever written at its six fixed places, and every call would pay for it.
 */
__attribute__((no_stack_protector)) int syscall_dispatch(struct trap_frame *f)
{
	const uint64_t args[6] = { f->rdi, f->rsi, f->rdx, f->r10, f->r8, f->r9 };
	struct thread *t = current_thread();

	f->rax = syscall_handle(f->rax, args);
	sched_stop_if_suspended();             /* suspended by the call: stop here, holding nothing */
	if (t->md.frame_changed || f->rip >= USER_MAX) {
		t->md.frame_changed = false;
		return 1;
	}
	return 0;
}
