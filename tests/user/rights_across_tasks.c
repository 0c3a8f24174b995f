/*
 * Authority between tasks is a send right, and rights move in messages:
 * a spawned program (user/bin/right_receiver.c) cannot write a task with
 * the integer that names it in another space, and can once a right to it
 * arrives in a message; a receive right sent to it brings its queued
 * message along.
 */
#include <ktap.h>
#include <string.h>

#include <mach/mach.h>
#include "../../user/bin/right_receiver.h"

#define TARGET_ADDR 0x500000000000ul       /* mapped in the target, nowhere in the receiver */
#define TARGET_NAME 0x7f03u                /* beyond the receiver's table: names nothing there */

static mach_msg_return_t receive(mach_port_t port, mach_msg_header_t *m, mach_msg_size_t size)
{
	return mach_msg(m, MACH_RCV_MSG | MACH_RCV_TIMEOUT, 0, size, port, 20000, MACH_PORT_NULL);
}

/* A message with text waiting on port, which the receiver will get with the receive right. */
static mach_msg_return_t leave_text(mach_port_t port, const char *text)
{
	struct rr_text m = { .header = {
		.msgh_bits = MACH_MSGH_BITS(MACH_MSG_TYPE_MAKE_SEND, 0),
		.msgh_size = sizeof(m),
		.msgh_remote_port = port,
	} };

	strcpy(m.text, text);
	return mach_msg(&m.header, MACH_SEND_MSG, sizeof(m), 0, MACH_PORT_NULL, 0, MACH_PORT_NULL);
}

/* The work: the target's right, the mailbox's receive right, and the bare integer of the target's name here. */
static mach_msg_return_t send_work(mach_port_t to, mach_port_t target, mach_port_t mailbox)
{
	struct rr_work w = {
		.header = { .msgh_bits = MACH_MSGH_BITS(MACH_MSG_TYPE_MOVE_SEND, 0) |
					 MACH_MSGH_BITS_COMPLEX,
			    .msgh_size = sizeof(w), .msgh_remote_port = to, .msgh_id = RR_WORK },
		.body = { .msgh_descriptor_count = 2 },
		.target = { .name = target, .disposition = MACH_MSG_TYPE_COPY_SEND,
			    .type = MACH_MSG_PORT_DESCRIPTOR },
		.mailbox = { .name = mailbox, .disposition = MACH_MSG_TYPE_MOVE_RECEIVE,
			     .type = MACH_MSG_PORT_DESCRIPTOR },
		.address = TARGET_ADDR,
		.forged = target,
	};

	return mach_msg(&w.header, MACH_SEND_MSG, sizeof(w), 0, MACH_PORT_NULL, 0, MACH_PORT_NULL);
}

/* The target's bytes at TARGET_ADDR, as a string of at most 31 characters. */
static void read_target(task_t target, char out[32])
{
	vm_offset_t data = 0;
	mach_msg_type_number_t count = 0;

	memset(out, 0, 32);
	if (vm_read(target, TARGET_ADDR, 31, &data, &count) == KERN_SUCCESS) {
		memcpy(out, (const void *)data, 31);
		vm_deallocate(mach_task_self(), data, count);
	}
}

static void a_right_in_a_message_is_the_authority_to_write(void)
{
	mach_port_t self = mach_task_self(), mine, mailbox;
	task_t receiver, target;
	vm_address_t where = TARGET_ADDR;
	struct rr_hello hello;
	struct rr_report report;
	struct mica_vm_stats before, after;
	char bytes[32];

	KT_ASSERT_EQ(host_vm_stats(mach_host_self(), &before), KERN_SUCCESS);
	KT_ASSERT_EQ(mach_port_allocate(self, MACH_PORT_RIGHT_RECEIVE, &mine), KERN_SUCCESS);
	KT_ASSERT_EQ(mach_port_allocate(self, MACH_PORT_RIGHT_RECEIVE, &mailbox), KERN_SUCCESS);
	KT_ASSERT_EQ(task_create(self, 0, &target), KERN_SUCCESS);
	KT_ASSERT_EQ(mach_port_insert_right(self, TARGET_NAME, target, MACH_MSG_TYPE_MOVE_SEND),
		     KERN_SUCCESS);                           /* renamed: target is now TARGET_NAME */
	target = TARGET_NAME;
	KT_ASSERT_EQ(vm_allocate(target, &where, 4096, VM_FLAGS_FIXED), KERN_SUCCESS);
	KT_ASSERT_EQ(task_spawn(mach_host_self(), "right_receiver", &receiver), KERN_SUCCESS);
	KT_ASSERT_EQ(mach_port_insert_right(receiver, RIGHT_RECEIVER_BOOT_NAME, mine,
					    MACH_MSG_TYPE_MAKE_SEND), KERN_SUCCESS);
	KT_ASSERT_EQ(receive(mine, &hello.header, sizeof(hello)), MACH_MSG_SUCCESS);
	KT_ASSERT_EQ(hello.header.msgh_id, RR_HELLO);
	KT_ASSERT_EQ(leave_text(mailbox, "left in the mailbox"), MACH_MSG_SUCCESS);
	KT_ASSERT_EQ(send_work(hello.reply_to.name, target, mailbox), MACH_MSG_SUCCESS);
	KT_EXPECT_EQ(mach_port_type(self, mailbox, &(mach_port_type_t){ 0 }), KERN_INVALID_NAME);
	KT_ASSERT_EQ(receive(mine, &report.header, sizeof(report)), MACH_MSG_SUCCESS);
	KT_EXPECT_EQ(report.with_forged_name, MACH_SEND_INVALID_DEST);
	KT_EXPECT_EQ(report.with_right, KERN_SUCCESS);
	KT_EXPECT_STREQ(report.mailbox_text, "left in the mailbox");
	read_target(target, bytes);
	KT_EXPECT_STREQ(bytes, RIGHT_RECEIVER_TEXT);
	KT_EXPECT_EQ(task_terminate(target), KERN_SUCCESS);
	KT_EXPECT_EQ(mach_port_deallocate(self, target), KERN_SUCCESS);
	KT_EXPECT(ktap_wait_task_ended(receiver));     /* it exits once it has reported */
	KT_EXPECT_EQ(mach_port_deallocate(self, receiver), KERN_SUCCESS);
	KT_EXPECT_EQ(mach_port_mod_refs(self, mine, MACH_PORT_RIGHT_RECEIVE, -1), KERN_SUCCESS);
	KT_ASSERT_EQ(host_vm_stats(mach_host_self(), &after), KERN_SUCCESS);
	KT_EXPECT_EQ(after.ports, before.ports);
	KT_EXPECT_EQ(after.tasks, before.tasks);
}

int main(void)
{
	static const struct ktap_case cases[] = {
		KTAP_CASE(a_right_in_a_message_is_the_authority_to_write),
	};

	return ktap_run(cases, sizeof cases / sizeof cases[0]);
}
