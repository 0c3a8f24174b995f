/*
 * The kernel's side of the calls on a task port (include/mach/
 * vm_map_rpc.h).  The dispatcher (ipc/ipc_kobject.c) has checked each
 * request's size and hands each routine the task, or for the VM calls
 * its map (task_kobject_ops' conversion), with a reference; the kern and
 * vm_user functions check every argument.
 */
#include "kern/task_server.h"
#include "ipc/ipc_kmsg.h"
#include "kern/task.h"
#include <mach/thread_rpc.h>
#include <mach/vm_map_rpc.h>
#include "vm/vm_map.h"
#include "vm/vm_map_copy.h"
#include "vm/vm_user.h"

static kern_return_t serve_vm_allocate(void *map, mach_msg_header_t *request,
                                       mach_msg_header_t *reply)
{
	const vm_allocate_request_t *in = (const void *)request;
	vm_allocate_reply_t *out = (void *)reply;

	out->address = in->address;
	return vm_allocate(map, &out->address, in->size, in->flags);
}

static kern_return_t serve_vm_deallocate(void *map, mach_msg_header_t *request,
                                         mach_msg_header_t *reply)
{
	const vm_deallocate_request_t *in = (const void *)request;

	(void)reply;
	return vm_deallocate(map, in->address, in->size);
}

static kern_return_t serve_vm_protect(void *map, mach_msg_header_t *request,
                                      mach_msg_header_t *reply)
{
	const vm_protect_request_t *in = (const void *)request;

	(void)reply;
	return vm_protect(map, in->address, in->size, in->set_maximum, in->new_protection);
}

static kern_return_t serve_vm_region(void *map, mach_msg_header_t *request,
                                     mach_msg_header_t *reply)
{
	const vm_region_request_t *in = (const void *)request;
	vm_region_reply_t *out = (void *)reply;

	out->address = in->address;
	out->infoCnt = in->infoCnt < VM_REGION_INFO_MAX_COUNT ? in->infoCnt : VM_REGION_INFO_MAX_COUNT;
	return vm_region(map, &out->address, &out->size, in->flavor, out->info, &out->infoCnt);
}

static kern_return_t serve_vm_inherit(void *map, mach_msg_header_t *request,
                                      mach_msg_header_t *reply)
{
	const vm_inherit_request_t *in = (const void *)request;

	(void)reply;
	return vm_inherit(map, in->address, in->size, in->new_inheritance);
}

static kern_return_t serve_vm_copy(void *map, mach_msg_header_t *request,
                                   mach_msg_header_t *reply)
{
	const vm_copy_request_t *in = (const void *)request;

	(void)reply;
	return vm_copy(map, in->source_address, in->size, in->dest_address);
}

/* The data leaves as one out-of-line descriptor, mapped in the caller when it receives the reply. */
static kern_return_t serve_vm_read(void *map, mach_msg_header_t *request,
                                   mach_msg_header_t *reply)
{
	const vm_read_request_t *in = (const void *)request;
	vm_read_reply_t *out = (void *)reply;
	vm_map_copy_t copy;
	kern_return_t kr;

	if (in->size > UINT32_MAX)
		return KERN_INVALID_ARGUMENT;      /* data_count is 32 bits */
	if ((kr = vm_read(map, in->address, in->size, &copy)) != KERN_SUCCESS)
		return kr;
	out->Head.msgh_bits = MACH_MSGH_BITS_COMPLEX;
	out->msgh_body.msgh_descriptor_count = 1;
	out->data.address = copy;
	out->data.size = (mach_msg_size_t)in->size;
	out->data.copy = MACH_MSG_VIRTUAL_COPY;
	out->data.type = MACH_MSG_OOL_DESCRIPTOR;
	out->dataCnt = (mach_msg_type_number_t)in->size;
	return KERN_SUCCESS;
}

/* The data arrives as one out-of-line descriptor of exactly data_count bytes. */
static kern_return_t serve_vm_write(void *map, mach_msg_header_t *request,
                                    mach_msg_header_t *reply)
{
	vm_write_request_t *in = (void *)request;
	kern_return_t kr;

	(void)reply;
	if (in->data.size != in->dataCnt)
		return MIG_BAD_ARGUMENTS;
	kr = vm_write(map, in->address, (vm_map_copy_t)in->data.address, in->dataCnt);
	if (kr == KERN_SUCCESS)
		in->data.address = NULL;           /* vm_write consumed the copy */
	return kr;
}

/* The child's port goes back in a port descriptor with a send right. */
static kern_return_t serve_task_create(void *parent, mach_msg_header_t *request,
                                       mach_msg_header_t *reply)
{
	const task_create_request_t *in = (const void *)request;
	task_create_reply_t *out = (void *)reply;
	struct task *child;
	kern_return_t kr = task_create(parent, in->inherit_memory != 0, &child);

	if (kr != KERN_SUCCESS)
		return kr;
	child->made_by_rpc = true;            /* its first reference now waits for task_terminate */
	ipc_port_make_send(child->self_port);
	out->Head.msgh_bits = MACH_MSGH_BITS_COMPLEX;
	out->msgh_body.msgh_descriptor_count = 1;
	ipc_kmsg_set_port_descriptor(&out->child_task, child->self_port, MACH_MSG_TYPE_PORT_SEND);
	return KERN_SUCCESS;
}

/*
 * A child whose port never reached its creator could be neither reached
 * nor ended by anyone, so the kernel ends it, and with it everything it
 * holds.  An error reply made no child.
 */
static void task_create_reply_lost(mach_msg_header_t *reply)
{
	task_create_reply_t *out = (void *)reply;
	struct task *child;

	if (!(reply->msgh_bits & MACH_MSGH_BITS_COMPLEX))
		return;
	child = convert_port_to_task(ipc_kmsg_descriptor_port(&out->child_task));
	if (child == NULL)
		return;
	task_terminate(child);                 /* drops task_create's reference */
	task_deallocate(child);
}

/*
 * Ends a task other than the caller (the caller ends itself with exit:
 * terminating oneself from inside a routine would never return to drop
 * the dispatcher's reference).  The dispatcher's reference keeps the
 * structure until we return, though task_terminate drops task_create's.
 */
static kern_return_t serve_task_terminate(void *task, mach_msg_header_t *request,
                                          mach_msg_header_t *reply)
{
	(void)request;
	(void)reply;
	if (task == current_task())
		return KERN_INVALID_ARGUMENT;
	return task_terminate(task);
}

/* Counted, as the kernel's; resuming a task that is not suspended is KERN_FAILURE, as XNU's. */
IPC_ROUTINE_ON_OBJECT(serve_task_suspend, task_suspend, struct task)
IPC_ROUTINE_ON_OBJECT(serve_task_resume, task_resume, struct task)

/* The vm calls are converted: they get the task's map (task_kobject_ops), as Mach's do. */
const struct ipc_routine task_server_routines[] = {
	IPC_ROUTINE(TASK_CREATE_ID, task_create_request_t, task_create_reply_t, serve_task_create,
	            .reply_lost = task_create_reply_lost),
	IPC_ROUTINE(TASK_TERMINATE_ID, task_terminate_request_t, mig_reply_error_t,
	            serve_task_terminate),
	IPC_ROUTINE(TASK_SUSPEND_ID, object_request_t, mig_reply_error_t, serve_task_suspend),
	IPC_ROUTINE(TASK_RESUME_ID, object_request_t, mig_reply_error_t, serve_task_resume),
	IPC_ROUTINE(VM_REGION_ID, vm_region_request_t, vm_region_reply_t, serve_vm_region,
	            .converted = true),
	IPC_ROUTINE(VM_ALLOCATE_ID, vm_allocate_request_t, vm_allocate_reply_t, serve_vm_allocate,
	            .converted = true),
	IPC_ROUTINE(VM_DEALLOCATE_ID, vm_deallocate_request_t, mig_reply_error_t,
	            serve_vm_deallocate, .converted = true),
	IPC_ROUTINE(VM_PROTECT_ID, vm_protect_request_t, mig_reply_error_t, serve_vm_protect,
	            .converted = true),
	IPC_ROUTINE(VM_INHERIT_ID, vm_inherit_request_t, mig_reply_error_t, serve_vm_inherit,
	            .converted = true),
	IPC_ROUTINE(VM_READ_ID, vm_read_request_t, vm_read_reply_t, serve_vm_read,
	            .converted = true),
	IPC_ROUTINE(VM_WRITE_ID, vm_write_request_t, mig_reply_error_t, serve_vm_write,
	            .converted = true, .descriptors = "o"),
	IPC_ROUTINE(VM_COPY_ID, vm_copy_request_t, mig_reply_error_t, serve_vm_copy,
	            .converted = true),
};

const size_t task_server_routine_count =
	sizeof(task_server_routines) / sizeof(task_server_routines[0]);

void task_server_init(void)
{
	ipc_kobject_register(IKOT_TASK, &task_kobject_ops, task_server_routines,
	                     task_server_routine_count);
}
