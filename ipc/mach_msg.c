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
 * The trap has a fast path for the call almost every RPC is, a request to
 * a kernel object whose reply comes back on the port the same mach_msg
 * receives on (kernel_call): request and reply stay on the kernel stack,
 * and the reply goes straight to the caller without a right made or a
 * message queued.  Whatever takes it, the caller sees the same.
 *
 * Waiting (a full queue, an empty one) sleeps (kern/sched.h): a receiver
 * waits on the port itself, which a message's arrival, the port's death
 * and its receive right's departure wake; a sender waits on the port's
 * msg_count, which a message's departure and the port's death wake.
 * Each declares its wait under the port's lock, where it found the
 * condition false, so no wakeup falls between.  A timeout is the wait's
 * deadline.  A waiting thread holds nothing: each turn looks the port up
 * by name again, and a send waits before it takes anything from the
 * sender, so a thread terminated while it waits (its wait interrupted,
 * its kernel stack dropped) leaves no reference, buffer or right behind.
 *
 * Locking: the space's lock and the port's are never held together
 * here, and neither across a wait.
 */
#include "ipc/mach_msg.h"
#include <mach/mig_errors.h>
#include "ipc/ipc_kmsg.h"
#include "ipc/ipc_kobject.h"
#include "kern/clock.h"
#include "kern/copy.h"
#include "kern/kalloc.h"
#include "kern/sched.h"
#include "lib/string.h"

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

/* Has the deadline (0: none) passed? */
static bool past(uint64_t deadline)
{
	return deadline && clock_ns() >= deadline;
}

/* A zero timeout only looks: its deadline (1 ns after boot) has always passed. */
static uint64_t deadline_for(mach_msg_option_t option, mach_msg_option_t timeout_flag,
                             mach_msg_timeout_t ms)
{
	if (!(option & timeout_flag))
		return 0;
	return ms ? clock_ns() + (uint64_t)ms * 1000000 : 1;
}

/*
 * Waits until the port `dest` names in space has room for a message (or
 * is not there: the send will say why), or the deadline passes
 * (MACH_SEND_TIMED_OUT: the wait reached it unwoken, or it had passed
 * when the queue was looked at).  Nothing is held across a wait: the name
 * is looked up afresh each turn, so a thread terminated while it waits
 * leaves nothing behind.  On one CPU, room found stays until the send,
 * which does not give the CPU away; with several, a racing sender may
 * take the queue a message past its limit.
 */
static mach_msg_return_t wait_for_room(struct ipc_space *space, mach_port_name_t dest,
                                       uint64_t deadline)
{
	for (;;) {
		struct ipc_port *port;
		if (ipc_space_lookup(space, dest, MACH_PORT_TYPE_SEND | MACH_PORT_TYPE_SEND_ONCE |
		                     MACH_PORT_TYPE_RECEIVE, &port) != KERN_SUCCESS)
			return MACH_MSG_SUCCESS;
		spin_lock(&port->lock);
		bool room = !port->active || port->kotype != IKOT_NONE ||
		            port->msg_count < port->qlimit;
		bool late = !room && past(deadline);
		if (!room && !late)
			assert_wait_deadline(&port->msg_count, "room on port", deadline);
		spin_unlock(&port->lock);
		ipc_port_release(port);
		if (room)
			return MACH_MSG_SUCCESS;
		if (late)
			return MACH_SEND_TIMED_OUT;
		wait_result_t why = thread_block();
		if (why == THREAD_INTERRUPTED)
			return MACH_SEND_INTERRUPTED;
		if (why == THREAD_TIMED_OUT)
			return MACH_SEND_TIMED_OUT;
	}
}

/*
 * Sends k, which holds the message as its sender wrote it, from space and
 * map; sent is that message where the sender's out-of-line memory marked
 * for deallocation is named (NULL: a simple message, none).  Takes k: on
 * any error it is freed and nothing was taken from the sender.
 */
static mach_msg_return_t kmsg_send(struct ipc_space *space, struct vm_map *map,
                                   struct ipc_kmsg *k, const mach_msg_header_t *sent)
{
	mach_msg_return_t mr = check_header(&k->header, k->size);

	if (mr != MACH_MSG_SUCCESS || (mr = ipc_kmsg_copyin_body(k, map)) != MACH_MSG_SUCCESS ||
	    (mr = ipc_kmsg_copyin_rights(k, space)) != MACH_MSG_SUCCESS) {
		ipc_kmsg_free(k);
		return mr;
	}
	if (k->dest->kotype != IKOT_NONE)
		mr = ipc_kobject_server(k);        /* the kernel answers at once */
	else
		mr = ipc_kmsg_enqueue(k);          /* MACH_SEND_INVALID_DEST if it died meanwhile */
	if (mr == MACH_MSG_SUCCESS && sent)
		ipc_kmsg_deallocate_sent(sent, map);   /* sent: now the sender's memory may go */
	return mr;
}

mach_msg_return_t ipc_msg_send(struct ipc_space *space, struct vm_map *map,
                               const mach_msg_header_t *msg, mach_msg_size_t size,
                               mach_msg_option_t option, mach_msg_timeout_t timeout)
{
	mach_msg_return_t mr = check_header(msg, size);
	struct ipc_kmsg *k;

	if (mr == MACH_MSG_SUCCESS)
		mr = wait_for_room(space, msg->msgh_remote_port,
		                   deadline_for(option, MACH_SEND_TIMEOUT, timeout));
	if (mr != MACH_MSG_SUCCESS)
		return mr;                         /* nothing taken yet: nothing to give back */
	if ((k = ipc_kmsg_alloc(size)) == NULL)
		return MACH_SEND_NO_BUFFER;
	memcpy(&k->header, msg, size);
	return kmsg_send(space, map, k, msg);
}

/*
 * Takes the first message off port, which space receives from: *out when
 * one is there (MACH_RCV_TOO_LARGE if it is larger than size bytes; it
 * then stays queued with MACH_RCV_LARGE, *needed saying how large, and is
 * taken all the same otherwise, for the caller to destroy, as Mach does).
 * MACH_RCV_PORT_DIED when space no longer receives there.  When the queue
 * is empty: MACH_RCV_TIMED_OUT if the deadline has passed, else false in
 * *ready and the current thread declared waiting for a message, for the
 * caller to block once it has let go of the port.
 */
static mach_msg_return_t dequeue(struct ipc_port *port, struct ipc_space *space,
                                 mach_msg_size_t size, mach_msg_option_t option,
                                 uint64_t deadline, struct ipc_kmsg **out,
                                 mach_msg_size_t *needed, bool *ready)
{
	mach_msg_return_t mr = MACH_MSG_SUCCESS;

	spin_lock(&port->lock);
	struct ipc_kmsg *k = port->queue_head;
	*ready = true;
	if (port->receiver != space) {
		mr = MACH_RCV_PORT_DIED;
	} else if (k) {
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
			thread_wakeup(&port->msg_count);   /* room for a waiting sender */
		}
	} else if (past(deadline)) {
		mr = MACH_RCV_TIMED_OUT;
	} else {
		assert_wait_deadline(port, "a message on port", deadline);
		*ready = false;
	}
	spin_unlock(&port->lock);
	return mr;
}

/* Makes k's header what its receiver sees: the reply right named reply, the receive right name. */
static void set_received_header(struct ipc_kmsg *k, mach_port_name_t reply, mach_port_name_t name)
{
	k->header.msgh_bits = MACH_MSGH_BITS(k->reply ? k->reply_type : 0, k->dest_type) |
	                      (k->header.msgh_bits & MACH_MSGH_BITS_COMPLEX);
	k->header.msgh_remote_port = reply;
	k->header.msgh_local_port = name;
	k->header.msgh_size = k->size;
}

/*
 * Makes k's header what the receiver sees and its body the receiver's:
 * its out-of-line memory mapped in map, its rights named in space
 * (MACH_RCV_BODY_ERROR when some did not fit).
 */
static mach_msg_return_t deliver(struct ipc_space *space, struct vm_map *map,
                                 mach_port_name_t name, struct ipc_kmsg *k)
{
	mach_port_name_t reply = MACH_PORT_NULL;
	mach_msg_return_t mr = ipc_kmsg_copyout_body(k, space, map);

	if (k->reply && ipc_space_copyout_right(space, k->reply, k->reply_type, &reply) !=
	    KERN_SUCCESS)
		reply = MACH_PORT_NULL;            /* no memory for a name: the right is lost */
	set_received_header(k, reply, name);
	ipc_right_release(k->dest, k->dest_type);   /* the destination right is spent */
	k->dest = k->reply = NULL;
	return mr;
}

/*
 * Makes the user's buffer ubuf (NULL: a kernel buffer) ready for the
 * message k before anything of k is delivered, so that its names and
 * mappings never reach a receiver who could not learn them.  A buffer the
 * VM has no memory for destroys k, lost step and rights with it
 * (MACH_RCV_HEADER_ERROR: Mach's code for a receive that failed for want
 * of resources with the message destroyed).  A bad buffer is left to the
 * copyout, which loses the message as Mach does.
 */
static mach_msg_return_t prepare_buffer(void *ubuf, struct ipc_kmsg *k)
{
	if (ubuf == NULL || copyout_prepare(ubuf, k->size) != KERN_RESOURCE_SHORTAGE)
		return MACH_MSG_SUCCESS;
	ipc_kmsg_destroy_list(k);
	return MACH_RCV_HEADER_ERROR;
}

/*
 * mach_msg's receive: waits for a message on the receive right `name`,
 * takes it and delivers it into space and map; *out is the message, for the
 * caller to copy to ubuf (NULL: the caller's buffer is the kernel's) and
 * free (MACH_MSG_SUCCESS or MACH_RCV_BODY_ERROR).  Nothing is held across
 * a wait: the name is looked up afresh each turn, so a thread terminated
 * while it waits leaves nothing behind.  A wait that reaches its deadline
 * unwoken times out without looking again, as Mach's does: a message
 * queued since is left for the next receive.
 */
static mach_msg_return_t receive_kmsg(struct ipc_space *space, struct vm_map *map,
                                      mach_port_name_t name, mach_msg_size_t size,
                                      mach_msg_option_t option, uint64_t deadline, void *ubuf,
                                      struct ipc_kmsg **out, mach_msg_size_t *needed)
{
	for (bool first = true;; first = false) {
		struct ipc_port *port;
		bool ready;
		if (ipc_space_lookup(space, name, MACH_PORT_TYPE_RECEIVE, &port) != KERN_SUCCESS)
			return first ? MACH_RCV_INVALID_NAME : MACH_RCV_PORT_DIED;
		*out = NULL;
		mach_msg_return_t mr = dequeue(port, space, size, option, deadline, out, needed,
		                               &ready);
		ipc_port_release(port);
		if (mr == MACH_MSG_SUCCESS && *out) {
			if ((mr = prepare_buffer(ubuf, *out)) != MACH_MSG_SUCCESS)
				return mr;
			return deliver(space, map, name, *out);
		}
		if (mr == MACH_RCV_TOO_LARGE && *out) {
			ipc_kmsg_destroy_list(*out);   /* no room for it, and not asked to keep it */
			*out = NULL;
		}
		if (ready)
			return mr;
		wait_result_t why = thread_block();
		if (why == THREAD_INTERRUPTED)
			return MACH_RCV_INTERRUPTED;
		if (why == THREAD_TIMED_OUT)
			return MACH_RCV_TIMED_OUT;
	}
}

/* Copies len bytes to dst in the receiver's buffer: user memory (copyout) or the kernel's. */
static kern_return_t put(void *dst, bool user, const void *src, size_t len)
{
	if (user)
		return copyout(src, dst, len);
	memcpy(dst, src, len);
	return KERN_SUCCESS;
}

/*
 * Copies a received message to the caller's buffer.  A buffer it cannot
 * be copied out to loses the message (MACH_RCV_INVALID_DATA), as in Mach;
 * rights it carried stay named in the space.  Else the receive's mr.
 */
static mach_msg_return_t copyout_received(const struct ipc_kmsg *k, void *buf, bool user,
                                          mach_msg_return_t mr)
{
	return put(buf, user, &k->header, k->size) == KERN_SUCCESS ? mr : MACH_RCV_INVALID_DATA;
}

/*
 * mach_msg's receive, from the kernel and from the trap alike: the
 * message goes straight from the kernel's copy to buf (size bytes), in
 * user memory if user, else the kernel's.  A message too large for it
 * and kept (MACH_RCV_LARGE) leaves its size in buf's msgh_size.
 */
static mach_msg_return_t receive_into(struct ipc_space *space, struct vm_map *map,
                                      mach_port_name_t name, void *buf, bool user,
                                      mach_msg_size_t size, mach_msg_option_t option,
                                      mach_msg_timeout_t timeout)
{
	struct ipc_kmsg *k;
	mach_msg_size_t needed = 0;
	mach_msg_return_t mr = receive_kmsg(space, map, name, size, option,
	                                    deadline_for(option, MACH_RCV_TIMEOUT, timeout),
	                                    user ? buf : NULL, &k, &needed);

	if (mr == MACH_MSG_SUCCESS || mr == MACH_RCV_BODY_ERROR) {
		mr = copyout_received(k, buf, user, mr);
		ipc_kmsg_free(k);
	} else if (mr == MACH_RCV_TOO_LARGE && (option & MACH_RCV_LARGE) &&
	           size >= sizeof(mach_msg_header_t)) {
		put((char *)buf + __builtin_offsetof(mach_msg_header_t, msgh_size), user, &needed,
		    sizeof(needed));               /* best effort, as the size is all it says */
	}
	return mr;
}

mach_msg_return_t ipc_msg_receive(struct ipc_space *space, struct vm_map *map,
                                  mach_port_name_t name, mach_msg_header_t *buf,
                                  mach_msg_size_t size, mach_msg_option_t option,
                                  mach_msg_timeout_t timeout)
{
	return receive_into(space, map, name, buf, false, size, option, timeout);
}

/* A send's code for a copyin's result: a page the VM had no memory for is a shortage. */
static mach_msg_return_t copyin_result(kern_return_t kr)
{
	if (kr == KERN_SUCCESS)
		return MACH_MSG_SUCCESS;
	return kr == KERN_RESOURCE_SHORTAGE ? MACH_SEND_NO_BUFFER : MACH_SEND_INVALID_DATA;
}

/* The trap's first step for a send: the size checked, the header copied in. */
static mach_msg_return_t copyin_header(uintptr_t umsg, mach_msg_size_t size,
                                       mach_msg_header_t *head)
{
	if (size < sizeof(*head) || (size & 3))
		return MACH_SEND_MSG_TOO_SMALL;
	if (size > IPC_KMSG_MAX)
		return MACH_SEND_TOO_LARGE;
	return copyin_result(copyin((const void *)umsg, head, sizeof(*head)));
}

/*
 * Fills k with the size-byte message at umsg whose header is already in
 * head: the rest is copied in (a bare header needs no second copy), and
 * msgh_size set to size, as Mach does.  MACH_SEND_INVALID_DATA when umsg
 * cannot be read, MACH_SEND_NO_BUFFER when its pages could not be made.
 */
static mach_msg_return_t copyin_rest(struct ipc_kmsg *k, const mach_msg_header_t *head,
                                     uintptr_t umsg, mach_msg_size_t size)
{
	k->header = *head;
	k->header.msgh_size = k->size = size;
	if (size == sizeof(*head))
		return MACH_MSG_SUCCESS;
	return copyin_result(copyin((const char *)umsg + sizeof(*head), &k->header + 1,
	                            size - sizeof(*head)));
}

/*
 * The trap's send half, after copyin_header.  It waits for room before it
 * copies the rest of the message in, so nothing is held while it waits.
 */
static mach_msg_return_t trap_send(struct ipc_space *space, struct vm_map *map,
                                   const mach_msg_header_t *head, uintptr_t umsg,
                                   mach_msg_option_t option, mach_msg_size_t size,
                                   mach_msg_timeout_t timeout)
{
	mach_msg_header_t *sent = NULL;
	struct ipc_kmsg *k;
	mach_msg_return_t mr = wait_for_room(space, head->msgh_remote_port,
	                                     deadline_for(option, MACH_SEND_TIMEOUT, timeout));

	if (mr != MACH_MSG_SUCCESS)
		return mr;
	if ((k = ipc_kmsg_alloc(size)) == NULL)
		return MACH_SEND_NO_BUFFER;
	if ((mr = copyin_rest(k, head, umsg, size)) != MACH_MSG_SUCCESS) {
		ipc_kmsg_free(k);
		return mr;
	}
	if (k->header.msgh_bits & MACH_MSGH_BITS_COMPLEX) {
		/* the body is rewritten on the way in; what to deallocate is named in the original */
		if ((sent = kalloc(size)) == NULL) {
			ipc_kmsg_free(k);
			return MACH_SEND_NO_BUFFER;
		}
		memcpy(sent, &k->header, size);
	}
	mr = kmsg_send(space, map, k, sent);
	if (sent)
		kfree(sent, size);
	return mr;
}

/* A kmsg on the stack, with room for any kernel call's request or reply. */
union kmsg_buffer {
	struct ipc_kmsg k;
	char bytes[__builtin_offsetof(struct ipc_kmsg, header) + IPC_KOBJECT_REPLY_MAX];
};

/*
 * The routine the header h of a send_size-byte message calls, if it makes
 * a kernel call as MIG stubs do (mig_rpc): a copied send right; a
 * send-once reply right made from the receive right this same mach_msg
 * receives on, with room for the reply; the size the routine expects.
 * Else NULL.  (Its body must also carry nothing but out-of-line memory.)
 */
static const struct ipc_routine *kernel_call_routine(const mach_msg_header_t *h,
                                                     mach_msg_size_t send_size,
                                                     mach_msg_size_t rcv_size,
                                                     mach_port_name_t rcv_name)
{
	if ((h->msgh_bits & ~MACH_MSGH_BITS_COMPLEX) !=
	            MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, MACH_MSG_TYPE_MAKE_SEND_ONCE) ||
	    h->msgh_local_port != rcv_name || rcv_size < sizeof(mig_reply_error_t))
		return NULL;
	const struct ipc_routine *r = ipc_kobject_routine(h->msgh_id);
	return r && r->request_size == send_size && rcv_size >= r->reply_size ? r : NULL;
}

/*
 * The routine may have given up the receive right the call receives on
 * (mach_port_mod_refs on its own reply port): the general path's receive
 * would then find no such name, and its reply would die with the port.
 * The fast path must agree, so it looks again, as that receive does.
 */
static mach_msg_return_t reply_port_remains(struct ipc_space *space, mach_port_name_t rcv_name,
                                            struct ipc_kmsg *reply)
{
	struct ipc_port *port;
	struct ipc_kmsg *doomed = NULL;

	if (ipc_space_lookup(space, rcv_name, MACH_PORT_TYPE_RECEIVE, &port) == KERN_SUCCESS) {
		ipc_port_release(port);
		return MACH_MSG_SUCCESS;
	}
	ipc_kmsg_lost(reply);
	ipc_kmsg_clean_body(reply, &doomed);
	ipc_kmsg_destroy_list(doomed);
	return MACH_RCV_INVALID_NAME;
}

/*
 * The fast path's receive: reply (on the stack) to the caller's buffer at
 * umsg, as the general path's receive would deliver it.  The routine may
 * have changed the caller's map (task_create write-protects it for the
 * child), so the buffer is made ready again first; a shortage there
 * loses the reply as prepare_buffer does.
 */
static mach_msg_return_t deliver_reply(struct ipc_space *space, struct vm_map *map,
                                       struct ipc_kmsg *reply, uintptr_t umsg,
                                       mach_port_name_t rcv_name)
{
	if (copyout_prepare((void *)umsg, reply->size) == KERN_RESOURCE_SHORTAGE) {
		struct ipc_kmsg *doomed = NULL;
		ipc_kmsg_lost(reply);
		ipc_kmsg_clean_body(reply, &doomed);
		ipc_kmsg_destroy_list(doomed);
		return MACH_RCV_HEADER_ERROR;
	}
	mach_msg_return_t mr = ipc_kmsg_copyout_body(reply, space, map);
	set_received_header(reply, MACH_PORT_NULL, rcv_name);
	return copyout_received(reply, (void *)umsg, true, mr);
}

/*
 * mach_msg's fast path for a kernel call (kernel_call_routine).  The general
 * path makes a send-once right, queues the reply on the caller's port and
 * takes it straight off again; here request and reply stay on the stack,
 * both names are looked up under one space lock, no right is made, and
 * the reply goes straight to the caller's buffer, which then holds what
 * the general path would put there.  Returns false, having taken nothing,
 * for any other call and while messages wait on the reply port (the reply
 * must come after them): those take the general path.  As there, a
 * routine that destroys the reply port leaves MACH_RCV_INVALID_NAME.  head
 * is the header copyin_header read.
 */
static bool kernel_call(struct ipc_space *space, struct vm_map *map,
                        const mach_msg_header_t *head, uintptr_t umsg, mach_msg_option_t option,
                        mach_msg_size_t send_size, mach_msg_size_t rcv_size,
                        mach_port_name_t rcv_name, mach_msg_return_t *mr)
{
	union kmsg_buffer request, reply;
	_Alignas(8) char sent[IPC_KOBJECT_REPLY_MAX];   /* the sender's descriptors, for deallocation */
	struct ipc_kmsg *k = &request.k;
	const struct ipc_routine *r;

	if (!(option & MACH_RCV_MSG) || send_size > IPC_KOBJECT_REPLY_MAX ||
	    (r = kernel_call_routine(head, send_size, rcv_size, rcv_name)) == NULL ||
	    copyin_rest(k, head, umsg, send_size) != MACH_MSG_SUCCESS ||
	    !ipc_kmsg_body_is_memory_only(k) ||
	    (k->dest = ipc_space_kernel_call_port(space, k->header.msgh_remote_port, rcv_name)) == NULL)
		return false;
	k->reply = reply.k.reply = NULL;
	k->lost = reply.k.lost = NULL;
	reply.k.dest_type = MACH_MSG_TYPE_PORT_SEND_ONCE;  /* as the general path's reply carries */
	bool complex = k->header.msgh_bits & MACH_MSGH_BITS_COMPLEX;
	if (complex)
		memcpy(sent, &k->header, send_size);
	/* the reply's room made first, so that a shortage there comes before the routine runs */
	if (copyout_prepare((void *)umsg, r->reply_size) == KERN_RESOURCE_SHORTAGE)
		*mr = MACH_SEND_NO_BUFFER;
	else if ((*mr = ipc_kmsg_copyin_memory(k, map)) == MACH_MSG_SUCCESS) {
		ipc_kobject_serve(k, r, &reply.k);
		reply.k.lost = r->reply_lost;
		ipc_kmsg_clean_body(k, NULL);                /* what the routine did not take */
		if (complex)
			ipc_kmsg_deallocate_sent((const mach_msg_header_t *)sent, map);
		*mr = reply_port_remains(space, rcv_name, &reply.k);
	}
	if (*mr == MACH_MSG_SUCCESS)
		*mr = deliver_reply(space, map, &reply.k, umsg, rcv_name);
	ipc_port_release(k->dest);
	return true;
}

mach_msg_return_t mach_msg_trap(struct ipc_space *space, struct vm_map *map, uintptr_t umsg,
                                mach_msg_option_t option, mach_msg_size_t send_size,
                                mach_msg_size_t rcv_size, mach_port_name_t rcv_name,
                                mach_msg_timeout_t timeout)
{
	mach_msg_return_t mr = MACH_MSG_SUCCESS;
	mach_msg_header_t head;

	if (option & MACH_SEND_MSG) {
		mr = copyin_header(umsg, send_size, &head);
		if (mr == MACH_MSG_SUCCESS && kernel_call(space, map, &head, umsg, option,
		                                          send_size, rcv_size, rcv_name, &mr))
			return mr;
		if (mr == MACH_MSG_SUCCESS)
			mr = trap_send(space, map, &head, umsg, option, send_size, timeout);
	}
	if (mr == MACH_MSG_SUCCESS && (option & MACH_RCV_MSG))
		mr = receive_into(space, map, rcv_name, (void *)umsg, true, rcv_size, option,
		                  timeout);
	return mr;
}
