/*
 * Mach's traps for user programs (<mach/mach.h>), each one SYSCALL with
 * the numbers of include/mica/syscall.h; the RPC every stub makes; the
 * host calls.
 */
#include <stdint.h>
#include <string.h>
#include <mach/mach.h>
#include <mica/mica.h>
#include <mica/thread.h>
#include <mach/host_rpc.h>
#include "lib.h"

mach_port_t mach_reply_port(void)
{
	return (mach_port_t)mica_syscall(SYS_mach_reply_port, 0, 0, 0, 0);
}

mach_port_t mach_task_self(void)
{
	return (mach_port_t)mica_syscall(SYS_task_self, 0, 0, 0, 0);
}

/*
 * One port per thread: with one for the task, a thread could take
 * another's reply off the port they share and leave its own for the other.
 */
mach_port_t mig_get_reply_port(void)
{
	struct mica_thread *t = mica_thread_self();

	if (t->reply_port == MACH_PORT_NULL)
		t->reply_port = mach_reply_port();
	return t->reply_port;
}

mach_msg_return_t mach_msg(mach_msg_header_t *msg, mach_msg_option_t option,
			   mach_msg_size_t send_size, mach_msg_size_t rcv_size,
			   mach_port_name_t rcv_name, mach_msg_timeout_t timeout,
			   mach_port_name_t notify)
{
	if (notify != MACH_PORT_NULL)
		return MACH_SEND_INVALID_NOTIFY;   /* no notifications yet */
	return (mach_msg_return_t)mica_syscall6(SYS_mach_msg, (long)(uintptr_t)msg, option,
						send_size, rcv_size, rcv_name, timeout);
}

kern_return_t mig_rpc(mach_port_t target, mach_msg_header_t *msg, mach_msg_id_t id,
		      mach_msg_size_t send_size, mach_msg_size_t reply_size)
{
	mach_port_t reply = mig_get_reply_port();
	mach_msg_return_t mr;

	msg->msgh_bits = (msg->msgh_bits & MACH_MSGH_BITS_COMPLEX) |
			 MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, MACH_MSG_TYPE_MAKE_SEND_ONCE);
	msg->msgh_remote_port = target;
	msg->msgh_local_port = reply;
	msg->msgh_id = id;
	mr = mach_msg(msg, MACH_SEND_MSG | MACH_RCV_MSG, send_size, reply_size, reply,
		      MACH_MSG_TIMEOUT_NONE, MACH_PORT_NULL);
	if (mr != MACH_MSG_SUCCESS)
		return mr;
	if (msg->msgh_id != id + MIG_REPLY_ID_OFFSET)
		return MIG_REPLY_MISMATCH;
	if (msg->msgh_bits & MACH_MSGH_BITS_COMPLEX)   /* a complex reply is a success */
		return msg->msgh_size == reply_size ? KERN_SUCCESS : MIG_TYPE_ERROR;
	kern_return_t kr = ((mig_reply_error_t *)msg)->RetCode;
	if (kr == KERN_SUCCESS && msg->msgh_size != reply_size)
		return MIG_TYPE_ERROR;
	return kr;
}


mach_port_t mach_host_self(void)
{
	return (mach_port_t)mica_syscall(SYS_host_self, 0, 0, 0, 0);
}

kern_return_t host_page_size(host_t host, vm_size_t *page_size)
{
	union {
		host_request_t in;
		host_page_size_reply_t out;
	} m = { .in = { .Head = { 0 } } };
	kern_return_t kr = mig_rpc(host, &m.in.Head, HOST_PAGE_SIZE_ID, sizeof(m.in), sizeof(m.out));

	if (kr == KERN_SUCCESS)
		*page_size = m.out.page_size;
	return kr;
}

kern_return_t host_vm_stats(host_t host, struct mica_vm_stats *stats)
{
	union {
		host_request_t in;
		host_vm_stats_reply_t out;
	} m = { .in = { .Head = { 0 } } };
	kern_return_t kr = mig_rpc(host, &m.in.Head, MICA_HOST_VM_STATS_ID, sizeof(m.in),
				   sizeof(m.out));

	if (kr == KERN_SUCCESS)
		*stats = m.out.stats;
	return kr;
}

kern_return_t vm_wire(host_t host, vm_map_t task, vm_address_t address, vm_size_t size,
		      vm_prot_t desired_access)
{
	union {
		vm_wire_request_t in;
		mig_reply_error_t out;
	} m = { .in = {
		.Head = { .msgh_bits = MACH_MSGH_BITS_COMPLEX },
		.msgh_body = { .msgh_descriptor_count = 1 },
		.task = { .name = task, .disposition = MACH_MSG_TYPE_COPY_SEND,
			  .type = MACH_MSG_PORT_DESCRIPTOR },
		.address = address,
		.size = size,
		.desired_access = desired_access,
	} };

	return mig_rpc(host, &m.in.Head, VM_WIRE_ID, sizeof(m.in), sizeof(m.out));
}

/*
 * The name goes inline; one that does not fit (with its NUL) is sent cut
 * short and unterminated, for the kernel to refuse.
 */
kern_return_t task_spawn(host_t host, const char *program, task_t *child)
{
	union {
		task_spawn_request_t in;
		task_spawn_reply_t out;
	} m = { .in = { .Head = { 0 } } };
	kern_return_t kr;

	if (program == NULL)
		return KERN_INVALID_ARGUMENT;
	memcpy(m.in.program, program, strnlen(program, sizeof(m.in.program)));
	kr = mig_rpc(host, &m.in.Head, MICA_TASK_SPAWN_ID, sizeof(m.in), sizeof(m.out));
	if (kr == KERN_SUCCESS)
		*child = m.out.child_task.name;
	return kr;
}
