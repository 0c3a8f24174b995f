/*
 * Kernel objects behind ports.  An object the kernel serves is named to
 * user space by a port whose receive right the kernel holds; a message
 * sent there is not queued but served at once, in the sender's thread,
 * by the routine its msgh_id names, and the reply goes to the request's
 * reply right.  Authority is exactly holding a send right.
 *
 * ipc/ knows ports, not the objects behind them: each kind's owner in
 * kern/ registers at boot how an object of its kind is held
 * (struct ipc_kobject_ops) and the routines that serve it, and converts
 * its own ports to objects (convert_port_to_task, kern/task.h).
 *
 * An ops reference runs under the port's lock and takes no lock;
 * routines run with no IPC lock held.
 */
#ifndef MICA_IPC_IPC_KOBJECT_H
#define MICA_IPC_IPC_KOBJECT_H

#include <stdbool.h>
#include <stddef.h>
#include <mach/message.h>
#include "ipc/ipc_port.h"

struct ipc_kmsg;

/*
 * How the dispatcher holds an object of one kind while a routine runs.
 * reference takes a reference to object if it is still live (false once
 * it is going; it runs under the port's lock) and release drops it; NULL
 * for both: the object never dies.  convert, for the routines that ask
 * for it (converted), turns the held object into what they act on, with
 * a reference of its own (a task's map: Mach's vm calls take a vm_map_t),
 * or NULL when there is none; release_converted drops that.
 */
struct ipc_kobject_ops {
	bool (*reference)(void *object);
	void (*release)(void *object);
	void *(*convert)(void *object);
	void (*release_converted)(void *converted);
};

/*
 * One routine of a kernel object's server.  serve gets the object the
 * request's port stands for, held by the dispatcher (with converted,
 * what its kind's convert makes of it); the request, whose size is
 * exactly request_size; and a zeroed reply of reply_size bytes whose
 * header the dispatcher fills.
 * The request carries exactly the descriptors the routine names (a port
 * descriptor in kernel form: ipc_kmsg_descriptor_port).
 * It returns the reply's RetCode and fills any other field.  It may take
 * out-of-line memory from the request (setting the descriptor's address
 * to NULL); what it leaves is discarded with the request.  A reply that
 * carries memory is complex (the routine sets MACH_MSGH_BITS_COMPLEX and
 * the body) and, as MIG's, has no RetCode when it succeeds.
 *
 * reply_lost (NULL: nothing to do) undoes what the reply alone would
 * have handed its caller, when that does not all reach the caller: the
 * reply destroyed undelivered (no reply right, a dead port, a kernel
 * object's port, a port that dies with it queued, a receive short of
 * memory) or a right in it left without a name.  The reply carries it
 * (ipc_kmsg.lost); it runs once, with the reply as served, an error reply
 * included, before the rights it carries are released.
 */
struct ipc_routine {
	mach_msg_id_t id;
	bool converted;                /* serve gets what the kind's convert makes of the object */
	mach_msg_size_t request_size, reply_size;
	kern_return_t (*serve)(void *object, mach_msg_header_t *request, mach_msg_header_t *reply);
	const char *descriptors;       /* the request's, in order: 'o' memory, 'p' a port; NULL: simple */
	void (*reply_lost)(mach_msg_header_t *reply);
};

/*
 * A row of a routine table, the one shape every server's table has:
 * serve answers msgh_id id, request and reply being its messages' types
 * (the dispatcher checks their sizes); what a routine needs beyond that
 * follows as designated initializers (.converted = true,
 * .descriptors = "o", .reply_lost = f).
 */
#define IPC_ROUTINE(id_, request, reply, serve_, ...)                                   \
	{ .id = (id_), .request_size = sizeof(request), .reply_size = sizeof(reply),    \
	  .serve = (serve_), __VA_ARGS__ }

/*
 * Registers count routines that act on objects of kind, held as ops says
 * (the same ops at every call for a kind: a task's routines come in
 * several tables), at boot before the first message.  Panics on a
 * msgh_id registered already, or a converted routine whose kind has no
 * convert.
 */
void ipc_kobject_register(enum ipc_kobject_type kind, const struct ipc_kobject_ops *ops,
                          const struct ipc_routine *routines, size_t count);

/*
 * The object port stands for, held by its kind's reference, if it is of
 * kind and still live; else NULL.  For the kind's owner, whose
 * convert_port_to_* it is (the ports a request carries: vm_wire's task);
 * the owner lets go as it does of any reference.
 */
void *ipc_kobject_reference(struct ipc_port *port, enum ipc_kobject_type kind);

/*
 * Defines name, the serve function of a routine whose request is a bare
 * header and whose reply is only a code: call(object), object being a
 * type *.
 */
#define IPC_ROUTINE_ON_OBJECT(name, call, type)                                      \
	static kern_return_t name(void *object, mach_msg_header_t *request,           \
	                          mach_msg_header_t *reply)                           \
	{                                                                             \
		(void)request;                                                        \
		(void)reply;                                                          \
		return call((type *)object);                                          \
	}

/* A port for object, its receive right held by the kernel; NULL without memory. */
struct ipc_port *ipc_kobject_port_alloc(void *object, enum ipc_kobject_type type);

/* The object is going away: no routine will see it again, and the port dies. */
void ipc_kobject_port_destroy(struct ipc_port *port);

/*
 * The first half of ipc_kobject_port_destroy: no routine will see the
 * object again, but the port lives on (its rights read as alive) until
 * ipc_port_destroy, for an object whose end takes a while and whose
 * port's death should say that end is over.
 */
void ipc_kobject_port_detach(struct ipc_port *port);

#define IPC_KOBJECT_REPLY_MAX 512      /* no routine's reply is larger (the ipc suite checks) */

/* The routine msgh_id id names, or NULL. */
const struct ipc_routine *ipc_kobject_routine(mach_msg_id_t id);

/* The largest reply any registered routine makes, an error reply included. */
mach_msg_size_t ipc_kobject_largest_reply(void);

/*
 * Serves request with r, the routine its id names (NULL: none), into
 * reply, which has room for IPC_KOBJECT_REPLY_MAX bytes of message: the
 * reply's size, id and (when simple) RetCode are set; its rights are the
 * caller's to fill.  The request keeps what the routine did not take.
 */
void ipc_kobject_serve(struct ipc_kmsg *request, const struct ipc_routine *r,
                       struct ipc_kmsg *reply);

/*
 * Serves request (sent to a kernel-object port) and consumes it.  An
 * unknown id gets MIG_BAD_ID in the reply, a wrong size MIG_BAD_ARGUMENTS,
 * an object of another type KERN_INVALID_ARGUMENT; a request without a
 * reply right is served and its reply dropped (after the routine's
 * reply_lost, as for a reply right whose port is dead).
 */
mach_msg_return_t ipc_kobject_server(struct ipc_kmsg *request);

#endif
