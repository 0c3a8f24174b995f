/*
 * Kernel-object ports and the dispatcher that serves them
 * (ipc/ipc_kobject.h).  The routine tables live beside the objects they
 * serve, in kern/, which registers them at boot with how their objects
 * are held; this file finds the routine, holds the object while it runs,
 * and sends the reply, playing the part of MIG's generated server loop.
 */
#include "ipc/ipc_kobject.h"
#include <mach/mig_errors.h>
#include "ipc/ipc_kmsg.h"
#include "ipc/ipc_space.h"
#include "kern/panic.h"
#include "lib/string.h"

struct ipc_port *ipc_kobject_port_alloc(void *object, enum ipc_kobject_type type)
{
	struct ipc_port *port = ipc_port_alloc(NULL);

	if (port) {
		port->kotype = type;
		port->kobject = object;
	}
	return port;
}

void ipc_kobject_port_detach(struct ipc_port *port)
{
	spin_lock(&port->lock);
	port->kobject = NULL;
	spin_unlock(&port->lock);
}

void ipc_kobject_port_destroy(struct ipc_port *port)
{
	ipc_kobject_port_detach(port);
	ipc_port_destroy(port);
}

/* How each kind's objects are held; NULL until the kind registers (its ports serve nothing). */
static const struct ipc_kobject_ops *kind_ops[IKOT_COUNT];

/*
 * Every routine by its msgh_id, as MIG's server tables are found in
 * Mach: a hash with linear probing, filled at boot as each kind
 * registers.  The ids are sparse (202 to 4701), and a search of every
 * table took 150 of a null RPC's 1,060 instructions.
 */
#define ROUTINE_SLOTS 128              /* a power of two, over twice the routines */

static struct routine_slot {
	const struct ipc_routine *routine;
	enum ipc_kobject_type kind;    /* the objects it acts on */
} routine_slots[ROUTINE_SLOTS];

static unsigned routines_registered;
static mach_msg_size_t largest_reply = sizeof(mig_reply_error_t);

static unsigned slot_of(mach_msg_id_t id)
{
	return (unsigned)id & (ROUTINE_SLOTS - 1);
}

/* The slot that holds id's routine, or the empty one where it would go. */
static struct routine_slot *slot_for(mach_msg_id_t id)
{
	unsigned k = slot_of(id);

	while (routine_slots[k].routine && routine_slots[k].routine->id != id)
		k = (k + 1) & (ROUTINE_SLOTS - 1);
	return &routine_slots[k];
}

/* Indexes r, which acts on objects of kind.  Panics on a duplicate id or a full index. */
static void index_routine(const struct ipc_routine *r, enum ipc_kobject_type kind)
{
	struct routine_slot *slot = slot_for(r->id);

	if (slot->routine != NULL)
		panic("ipc_kobject_register: two routines answer msgh_id %d", r->id);
	if (++routines_registered > ROUTINE_SLOTS / 2)
		panic("ipc_kobject_register: more than %d routines", ROUTINE_SLOTS / 2);
	slot->routine = r;
	slot->kind = kind;
	if (r->reply_size > largest_reply)
		largest_reply = r->reply_size;
}

void ipc_kobject_register(enum ipc_kobject_type kind, const struct ipc_kobject_ops *ops,
                          const struct ipc_routine *routines, size_t count)
{
	if (kind == IKOT_NONE || kind >= IKOT_COUNT || (kind_ops[kind] && kind_ops[kind] != ops))
		panic("ipc_kobject_register: kind %d is none, or held two ways", kind);
	kind_ops[kind] = ops;
	for (size_t i = 0; i < count; i++) {
		if (routines[i].converted && ops->convert == NULL)
			panic("ipc_kobject_register: msgh_id %d wants a conversion kind %d lacks",
			      routines[i].id, kind);
		index_routine(&routines[i], kind);
	}
}

const struct ipc_routine *ipc_kobject_routine(mach_msg_id_t id)
{
	return slot_for(id)->routine;
}

mach_msg_size_t ipc_kobject_largest_reply(void)
{
	return largest_reply;
}

void *ipc_kobject_reference(struct ipc_port *port, enum ipc_kobject_type kind)
{
	const struct ipc_kobject_ops *ops = kind_ops[kind];
	void *object = NULL;

	spin_lock(&port->lock);
	if (port->kotype == kind && port->kobject && ops &&
	    (ops->reference == NULL || ops->reference(port->kobject)))
		object = port->kobject;
	spin_unlock(&port->lock);
	return object;
}

/*
 * Runs r on the object request's port stands for, held while r runs (and
 * converted first, if r asks); KERN_INVALID_ARGUMENT when the port is of
 * another kind, the object is gone, or it has nothing to convert to.
 */
static kern_return_t serve_object(const struct ipc_routine *r, struct ipc_kmsg *request,
                                  mach_msg_header_t *reply)
{
	enum ipc_kobject_type kind = slot_for(r->id)->kind;
	const struct ipc_kobject_ops *ops = kind_ops[kind];
	void *object = ipc_kobject_reference(request->dest, kind);
	void *served = object;
	kern_return_t kr = KERN_INVALID_ARGUMENT;

	if (object == NULL)
		return kr;
	if (r->converted)
		served = ops->convert(object);
	if (served)
		kr = r->serve(served, &request->header, reply);
	if (served && r->converted)
		ops->release_converted(served);
	if (ops->release)
		ops->release(object);
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
