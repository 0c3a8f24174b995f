#include "ipc/ipc_port.h"
#include "ipc/ipc_kmsg.h"
#include "kern/kalloc.h"
#include "kern/panic.h"
#include "kern/sched.h"

static uint64_t ports_alive;
static struct spinlock transit_lock = SPINLOCK_INIT("ipc_transit", LOCK_RANK_IPC_TRANSIT);

struct ipc_port *ipc_port_alloc(struct ipc_space *receiver)
{
	struct ipc_port *port = kzalloc(sizeof(*port));

	if (port == NULL)
		return NULL;
	spin_lock_init(&port->lock, "ipc_port", LOCK_RANK_IPC_PORT);
	port->refs = 1;
	port->active = true;
	port->receiver = receiver;
	port->qlimit = IPC_PORT_QLIMIT_DEFAULT;
	__atomic_fetch_add(&ports_alive, 1, __ATOMIC_RELAXED);
	return port;
}

/* The count is atomic, not under the port's lock: references come and go on every message. */
void ipc_port_reference(struct ipc_port *port)
{
	__atomic_fetch_add(&port->refs, 1, __ATOMIC_RELAXED);
}

void ipc_port_make_send(struct ipc_port *port)
{
	ipc_port_reference(port);
	spin_lock(&port->lock);
	port->send_rights++;
	spin_unlock(&port->lock);
}

void ipc_port_release(struct ipc_port *port)
{
	uint32_t left = __atomic_sub_fetch(&port->refs, 1, __ATOMIC_ACQ_REL);

	KASSERT(left != UINT32_MAX, "ipc_port_release: port %p had no references", port);
	if (left == 0) {
		kfree(port, sizeof(*port));
		__atomic_fetch_sub(&ports_alive, 1, __ATOMIC_RELAXED);
	}
}

void ipc_port_transit_lock(void)
{
	spin_lock(&transit_lock);
}

void ipc_port_transit_unlock(void)
{
	spin_unlock(&transit_lock);
}

bool ipc_port_transit_held(void)
{
	return spin_held(&transit_lock);
}

bool ipc_port_would_cycle(const struct ipc_port *port, const struct ipc_port *dest)
{
	IPC_PORT_ASSERT_TRANSIT_LOCKED();
	for (const struct ipc_port *p = dest; p; p = p->destination)
		if (p == port)
			return true;
	return false;
}

void ipc_port_set_in_transit(struct ipc_port *port, struct ipc_port *dest)
{
	IPC_PORT_ASSERT_TRANSIT_LOCKED();
	port->destination = dest;
	spin_lock(&port->lock);
	port->receiver = NULL;
	thread_wakeup(port);                   /* a receiver waiting here has lost its right */
	spin_unlock(&port->lock);
}

void ipc_port_set_receiver(struct ipc_port *port, struct ipc_space *space)
{
	spin_lock(&transit_lock);
	port->destination = NULL;
	spin_lock(&port->lock);
	port->receiver = space;
	spin_unlock(&port->lock);
	spin_unlock(&transit_lock);
}

void ipc_port_destroy_into(struct ipc_port *port, struct ipc_kmsg **doomed)
{
	spin_lock(&transit_lock);
	port->destination = NULL;              /* its message is going, or has gone */
	spin_unlock(&transit_lock);
	spin_lock(&port->lock);
	port->active = false;
	port->receiver = NULL;
	struct ipc_kmsg *tail = port->queue_tail;
	if (tail) {
		tail->next = *doomed;
		*doomed = port->queue_head;
	}
	port->queue_head = port->queue_tail = NULL;
	port->msg_count = 0;
	thread_wakeup(port);                   /* receivers waiting here find it dead, */
	thread_wakeup(&port->msg_count);       /* and senders find no queue to wait for */
	spin_unlock(&port->lock);
	ipc_port_release(port);                /* its messages hold references of their own */
}

void ipc_port_destroy(struct ipc_port *port)
{
	struct ipc_kmsg *doomed = NULL;

	ipc_port_destroy_into(port, &doomed);
	ipc_kmsg_destroy_list(doomed);         /* undeliverable now: their rights go */
}

uint64_t ipc_port_count(void)
{
	return ports_alive;
}
