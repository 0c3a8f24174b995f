/*
 * What tests/user/rights_across_tasks.c and the program it spawns,
 * right_receiver, say to each other.  The test gives the program one send
 * right, to its own port, under BOOT_NAME; everything else travels in
 * these messages.
 */
#ifndef MICA_RIGHT_RECEIVER_H
#define MICA_RIGHT_RECEIVER_H

#include <mach/message.h>

#define RIGHT_RECEIVER_BOOT_NAME 0x2003u    /* slot 0x20, generation 3 */

enum { RR_HELLO = 1, RR_WORK, RR_REPORT };

#pragma pack(push, 4)
/* RR_HELLO, to BOOT_NAME: a send right to the program's own port. */
struct rr_hello {
	mach_msg_header_t header;
	mach_msg_body_t body;
	mach_msg_port_descriptor_t reply_to;
};

/* RR_WORK, to the program's port: a task to write into, and a receive right with a message waiting. */
struct rr_work {
	mach_msg_header_t header;
	mach_msg_body_t body;
	mach_msg_port_descriptor_t target;      /* a send right to a task port */
	mach_msg_port_descriptor_t mailbox;     /* a receive right */
	vm_address_t address;                   /* where to write in the target */
	mach_port_name_t forged;                /* the test's own name for the target: an integer here */
};

/* RR_REPORT, to BOOT_NAME: what the writes gave, and what waited in the mailbox. */
struct rr_report {
	mach_msg_header_t header;
	kern_return_t with_forged_name;
	kern_return_t with_right;
	char mailbox_text[32];
};

/* A plain message: the text the test leaves in the mailbox. */
struct rr_text {
	mach_msg_header_t header;
	char text[32];
};
#pragma pack(pop)

#define RIGHT_RECEIVER_TEXT "written by the receiver"

#endif
