/*
 * mach_msg's two halves (ipc/mach_msg.h).
 *
 * Send: check the header, take the rights it names out of the sender's
 * space (all or nothing), copy the message into a kmsg and queue it on
 * the destination port.  Receive: take the first message off the port,
 * turn its carried rights into names in the receiver's space, and copy it
 * out with the header as the receiver sees it: msgh_remote_port is the
 * reply right, msgh_local_port the receive right it arrived on.
 *
 * Waiting (a full queue, an empty one) polls once per scheduler turn, as
 * task_wait_timeout does: simple and right on one CPU with a clock tick.
 *
 * Lock order: the space's lock and the port's are never held together
 * here, and neither across a wait.
 */
#include "ipc/mach_msg.h"
#include "ipc/ipc_kobject.h"
#include "kern/clock.h"
#include "kern/copy.h"
#include "kern/kalloc.h"
#include "kern/sched.h"
#include "kern/string.h"

static size_t kmsg_bytes(mach_msg_size_t size)
{
	return __builtin_offsetof(struct ipc_kmsg, header) + size;
}

void ipc_kmsg_destroy_list(struct ipc_kmsg *list)
{
	while (list) {
		struct ipc_kmsg *k = list;
		list = k->next;
		ipc_right_release(k->dest, k->dest_type);
		if (k->reply)
			ipc_right_release(k->reply, k->reply_type);
		ipc_kmsg_clean_body(k, &list);     /* ports whose receive rights die add their queues */
		ipc_kmsg_free(k);
	}
}

/* Is the header one Mica can send: sizes and dispositions (the body is checked apart)? */
static mach_msg_return_t check_header(const mach_msg_header_t *msg, mach_msg_size_t size)
{
	mach_msg_type_name_t remote = MACH_MSGH_BITS_REMOTE(msg->msgh_bits);
	mach_msg_type_name_t local = MACH_MSGH_BITS_LOCAL(msg->msgh_bits);

	if (size < sizeof(*msg) || (size & 3) || msg->msgh_size != size)
		return MACH_SEND_MSG_TOO_SMALL;
	if (size > IPC_KMSG_MAX)
		return MACH_SEND_TOO_LARGE;
	if (remote < MACH_MSG_TYPE_MOVE_SEND || remote > MACH_MSG_TYPE_MAKE_SEND_ONCE ||
	    (msg->msgh_local_port != MACH_PORT_NULL &&
	     (local < MACH_MSG_TYPE_MOVE_SEND || local > MACH_MSG_TYPE_MAKE_SEND_ONCE)))
		return MACH_SEND_INVALID_HEADER;
	return MACH_MSG_SUCCESS;
}

/* Waits until cond(arg) or the deadline (0: none); false when the deadline passed. */
static bool wait_until(bool (*cond)(void *), void *arg, uint64_t deadline)
{
	while (!cond(arg)) {
		if (deadline && clock_ns() >= deadline)
			return false;
		sched_yield();
	}
	return true;
}

static uint64_t deadline_for(mach_msg_option_t option, mach_msg_option_t timeout_flag,
                             mach_msg_timeout_t ms)
{
	if (!(option & timeout_flag))
		return 0;
	return clock_ns() + (uint64_t)ms * 1000000 + 1;   /* +1: a zero timeout still has a deadline */
}

static bool has_room(void *p)
{
	struct ipc_port *port = p;

	return !port->active || port->msg_count < port->qlimit;
}

mach_msg_return_t ipc_kmsg_enqueue(struct ipc_kmsg *k)
{
	struct ipc_port *port = k->dest;

	if (port->kotype != IKOT_NONE)
		return ipc_kobject_server(k);      /* a reply sent to a kernel port: served, refused */
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
	}
	spin_unlock(&port->lock);
	if (!live) {
		ipc_kmsg_destroy_list(k);
		return MACH_SEND_INVALID_DEST;
	}
	sched_wakeup(port);
	return MACH_MSG_SUCCESS;
}

/*
 * Queues k once its destination has room; consumes k, but when the
 * deadline passes first (MACH_SEND_TIMED_OUT) k is still the caller's.
 */
static mach_msg_return_t enqueue_when_room(struct ipc_kmsg *k, uint64_t deadline)
{
	if (!wait_until(has_room, k->dest, deadline))
		return MACH_SEND_TIMED_OUT;
	return ipc_kmsg_enqueue(k);            /* MACH_SEND_INVALID_DEST if it died meanwhile */
}

void ipc_kmsg_free(struct ipc_kmsg *k)
{
	kfree(k, kmsg_bytes(k->size));
}

struct ipc_kmsg *ipc_kmsg_alloc(mach_msg_size_t size)
{
	struct ipc_kmsg *k = kzalloc(kmsg_bytes(size));

	if (k)
		k->size = size;
	return k;
}

mach_msg_return_t ipc_msg_send(struct ipc_space *space, const mach_msg_header_t *msg,
                               mach_msg_size_t size, mach_msg_option_t option,
                               mach_msg_timeout_t timeout)
{
	mach_msg_return_t mr = check_header(msg, size);
	struct ipc_kmsg *k;

	if (mr != MACH_MSG_SUCCESS)
		return mr;
	if ((k = ipc_kmsg_alloc(size)) == NULL)
		return MACH_SEND_NO_BUFFER;
	memcpy(&k->header, msg, size);
	if ((mr = ipc_kmsg_copyin_body(k)) != MACH_MSG_SUCCESS ||
	    (mr = ipc_kmsg_copyin_rights(k, space)) != MACH_MSG_SUCCESS) {
		ipc_kmsg_free(k);
		return mr;
	}
	if (k->dest->kotype != IKOT_NONE)
		mr = ipc_kobject_server(k);        /* the kernel answers at once */
	else
		mr = enqueue_when_room(k, deadline_for(option, MACH_SEND_TIMEOUT, timeout));
	if (mr == MACH_SEND_TIMED_OUT) {
		ipc_kmsg_return_rights(k, space, msg);
		ipc_kmsg_free(k);
	}
	if (mr == MACH_MSG_SUCCESS)
		ipc_kmsg_deallocate_sent(msg);     /* sent: now the sender's memory may go */
	return mr;
}

/* A receive waits on port for space: the receive right may die, or leave in a message. */
struct receive_wait {
	struct ipc_port *port;
	struct ipc_space *space;
};

static bool has_message(void *p)
{
	const struct receive_wait *w = p;

	return w->port->queue_head != NULL || w->port->receiver != w->space;
}

/*
 * Takes the first message off port if space still receives there.  One
 * larger than size bytes (MACH_RCV_TOO_LARGE) stays queued with
 * MACH_RCV_LARGE, *needed saying how large; else it is taken all the same,
 * for the caller to destroy, as Mach does.
 */
static mach_msg_return_t dequeue(const struct receive_wait *w, mach_msg_size_t size,
                                 mach_msg_option_t option, struct ipc_kmsg **out,
                                 mach_msg_size_t *needed)
{
	struct ipc_port *port = w->port;
	mach_msg_return_t mr = MACH_MSG_SUCCESS;

	spin_lock(&port->lock);
	struct ipc_kmsg *k = port->queue_head;
	if (k == NULL || port->receiver != w->space) {
		mr = MACH_RCV_PORT_DIED;
	} else {
		if (k->size > size)
			mr = MACH_RCV_TOO_LARGE;
		*needed = k->size;
		if (mr == MACH_MSG_SUCCESS || !(option & MACH_RCV_LARGE)) {
			port->queue_head = k->next;
			if (port->queue_head == NULL)
				port->queue_tail = NULL;
			port->msg_count--;
			k->next = NULL;
			*out = k;
		}
	}
	spin_unlock(&port->lock);
	if (*out)
		sched_wakeup(port);                /* a sender may be waiting for room */
	return mr;
}

/*
 * Copies k into buf with the header the receiver sees, its out-of-line
 * memory mapped in the receiver (MACH_RCV_BODY_ERROR when some did not
 * fit), and frees k.
 */
static mach_msg_return_t deliver(struct ipc_space *space, mach_port_name_t name,
                                 struct ipc_kmsg *k, mach_msg_header_t *buf)
{
	mach_port_name_t reply = MACH_PORT_NULL;
	mach_msg_return_t mr = ipc_kmsg_copyout_body(k, space);

	if (k->reply && ipc_space_copyout_right(space, k->reply, k->reply_type, &reply) !=
	    KERN_SUCCESS)
		reply = MACH_PORT_NULL;            /* no memory for a name: the right is lost */
	memcpy(buf, &k->header, k->size);
	buf->msgh_bits = MACH_MSGH_BITS(k->reply ? k->reply_type : 0, k->dest_type) |
	                 (k->header.msgh_bits & MACH_MSGH_BITS_COMPLEX);
	buf->msgh_remote_port = reply;
	buf->msgh_local_port = name;
	ipc_right_release(k->dest, k->dest_type);   /* the destination right is spent */
	ipc_kmsg_free(k);
	return mr;
}

mach_msg_return_t ipc_msg_receive(struct ipc_space *space, mach_port_name_t name,
                                  mach_msg_header_t *buf, mach_msg_size_t size,
                                  mach_msg_option_t option, mach_msg_timeout_t timeout)
{
	struct ipc_port *port;
	struct ipc_kmsg *k = NULL;
	mach_msg_size_t needed = 0;
	mach_msg_return_t mr;

	if (ipc_space_lookup(space, name, MACH_PORT_TYPE_RECEIVE, &port) != KERN_SUCCESS)
		return MACH_RCV_INVALID_NAME;
	struct receive_wait w = { port, space };
	if (!wait_until(has_message, &w, deadline_for(option, MACH_RCV_TIMEOUT, timeout)))
		mr = MACH_RCV_TIMED_OUT;
	else
		mr = dequeue(&w, size, option, &k, &needed);
	ipc_port_release(port);
	if (mr == MACH_MSG_SUCCESS)
		return deliver(space, name, k, buf);
	if (mr == MACH_RCV_TOO_LARGE && k)
		ipc_kmsg_destroy_list(k);          /* no room for it, and not asked to keep it */
	else if (mr == MACH_RCV_TOO_LARGE && size >= sizeof(*buf))
		buf->msgh_size = needed;           /* MACH_RCV_LARGE: the size a receive needs */
	return mr;
}

/* The trap's send half: the user's message comes into a kernel buffer first. */
static mach_msg_return_t trap_send(struct ipc_space *space, uintptr_t umsg,
                                   mach_msg_option_t option, mach_msg_size_t size,
                                   mach_msg_timeout_t timeout)
{
	mach_msg_header_t *msg;
	mach_msg_return_t mr;

	if (size < sizeof(*msg) || (size & 3))
		return MACH_SEND_MSG_TOO_SMALL;
	if (size > IPC_KMSG_MAX)
		return MACH_SEND_TOO_LARGE;
	if ((msg = kalloc(size)) == NULL)
		return MACH_SEND_NO_BUFFER;
	if (copyin((const void *)umsg, msg, size) != KERN_SUCCESS) {
		mr = MACH_SEND_INVALID_DATA;
	} else {
		msg->msgh_size = size;             /* as in Mach, send_size is the message's size */
		mr = ipc_msg_send(space, msg, size, option, timeout);
	}
	kfree(msg, size);
	return mr;
}

/*
 * The trap's receive half.  A buffer the message cannot be copied out to
 * loses the message (MACH_RCV_INVALID_DATA), as in Mach; rights it
 * carried stay named in the space.
 */
static mach_msg_return_t trap_receive(struct ipc_space *space, uintptr_t umsg,
                                      mach_msg_option_t option, mach_msg_size_t size,
                                      mach_port_name_t name, mach_msg_timeout_t timeout)
{
	mach_msg_size_t kbytes = size < IPC_KMSG_MAX ? size : IPC_KMSG_MAX;
	mach_msg_header_t *buf;
	mach_msg_return_t mr;

	if (kbytes < sizeof(*buf))
		kbytes = sizeof(*buf);             /* room to look; a message never fits */
	if ((buf = kalloc(kbytes)) == NULL)
		return MACH_RCV_HEADER_ERROR;      /* no kernel memory; the message waits */
	mr = ipc_msg_receive(space, name, buf, size < kbytes ? size : kbytes, option, timeout);
	if ((mr == MACH_MSG_SUCCESS || mr == MACH_RCV_BODY_ERROR) &&
	    copyout(buf, (void *)umsg, buf->msgh_size) != KERN_SUCCESS)
		mr = MACH_RCV_INVALID_DATA;
	if (mr == MACH_RCV_TOO_LARGE && (option & MACH_RCV_LARGE) && size >= sizeof(*buf))
		copyout(&buf->msgh_size, (char *)umsg + __builtin_offsetof(mach_msg_header_t, msgh_size),
		        sizeof(buf->msgh_size));   /* best effort, as the size is all it says */
	kfree(buf, kbytes);
	return mr;
}

mach_msg_return_t mach_msg_trap(struct ipc_space *space, uintptr_t umsg, mach_msg_option_t option,
                                mach_msg_size_t send_size, mach_msg_size_t rcv_size,
                                mach_port_name_t rcv_name, mach_msg_timeout_t timeout)
{
	mach_msg_return_t mr = MACH_MSG_SUCCESS;

	if (option & MACH_SEND_MSG)
		mr = trap_send(space, umsg, option, send_size, timeout);
	if (mr == MACH_MSG_SUCCESS && (option & MACH_RCV_MSG))
		mr = trap_receive(space, umsg, option, rcv_size, rcv_name, timeout);
	return mr;
}
