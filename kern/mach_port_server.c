/*
 * The kernel's side of the mach_port calls (include/mach/mach_port_rpc.h):
 * each acts on the IPC space of the task whose port the request came to,
 * which need not be the caller's (a parent can give its child a right).
 * The ipc_space functions check every argument and give Mach's codes; a
 * terminated task has no space left (KERN_INVALID_ARGUMENT).
 *
 * Each call holds the task's lock across its use of the space, which
 * keeps the space from going meanwhile (the order: kern/lock.h).
 */
#include "kern/mach_port_server.h"
#include <mach/mach_port_rpc.h>
#include "ipc/ipc_space.h"
#include "ipc/ipc_kmsg.h"
#include "kern/task.h"

/* The task's space with the task locked, or NULL (nothing locked) once it is terminated. */
static struct ipc_space *space_lock(struct task *t)
{
	spin_lock(&t->lock);
	if (!t->terminated)
		return t->space;
	spin_unlock(&t->lock);
	return NULL;
}

static void space_unlock(struct task *t)
{
	spin_unlock(&t->lock);
}

static kern_return_t serve_mach_port_type(void *task, mach_msg_header_t *request,
                                          mach_msg_header_t *reply)
{
	const mach_port_name_request_t *in = (const void *)request;
	mach_port_type_reply_t *out = (void *)reply;
	struct ipc_space *space = space_lock(task);

	if (space == NULL)
		return KERN_INVALID_ARGUMENT;
	kern_return_t kr = mach_port_type(space, in->name, &out->ptype);
	space_unlock(task);
	return kr;
}

static kern_return_t serve_mach_port_allocate(void *task, mach_msg_header_t *request,
                                              mach_msg_header_t *reply)
{
	const mach_port_allocate_request_t *in = (const void *)request;
	mach_port_allocate_reply_t *out = (void *)reply;
	struct ipc_space *space = space_lock(task);

	if (space == NULL)
		return KERN_INVALID_ARGUMENT;
	kern_return_t kr = mach_port_allocate(space, in->right, &out->name);
	space_unlock(task);
	return kr;
}

static kern_return_t serve_mach_port_deallocate(void *task, mach_msg_header_t *request,
                                                mach_msg_header_t *reply)
{
	const mach_port_name_request_t *in = (const void *)request;
	struct ipc_space *space = space_lock(task);

	(void)reply;
	if (space == NULL)
		return KERN_INVALID_ARGUMENT;
	kern_return_t kr = mach_port_deallocate(space, in->name);
	space_unlock(task);
	return kr;
}

static kern_return_t serve_mach_port_get_refs(void *task, mach_msg_header_t *request,
                                              mach_msg_header_t *reply)
{
	const mach_port_refs_request_t *in = (const void *)request;
	mach_port_get_refs_reply_t *out = (void *)reply;
	struct ipc_space *space = space_lock(task);

	if (space == NULL)
		return KERN_INVALID_ARGUMENT;
	kern_return_t kr = mach_port_get_refs(space, in->name, in->right, &out->refs);
	space_unlock(task);
	return kr;
}

static kern_return_t serve_mach_port_mod_refs(void *task, mach_msg_header_t *request,
                                              mach_msg_header_t *reply)
{
	const mach_port_refs_request_t *in = (const void *)request;
	struct ipc_space *space = space_lock(task);
	struct ipc_kmsg *doomed;

	(void)reply;
	if (space == NULL)
		return KERN_INVALID_ARGUMENT;
	kern_return_t kr = mach_port_mod_refs_deferred(space, in->name, in->right, in->delta,
	                                               &doomed);
	space_unlock(task);
	ipc_kmsg_destroy_list(doomed);         /* not under the task's lock: it may take long */
	return kr;
}

/*
 * The right arrives in the request's port descriptor; the space gets a
 * send right of its own and the request's goes with the request.  Only
 * send rights can be inserted (the user stub refuses the others before
 * they leave): KERN_INVALID_VALUE.
 */
static kern_return_t serve_mach_port_insert_right(void *task, mach_msg_header_t *request,
                                                  mach_msg_header_t *reply)
{
	const mach_port_insert_right_request_t *in = (const void *)request;
	struct ipc_port *port = ipc_kmsg_descriptor_port(&in->poly);
	struct ipc_space *space;

	(void)reply;
	if (port == NULL)
		return KERN_INVALID_CAPABILITY;
	if (in->poly.disposition != MACH_MSG_TYPE_PORT_SEND)
		return KERN_INVALID_VALUE;
	if ((space = space_lock(task)) == NULL)
		return KERN_INVALID_ARGUMENT;
	kern_return_t kr = mach_port_insert_right(space, in->name, port, MACH_MSG_TYPE_MOVE_SEND);
	space_unlock(task);
	return kr;
}

/* On the task, not converted: the space is reached under the task's lock (space_lock). */
const struct ipc_routine mach_port_server_routines[] = {
	IPC_ROUTINE(MACH_PORT_TYPE_ID, mach_port_name_request_t, mach_port_type_reply_t,
	            serve_mach_port_type),
	IPC_ROUTINE(MACH_PORT_ALLOCATE_ID, mach_port_allocate_request_t,
	            mach_port_allocate_reply_t, serve_mach_port_allocate),
	IPC_ROUTINE(MACH_PORT_DEALLOCATE_ID, mach_port_name_request_t, mig_reply_error_t,
	            serve_mach_port_deallocate),
	IPC_ROUTINE(MACH_PORT_GET_REFS_ID, mach_port_refs_request_t, mach_port_get_refs_reply_t,
	            serve_mach_port_get_refs),
	IPC_ROUTINE(MACH_PORT_MOD_REFS_ID, mach_port_refs_request_t, mig_reply_error_t,
	            serve_mach_port_mod_refs),
	IPC_ROUTINE(MACH_PORT_INSERT_RIGHT_ID, mach_port_insert_right_request_t,
	            mig_reply_error_t, serve_mach_port_insert_right, .descriptors = "p"),
};

const size_t mach_port_server_routine_count =
	sizeof(mach_port_server_routines) / sizeof(mach_port_server_routines[0]);

void mach_port_server_init(void)
{
	ipc_kobject_register(IKOT_TASK, &task_kobject_ops, mach_port_server_routines,
	                     mach_port_server_routine_count);
}
