/*
 * Spawned by tests/user/rights_across_tasks.c: a task that starts with no
 * right to anything but itself, the host and the test's port, receives a
 * task's right in a message and writes with it (right_receiver.h).
 */
#include <string.h>
#include <mach/mach.h>
#include <mica/mica.h>
#include "right_receiver.h"

/* Waits until the test has put its send right under BOOT_NAME. */
static void wait_for_boot_right(void)
{
	mach_port_type_t type = 0;

	while (mach_port_type(mach_task_self(), RIGHT_RECEIVER_BOOT_NAME, &type) != KERN_SUCCESS ||
	       !(type & MACH_PORT_TYPE_SEND))
		mica_yield();
}

static mach_msg_return_t send_to_boot(mach_msg_header_t *m, mach_msg_size_t size, int id)
{
	m->msgh_bits |= MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, 0);
	m->msgh_size = size;
	m->msgh_remote_port = RIGHT_RECEIVER_BOOT_NAME;
	m->msgh_id = id;
	return mach_msg(m, MACH_SEND_MSG, size, 0, MACH_PORT_NULL, MACH_MSG_TIMEOUT_NONE,
			MACH_PORT_NULL);
}

static mach_msg_return_t receive(mach_port_t port, mach_msg_header_t *m, mach_msg_size_t size)
{
	return mach_msg(m, MACH_RCV_MSG | MACH_RCV_TIMEOUT, 0, size, port, 10000, MACH_PORT_NULL);
}

int main(void)
{
	mach_port_t mine = MACH_PORT_NULL;
	struct rr_hello hello = { .header = { .msgh_bits = MACH_MSGH_BITS_COMPLEX } };
	struct rr_work work;
	struct rr_report report = { .header = { 0 } };
	struct rr_text text;

	wait_for_boot_right();
	if (mach_port_allocate(mach_task_self(), MACH_PORT_RIGHT_RECEIVE, &mine) != KERN_SUCCESS)
		return 1;
	hello.body.msgh_descriptor_count = 1;
	hello.reply_to = (mach_msg_port_descriptor_t){ .name = mine,
						       .disposition = MACH_MSG_TYPE_MAKE_SEND,
						       .type = MACH_MSG_PORT_DESCRIPTOR };
	if (send_to_boot(&hello.header, sizeof(hello), RR_HELLO) != MACH_MSG_SUCCESS ||
	    receive(mine, &work.header, sizeof(work)) != MACH_MSG_SUCCESS)
		return 2;
	report.with_forged_name = vm_write(work.forged, work.address,
					   (pointer_t)"forged", sizeof("forged"));
	report.with_right = vm_write(work.target.name, work.address,
				     (pointer_t)RIGHT_RECEIVER_TEXT, sizeof(RIGHT_RECEIVER_TEXT));
	if (receive(work.mailbox.name, &text.header, sizeof(text)) == MACH_MSG_SUCCESS)
		memcpy(report.mailbox_text, text.text, sizeof(report.mailbox_text));
	return send_to_boot(&report.header, sizeof(report), RR_REPORT) == MACH_MSG_SUCCESS ? 0 : 3;
}
