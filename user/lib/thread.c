/*
 * Threads in the caller's own task (<mica/thread.h>): each with its own
 * block at its thread pointer, and for the ones started here a stack.
 *
 * A started thread's memory is one allocation: a guard page, so that an
 * overflow faults instead of writing whatever lies below, the stack, and
 * a page whose start is the block, above the stack, out of an
 * overflow's way.  When fn returns, the thread says so and suspends
 * itself; mica_thread_join then ends it and frees what it had.
 */
#include <stdint.h>
#include <mach/mach.h>
#include <mica/mica.h>
#include <mica/thread.h>
#include "lib.h"

#define THREAD_STACK (64ul << 10)
#define THREAD_REGION (PAGE_SIZE + THREAD_STACK + PAGE_SIZE)

static struct mica_thread main_block;

kern_return_t mica_thread_set_pointer(uint64_t pointer)
{
	return (kern_return_t)mica_syscall(SYS_thread_set_pointer, (long)pointer, 0, 0, 0);
}

void mica_thread_init_main(void)
{
	main_block.self = &main_block;
	mica_thread_set_pointer((uintptr_t)&main_block);
}

/*
 * Where a started thread begins, with its stack as a call would leave it.
 * Its pointer comes first: everything after may make RPCs.  Nothing
 * returns from here; it stops, suspended, until mica_thread_join ends it.
 */
static void __attribute__((noreturn)) thread_entry(struct mica_thread *t)
{
	mica_thread_set_pointer((uintptr_t)t);      /* a user address: never refused */
	t->fn(t->arg);
	mig_get_reply_port();           /* made before finished, so the joiner sees it to free */
	__atomic_store_n(&t->finished, 1, __ATOMIC_RELEASE);
	for (;;)
		thread_suspend(t->port);
}

/* Gives the created thread t its registers, then lets it run. */
static kern_return_t thread_begin(struct mica_thread *t)
{
	x86_thread_state64_t s = {
		.rip = (uintptr_t)thread_entry,
		.rsp = (uintptr_t)t - 8,                 /* 8 below 16-byte alignment, as after a call */
		.rdi = (uintptr_t)t,
	};
	kern_return_t kr = thread_set_state(t->port, x86_THREAD_STATE64, (thread_state_t)&s,
					    x86_THREAD_STATE64_COUNT);

	return kr == KERN_SUCCESS ? thread_resume(t->port) : kr;
}

kern_return_t mica_thread_start(void (*fn)(void *), void *arg, struct mica_thread **thread)
{
	vm_address_t region = 0;
	struct mica_thread *t;
	kern_return_t kr = mica_vm_allocate(&region, THREAD_REGION, VM_FLAGS_ANYWHERE);

	if (kr != KERN_SUCCESS)
		return kr;
	t = (struct mica_thread *)(region + THREAD_REGION - PAGE_SIZE);
	*t = (struct mica_thread){ .self = t, .fn = fn, .arg = arg, .region = region,
				   .region_size = THREAD_REGION };
	kr = mica_vm_protect(region, PAGE_SIZE, 0, VM_PROT_NONE);
	if (kr == KERN_SUCCESS)
		kr = thread_create(mach_task_self(), &t->port);
	if (kr == KERN_SUCCESS)
		kr = thread_begin(t);
	if (kr != KERN_SUCCESS) {
		if (t->port != MACH_PORT_NULL) {
			thread_terminate(t->port);
			mach_port_deallocate(mach_task_self(), t->port);
		}
		mica_vm_deallocate(region, THREAD_REGION);
		return kr;
	}
	*thread = t;
	return KERN_SUCCESS;
}

static bool thread_finished(void *t)
{
	return __atomic_load_n(&((struct mica_thread *)t)->finished, __ATOMIC_ACQUIRE);
}

/*
 * The thread may still be on its way into its own suspension:
 * thread_terminate ends it wherever it is.  Its reply port goes with it,
 * and any reply still queued there.
 */
kern_return_t mica_thread_join(struct mica_thread *t, uint64_t timeout_ms)
{
	task_t self = mach_task_self();
	struct mica_thread copy;
	kern_return_t kr;

	if (!mica_wait_until(thread_finished, t, timeout_ms))
		return KERN_OPERATION_TIMED_OUT;
	copy = *t;
	kr = thread_terminate(copy.port);
	mach_port_deallocate(self, copy.port);
	if (copy.reply_port != MACH_PORT_NULL)
		mach_port_mod_refs(self, copy.reply_port, MACH_PORT_RIGHT_RECEIVE, -1);
	mica_vm_deallocate(copy.region, copy.region_size);
	return kr;
}
