/*
 * IPC spaces and the rights in them (ipc/ipc_space.h).
 *
 * An entry holds one port reference for its receive right (the port's
 * first reference) and one for its send rights, however many user
 * references those carry.  A port dies when its receive right goes; the
 * send rights naming it become dead names lazily, the next time their
 * space looks at them (entry_check_dead), as in Mach.
 *
 * A message's rights are checked all before any is taken, so a send that
 * fails leaves the space as it was; moving a receive right also takes the
 * ports' transit lock (ipc/ipc_port.h), to see that no cycle forms.
 *
 * Lock order: space->lock, then the transit lock, then a port's.  A port
 * that dies under the space lock has its messages destroyed after it is
 * released: they may hold memory, and no IPC lock is held across a VM call.
 */
#include "ipc/ipc_space.h"
#include "ipc/mach_msg.h"
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
	struct ipc_kmsg *doomed = NULL;

	spin_lock(&space->lock);
	space->active = false;
	for (uint32_t i = 1; i < space->size; i++) {
		struct ipc_entry *e = &space->table[i];
		struct ipc_port *port = e->port;
		if (port && (e->type & SENDS))
			drop_send(e);
		if (port && (e->type & MACH_PORT_TYPE_RECEIVE))
			ipc_port_destroy_into(port, &doomed);
	}
	spin_unlock(&space->lock);
	ipc_kmsg_destroy_list(doomed);         /* their memory goes to the VM: no IPC lock held */
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

/*
 * The user references a right keeps after one is given up.  They saturate,
 * as XNU's: a count that reached MACH_PORT_UREFS_MAX stays there (it no
 * longer counts anything), so no number of copies can lose the right.
 */
static uint32_t urefs_less_one(uint32_t urefs)
{
	return urefs == MACH_PORT_UREFS_MAX ? urefs : urefs - 1;
}

/*
 * Adds delta to the urefs of e, saturating (urefs_less_one): a count at
 * the maximum changes only by a delta that takes all of it away.  The
 * last one frees the right.
 */
static kern_return_t adjust_urefs(struct ipc_space *space, struct ipc_entry *e,
                                  mach_port_delta_t delta)
{
	const int64_t max = MACH_PORT_UREFS_MAX;

	if (delta > max || delta < -max || (int64_t)e->urefs + delta < 0)
		return KERN_INVALID_VALUE;
	if (e->urefs == max && delta != -max)
		delta = 0;
	e->urefs = (int64_t)e->urefs + delta > max ? max : e->urefs + delta;
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

/*
 * Gives up the receive right under e: its port dies, and a send right
 * there becomes a dead name.  Its queued messages join *doomed, for the
 * caller to destroy once the space is unlocked.  => space locked
 */
static void drop_receive(struct ipc_space *space, struct ipc_entry *e, struct ipc_kmsg **doomed)
{
	struct ipc_port *port = e->port;

	e->type &= ~MACH_PORT_TYPE_RECEIVE;
	ipc_port_destroy_into(port, doomed);  /* port stays allocated while e's send ref holds it */
	if (e->type & MACH_PORT_TYPE_SEND)
		entry_check_dead(e);
	else
		entry_free(space, e);
}

kern_return_t mach_port_mod_refs(struct ipc_space *space, mach_port_name_t name,
                                 mach_port_right_t right, mach_port_delta_t delta)
{
	struct ipc_kmsg *doomed = NULL;
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
		drop_receive(space, e, &doomed);
	if (kr == KERN_SUCCESS && delta == -1 && right == MACH_PORT_RIGHT_SEND_ONCE) {
		drop_send(e);
		entry_free(space, e);
	}
	spin_unlock(&space->lock);
	ipc_kmsg_destroy_list(doomed);
	return kr;
}

/*
 * The entry naming port's receive or send rights in space, if any (each
 * send-once right has a name of its own).  => space locked
 */
static struct ipc_entry *entry_of_port(struct ipc_space *space, const struct ipc_port *port)
{
	for (uint32_t i = 1; i < space->size; i++)
		if (space->table[i].port == port &&
		    (space->table[i].type & (MACH_PORT_TYPE_SEND | MACH_PORT_TYPE_RECEIVE)))
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

/* Adds one send right (one uref, saturating as adjust_urefs) for port to e.  => space locked */
static void add_send(struct ipc_entry *e, struct ipc_port *port)
{
	if (e->type & MACH_PORT_TYPE_SEND) {
		if (e->urefs < MACH_PORT_UREFS_MAX)
			e->urefs++;
		return;
	}
	ipc_port_reference(port);
	spin_lock(&port->lock);
	port->send_rights++;
	spin_unlock(&port->lock);
	e->port = port;
	e->type |= MACH_PORT_TYPE_SEND;
	e->urefs = 1;
}

kern_return_t mach_port_insert_right(struct ipc_space *space, mach_port_name_t name,
                                     struct ipc_port *port, mach_msg_type_name_t disposition)
{
	kern_return_t kr = KERN_SUCCESS;

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
		add_send(e, port);
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

struct ipc_port *ipc_space_kernel_call_port(struct ipc_space *space, mach_port_name_t dest,
                                            mach_port_name_t reply)
{
	struct ipc_port *port = NULL;

	spin_lock(&space->lock);
	struct ipc_entry *d = entry_lookup(space, dest), *r = entry_lookup(space, reply);
	/* The queue's count is read without its lock: a message queued meanwhile
	 * races with the call, and is taken as having come after its reply. */
	if (d && r && (d->type & MACH_PORT_TYPE_SEND) && d->port->kotype != IKOT_NONE &&
	    d->port->active && (r->type & MACH_PORT_TYPE_RECEIVE) &&
	    __atomic_load_n(&r->port->msg_count, __ATOMIC_RELAXED) == 0)
		ipc_port_reference(port = d->port);
	spin_unlock(&space->lock);
	return port;
}

/* ------------------------------------------------------------- rights in messages */

/* The right type a disposition needs under the sender's name. */
static mach_port_type_t needed_type(mach_msg_type_name_t disposition)
{
	switch (disposition) {
	case MACH_MSG_TYPE_COPY_SEND:
	case MACH_MSG_TYPE_MOVE_SEND:      return MACH_PORT_TYPE_SEND;
	case MACH_MSG_TYPE_MAKE_SEND:
	case MACH_MSG_TYPE_MAKE_SEND_ONCE:
	case MACH_MSG_TYPE_MOVE_RECEIVE:   return MACH_PORT_TYPE_RECEIVE;
	case MACH_MSG_TYPE_MOVE_SEND_ONCE: return MACH_PORT_TYPE_SEND_ONCE;
	default:                           return MACH_PORT_TYPE_NONE;
	}
}

mach_msg_type_name_t ipc_carried_type(mach_msg_type_name_t disposition)
{
	switch (disposition) {
	case MACH_MSG_TYPE_MOVE_RECEIVE:   return MACH_MSG_TYPE_PORT_RECEIVE;
	case MACH_MSG_TYPE_MAKE_SEND_ONCE:
	case MACH_MSG_TYPE_MOVE_SEND_ONCE: return MACH_MSG_TYPE_PORT_SEND_ONCE;
	default:                           return MACH_MSG_TYPE_PORT_SEND;
	}
}

/* Does a send disposition of a body item name a dead name (which it then carries as such)? */
static bool sends_dead_name(mach_port_type_t type, mach_msg_type_name_t disposition, bool body)
{
	return body && (type & MACH_PORT_TYPE_DEAD_NAME) &&
	       (disposition == MACH_MSG_TYPE_COPY_SEND || disposition == MACH_MSG_TYPE_MOVE_SEND);
}

/*
 * Is item's right there, given what the items checked before it would
 * take?  Records what its entry holds after it.  => space locked
 */
static bool check_item(struct ipc_space *space, const struct ipc_right_item *item, bool body)
{
	struct ipc_entry *e = entry_lookup(space, item->name);
	mach_port_type_t need = needed_type(item->disposition);

	if (e == NULL || need == MACH_PORT_TYPE_NONE)
		return false;
	if (e->check_epoch != space->copyin_epoch) {
		e->check_epoch = space->copyin_epoch;
		e->check_type = e->type;
		e->check_urefs = e->urefs;
	}
	if (sends_dead_name(e->check_type, item->disposition, body))
		need = MACH_PORT_TYPE_DEAD_NAME;
	if (!(e->check_type & need))
		return false;
	if (item->disposition == MACH_MSG_TYPE_MOVE_SEND &&
	    (e->check_urefs = urefs_less_one(e->check_urefs)) == 0)
		e->check_type &= ~need;
	else if (item->disposition == MACH_MSG_TYPE_MOVE_SEND_ONCE ||
	         item->disposition == MACH_MSG_TYPE_MOVE_RECEIVE)
		e->check_type &= ~need;
	return true;
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

/*
 * Takes the receive right out of e: the port, with the right's reference,
 * is in transit to dest.  A send right under the same name stays.
 * => space and the transit lock held
 */
static struct ipc_port *receive_take(struct ipc_space *space, struct ipc_entry *e,
                                     struct ipc_port *dest)
{
	struct ipc_port *port = e->port;

	e->type &= ~MACH_PORT_TYPE_RECEIVE;
	if (e->type == MACH_PORT_TYPE_NONE)
		entry_free(space, e);
	ipc_port_set_in_transit(port, dest);
	return port;
}

/* Takes one checked item's right: the port it carries, or NULL for a dead name.  => space locked */
static void take_item(struct ipc_space *space, struct ipc_right_item *item, bool body,
                      struct ipc_port *dest)
{
	struct ipc_entry *e = entry_lookup(space, item->name);

	item->carried = ipc_carried_type(item->disposition);
	if (sends_dead_name(e->type, item->disposition, body)) {
		if (item->disposition == MACH_MSG_TYPE_MOVE_SEND)
			adjust_urefs(space, e, -1);
		item->port = NULL;
		item->name = MACH_PORT_DEAD;
	} else if (item->disposition == MACH_MSG_TYPE_MOVE_RECEIVE) {
		item->port = receive_take(space, e, dest);
	} else {
		item->port = right_take(space, e, item->disposition);
	}
}

/* Does the message move a receive right?  Only body items can. */
static bool moves_receive(const struct ipc_right_item *items, uint32_t count)
{
	for (uint32_t i = 2; i < count; i++)
		if (items[i].disposition == MACH_MSG_TYPE_MOVE_RECEIVE && MACH_PORT_VALID(items[i].name))
			return true;
	return false;
}

/* Is item i carried as it is, naming no right: no reply port, or a body's NULL or DEAD? */
static bool carried_as_is(const struct ipc_right_item *items, uint32_t i)
{
	return i >= 1 && !MACH_PORT_VALID(items[i].name) && (i >= 2 || items[i].name == MACH_PORT_NULL);
}

/* Starts a new check: every entry's check state is stale from now on.  => space locked */
static void next_epoch(struct ipc_space *space)
{
	if (++space->copyin_epoch != 0)
		return;
	for (uint32_t i = 0; i < space->size; i++)
		space->table[i].check_epoch = 0;   /* after 2^32 checks: none may look current */
	space->copyin_epoch = 1;                   /* 0 is never current: fresh entries hold it */
}

/* The first item (0 dest, 1 reply, then the body) whose right cannot be had, or count.  => space locked */
static uint32_t check_items(struct ipc_space *space, const struct ipc_right_item *items,
                            uint32_t count)
{
	struct ipc_port *dest = NULL;

	next_epoch(space);
	for (uint32_t i = 0; i < count; i++) {
		const struct ipc_right_item *item = &items[i];
		if (carried_as_is(items, i))
			continue;
		if (!check_item(space, item, i >= 2))
			return i;
		if (i == 0)
			dest = entry_lookup(space, item->name)->port;
		if (item->disposition == MACH_MSG_TYPE_MOVE_RECEIVE &&
		    ipc_port_would_cycle(entry_lookup(space, item->name)->port, dest))
			return i;
	}
	return count;
}

mach_msg_return_t ipc_space_copyin_rights(struct ipc_space *space, struct ipc_right_item *items,
                                          uint32_t count)
{
	bool transit = moves_receive(items, count);

	spin_lock(&space->lock);
	if (transit)
		ipc_port_transit_lock();
	uint32_t bad = check_items(space, items, count);
	for (uint32_t i = 0; bad == count && i < count; i++) {
		if (carried_as_is(items, i)) {
			items[i].port = NULL;
			items[i].carried = ipc_carried_type(items[i].disposition);
		} else {
			take_item(space, &items[i], i >= 2, items[0].port);
		}
	}
	if (transit)
		ipc_port_transit_unlock();
	spin_unlock(&space->lock);
	if (bad == count)
		return MACH_MSG_SUCCESS;
	return bad == 0 ? MACH_SEND_INVALID_DEST : bad == 1 ? MACH_SEND_INVALID_REPLY :
	                                                      MACH_SEND_INVALID_RIGHT;
}

/* Releases a carried right that will never be delivered. */
void ipc_right_release(struct ipc_port *port, mach_msg_type_name_t type)
{
	if (type == MACH_MSG_TYPE_PORT_RECEIVE) {
		ipc_port_destroy(port);
		return;
	}
	if (type == MACH_MSG_TYPE_PORT_SEND) {
		spin_lock(&port->lock);
		port->send_rights--;
		spin_unlock(&port->lock);
	}
	ipc_port_release(port);
}

/* Makes e hold the carried receive right to port: space is its receiver now.  => space locked */
static void receive_give(struct ipc_space *space, struct ipc_entry *e, struct ipc_port *port)
{
	e->port = port;
	e->type |= MACH_PORT_TYPE_RECEIVE;
	ipc_port_set_receiver(port, space);
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
	struct ipc_entry *e = type != MACH_MSG_TYPE_PORT_SEND_ONCE ? entry_of_port(space, port) : NULL;
	if (e == NULL && (e = entry_alloc(space)) == NULL) {
		kr = KERN_RESOURCE_SHORTAGE;
	} else if (type == MACH_MSG_TYPE_PORT_RECEIVE) {
		receive_give(space, e, port);      /* the carried right's reference is the entry's */
	} else if (type == MACH_MSG_TYPE_PORT_SEND) {
		add_send(e, port);                 /* the space's own reference and count */
	} else {
		ipc_port_reference(port);
		e->port = port;
		e->type = MACH_PORT_TYPE_SEND_ONCE;
		e->urefs = 1;
	}
	if (kr == KERN_SUCCESS)
		*name = entry_name(space, e);
	spin_unlock(&space->lock);
	if (type != MACH_MSG_TYPE_PORT_RECEIVE || kr != KERN_SUCCESS)
		ipc_right_release(port, type);     /* the carried right has become the space's */
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
