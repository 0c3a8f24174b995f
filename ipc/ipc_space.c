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
 * A port that dies under the space lock has its messages destroyed after
 * it is released: they may hold memory, and no IPC lock is held across a
 * VM call.
 */
#include "ipc/ipc_space.h"
#include "ipc/ipc_kmsg.h"
#include "kern/kalloc.h"
#include "kern/panic.h"
#include "lib/string.h"
#include "vm/vm_page.h"

#define SENDS (MACH_PORT_TYPE_SEND | MACH_PORT_TYPE_SEND_ONCE)

/*
 * The name table is a tree of pages, so that no part of it needs more
 * than one physical page however many names a space holds, and a name is
 * reachable as long as there is a page free: space->top (IPC_TOP_MIDS
 * pointers) to middle pages (IPC_MID_LEAVES pointers) to leaves
 * (IPC_LEAF_ENTRIES entries).  A piece is made when a name first needs it.
 */
#define LEAF_COUNT (IPC_NAME_INDEX_LIMIT >> IPC_LEAF_SHIFT)
#define LEAF_BYTES (IPC_LEAF_ENTRIES * sizeof(struct ipc_entry))
#define MID_BYTES (IPC_MID_LEAVES * sizeof(struct ipc_entry *))
#define TOP_BYTES (IPC_TOP_MIDS * sizeof(struct ipc_entry **))
_Static_assert(LEAF_BYTES <= PAGE_SIZE && MID_BYTES <= PAGE_SIZE, "table pieces are pages");

static uint32_t name_index(mach_port_name_t name)
{
	return name >> 8;
}

/*
 * The port-to-name hash, as XNU's ipc_hash: finds a space's entry for the
 * send or receive rights it holds to a port in constant time, so that a
 * received right joins the name the space has for its port without a
 * look at every name.  One table serves every space, as XNU's global hash
 * did, keyed by (space, port); entries chain through their own links and
 * never move.  An entry is in it exactly while it holds a port's send or
 * receive right: every change to its rights ends in hash_sync.
 */
#define HASH_SHIFT 16
/* Taken under a space's lock; protects the buckets and every entry's hash links. */
static struct spinlock hash_lock = SPINLOCK_INIT("ipc_hash", LOCK_RANK_LEAF);
static struct ipc_entry *hash_buckets[1u << HASH_SHIFT];

static struct ipc_entry **hash_bucket(const struct ipc_space *space, const struct ipc_port *port)
{
	const uint64_t golden = 0x9e3779b97f4a7c15ull;     /* Fibonacci hashing */
	uint64_t key = ((uintptr_t)space ^ (uintptr_t)port * golden) * golden;

	return &hash_buckets[key >> (64 - HASH_SHIFT)];
}

/* Does e belong in the hash: does it hold a port's send or receive right? */
static bool hash_wanted(const struct ipc_entry *e)
{
	return e->port && (e->type & (MACH_PORT_TYPE_SEND | MACH_PORT_TYPE_RECEIVE));
}

/* Puts e in the hash or takes it out, as its rights now say.  => space locked */
static void hash_sync(struct ipc_entry *e)
{
	IPC_SPACE_ASSERT_LOCKED(e->space);
	bool wanted = hash_wanted(e);

	if (wanted == (e->hash_prev != NULL))
		return;                            /* a hashed entry's port never changes */
	spin_lock(&hash_lock);
	if (wanted) {
		struct ipc_entry **head = hash_bucket(e->space, e->port);
		e->hash_next = *head;
		if (*head)
			(*head)->hash_prev = &e->hash_next;
		e->hash_prev = head;
		*head = e;
	} else {
		*e->hash_prev = e->hash_next;
		if (e->hash_next)
			e->hash_next->hash_prev = e->hash_prev;
		e->hash_next = NULL;
		e->hash_prev = NULL;
	}
	spin_unlock(&hash_lock);
}

/*
 * The entry naming port's receive or send rights in space, if any (each
 * send-once right has a name of its own).  => space locked
 */
static struct ipc_entry *entry_of_port(struct ipc_space *space, const struct ipc_port *port)
{
	IPC_SPACE_ASSERT_LOCKED(space);
	spin_lock(&hash_lock);
	struct ipc_entry *e = *hash_bucket(space, port);
	while (e && (e->space != space || e->port != port))
		e = e->hash_next;
	spin_unlock(&hash_lock);
	return e;
}

/* Leaf number leaf (its entries' indexes over IPC_LEAF_ENTRIES), or NULL if not made.  => space locked */
static struct ipc_entry *leaf_at(const struct ipc_space *space, uint32_t leaf)
{
	IPC_SPACE_ASSERT_LOCKED(space);
	struct ipc_entry **mid = space->top ? space->top[leaf >> IPC_MID_SHIFT] : NULL;

	return mid ? mid[leaf & (IPC_MID_LEAVES - 1)] : NULL;
}

/* The slot of index i, or NULL if its leaf is not made.  => space locked */
static struct ipc_entry *entry_at(const struct ipc_space *space, uint32_t i)
{
	IPC_SPACE_ASSERT_LOCKED(space);
	struct ipc_entry *leaf = i < IPC_NAME_INDEX_LIMIT ? leaf_at(space, i >> IPC_LEAF_SHIFT) : NULL;

	return leaf ? &leaf[i & (IPC_LEAF_ENTRIES - 1)] : NULL;
}

/* The first leaf made at or after *leaf, which is set to its number; NULL when none is. */
static struct ipc_entry *next_made_leaf(const struct ipc_space *space, uint32_t *leaf)
{
	for (; space->top && *leaf < LEAF_COUNT; (*leaf)++) {
		struct ipc_entry *made = leaf_at(space, *leaf);
		if (made)
			return made;
		if (space->top[*leaf >> IPC_MID_SHIFT] == NULL)
			*leaf |= IPC_MID_LEAVES - 1;   /* no middle page: none of its leaves */
	}
	return NULL;
}

/* The slot after e (the first when e is NULL), in the leaves made; NULL after the last.  => space locked */
static struct ipc_entry *entry_next(const struct ipc_space *space, struct ipc_entry *e)
{
	IPC_SPACE_ASSERT_LOCKED(space);
	uint32_t i = e ? name_index(e->name) + 1 : 0;

	if (e && i % IPC_LEAF_ENTRIES != 0)
		return e + 1;
	uint32_t leaf = i >> IPC_LEAF_SHIFT;
	return next_made_leaf(space, &leaf);
}

/* A zeroed table piece of space at *slot, or NULL when memory is short.  => space locked */
static void *piece_make(struct ipc_space *space, void **slot, size_t bytes)
{
	IPC_SPACE_ASSERT_LOCKED(space);
	if (*slot == NULL)
		*slot = kzalloc(bytes);
	return *slot;
}

/*
 * Makes leaf number leaf (and the pieces above it), its slots on the free
 * list.  KERN_RESOURCE_SHORTAGE when memory is short; pieces made on the
 * way stay, for the space's life.  => space locked
 */
static kern_return_t leaf_make(struct ipc_space *space, uint32_t leaf)
{
	IPC_SPACE_ASSERT_LOCKED(space);
	struct ipc_entry ***top = piece_make(space, (void **)&space->top, TOP_BYTES);
	struct ipc_entry **mid = top ? piece_make(space, (void **)&top[leaf >> IPC_MID_SHIFT],
	                                          MID_BYTES) : NULL;
	struct ipc_entry *e = mid ? piece_make(space, (void **)&mid[leaf & (IPC_MID_LEAVES - 1)],
	                                       LEAF_BYTES) : NULL;

	if (e == NULL)
		return KERN_RESOURCE_SHORTAGE;
	for (uint32_t i = IPC_LEAF_ENTRIES; i-- > 0;) {
		uint32_t index = (leaf << IPC_LEAF_SHIFT) + i;
		e[i].name = index << 8;
		e[i].space = space;
		if (index == 0)
			continue;                  /* name 0 is MACH_PORT_NULL */
		e[i].next_free = space->free_head;
		space->free_head = index;
	}
	return KERN_SUCCESS;
}

/*
 * A free slot, off the free list, in *out: the lowest leaves are made
 * first.  KERN_NO_SPACE when every name is taken, KERN_RESOURCE_SHORTAGE
 * when memory is short.  => space locked
 */
static kern_return_t entry_alloc(struct ipc_space *space, struct ipc_entry **out)
{
	IPC_SPACE_ASSERT_LOCKED(space);
	for (; space->free_head == 0; space->next_leaf++) {
		if (space->next_leaf == LEAF_COUNT)
			return KERN_NO_SPACE;
		kern_return_t kr = leaf_at(space, space->next_leaf) ? KERN_SUCCESS :
		                   leaf_make(space, space->next_leaf);
		if (kr != KERN_SUCCESS)
			return kr;
	}
	struct ipc_entry *e = entry_at(space, space->free_head);
	space->free_head = e->next_free;
	*out = e;
	return KERN_SUCCESS;
}

/* Returns a slot whose rights are all gone; its next name differs.  => space locked */
static void entry_free(struct ipc_space *space, struct ipc_entry *e)
{
	IPC_SPACE_ASSERT_LOCKED(space);
	e->port = NULL;
	e->type = MACH_PORT_TYPE_NONE;
	e->urefs = 0;
	hash_sync(e);
	e->name = (e->name & ~0xffu) | ((e->name + 1) & 0xff);   /* the next generation */
	e->next_free = space->free_head;
	space->free_head = name_index(e->name);
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
	hash_sync(e);
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
	IPC_SPACE_ASSERT_LOCKED(space);
	struct ipc_entry *e = name_index(name) ? entry_at(space, name_index(name)) : NULL;

	if (e == NULL || e->type == MACH_PORT_TYPE_NONE || e->name != name)
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

/* Frees every piece of the table; the space is no one's any more. */
static void table_free(struct ipc_space *space)
{
	for (uint32_t m = 0; space->top && m < IPC_TOP_MIDS; m++) {
		struct ipc_entry **mid = space->top[m];
		for (uint32_t l = 0; mid && l < IPC_MID_LEAVES; l++)
			kfree(mid[l], LEAF_BYTES);
		kfree(mid, MID_BYTES);
	}
	kfree(space->top, TOP_BYTES);
}

/* Gives up e's rights: a receive right's port dies, its queue joins *doomed.  => space locked */
static void entry_release(struct ipc_space *space, struct ipc_entry *e, struct ipc_kmsg **doomed)
{
	IPC_SPACE_ASSERT_LOCKED(space);
	struct ipc_port *port = e->port;

	if (port && (e->type & SENDS))
		drop_send(e);
	if (port && (e->type & MACH_PORT_TYPE_RECEIVE))
		ipc_port_destroy_into(port, doomed);
	e->port = NULL;
	e->type = MACH_PORT_TYPE_NONE;
	hash_sync(e);                          /* the leaves are about to go */
}

/*
 * The names are given up a batch per hold of the lock, so that a space
 * of thousands of names does not keep interrupts off throughout.  Letting
 * go between batches is safe: the space is no task's any more, so no
 * call can reach it, and a port only compares its receiver with a space.
 */
#define DESTROY_BATCH 64

void ipc_space_destroy(struct ipc_space *space)
{
	struct ipc_kmsg *doomed = NULL;
	struct ipc_entry *e = NULL;

	spin_lock(&space->lock);
	space->active = false;
	spin_unlock(&space->lock);
	do {
		spin_lock(&space->lock);
		for (unsigned n = 0; n < DESTROY_BATCH && (e = entry_next(space, e)) != NULL; n++)
			entry_release(space, e, &doomed);
		spin_unlock(&space->lock);
	} while (e != NULL);
	ipc_kmsg_destroy_list(doomed);         /* their memory goes to the VM: no IPC lock held */
	table_free(space);
	kfree(space, sizeof(*space));
}

kern_return_t mach_port_allocate(struct ipc_space *space, mach_port_right_t right,
                                 mach_port_name_t *name)
{
	if (right != MACH_PORT_RIGHT_RECEIVE && right != MACH_PORT_RIGHT_DEAD_NAME)
		return KERN_INVALID_VALUE;
	spin_lock(&space->lock);
	struct ipc_entry *e = NULL;
	struct ipc_port *port = NULL;
	kern_return_t kr = entry_alloc(space, &e);
	if (kr == KERN_SUCCESS && right == MACH_PORT_RIGHT_RECEIVE &&
	    (port = ipc_port_alloc(space)) == NULL) {
		entry_free(space, e);
		kr = KERN_RESOURCE_SHORTAGE;
	}
	if (kr == KERN_SUCCESS) {
		e->port = port;
		e->type = port ? MACH_PORT_TYPE_RECEIVE : MACH_PORT_TYPE_DEAD_NAME;
		e->urefs = port ? 0 : 1;
		hash_sync(e);
		*name = e->name;
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

	IPC_SPACE_ASSERT_LOCKED(space);
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
	struct ipc_kmsg *doomed;
	kern_return_t kr = mach_port_mod_refs_deferred(space, name, right, delta, &doomed);

	ipc_kmsg_destroy_list(doomed);
	return kr;
}

kern_return_t mach_port_mod_refs_deferred(struct ipc_space *space, mach_port_name_t name,
                                          mach_port_right_t right, mach_port_delta_t delta,
                                          struct ipc_kmsg **doomed)
{
	kern_return_t kr = KERN_SUCCESS;

	*doomed = NULL;
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
		drop_receive(space, e, doomed);
	if (kr == KERN_SUCCESS && delta == -1 && right == MACH_PORT_RIGHT_SEND_ONCE) {
		drop_send(e);
		entry_free(space, e);
	}
	spin_unlock(&space->lock);
	return kr;
}

/*
 * Takes the free slot name asks for off the free list, making its leaf if
 * need be, into *out.  KERN_NAME_EXISTS if the slot is in use (under
 * another generation: the name is stale), KERN_RESOURCE_SHORTAGE when its
 * leaf cannot be made.  name's index is below IPC_NAME_INDEX_LIMIT.  => space locked
 */
static kern_return_t entry_claim(struct ipc_space *space, mach_port_name_t name,
                                 struct ipc_entry **out)
{
	IPC_SPACE_ASSERT_LOCKED(space);
	uint32_t i = name_index(name);
	kern_return_t kr = entry_at(space, i) ? KERN_SUCCESS : leaf_make(space, i >> IPC_LEAF_SHIFT);

	if (kr != KERN_SUCCESS)
		return kr;
	for (uint32_t *link = &space->free_head; *link; link = &entry_at(space, *link)->next_free) {
		if (*link == i) {
			struct ipc_entry *e = entry_at(space, i);
			*link = e->next_free;
			e->name = name;
			*out = e;
			return KERN_SUCCESS;
		}
	}
	return KERN_NAME_EXISTS;
}

/* Adds one send right (one uref, saturating as adjust_urefs) for port to e.  => space locked */
static void add_send(struct ipc_entry *e, struct ipc_port *port)
{
	IPC_SPACE_ASSERT_LOCKED(e->space);
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
	hash_sync(e);
}

kern_return_t mach_port_insert_right(struct ipc_space *space, mach_port_name_t name,
                                     struct ipc_port *port, mach_msg_type_name_t disposition)
{
	kern_return_t kr = KERN_SUCCESS;

	if (disposition != MACH_MSG_TYPE_MAKE_SEND && disposition != MACH_MSG_TYPE_COPY_SEND &&
	    disposition != MACH_MSG_TYPE_MOVE_SEND)
		return KERN_INVALID_VALUE;         /* send-once and receive rights move by message only */
	if (!MACH_PORT_VALID(name) || name_index(name) == 0)
		return KERN_INVALID_VALUE;
	if (name_index(name) >= IPC_NAME_INDEX_LIMIT)
		return KERN_NO_SPACE;              /* as XNU: a name no table can hold */
	if (!port->active)
		return KERN_INVALID_CAPABILITY;
	spin_lock(&space->lock);
	struct ipc_entry *e = entry_lookup(space, name), *other = entry_of_port(space, port);
	if (e && e->port != port)
		kr = KERN_NAME_EXISTS;
	else if (e == NULL && other)
		kr = KERN_RIGHT_EXISTS;
	else if (e == NULL)
		kr = entry_claim(space, name, &e);
	if (kr == KERN_SUCCESS)
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
	IPC_SPACE_ASSERT_LOCKED(space);
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

	IPC_SPACE_ASSERT_LOCKED(space);
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

	IPC_SPACE_ASSERT_LOCKED(space);
	IPC_PORT_ASSERT_TRANSIT_LOCKED();
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
	IPC_SPACE_ASSERT_LOCKED(space);
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
	IPC_SPACE_ASSERT_LOCKED(space);
	if (++space->copyin_epoch != 0)
		return;
	for (struct ipc_entry *e = entry_next(space, NULL); e; e = entry_next(space, e))
		e->check_epoch = 0;                /* after 2^32 checks: none may look current */
	space->copyin_epoch = 1;                   /* 0 is never current: fresh entries hold it */
}

/* The first item (0 dest, 1 reply, then the body) whose right cannot be had, or count.  => space locked */
static uint32_t check_items(struct ipc_space *space, const struct ipc_right_item *items,
                            uint32_t count)
{
	struct ipc_port *dest = NULL;

	IPC_SPACE_ASSERT_LOCKED(space);
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
	IPC_SPACE_ASSERT_LOCKED(space);
	e->port = port;
	e->type |= MACH_PORT_TYPE_RECEIVE;
	hash_sync(e);
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
	if (e == NULL)
		kr = entry_alloc(space, &e);
	if (kr != KERN_SUCCESS) {
		/* no name: the carried right is released below */
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
		*name = e->name;
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
		*name = e->name;
	spin_unlock(&space->lock);
	return ok ? KERN_SUCCESS : KERN_INVALID_NAME;
}

bool ipc_space_hash_consistent(struct ipc_space *space)
{
	bool ok = true;

	spin_lock(&space->lock);
	for (struct ipc_entry *e = entry_next(space, NULL); e; e = entry_next(space, e)) {
		ok = ok && e->space == space && (e->hash_prev != NULL) == hash_wanted(e);
		ok = ok && (!hash_wanted(e) || entry_of_port(space, e->port) == e);
	}
	spin_unlock(&space->lock);
	return ok;
}
