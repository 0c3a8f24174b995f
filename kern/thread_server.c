/*
 * The kernel's side of the thread calls (include/mach/thread_rpc.h).
 * The dispatcher (ipc/ipc_kobject.c) has checked each request's size and
 * hands each routine its thread, or for thread_create and task_threads
 * its task, with a reference; kern/thread.c checks every argument.
 *
 * task_threads takes a send right to each thread's port (a port's lock)
 * with task->lock holding the thread list still.
 */
#include "kern/thread_server.h"
#include <mach/thread_rpc.h>
#include "ipc/ipc_kmsg.h"
#include "kern/kalloc.h"
#include "lib/string.h"
#include "kern/task.h"
#include "kern/thread.h"

/* The new thread's port goes back in a port descriptor with a send right. */
static kern_return_t serve_thread_create(void *task, mach_msg_header_t *request,
                                         mach_msg_header_t *reply)
{
	thread_create_reply_t *out = (void *)reply;
	struct thread *t;
	kern_return_t kr = thread_create(task, &t);

	(void)request;
	if (kr != KERN_SUCCESS)
		return kr;
	ipc_port_make_send(t->self_port);
	out->Head.msgh_bits = MACH_MSGH_BITS_COMPLEX;
	out->msgh_body.msgh_descriptor_count = 1;
	ipc_kmsg_set_port_descriptor(&out->child_act, t->self_port, MACH_MSG_TYPE_PORT_SEND);
	return KERN_SUCCESS;
}

/*
 * Fills ports (room for n) with a send right to each of task's threads'
 * ports, if the task is live and has exactly n threads.  => task->lock held
 */
static bool take_thread_ports(struct task *task, struct ipc_port **ports, unsigned n)
{
	unsigned i = 0;

	TASK_ASSERT_LOCKED(task);
	if (task->terminated || task->thread_count != n)
		return false;
	for (struct thread *t = task->threads; t; t = t->task_next, i++) {
		ports[i] = t->self_port;
		if (ports[i])
			ipc_port_make_send(ports[i]);
	}
	return true;
}

/*
 * A send right to every thread's port, in a kalloc'd array of *count
 * (NULL for none).  The array is allocated with no lock held, so the
 * count is checked again under the lock.  KERN_FAILURE for a task that
 * is ending, as XNU's.
 */
static kern_return_t thread_ports(struct task *task, struct ipc_port ***out, unsigned *count)
{
	for (;;) {
		unsigned n = __atomic_load_n(&task->thread_count, __ATOMIC_RELAXED);
		struct ipc_port **ports = n ? kzalloc(n * sizeof(*ports)) : NULL;
		if (n && ports == NULL)
			return KERN_RESOURCE_SHORTAGE;
		spin_lock(&task->lock);
		bool taken = take_thread_ports(task, ports, n);
		bool dead = task->terminated;
		spin_unlock(&task->lock);
		if (taken) {
			*out = ports;
			*count = n;
			return KERN_SUCCESS;
		}
		if (ports)
			kfree(ports, n * sizeof(*ports));
		if (dead)
			return KERN_FAILURE;
	}
}

/* The rights leave as one out-of-line ports descriptor, names mapped in the caller. */
static kern_return_t serve_task_threads(void *task, mach_msg_header_t *request,
                                        mach_msg_header_t *reply)
{
	task_threads_reply_t *out = (void *)reply;
	struct ipc_port **ports;
	unsigned count;
	kern_return_t kr = thread_ports(task, &ports, &count);

	(void)request;
	if (kr != KERN_SUCCESS)
		return kr;
	out->Head.msgh_bits = MACH_MSGH_BITS_COMPLEX;
	out->msgh_body.msgh_descriptor_count = 1;
	ipc_kmsg_set_ool_ports_descriptor(&out->act_list, ports, count, MACH_MSG_TYPE_PORT_SEND);
	out->act_listCnt = count;
	return KERN_SUCCESS;
}

/*
 * Ends a thread other than the caller's own: the routine runs on the
 * caller's thread, which could never come back to send the reply.
 */
static kern_return_t serve_thread_terminate(void *thread, mach_msg_header_t *request,
                                            mach_msg_header_t *reply)
{
	(void)request;
	(void)reply;
	if (thread == current_thread())
		return KERN_INVALID_ARGUMENT;
	thread_terminate(thread);              /* the dispatcher's reference keeps the structure */
	return KERN_SUCCESS;
}

/* At most as many natural_t as the caller has room for; fewer than the flavor's: KERN_INVALID_ARGUMENT. */
static kern_return_t serve_thread_get_state(void *thread, mach_msg_header_t *request,
                                            mach_msg_header_t *reply)
{
	const thread_get_state_request_t *in = (const void *)request;
	thread_get_state_reply_t *out = (void *)reply;
	x86_thread_state64_t state;
	unsigned count = in->old_stateCnt < THREAD_STATE_MSG_ROOM ? in->old_stateCnt :
	                                                            THREAD_STATE_MSG_ROOM;
	kern_return_t kr = thread_get_state(thread, in->flavor, &state, &count);

	if (kr != KERN_SUCCESS)
		return kr;
	memcpy(out->old_state, &state, count * sizeof(natural_t));
	out->old_stateCnt = count;
	return KERN_SUCCESS;
}

/* A count larger than the message's room fits no flavor Mica has. */
static kern_return_t serve_thread_set_state(void *thread, mach_msg_header_t *request,
                                            mach_msg_header_t *reply)
{
	const thread_set_state_request_t *in = (const void *)request;
	x86_thread_state64_t state;

	(void)reply;
	if (in->new_stateCnt > THREAD_STATE_MSG_ROOM)
		return KERN_INVALID_ARGUMENT;
	memset(&state, 0, sizeof(state));
	memcpy(&state, in->new_state, in->new_stateCnt * sizeof(natural_t));
	return thread_set_state(thread, in->flavor, &state, in->new_stateCnt);
}

/* Counted, as Mach's: resuming a thread that is not suspended is KERN_FAILURE. */
IPC_ROUTINE_ON_OBJECT(serve_thread_suspend, thread_suspend, struct thread)
IPC_ROUTINE_ON_OBJECT(serve_thread_resume, thread_resume, struct thread)

const struct ipc_routine thread_server_task_routines[] = {
	IPC_ROUTINE(THREAD_CREATE_ID, object_request_t, thread_create_reply_t, serve_thread_create),
	IPC_ROUTINE(TASK_THREADS_ID, object_request_t, task_threads_reply_t, serve_task_threads),
};

const size_t thread_server_task_routine_count =
	sizeof(thread_server_task_routines) / sizeof(thread_server_task_routines[0]);

const struct ipc_routine thread_server_routines[] = {
	IPC_ROUTINE(THREAD_TERMINATE_ID, object_request_t, mig_reply_error_t,
	            serve_thread_terminate),
	IPC_ROUTINE(THREAD_GET_STATE_ID, thread_get_state_request_t, thread_get_state_reply_t,
	            serve_thread_get_state),
	IPC_ROUTINE(THREAD_SET_STATE_ID, thread_set_state_request_t, mig_reply_error_t,
	            serve_thread_set_state),
	IPC_ROUTINE(THREAD_SUSPEND_ID, object_request_t, mig_reply_error_t, serve_thread_suspend),
	IPC_ROUTINE(THREAD_RESUME_ID, object_request_t, mig_reply_error_t, serve_thread_resume),
};

const size_t thread_server_routine_count =
	sizeof(thread_server_routines) / sizeof(thread_server_routines[0]);

void thread_server_init(void)
{
	ipc_kobject_register(IKOT_TASK, &task_kobject_ops, thread_server_task_routines,
	                     thread_server_task_routine_count);
	ipc_kobject_register(IKOT_THREAD, &thread_kobject_ops, thread_server_routines,
	                     thread_server_routine_count);
}
