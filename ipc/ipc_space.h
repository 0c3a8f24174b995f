/*
 * IPC spaces: a task's names for the port rights it holds.  A name is an
 * index into the space's table with a generation number in its low byte,
 * so a name that was freed and reused is not mistaken for the old one.
 * Indexes run below IPC_NAME_INDEX_LIMIT (2^23): every name below
 * 0x80000000 but those of index 0 can be used.  One name covers every
 * right a space holds to one port (a receive right and send rights share
 * it); send rights and dead names carry user references (urefs), which
 * saturate: a count that reaches MACH_PORT_UREFS_MAX stays there, as in
 * XNU, so no number of copies can lose a right.
 *
 * The calls below are the kernel side of Mach's mach_port_* calls on a
 * task's space, with Mach's error codes:
 *   KERN_INVALID_NAME      the name denotes nothing in this space
 *   KERN_INVALID_RIGHT     the name does not hold the right the call needs
 *   KERN_INVALID_VALUE     a right, name or reference count the call cannot take
 *   KERN_NAME_EXISTS       the name is in use (for another port, or under another generation)
 *   KERN_RIGHT_EXISTS      the space already names this port otherwise
 *   KERN_NO_SPACE          a name the table can never hold (index IPC_NAME_INDEX_LIMIT
 *                          or above), or every name is taken
 *   KERN_RESOURCE_SHORTAGE no memory for the table page a name needs
 */
#ifndef MICA_IPC_IPC_SPACE_H
#define MICA_IPC_IPC_SPACE_H

#include <mach/kern_return.h>
#include <mach/message.h>
#include <mach/port.h>
#include "ipc/ipc_port.h"
#include "kern/lock.h"

/* Names' indexes run below this; the table is a tree of pages (ipc/ipc_space.c). */
#define IPC_NAME_INDEX_LIMIT (1u << 23)

/* The table's shape, as constants a debugger can read too (tools/gdb/mica.py). */
enum ipc_table_shape {
	IPC_LEAF_SHIFT = 6,                            /* a leaf: 64 entries, in one page */
	IPC_MID_SHIFT = 9,                             /* a middle page: 512 leaf pointers */
	IPC_LEAF_ENTRIES = 1 << IPC_LEAF_SHIFT,
	IPC_MID_LEAVES = 1 << IPC_MID_SHIFT,
	IPC_TOP_MIDS = IPC_NAME_INDEX_LIMIT >> (IPC_LEAF_SHIFT + IPC_MID_SHIFT),
};

/*
 * Locks:
 *   (s) space->lock (an entry's: its space's)
 *   (h) the port-to-name hash's lock (ipc_space.c)
 *   (c) set, under (s), when the entry's leaf is made, and never changed
 */
struct ipc_entry {
	struct ipc_port *port;         /* (s) NULL: a free slot, or a dead name */
	struct ipc_space *space;       /* (c) the space the slot is in: with port, the hash's key */
	/* The port-to-name hash (ipc_space.c): hash_prev is the link that points
	 * here, NULL while the entry is not in the hash (that much changes only
	 * under (s) as well, so its space may read it without (h)). */
	struct ipc_entry *hash_next, **hash_prev;   /* (h) */
	mach_port_type_t type;         /* (s) */
	uint32_t urefs;                /* (s) user references of send rights or a dead name */
	mach_port_name_t name;         /* (s) the slot's current name: its index, a generation
	                                  below */
	uint32_t next_free;            /* (s) free list, while the slot is free */
	/* A message's rights are checked before any is taken (ipc_space_copyin_rights):
	 * what the entry would hold after the items checked so far, valid while
	 * check_epoch equals the space's copyin_epoch. */
	uint32_t check_epoch, check_urefs;     /* (s) */
	mach_port_type_t check_type;           /* (s) */
};

struct ipc_space {
	struct spinlock lock;
	/* top[i][j] is leaf number i * IPC_MID_LEAVES + j, a page of entries; NULL at any
	 * level: no name there yet.  Pieces live as long as the space: entries never move. */
	struct ipc_entry ***top;       /* (s) */
	uint32_t next_leaf;            /* (s) every leaf below this one is made */
	uint32_t free_head;            /* (s) index of the first free slot, 0 when none (slot 0 is
	                                  never used) */
	uint32_t copyin_epoch;         /* (s) one per ipc_space_copyin_rights */
	bool active;                   /* (s) */
};

/* => space locked */
#define IPC_SPACE_ASSERT_LOCKED(space) LOCK_ASSERT_HELD(&(space)->lock)

struct ipc_space *ipc_space_create(void);

/*
 * Gives up every right the space holds (receive rights kill their ports)
 * and frees it.  => the space is no task's any more: no call reaches it
 */
void ipc_space_destroy(struct ipc_space *space);

/*
 * A new receive right (a new port) or dead name, under a new name.
 * KERN_NO_SPACE when every name is taken, KERN_RESOURCE_SHORTAGE when
 * memory is short (for the port or a table page).
 */
kern_return_t mach_port_allocate(struct ipc_space *space, mach_port_right_t right,
                                 mach_port_name_t *name);

/* Drops one user reference of a send right, a send-once right or a dead name. */
kern_return_t mach_port_deallocate(struct ipc_space *space, mach_port_name_t name);

/*
 * Adds delta to the user references of right under name: send rights and
 * dead names count, saturating (a delta past MACH_PORT_UREFS_MAX leaves
 * the maximum; at the maximum only -MACH_PORT_UREFS_MAX changes them); a
 * receive right can only be dropped (delta -1), which destroys its port.
 */
kern_return_t mach_port_mod_refs(struct ipc_space *space, mach_port_name_t name,
                                 mach_port_right_t right, mach_port_delta_t delta);

struct ipc_kmsg;

/*
 * mach_port_mod_refs, leaving the messages queued on a port it destroys
 * in *doomed (NULL if none) for the caller to destroy with
 * ipc_kmsg_destroy_list once it holds no lock: a queue of many messages
 * with out-of-line memory takes long to destroy.
 */
kern_return_t mach_port_mod_refs_deferred(struct ipc_space *space, mach_port_name_t name,
                                          mach_port_right_t right, mach_port_delta_t delta,
                                          struct ipc_kmsg **doomed);

/*
 * Puts a right to port under name in space, as a message carrying it with
 * this disposition would (MAKE_SEND from a receive right, COPY_SEND or
 * MOVE_SEND of a send right): a send right is added to what name holds.
 * KERN_INVALID_VALUE for another disposition, MACH_PORT_NULL, MACH_PORT_DEAD
 * or a name of index 0; KERN_NO_SPACE for a name of index
 * IPC_NAME_INDEX_LIMIT or above; KERN_RESOURCE_SHORTAGE when the table
 * page the name needs cannot be made.
 */
kern_return_t mach_port_insert_right(struct ipc_space *space, mach_port_name_t name,
                                     struct ipc_port *port, mach_msg_type_name_t disposition);

/* The rights under name (a send right to a dead port reads as a dead name). */
kern_return_t mach_port_type(struct ipc_space *space, mach_port_name_t name,
                             mach_port_type_t *type);

/* The user references of right under name. */
kern_return_t mach_port_get_refs(struct ipc_space *space, mach_port_name_t name,
                                 mach_port_right_t right, mach_port_urefs_t *refs);

/* The port name denotes, with a reference, if it holds any of the rights in types. */
kern_return_t ipc_space_lookup(struct ipc_space *space, mach_port_name_t name,
                               mach_port_type_t types, struct ipc_port **port);

/*
 * For mach_msg's kernel-call fast path: the kernel-object port dest names
 * a send right to (with a reference), if reply names a receive right with
 * no message waiting; else NULL.  One look under the space's lock.
 */
struct ipc_port *ipc_space_kernel_call_port(struct ipc_space *space, mach_port_name_t dest,
                                            mach_port_name_t reply);

/* ---- rights carried by messages (ipc/mach_msg.c) ---- */

/* The right a message carries for a disposition: MACH_MSG_TYPE_PORT_SEND or PORT_SEND_ONCE. */
mach_msg_type_name_t ipc_carried_type(mach_msg_type_name_t disposition);

/*
 * One right a message names: its name and disposition in the sender's
 * space (in); the port and the right the message carries (out).  A body
 * item may name MACH_PORT_NULL or MACH_PORT_DEAD, or a dead name with a
 * send disposition: it then carries no port, and the receiver sees the
 * name as it was, or MACH_PORT_DEAD.
 */
struct ipc_right_item {
	mach_port_name_t name;
	mach_msg_type_name_t disposition;
	struct ipc_port *port;             /* out: with a reference; NULL when none is carried */
	mach_msg_type_name_t carried;      /* out: MACH_MSG_TYPE_PORT_* */
};

/*
 * Takes the rights a message names out of space, all or nothing: items[0]
 * is the destination, items[1] the reply right (name MACH_PORT_NULL: none),
 * the rest the port descriptors, in order.  Each is checked as if the ones
 * before it had been taken (a name may appear more than once).  A
 * MOVE_RECEIVE of the destination, or of a port whose receive right the
 * destination's is queued behind, would make a cycle nobody can receive:
 * refused.  Errors, with nothing changed: MACH_SEND_INVALID_DEST (item 0),
 * MACH_SEND_INVALID_REPLY (item 1), MACH_SEND_INVALID_RIGHT (a body item).
 */
mach_msg_return_t ipc_space_copyin_rights(struct ipc_space *space, struct ipc_right_item *items,
                                          uint32_t count);

/*
 * Gives a carried right (type from ipc_carried_type) to space: its name in
 * *name (MACH_PORT_DEAD if the port died).  A receive right joins the send
 * rights space may hold for the port, and space becomes its receiver.
 * A new name may fail: KERN_NO_SPACE or KERN_RESOURCE_SHORTAGE, as
 * mach_port_allocate's, and the carried right is released.
 */
kern_return_t ipc_space_copyout_right(struct ipc_space *space, struct ipc_port *port,
                                      mach_msg_type_name_t type, mach_port_name_t *name);

/* Drops a carried right that will not be delivered; a receive right's port dies. */
void ipc_right_release(struct ipc_port *port, mach_msg_type_name_t type);

/*
 * For tests: is every entry of space in the port-to-name hash exactly
 * while it holds a send or receive right, and found there by its port?
 */
bool ipc_space_hash_consistent(struct ipc_space *space);

/* The name of space's receive right for port. */
kern_return_t ipc_space_receive_name(struct ipc_space *space, const struct ipc_port *port,
                                     mach_port_name_t *name);

#endif
