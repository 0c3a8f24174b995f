/*
 * The user stubs of the thread calls (<mach/thread_rpc.h>): the task
 * calls about threads and suspension, and the calls on a thread port.
 * Each sends one request with mig_rpc (user/lib/mach.c) and unpacks the
 * reply as MIG's stubs do.
 */
#include <string.h>
#include <mach/mach.h>
#include <mach/thread_rpc.h>
#include <mica/mica.h>
#include "lib.h"

mach_port_t mach_thread_self(void)
{
	return (mach_port_t)mica_syscall(SYS_thread_self, 0, 0, 0, 0);
}

/* A call whose request is a bare header and whose reply is a bare code. */
static kern_return_t bare_rpc(mach_port_t target, mach_msg_id_t id)
{
	union {
		object_request_t in;
		mig_reply_error_t out;
	} m = { .in = { .Head = { 0 } } };

	return mig_rpc(target, &m.in.Head, id, sizeof(m.in), sizeof(m.out));
}

kern_return_t task_suspend(task_t target_task)
{
	return bare_rpc(target_task, TASK_SUSPEND_ID);
}

kern_return_t task_resume(task_t target_task)
{
	return bare_rpc(target_task, TASK_RESUME_ID);
}

kern_return_t thread_terminate(thread_act_t target_act)
{
	return bare_rpc(target_act, THREAD_TERMINATE_ID);
}

kern_return_t thread_suspend(thread_act_t target_act)
{
	return bare_rpc(target_act, THREAD_SUSPEND_ID);
}

kern_return_t thread_resume(thread_act_t target_act)
{
	return bare_rpc(target_act, THREAD_RESUME_ID);
}

kern_return_t thread_create(task_t parent_task, thread_act_t *child_act)
{
	union {
		object_request_t in;
		thread_create_reply_t out;
	} m = { .in = { .Head = { 0 } } };
	kern_return_t kr = mig_rpc(parent_task, &m.in.Head, THREAD_CREATE_ID, sizeof(m.in),
				   sizeof(m.out));

	if (kr == KERN_SUCCESS)
		*child_act = m.out.child_act.name;
	return kr;
}

/* The array arrives mapped in this task; a count that disagrees with it is MIG_TYPE_ERROR. */
kern_return_t task_threads(task_t target_task, thread_act_array_t *act_list,
			   mach_msg_type_number_t *act_listCnt)
{
	union {
		object_request_t in;
		task_threads_reply_t out;
	} m = { .in = { .Head = { 0 } } };
	kern_return_t kr = mig_rpc(target_task, &m.in.Head, TASK_THREADS_ID, sizeof(m.in),
				   sizeof(m.out));

	if (kr != KERN_SUCCESS)
		return kr;
	if (m.out.act_list.type != MACH_MSG_OOL_PORTS_DESCRIPTOR ||
	    m.out.act_list.count != m.out.act_listCnt)
		return MIG_TYPE_ERROR;
	*act_list = m.out.act_list.address;
	*act_listCnt = m.out.act_listCnt;
	return KERN_SUCCESS;
}

/* As MIG's stub: more state than the caller's room is MIG_ARRAY_TOO_LARGE. */
kern_return_t thread_get_state(thread_act_t target_act, thread_state_flavor_t flavor,
			       thread_state_t old_state, mach_msg_type_number_t *old_stateCnt)
{
	union {
		thread_get_state_request_t in;
		thread_get_state_reply_t out;
	} m = { .in = { .flavor = flavor, .old_stateCnt = *old_stateCnt } };
	kern_return_t kr = mig_rpc(target_act, &m.in.Head, THREAD_GET_STATE_ID, sizeof(m.in),
				   sizeof(m.out));

	if (kr != KERN_SUCCESS)
		return kr;
	if (m.out.old_stateCnt > *old_stateCnt || m.out.old_stateCnt > THREAD_STATE_MSG_ROOM)
		return MIG_ARRAY_TOO_LARGE;
	memcpy(old_state, m.out.old_state, m.out.old_stateCnt * sizeof(natural_t));
	*old_stateCnt = m.out.old_stateCnt;
	return KERN_SUCCESS;
}

/*
 * As MIG's stub, a count above THREAD_STATE_MAX is MIG_ARRAY_TOO_LARGE;
 * one above the message's room goes without its data (no flavor is that
 * large: the kernel says KERN_INVALID_ARGUMENT).
 */
kern_return_t thread_set_state(thread_act_t target_act, thread_state_flavor_t flavor,
			       thread_state_t new_state, mach_msg_type_number_t new_stateCnt)
{
	union {
		thread_set_state_request_t in;
		mig_reply_error_t out;
	} m = { .in = { .flavor = flavor, .new_stateCnt = new_stateCnt } };

	if (new_stateCnt > THREAD_STATE_MAX)
		return MIG_ARRAY_TOO_LARGE;
	if (new_stateCnt <= THREAD_STATE_MSG_ROOM)
		memcpy(m.in.new_state, new_state, new_stateCnt * sizeof(natural_t));
	return mig_rpc(target_act, &m.in.Head, THREAD_SET_STATE_ID, sizeof(m.in), sizeof(m.out));
}
