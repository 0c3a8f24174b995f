/*
 * Kernel objects behind ports.  A task (later a thread, the host) is
 * named to user space by a port whose receive right the kernel holds; a
 * message sent there is not queued but served at once, in the sender's
 * thread, by the routine its msgh_id names, and the reply goes to the
 * request's reply right.  Authority is exactly holding a send right.
 *
 * Lock order: a port's lock alone; routines run with no IPC lock held.
 */
#ifndef MICA_IPC_IPC_KOBJECT_H
#define MICA_IPC_IPC_KOBJECT_H

#include <stdbool.h>
#include <mach/message.h>
#include "ipc/ipc_port.h"

struct ipc_kmsg;

/*
 * One routine of a kernel object's server.  serve gets the object the
 * request's port stands for, with a reference the dispatcher holds (with
 * on_map, a task port's map rather than the task, as Mach's vm calls
 * take a vm_map_t); the request, whose size is exactly request_size; and
 * a zeroed reply of reply_size bytes whose header the dispatcher fills.
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
	enum ipc_kobject_type kotype;  /* the object it acts on */
	bool on_map;
	mach_msg_size_t request_size, reply_size;
	kern_return_t (*serve)(void *object, mach_msg_header_t *request, mach_msg_header_t *reply);
	const char *descriptors;       /* the request's, in order: 'o' memory, 'p' a port; NULL: simple */
	void (*reply_lost)(mach_msg_header_t *reply);
};

/*
 * The object port stands for, held for the caller, if it is still there
 * and of type; else NULL.  A task or thread is held by a reference
 * (refused once its last one is gone, or a thread has ended); the host
 * never dies.  The dispatcher uses it for a request's port, routines for the
 * ports their requests carry (vm_wire's task); ipc_kobject_drop lets go.
 */
void *ipc_kobject_take(struct ipc_port *port, enum ipc_kobject_type type);
void ipc_kobject_drop(void *object, enum ipc_kobject_type type);

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

#define IPC_KOBJECT_REPLY_MAX 512      /* no routine's reply is larger (the ipc suite checks) */

/* Indexes every routine by its msgh_id; at boot, before the first message.  Panics on a duplicate id. */
void ipc_kobject_init(void);

/* The routine msgh_id id names, or NULL. */
const struct ipc_routine *ipc_kobject_routine(mach_msg_id_t id);

/* The largest reply any routine makes, an error reply included. */
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
