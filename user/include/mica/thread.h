/*
 * Threads in the caller's own task, for user programs.
 *
 * Each thread has a block of its own, found through its thread pointer:
 * the FS base, which the kernel keeps per thread (SYS_thread_set_pointer,
 * include/mica/syscall.h), with the block's own address at %fs:0 as the
 * x86-64 ABI lays it out.  The user library keeps there what must not be
 * shared, such as the thread's reply port (mig_get_reply_port).  crt0
 * gives the main thread a static block before main; a thread started
 * with mica_thread_start gets its block with its stack.  Code that
 * thread_create's threads itself must not call the library from them.
 *
 * Every RPC stub and trap wrapper is safe in any thread, and so are
 * printf, puts, putchar and malloc, calloc, free: stdout's line buffer and
 * the heap each have a lock (a printf's line comes out whole).  The KTAP
 * counts have none: one thread at a time may pass or fail a test.
 */
#ifndef MICA_USER_THREAD_H
#define MICA_USER_THREAD_H

#include <stdint.h>
#include <mach/kern_return.h>

struct mica_thread;

/* The calling thread's block: one load from %fs:0. */
static inline struct mica_thread *mica_thread_self(void)
{
	struct mica_thread *t;

	__asm__ volatile("mov %%fs:0, %0" : "=r"(t));
	return t;
}

/*
 * Sets the calling thread's thread pointer, as it is (the library's
 * blocks are set for it): KERN_INVALID_ARGUMENT, and the old one kept,
 * for anything but a user address.
 */
kern_return_t mica_thread_set_pointer(uint64_t pointer);

/*
 * Runs fn(arg) in a new thread of this task, on a stack of its own
 * (64 KiB, a guard page below) with a block of its own; *thread names it
 * for mica_thread_join.  KERN_RESOURCE_SHORTAGE or the failed call's
 * code when it could not start, with nothing left behind.
 */
kern_return_t mica_thread_start(void (*fn)(void *), void *arg, struct mica_thread **thread);

/*
 * Waits up to timeout_ms milliseconds for thread's fn to return, then
 * ends the thread and frees all it had (its stack, block and reply port).
 * KERN_OPERATION_TIMED_OUT, with the thread left as it is, when fn has
 * not returned by then.
 */
kern_return_t mica_thread_join(struct mica_thread *thread, uint64_t timeout_ms);

/* crt0's: gives the main thread its static block.  Before main, once. */
void mica_thread_init_main(void);

#endif
