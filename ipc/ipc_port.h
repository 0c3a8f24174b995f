/*
 * Ports: the kernel object a right names.  A port has exactly one receive
 * right (held in some space, or by the kernel for kernel objects) and any
 * number of send and send-once rights.  When its receive right goes, the
 * port dies: every send right to it becomes a dead name, which each space
 * notices the next time it looks at the name.
 *
 * A receive right can travel in a message: the port is then in transit,
 * with no receiver, and `destination` is the port whose queue holds that
 * message.  Following destinations from a port must never lead back to it:
 * such a cycle of messages could never be received, and never freed.
 */
#ifndef MICA_IPC_IPC_PORT_H
#define MICA_IPC_IPC_PORT_H

#include <stdbool.h>
#include <stdint.h>
#include "kern/lock.h"

struct ipc_space;
struct ipc_kmsg;

#define IPC_PORT_QLIMIT_DEFAULT 5      /* Mach's MACH_PORT_QLIMIT_DEFAULT */

/*
 * What a port whose receive right the kernel holds stands for: a kind
 * whose owner registers its routines (ipc/ipc_kobject.h).  ipc/ uses the
 * names only as keys, as Mach's IKOT_ constants.
 */
enum ipc_kobject_type {
	IKOT_NONE,                     /* an ordinary port: messages wait for a receiver */
	IKOT_TASK,
	IKOT_THREAD,
	IKOT_HOST,
	IKOT_COUNT
};

/*
 * Locks:
 *   (p) port->lock; active and msg_count are also read without it, as a
 *       glimpse that a death or a message arriving meanwhile may outdate
 *   (t) the transit lock (ipc_port_transit_lock)
 *   (a) atomic
 *   (c) set when the port is made, before anyone else can see it
 */
struct ipc_port {
	struct spinlock lock;
	uint32_t refs;                 /* (a) one per right anywhere, one per kernel pointer */
	uint32_t send_rights;          /* (p) send rights in every space */
	bool active;                   /* (p) false once the receive right is gone */
	struct ipc_space *receiver;    /* (p) holder of the receive right; NULL in transit or for
	                                  the kernel */
	struct ipc_port *destination;  /* (t) in transit: where the right is queued */
	struct ipc_kmsg *queue_head, *queue_tail;   /* (p) messages waiting for a receive */
	uint32_t msg_count;            /* (p) */
	uint32_t qlimit;               /* (c) a send to a port this full waits (or times out) */
	enum ipc_kobject_type kotype;  /* (c) */
	void *kobject;                 /* (p) the object served here; NULL once it is gone */
};

/* => port locked */
#define IPC_PORT_ASSERT_LOCKED(port) LOCK_ASSERT_HELD(&(port)->lock)

/* A new live port whose receive right belongs to receiver (one reference: that right). */
struct ipc_port *ipc_port_alloc(struct ipc_space *receiver);

void ipc_port_reference(struct ipc_port *port);
/* A new send right to port, as a message would carry it (ipc_right_release undoes it). */
void ipc_port_make_send(struct ipc_port *port);
/* Drops a reference; the last one frees the port. */
void ipc_port_release(struct ipc_port *port);

/* The receive right is gone: the port dies, and the right's reference goes with it. */
void ipc_port_destroy(struct ipc_port *port);

/* The same, but the messages queued on port are added to *doomed for the caller to destroy. */
void ipc_port_destroy_into(struct ipc_port *port, struct ipc_kmsg **doomed);

/* The transit lock, over every port's destination. */
void ipc_port_transit_lock(void);
void ipc_port_transit_unlock(void);
bool ipc_port_transit_held(void);

/* => transit lock held */
#ifdef INVARIANTS
#define IPC_PORT_ASSERT_TRANSIT_LOCKED()                                                \
	KASSERT(ipc_port_transit_held(), "ipc_transit must be held")
#else
#define IPC_PORT_ASSERT_TRANSIT_LOCKED() ((void)0)
#endif

/* Would moving port's receive right to dest make a cycle?  => transit lock held */
bool ipc_port_would_cycle(const struct ipc_port *port, const struct ipc_port *dest);

/* port's receive right has left its space in a message queued on dest.  => transit lock held */
void ipc_port_set_in_transit(struct ipc_port *port, struct ipc_port *dest);

/* port's receive right has arrived in space. */
void ipc_port_set_receiver(struct ipc_port *port, struct ipc_space *space);

/* Ports in existence: a leak check for tests. */
uint64_t ipc_port_count(void);

#endif
