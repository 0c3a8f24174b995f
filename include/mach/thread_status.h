/*
 * A thread's registers as thread_get_state and thread_set_state carry
 * them: Mach's flavor numbers, counts (in natural_t) and the layout of
 * XNU's x86_thread_state64_t, shared by the kernel and user programs.
 */
#ifndef MACH_THREAD_STATUS_H
#define MACH_THREAD_STATUS_H

#include <stdint.h>
#include <mach/vm_types.h>

typedef natural_t *thread_state_t;     /* an array of counted natural_t */
typedef int thread_state_flavor_t;

/*
 * One register under both of XNU's spellings: rip, and __rip as XNU's
 * headers name it in UNIX03 mode, so code written for either compiles.
 */
#define REG64(name) union { uint64_t name; uint64_t __##name; }

/* The general registers, RIP, RFLAGS and the segments, in XNU's order. */
typedef struct x86_thread_state64 {
	REG64(rax);
	REG64(rbx);
	REG64(rcx);
	REG64(rdx);
	REG64(rdi);
	REG64(rsi);
	REG64(rbp);
	REG64(rsp);
	REG64(r8);
	REG64(r9);
	REG64(r10);
	REG64(r11);
	REG64(r12);
	REG64(r13);
	REG64(r14);
	REG64(r15);
	REG64(rip);
	REG64(rflags);
	REG64(cs);
	REG64(fs);
	REG64(gs);
} x86_thread_state64_t;

#undef REG64

#define x86_THREAD_STATE64 4
#define x86_THREAD_STATE64_COUNT \
	((mach_msg_type_number_t)(sizeof(x86_thread_state64_t) / sizeof(natural_t)))

/* The most natural_t any flavor has, in XNU (Mica's largest is x86_THREAD_STATE64). */
#define THREAD_STATE_MAX 1296

#endif
