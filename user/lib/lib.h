/* What the user library's parts share with each other, and programs do not see. */
#ifndef MICA_USER_LIB_H
#define MICA_USER_LIB_H

#include <mach/mach.h>
#include <mica/mica.h>

/* Writes out whatever stdout holds, even a partial line. */
void stdout_flush(void);

/*
 * A lock for what the library's threads share (the heap, stdout's line):
 * one atomic exchange when free.  A thread that finds it taken gives the
 * CPU away and looks again, since the holder may be waiting for this very
 * CPU; with nothing else to run, the yield returns at once, a spin.
 */
struct lib_lock {
	int taken;
};

static inline void lib_lock(struct lib_lock *l)
{
	while (__atomic_exchange_n(&l->taken, 1, __ATOMIC_ACQUIRE))
		mica_yield();
}

static inline void lib_unlock(struct lib_lock *l)
{
	__atomic_store_n(&l->taken, 0, __ATOMIC_RELEASE);
}

/*
 * One remote procedure call, as a MIG stub makes it: sends the request
 * in msg (send_size bytes, its COMPLEX bit kept) to target with a
 * send-once right to the program's reply port and receives the reply
 * into msg (reply_size bytes when it succeeds; errors come as
 * mig_reply_error_t).  Returns the mach_msg error, or the reply's code.
 */
kern_return_t mig_rpc(mach_port_t target, mach_msg_header_t *msg, mach_msg_id_t id,
		      mach_msg_size_t send_size, mach_msg_size_t reply_size);

/*
 * A thread's own block (<mica/thread.h>), where its thread pointer (FS
 * base) points.  The thread alone writes reply_port; finished is written
 * once fn has returned, and read by mica_thread_join.  The main thread's
 * block is a static one with no port, stack or fn.
 */
struct mica_thread {
	struct mica_thread *self;	/* %fs:0, as the x86-64 ABI has it: the block's address */
	mach_port_t reply_port;		/* mig_get_reply_port's, made on first use */
	thread_act_t port;		/* the creator's send right to the thread */
	void (*fn)(void *);
	void *arg;
	vm_address_t region;		/* guard page, stack and this block, in one allocation */
	vm_size_t region_size;
	int finished;			/* atomic: fn has returned */
};

#endif
