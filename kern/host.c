/*
 * The host object and the routines its port serves (kern/host.h,
 * include/mach/host_rpc.h).
 */
#include "kern/host.h"
#include <mach/host_rpc.h>
#include "ipc/ipc_kmsg.h"
#include "kern/exec.h"
#include "kern/kalloc.h"
#include "kern/panic.h"
#include "lib/string.h"
#include "kern/task.h"
#include "kern/thread.h"
#include "kern/zone.h"
#include "vm/vm_map.h"
#include "vm/vm_object.h"
#include "vm/vm_page.h"
#include "vm/vm_user.h"

static struct {
	struct ipc_port *port;
} host;

/* The host never dies: the dispatcher has no reference to take. */
static const struct ipc_kobject_ops host_kobject_ops;

void host_init(void)
{
	ipc_kobject_register(IKOT_HOST, &host_kobject_ops, host_server_routines,
	                     host_server_routine_count);
	host.port = ipc_kobject_port_alloc(&host, IKOT_HOST);
	if (host.port == NULL)
		panic("host_init: no memory for the host port");
}

struct ipc_port *host_port(void)
{
	return host.port;
}

static kern_return_t serve_host_page_size(void *object, mach_msg_header_t *request,
                                          mach_msg_header_t *reply)
{
	(void)object;
	(void)request;
	((host_page_size_reply_t *)reply)->page_size = PAGE_SIZE;
	return KERN_SUCCESS;
}

static kern_return_t serve_host_vm_stats(void *object, mach_msg_header_t *request,
                                         mach_msg_header_t *reply)
{
	struct mica_vm_stats *s = &((host_vm_stats_reply_t *)reply)->stats;
	struct vm_page_stats frames;
	struct zone_totals zones;

	(void)object;
	(void)request;
	vm_page_get_stats(&frames);
	s->free_frames = vm_page_free_count();
	s->kernel_frames = frames.count[VM_PAGE_KERNEL];
	s->pagetable_frames = frames.count[VM_PAGE_PAGETABLE];
	s->object_frames = frames.count[VM_PAGE_OBJECT];
	zone_get_totals(&zones);
	s->zone_frames = zones.frames;
	s->zone_elements = zones.elements;
	kalloc_zone_in_use(s->zone_in_use, MICA_VM_STATS_ZONES, &s->large_blocks);
	s->vm_objects = vm_object_count();
	s->ports = ipc_port_count();
	s->tasks = task_count();
	s->threads = thread_count();
	return KERN_SUCCESS;
}

/*
 * The task arrives as a port in the request; a port that is not a live
 * task's (MACH_PORT_NULL, a host or thread port) gives KERN_INVALID_TASK,
 * as XNU's vm_wire does for a null map.
 */
static kern_return_t serve_vm_wire(void *host, mach_msg_header_t *request,
                                   mach_msg_header_t *reply)
{
	const vm_wire_request_t *in = (const void *)request;
	vm_map_t map = convert_port_to_map(ipc_kmsg_descriptor_port(&in->task));
	kern_return_t kr = KERN_INVALID_TASK;

	(void)host;
	(void)reply;
	if (map) {
		kr = vm_wire(map, in->address, in->size, in->desired_access);
		vm_map_deallocate(map);
	}
	return kr;
}

/*
 * Starts the carried program named in the request in a new task, as the
 * caller's child (its output goes where the caller's goes), and answers
 * with a send right to its port.  The reply's
 * right is made before the program runs (it may end at once); the task's
 * first reference is dropped when it ends, however it ends.
 */
static kern_return_t serve_task_spawn(void *host, mach_msg_header_t *request,
                                      mach_msg_header_t *reply)
{
	const task_spawn_request_t *in = (const void *)request;
	task_spawn_reply_t *out = (void *)reply;
	struct task *child;
	struct thread *thread;
	struct task *parent = current_task();
	const char *why;
	size_t len = strnlen(in->program, sizeof(in->program));

	(void)host;
	if (len == 0 || len == sizeof(in->program))     /* empty, or not terminated */
		return KERN_INVALID_ARGUMENT;
	kern_return_t kr = task_spawn_suspended(parent, in->program, parent ? parent->output : NULL,
	                                        parent ? parent->output_arg : NULL, &child, &thread,
	                                        &why);
	if (kr != KERN_SUCCESS)
		return kr;
	child->made_by_rpc = true;
	ipc_port_make_send(child->self_port);
	out->Head.msgh_bits = MACH_MSGH_BITS_COMPLEX;
	out->msgh_body.msgh_descriptor_count = 1;
	ipc_kmsg_set_port_descriptor(&out->child_task, child->self_port, MACH_MSG_TYPE_PORT_SEND);
	thread_resume(thread);
	return KERN_SUCCESS;
}

const struct ipc_routine host_server_routines[] = {
	IPC_ROUTINE(HOST_PAGE_SIZE_ID, host_request_t, host_page_size_reply_t,
	            serve_host_page_size),
	IPC_ROUTINE(MICA_HOST_VM_STATS_ID, host_request_t, host_vm_stats_reply_t,
	            serve_host_vm_stats),
	IPC_ROUTINE(VM_WIRE_ID, vm_wire_request_t, mig_reply_error_t, serve_vm_wire,
	            .descriptors = "p"),
	IPC_ROUTINE(MICA_TASK_SPAWN_ID, task_spawn_request_t, task_spawn_reply_t, serve_task_spawn),
};

const size_t host_server_routine_count =
	sizeof(host_server_routines) / sizeof(host_server_routines[0]);
