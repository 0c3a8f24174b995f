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

/* The general registers, RIP, RFLAGS and the segments, in XNU's order. */
typedef struct x86_thread_state64 {
	uint64_t rax, rbx, rcx, rdx, rdi, rsi, rbp, rsp;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rip, rflags, cs, fs, gs;
} x86_thread_state64_t;

#define x86_THREAD_STATE64 4
#define x86_THREAD_STATE64_COUNT \
	((mach_msg_type_number_t)(sizeof(x86_thread_state64_t) / sizeof(natural_t)))

/* The most natural_t any flavor has, in XNU (Mica's largest is x86_THREAD_STATE64). */
#define THREAD_STATE_MAX 1296

#endif
