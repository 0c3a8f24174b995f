#include "ipc/ipc_port.h"
#include "ipc/mach_msg.h"
#include "kern/sched.h"
#include "kern/kalloc.h"
#include "kern/panic.h"

static uint64_t ports_alive;

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

void ipc_port_reference(struct ipc_port *port)
{
	spin_lock(&port->lock);
	port->refs++;
	spin_unlock(&port->lock);
}

void ipc_port_make_send(struct ipc_port *port)
{
	spin_lock(&port->lock);
	port->refs++;
	port->send_rights++;
	spin_unlock(&port->lock);
}

void ipc_port_release(struct ipc_port *port)
{
	spin_lock(&port->lock);
	KASSERT(port->refs > 0, "ipc_port_release: port %p has no references", port);
	uint32_t left = --port->refs;
	spin_unlock(&port->lock);
	if (left == 0) {
		kfree(port, sizeof(*port));
		__atomic_fetch_sub(&ports_alive, 1, __ATOMIC_RELAXED);
	}
}

void ipc_port_destroy(struct ipc_port *port)
{
	spin_lock(&port->lock);
	port->active = false;
	port->receiver = NULL;
	struct ipc_kmsg *queue = port->queue_head;
	port->queue_head = port->queue_tail = NULL;
	port->msg_count = 0;
	spin_unlock(&port->lock);
	ipc_kmsg_destroy_list(queue);          /* undeliverable now: their rights go */
	sched_wakeup(port);                    /* receivers and senders waiting on it */
	ipc_port_release(port);
}

uint64_t ipc_port_count(void)
{
	return ports_alive;
}
