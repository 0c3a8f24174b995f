/*
 * Kernel-object ports and the dispatcher that serves them
 * (ipc/ipc_kobject.h).  The routine tables live beside the objects they
 * serve (kern/task_server.c, kern/thread_server.c, kern/host.c); this file finds the routine, holds the
 * object while it runs, and sends the reply, playing the part of MIG's
 * generated server loop.
 */
#include "ipc/ipc_kobject.h"
#include <mach/mig_errors.h>
#include "ipc/ipc_space.h"
#include "ipc/mach_msg.h"
#include "kern/host.h"
#include "kern/mach_port_server.h"
#include "kern/panic.h"
#include "lib/string.h"
#include "kern/task.h"
#include "kern/task_server.h"
#include "kern/thread.h"
#include "kern/thread_server.h"
#include "vm/vm_map.h"

struct ipc_port *ipc_kobject_port_alloc(void *object, enum ipc_kobject_type type)
{
	struct ipc_port *port = ipc_port_alloc(NULL);

	if (port) {
		port->kotype = type;
		port->kobject = object;
	}
	return port;
}

void ipc_kobject_port_destroy(struct ipc_port *port)
{
	spin_lock(&port->lock);
	port->kobject = NULL;
	spin_unlock(&port->lock);
	ipc_port_destroy(port);
}

static const struct {
	const struct ipc_routine *routines;
	const size_t *count;
} servers[] = {
	{ task_server_routines, &task_server_routine_count },
	{ mach_port_server_routines, &mach_port_server_routine_count },
	{ host_server_routines, &host_server_routine_count },
	{ thread_server_routines, &thread_server_routine_count },
};

/*
 * Every routine by its msgh_id, as MIG's server tables are found in
 * Mach: a hash with linear probing, filled once at boot.  The ids are
 * sparse (202 to 4701), and a search of every table took 150 of a null
 * RPC's 1,060 instructions.
 */
#define ROUTINE_SLOTS 128              /* a power of two, over twice the routines */

static const struct ipc_routine *routine_slots[ROUTINE_SLOTS];

static unsigned slot_of(mach_msg_id_t id)
{
	return (unsigned)id & (ROUTINE_SLOTS - 1);
}

void ipc_kobject_init(void)
{
	unsigned filled = 0;

	for (size_t s = 0; s < sizeof(servers) / sizeof(servers[0]); s++) {
		for (size_t i = 0; i < *servers[s].count; i++) {
			const struct ipc_routine *r = &servers[s].routines[i];
			if (ipc_kobject_routine(r->id) != NULL)
				panic("ipc_kobject_init: two routines answer msgh_id %d", r->id);
			if (++filled > ROUTINE_SLOTS / 2)
				panic("ipc_kobject_init: more than %d routines", ROUTINE_SLOTS / 2);
			unsigned k = slot_of(r->id);
			while (routine_slots[k])
				k = (k + 1) & (ROUTINE_SLOTS - 1);
			routine_slots[k] = r;
		}
	}
}

const struct ipc_routine *ipc_kobject_routine(mach_msg_id_t id)
{
	for (unsigned k = slot_of(id); routine_slots[k]; k = (k + 1) & (ROUTINE_SLOTS - 1))
		if (routine_slots[k]->id == id)
			return routine_slots[k];
	return NULL;
}

mach_msg_size_t ipc_kobject_largest_reply(void)
{
	mach_msg_size_t largest = sizeof(mig_reply_error_t);

	for (size_t s = 0; s < sizeof(servers) / sizeof(servers[0]); s++)
		for (size_t i = 0; i < *servers[s].count; i++)
			if (servers[s].routines[i].reply_size > largest)
				largest = servers[s].routines[i].reply_size;
	return largest;
}

/* A reference to object for a routine, if it can still have one; the host never dies. */
static bool object_reference(void *object, enum ipc_kobject_type type)
{
	switch (type) {
	case IKOT_TASK:
		return task_reference_if_live(object);
	case IKOT_THREAD:
		return thread_reference_if_live(object);
	default:
		return true;
	}
}

void *ipc_kobject_take(struct ipc_port *port, enum ipc_kobject_type type)
{
	void *object = NULL;

	spin_lock(&port->lock);
	if (port->kotype == type && port->kobject && object_reference(port->kobject, type))
		object = port->kobject;
	spin_unlock(&port->lock);
	return object;
}

void ipc_kobject_drop(void *object, enum ipc_kobject_type type)
{
	if (type == IKOT_TASK)
		task_deallocate(object);
	else if (type == IKOT_THREAD)
		thread_deallocate(object);
}

/* Runs r on the object; KERN_INVALID_ARGUMENT when it is of another type or gone. */
static kern_return_t serve_object(const struct ipc_routine *r, struct ipc_kmsg *request,
                                  mach_msg_header_t *reply)
{
	void *object = ipc_kobject_take(request->dest, r->kotype);
	kern_return_t kr = KERN_INVALID_ARGUMENT;

	if (object == NULL)
		return kr;
	if (!r->on_map) {
		kr = r->serve(object, &request->header, reply);
	} else {
		vm_map_t map = task_map_reference(object);   /* on_map routines are the task's */
		if (map) {
			kr = r->serve(map, &request->header, reply);
			vm_map_deallocate(map);
		}
	}
	ipc_kobject_drop(object, r->kotype);
	return kr;
}

/* Runs the routine for request into reply: the reply's RetCode. */
static kern_return_t dispatch(struct ipc_kmsg *request, const struct ipc_routine *r,
                              mach_msg_header_t *reply)
{
	if (r == NULL)
		return MIG_BAD_ID;
	if (request->size != r->request_size ||
	    !ipc_kmsg_descriptors_are(request, r->descriptors ? r->descriptors : ""))
		return MIG_BAD_ARGUMENTS;          /* as MIG's checks, the type included */
	return serve_object(r, request, reply);
}

/* Makes reply an empty reply of size bytes to request: zeroed, its size and id set. */
static void reply_start(struct ipc_kmsg *reply, const struct ipc_kmsg *request,
                        mach_msg_size_t size)
{
	KASSERT(size <= IPC_KOBJECT_REPLY_MAX, "ipc_kobject_serve: reply of %u bytes", size);
	memset(&reply->header, 0, size);
	reply->size = size;
	reply->header.msgh_size = size;
	reply->header.msgh_id = request->header.msgh_id + MIG_REPLY_ID_OFFSET;
}

void ipc_kobject_serve(struct ipc_kmsg *request, const struct ipc_routine *r,
                       struct ipc_kmsg *reply)
{
	reply_start(reply, request, r ? r->reply_size : sizeof(mig_reply_error_t));
	kern_return_t kr = dispatch(request, r, &reply->header);
	if (kr != KERN_SUCCESS)                   /* the reply says only what went wrong */
		reply_start(reply, request, sizeof(mig_reply_error_t));
	if (!(reply->header.msgh_bits & MACH_MSGH_BITS_COMPLEX))
		((mig_reply_error_t *)&reply->header)->RetCode = kr;   /* complex: success, no code */
}

/*
 * Sends reply (NULL: none could be made) on the request's reply right,
 * which it takes.  A reply that cannot be delivered, for want of a reply
 * right, because its port is dead, or because it names a kernel object
 * (which would refuse it), is destroyed once r's reply_lost has undone
 * what it alone carried.
 */
static void send_reply(struct ipc_kmsg *reply, const struct ipc_kmsg *request,
                       const struct ipc_routine *r)
{
	struct ipc_port *to = request->reply;

	if (reply)
		reply->lost = r ? r->reply_lost : NULL;   /* runs wherever the reply is lost */
	if (reply && to && to->kotype == IKOT_NONE) {
		reply->dest = to;
		reply->dest_type = request->reply_type;
		if (ipc_kmsg_queue(reply))
			return;
	}
	if (reply)
		ipc_kmsg_lost(reply);
	if (to)
		ipc_right_release(to, request->reply_type);
	if (reply) {
		ipc_kmsg_clean_body(reply, NULL);
		ipc_kmsg_free(reply);
	}
}

mach_msg_return_t ipc_kobject_server(struct ipc_kmsg *request)
{
	const struct ipc_routine *r = ipc_kobject_routine(request->header.msgh_id);
	struct ipc_kmsg *reply = ipc_kmsg_alloc(IPC_KOBJECT_REPLY_MAX);   /* room for any reply */

	if (reply)
		ipc_kobject_serve(request, r, reply);
	ipc_right_release(request->dest, request->dest_type);
	send_reply(reply, request, r);
	ipc_kmsg_clean_body(request, NULL);       /* what the routine did not take */
	ipc_kmsg_free(request);
	return reply ? MACH_MSG_SUCCESS : MACH_SEND_NO_BUFFER;
}
