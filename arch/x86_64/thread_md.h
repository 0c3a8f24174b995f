/*
 * The machine-dependent part of a thread: where its kernel stack pointer
 * is saved across switches, its user register frame, and its FPU/SSE
 * state (user threads only: the kernel itself never touches SSE).
 */
#ifndef MICA_ARCH_THREAD_MD_H
#define MICA_ARCH_THREAD_MD_H

#include <stdbool.h>
#include <stdint.h>
#include <mach/thread_status.h>   /* struct x86_thread_state64 */

struct trap_frame;

struct machine_thread {
	uint64_t rsp;                  /* saved by switch_context */
	struct trap_frame *user_frame; /* at the top of the kernel stack, for user threads */
	bool frame_changed;            /* thread_set_state rewrote it: leave through IRETQ */
	uint64_t fs_base;              /* user threads' thread pointer (SYS_thread_set_pointer) */
	uint8_t fpu[512] __attribute__((aligned(16)));   /* FXSAVE area */
};

#endif
