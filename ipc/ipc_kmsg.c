/*
 * A kmsg's life outside its body (ipc/ipc_kmsg.h): made, queued on a
 * port or handed to a kernel object, and destroyed with the rights it
 * carries when it cannot be delivered.  The body's descriptors are
 * ipc/ipc_kmsg_body.c's; mach_msg's send and receive, ipc/mach_msg.c's.
 *
 * Locking: a port's lock alone, never held across a call out.
 */
#include "ipc/ipc_kmsg.h"
#include "ipc/ipc_kobject.h"
#include "ipc/ipc_space.h"
#include "kern/kalloc.h"
#include "kern/sched.h"

static size_t kmsg_bytes(mach_msg_size_t size)
{
	return __builtin_offsetof(struct ipc_kmsg, header) + size;
}

struct ipc_kmsg *ipc_kmsg_alloc(mach_msg_size_t room)
{
	struct ipc_kmsg *k = kalloc(kmsg_bytes(room));

	if (k) {
		k->next = NULL;
		k->dest = k->reply = NULL;
		k->dest_type = k->reply_type = 0;
		k->size = k->room = room;
		k->lost = NULL;
	}
	return k;
}

void ipc_kmsg_free(struct ipc_kmsg *k)
{
	kfree(k, kmsg_bytes(k->room));
}

void ipc_kmsg_lost(struct ipc_kmsg *k)
{
	void (*lost)(mach_msg_header_t *) = k->lost;

	k->lost = NULL;
	if (lost)
		lost(&k->header);
}

void ipc_kmsg_destroy_list(struct ipc_kmsg *list)
{
	while (list) {
		struct ipc_kmsg *k = list;
		list = k->next;
		ipc_kmsg_lost(k);
		ipc_right_release(k->dest, k->dest_type);
		if (k->reply)
			ipc_right_release(k->reply, k->reply_type);
		ipc_kmsg_clean_body(k, &list);     /* ports whose receive rights die add their queues */
		ipc_kmsg_free(k);
	}
}

bool ipc_kmsg_queue(struct ipc_kmsg *k)
{
	struct ipc_port *port = k->dest;

	spin_lock(&port->lock);
	bool live = port->active;
	if (live) {
		k->next = NULL;
		if (port->queue_tail)
			port->queue_tail->next = k;
		else
			port->queue_head = k;
		port->queue_tail = k;
		port->msg_count++;
		thread_wakeup(port);               /* a receiver waiting for it */
	}
	spin_unlock(&port->lock);
	return live;
}

mach_msg_return_t ipc_kmsg_enqueue(struct ipc_kmsg *k)
{
	if (k->dest->kotype != IKOT_NONE)
		return ipc_kobject_server(k);      /* a reply sent to a kernel port: served, refused */
	if (ipc_kmsg_queue(k))
		return MACH_MSG_SUCCESS;
	ipc_kmsg_destroy_list(k);
	return MACH_SEND_INVALID_DEST;
}
