/*
 * IPC spaces and the rights in them (ipc/ipc_space.h).
 *
 * An entry holds one port reference for its receive right (the port's
 * first reference) and one for its send rights, however many user
 * references those carry.  A port dies when its receive right goes; the
 * send rights naming it become dead names lazily, the next time their
 * space looks at them (entry_check_dead), as in Mach.
 *
 * Lock order: space->lock, then the port's.
 */
#include "ipc/ipc_space.h"
#include "kern/kalloc.h"
#include "kern/panic.h"
#include "kern/string.h"

#define INITIAL_SIZE 16
#define MAX_SIZE (1u << 23)            /* names stay below MACH_PORT_DEAD */
#define SENDS (MACH_PORT_TYPE_SEND | MACH_PORT_TYPE_SEND_ONCE)

static uint32_t name_index(mach_port_name_t name)
{
	return name >> 8;
}

static mach_port_name_t entry_name(const struct ipc_space *space, const struct ipc_entry *e)
{
	return ((uint32_t)(e - space->table) << 8) | (e->gen & 0xff);
}

/* Doubles the table (or makes the first one), new slots on the free list.  => space locked */
static bool grow(struct ipc_space *space)
{
	uint32_t size = space->size ? space->size * 2 : INITIAL_SIZE;
	struct ipc_entry *table = size <= MAX_SIZE ? kzalloc(size * sizeof(*table)) : NULL;

	if (table == NULL)
		return false;
	if (space->table) {
		memcpy(table, space->table, space->size * sizeof(*table));
		kfree(space->table, space->size * sizeof(*table));
	}
	for (uint32_t i = size - 1; i >= (space->size ? space->size : 1); i--) {
		table[i].next_free = space->free_head;
		space->free_head = i;
	}
	space->table = table;
	space->size = size;
	return true;
}

/* A free slot, off the free list, or NULL when memory is short.  => space locked */
static struct ipc_entry *entry_alloc(struct ipc_space *space)
{
	if (space->free_head == 0 && !grow(space))
		return NULL;
	struct ipc_entry *e = &space->table[space->free_head];
	space->free_head = e->next_free;
	return e;
}

/* Returns a slot whose rights are all gone; its next name differs.  => space locked */
static void entry_free(struct ipc_space *space, struct ipc_entry *e)
{
	e->port = NULL;
	e->type = MACH_PORT_TYPE_NONE;
	e->urefs = 0;
	e->gen++;
	e->next_free = space->free_head;
	space->free_head = e - space->table;
}

/* Drops the send rights an entry holds (their one port reference). */
static void drop_send(struct ipc_entry *e)
{
	struct ipc_port *port = e->port;

	spin_lock(&port->lock);
	if (e->type & MACH_PORT_TYPE_SEND)
		port->send_rights--;           /* send-once rights are not counted */
	spin_unlock(&port->lock);
	e->type &= ~SENDS;
	if (!(e->type & MACH_PORT_TYPE_RECEIVE))
		e->port = NULL;
	ipc_port_release(port);
}

/* A send right to a port that died reads from now on as a dead name. */
static void entry_check_dead(struct ipc_entry *e)
{
	if (e->port == NULL || e->port->active || !(e->type & SENDS))
		return;
	uint32_t urefs = (e->type & MACH_PORT_TYPE_SEND) ? e->urefs : 1;
	drop_send(e);
	e->type = MACH_PORT_TYPE_DEAD_NAME;
	e->urefs = urefs;
}

/* The live entry name denotes, or NULL.  => space locked */
static struct ipc_entry *entry_lookup(struct ipc_space *space, mach_port_name_t name)
{
	uint32_t i = name_index(name);

	if (i == 0 || i >= space->size)
		return NULL;
	struct ipc_entry *e = &space->table[i];
	if (e->type == MACH_PORT_TYPE_NONE || (e->gen & 0xff) != (name & 0xff))
		return NULL;
	entry_check_dead(e);
	return e;
}

struct ipc_space *ipc_space_create(void)
{
	struct ipc_space *space = kzalloc(sizeof(*space));

	if (space == NULL)
		return NULL;
	spin_lock_init(&space->lock, "ipc_space", LOCK_RANK_IPC_SPACE);
	space->active = true;
	return space;
}

void ipc_space_destroy(struct ipc_space *space)
{
	spin_lock(&space->lock);
	space->active = false;
	for (uint32_t i = 1; i < space->size; i++) {
		struct ipc_entry *e = &space->table[i];
		struct ipc_port *port = e->port;
		if (port && (e->type & SENDS))
			drop_send(e);
		if (port && (e->type & MACH_PORT_TYPE_RECEIVE))
			ipc_port_destroy(port);
	}
	spin_unlock(&space->lock);
	if (space->table)
		kfree(space->table, space->size * sizeof(*space->table));
	kfree(space, sizeof(*space));
}

kern_return_t mach_port_allocate(struct ipc_space *space, mach_port_right_t right,
                                 mach_port_name_t *name)
{
	kern_return_t kr = KERN_SUCCESS;

	if (right != MACH_PORT_RIGHT_RECEIVE && right != MACH_PORT_RIGHT_DEAD_NAME)
		return KERN_INVALID_VALUE;
	spin_lock(&space->lock);
	struct ipc_entry *e = entry_alloc(space);
	struct ipc_port *port = NULL;
	if (e && right == MACH_PORT_RIGHT_RECEIVE && (port = ipc_port_alloc(space)) == NULL) {
		entry_free(space, e);
		e = NULL;
	}
	if (e == NULL) {
		kr = KERN_RESOURCE_SHORTAGE;
	} else if (port) {
		e->port = port;
		e->type = MACH_PORT_TYPE_RECEIVE;
		*name = entry_name(space, e);
	} else {
		e->type = MACH_PORT_TYPE_DEAD_NAME;
		e->urefs = 1;
		*name = entry_name(space, e);
	}
	spin_unlock(&space->lock);
	return kr;
}

/* Takes delta (negative or positive) off the urefs of e; the last one frees the right. */
static kern_return_t adjust_urefs(struct ipc_space *space, struct ipc_entry *e,
                                  mach_port_delta_t delta)
{
	if (delta < 0 && (uint32_t)-delta > e->urefs)
		return KERN_INVALID_VALUE;
	if (delta > 0 && e->urefs + (uint32_t)delta > MACH_PORT_UREFS_MAX)
		return KERN_UREFS_OVERFLOW;
	e->urefs += delta;
	if (e->urefs > 0)
		return KERN_SUCCESS;
	if (e->type & MACH_PORT_TYPE_SEND)
		drop_send(e);
	e->type &= ~MACH_PORT_TYPE_DEAD_NAME;
	if (e->type == MACH_PORT_TYPE_NONE)
		entry_free(space, e);
	return KERN_SUCCESS;
}

kern_return_t mach_port_deallocate(struct ipc_space *space, mach_port_name_t name)
{
	kern_return_t kr;

	spin_lock(&space->lock);
	struct ipc_entry *e = entry_lookup(space, name);
	if (e == NULL) {
		kr = KERN_INVALID_NAME;
	} else if (e->type & MACH_PORT_TYPE_SEND_ONCE) {
		drop_send(e);
		entry_free(space, e);
		kr = KERN_SUCCESS;
	} else if (e->type & (MACH_PORT_TYPE_SEND | MACH_PORT_TYPE_DEAD_NAME)) {
		kr = adjust_urefs(space, e, -1);
	} else {
		kr = KERN_INVALID_RIGHT;           /* a receive right alone */
	}
	spin_unlock(&space->lock);
	return kr;
}

/* Gives up the receive right under e: its port dies, and a send right there becomes a dead name. */
static void drop_receive(struct ipc_space *space, struct ipc_entry *e)
{
	struct ipc_port *port = e->port;

	e->type &= ~MACH_PORT_TYPE_RECEIVE;
	ipc_port_destroy(port);               /* port stays allocated while e's send ref holds it */
	if (e->type & MACH_PORT_TYPE_SEND)
		entry_check_dead(e);
	else
		entry_free(space, e);
}

kern_return_t mach_port_mod_refs(struct ipc_space *space, mach_port_name_t name,
                                 mach_port_right_t right, mach_port_delta_t delta)
{
	kern_return_t kr = KERN_SUCCESS;

	if (right >= MACH_PORT_RIGHT_NUMBER || right == MACH_PORT_RIGHT_PORT_SET)
		return KERN_INVALID_VALUE;
	spin_lock(&space->lock);
	struct ipc_entry *e = entry_lookup(space, name);
	if (e == NULL)
		kr = KERN_INVALID_NAME;
	else if (!(e->type & MACH_PORT_TYPE(right)))
		kr = KERN_INVALID_RIGHT;
	else if (delta == 0)
		kr = KERN_SUCCESS;
	else if (right == MACH_PORT_RIGHT_RECEIVE || right == MACH_PORT_RIGHT_SEND_ONCE)
		kr = delta == -1 ? KERN_SUCCESS : KERN_INVALID_VALUE;
	else
		kr = adjust_urefs(space, e, delta);
	if (kr == KERN_SUCCESS && delta == -1 && right == MACH_PORT_RIGHT_RECEIVE)
		drop_receive(space, e);
	if (kr == KERN_SUCCESS && delta == -1 && right == MACH_PORT_RIGHT_SEND_ONCE) {
		drop_send(e);
		entry_free(space, e);
	}
	spin_unlock(&space->lock);
	return kr;
}

/* The entry naming port in space, if any.  => space locked */
static struct ipc_entry *entry_of_port(struct ipc_space *space, const struct ipc_port *port)
{
	for (uint32_t i = 1; i < space->size; i++)
		if (space->table[i].port == port)
			return &space->table[i];
	return NULL;
}

/* Takes the free slot name asks for off the free list; NULL if it is taken or out of reach. */
static struct ipc_entry *entry_claim(struct ipc_space *space, mach_port_name_t name)
{
	uint32_t i = name_index(name);

	while (i >= space->size)
		if (!grow(space))
			return NULL;
	for (uint32_t *link = &space->free_head; *link; link = &space->table[*link].next_free) {
		if (*link == i) {
			*link = space->table[i].next_free;
			space->table[i].gen = name & 0xff;
			return &space->table[i];
		}
	}
	return NULL;
}

/* Adds one send right (one uref) for port to e.  => space locked */
static kern_return_t add_send(struct ipc_entry *e, struct ipc_port *port)
{
	if (e->type & MACH_PORT_TYPE_SEND) {
		if (e->urefs == MACH_PORT_UREFS_MAX)
			return KERN_UREFS_OVERFLOW;
		e->urefs++;
		return KERN_SUCCESS;
	}
	ipc_port_reference(port);
	spin_lock(&port->lock);
	port->send_rights++;
	spin_unlock(&port->lock);
	e->port = port;
	e->type |= MACH_PORT_TYPE_SEND;
	e->urefs = 1;
	return KERN_SUCCESS;
}

kern_return_t mach_port_insert_right(struct ipc_space *space, mach_port_name_t name,
                                     struct ipc_port *port, mach_msg_type_name_t disposition)
{
	kern_return_t kr;

	if (disposition != MACH_MSG_TYPE_MAKE_SEND && disposition != MACH_MSG_TYPE_COPY_SEND &&
	    disposition != MACH_MSG_TYPE_MOVE_SEND)
		return KERN_INVALID_VALUE;         /* send-once and receive rights move by message only */
	if (!MACH_PORT_VALID(name) || name_index(name) == 0 || name_index(name) >= MAX_SIZE)
		return KERN_INVALID_VALUE;
	if (!port->active)
		return KERN_INVALID_CAPABILITY;
	spin_lock(&space->lock);
	struct ipc_entry *e = entry_lookup(space, name), *other = entry_of_port(space, port);
	if (e && e->port != port)
		kr = KERN_NAME_EXISTS;
	else if (e == NULL && other)
		kr = KERN_RIGHT_EXISTS;
	else if (e == NULL && (e = entry_claim(space, name)) == NULL)
		kr = KERN_NAME_EXISTS;             /* a stale name's slot, or no memory to reach it */
	else
		kr = add_send(e, port);
	if (kr != KERN_SUCCESS && e && e->type == MACH_PORT_TYPE_NONE)
		entry_free(space, e);
	spin_unlock(&space->lock);
	return kr;
}

kern_return_t mach_port_type(struct ipc_space *space, mach_port_name_t name,
                             mach_port_type_t *type)
{
	spin_lock(&space->lock);
	struct ipc_entry *e = entry_lookup(space, name);
	if (e)
		*type = e->type;
	spin_unlock(&space->lock);
	return e ? KERN_SUCCESS : KERN_INVALID_NAME;
}

kern_return_t mach_port_get_refs(struct ipc_space *space, mach_port_name_t name,
                                 mach_port_right_t right, mach_port_urefs_t *refs)
{
	kern_return_t kr = KERN_SUCCESS;

	if (right >= MACH_PORT_RIGHT_NUMBER)
		return KERN_INVALID_VALUE;
	spin_lock(&space->lock);
	struct ipc_entry *e = entry_lookup(space, name);
	if (e == NULL)
		kr = KERN_INVALID_NAME;
	else if (!(e->type & MACH_PORT_TYPE(right)))
		*refs = 0;
	else if (right == MACH_PORT_RIGHT_SEND || right == MACH_PORT_RIGHT_DEAD_NAME)
		*refs = e->urefs;
	else
		*refs = 1;
	spin_unlock(&space->lock);
	return kr;
}

kern_return_t ipc_space_lookup(struct ipc_space *space, mach_port_name_t name,
                               mach_port_type_t types, struct ipc_port **port)
{
	kern_return_t kr = KERN_SUCCESS;

	spin_lock(&space->lock);
	struct ipc_entry *e = entry_lookup(space, name);
	if (e == NULL)
		kr = KERN_INVALID_NAME;
	else if (!(e->type & types) || e->port == NULL)
		kr = KERN_INVALID_RIGHT;
	else
		ipc_port_reference(*port = e->port);
	spin_unlock(&space->lock);
	return kr;
}

/* ------------------------------------------------------------- rights in messages */

/* The right type a disposition needs under the sender's name. */
static mach_port_type_t needed_type(mach_msg_type_name_t disposition)
{
	switch (disposition) {
	case MACH_MSG_TYPE_COPY_SEND:
	case MACH_MSG_TYPE_MOVE_SEND:      return MACH_PORT_TYPE_SEND;
	case MACH_MSG_TYPE_MAKE_SEND:
	case MACH_MSG_TYPE_MAKE_SEND_ONCE: return MACH_PORT_TYPE_RECEIVE;
	case MACH_MSG_TYPE_MOVE_SEND_ONCE: return MACH_PORT_TYPE_SEND_ONCE;
	default:                           return MACH_PORT_TYPE_NONE;
	}
}

/* Can name give a right with this disposition?  => space locked */
static struct ipc_entry *right_check(struct ipc_space *space, mach_port_name_t name,
                                     mach_msg_type_name_t disposition)
{
	mach_port_type_t need = needed_type(disposition);
	struct ipc_entry *e = entry_lookup(space, name);

	if (need == MACH_PORT_TYPE_NONE || e == NULL || !(e->type & need) || e->port == NULL ||
	    !e->port->active)
		return NULL;
	return e;
}

/*
 * Takes the right out of e as disposition says: a move gives up one user
 * reference (the last one, the right); a copy or make leaves the sender's
 * rights as they were.  Returns the port with a reference for the carried
 * right, counted as a send right in transit when it is one.  => space locked
 */
static struct ipc_port *right_take(struct ipc_space *space, struct ipc_entry *e,
                                   mach_msg_type_name_t disposition)
{
	struct ipc_port *port = e->port;

	ipc_port_reference(port);
	if (disposition == MACH_MSG_TYPE_MOVE_SEND_ONCE) {
		drop_send(e);
		entry_free(space, e);
	} else if (disposition == MACH_MSG_TYPE_MOVE_SEND) {
		adjust_urefs(space, e, -1);
	}
	if (ipc_carried_type(disposition) == MACH_MSG_TYPE_PORT_SEND) {
		spin_lock(&port->lock);
		port->send_rights++;
		spin_unlock(&port->lock);
	}
	return port;
}

mach_msg_type_name_t ipc_carried_type(mach_msg_type_name_t disposition)
{
	return (disposition == MACH_MSG_TYPE_MAKE_SEND_ONCE ||
	        disposition == MACH_MSG_TYPE_MOVE_SEND_ONCE) ? MACH_MSG_TYPE_PORT_SEND_ONCE :
	                                                      MACH_MSG_TYPE_PORT_SEND;
}

kern_return_t ipc_space_copyin_header(struct ipc_space *space, mach_port_name_t dest_name,
                                      mach_msg_type_name_t dest_disp,
                                      mach_port_name_t reply_name,
                                      mach_msg_type_name_t reply_disp,
                                      struct ipc_port **dest, struct ipc_port **reply)
{
	kern_return_t kr = KERN_SUCCESS;

	spin_lock(&space->lock);
	struct ipc_entry *d = right_check(space, dest_name, dest_disp);
	struct ipc_entry *r = reply_name ? right_check(space, reply_name, reply_disp) : NULL;
	if (d == NULL)
		kr = KERN_INVALID_NAME;
	else if (reply_name && r == NULL)
		kr = KERN_INVALID_RIGHT;
	else if (d == r && (dest_disp == MACH_MSG_TYPE_MOVE_SEND_ONCE ||
	                    reply_disp == MACH_MSG_TYPE_MOVE_SEND_ONCE ||
	                    (dest_disp == MACH_MSG_TYPE_MOVE_SEND && reply_disp == MACH_MSG_TYPE_MOVE_SEND &&
	                     d->urefs < 2)))
		kr = KERN_INVALID_RIGHT;           /* one right cannot leave twice */
	if (kr == KERN_SUCCESS) {
		*dest = right_take(space, d, dest_disp);
		*reply = r ? right_take(space, r, reply_disp) : NULL;
	}
	spin_unlock(&space->lock);
	return kr;
}

/* Releases a carried right that will never be delivered. */
void ipc_right_release(struct ipc_port *port, mach_msg_type_name_t type)
{
	if (type == MACH_MSG_TYPE_PORT_SEND) {
		spin_lock(&port->lock);
		port->send_rights--;
		spin_unlock(&port->lock);
	}
	ipc_port_release(port);
}

kern_return_t ipc_space_copyout_right(struct ipc_space *space, struct ipc_port *port,
                                      mach_msg_type_name_t type, mach_port_name_t *name)
{
	kern_return_t kr = KERN_SUCCESS;

	if (!port->active) {                   /* died in transit */
		ipc_right_release(port, type);
		*name = MACH_PORT_DEAD;
		return KERN_SUCCESS;
	}
	spin_lock(&space->lock);
	struct ipc_entry *e = type == MACH_MSG_TYPE_PORT_SEND ? entry_of_port(space, port) : NULL;
	if (e == NULL && (e = entry_alloc(space)) == NULL) {
		kr = KERN_RESOURCE_SHORTAGE;
	} else if (type == MACH_MSG_TYPE_PORT_SEND) {
		kr = add_send(e, port);            /* the space's own reference and count */
	} else {
		ipc_port_reference(port);
		e->port = port;
		e->type = MACH_PORT_TYPE_SEND_ONCE;
		e->urefs = 1;
	}
	if (kr == KERN_SUCCESS)
		*name = entry_name(space, e);
	else if (e && e->type == MACH_PORT_TYPE_NONE)
		entry_free(space, e);
	spin_unlock(&space->lock);
	ipc_right_release(port, type);         /* the carried right has become the space's */
	return kr;
}

kern_return_t ipc_space_receive_name(struct ipc_space *space, const struct ipc_port *port,
                                     mach_port_name_t *name)
{
	spin_lock(&space->lock);
	struct ipc_entry *e = entry_of_port(space, port);
	bool ok = e && (e->type & MACH_PORT_TYPE_RECEIVE);
	if (ok)
		*name = entry_name(space, e);
	spin_unlock(&space->lock);
	return ok ? KERN_SUCCESS : KERN_INVALID_NAME;
}
