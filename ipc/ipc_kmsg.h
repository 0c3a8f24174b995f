/*
 * A message in the kernel (struct ipc_kmsg): the kernel's copy of what a
 * sender wrote, holding a reference for each right it carries and its
 * out-of-line memory as vm_map_copys, from the send that makes it to the
 * receive, the kernel object, or the port death that consumes it.  The
 * mach_msg calls (ipc/mach_msg.h) make and consume kmsgs; the kernel's
 * servers read requests and build replies in them.  The maps and spaces
 * a body is copied from and to are always the caller's to name: ipc/
 * knows ports, not tasks.
 */
#ifndef MICA_IPC_IPC_KMSG_H
#define MICA_IPC_IPC_KMSG_H

#include <stdbool.h>
#include <mach/message.h>

struct ipc_port;
struct ipc_space;
struct vm_map;

#define IPC_KMSG_MAX (64 * 1024)       /* the largest message, header included */

/*
 * Locks: a kmsg has none of its own.
 *   (k) its holder: one thread at a time has it, from the send that makes
 *       it to whatever consumes it; while it waits on a port's queue, no
 *       one touches it but through (q)
 *   (q) the lock of the port whose queue it is on, while it is on one
 */
struct ipc_kmsg {
	struct ipc_kmsg *next;             /* (q) that queue; (k) a list of messages to destroy */
	struct ipc_port *dest, *reply;     /* (k) the carried rights (reply may be NULL) */
	mach_msg_type_name_t dest_type, reply_type;    /* (k) */
	mach_msg_size_t size;              /* (k) the message's bytes */
	mach_msg_size_t room;              /* (k) the bytes allocated for it (ipc_kmsg_alloc) */
	/*
	 * A kernel reply's step for when what it carries never all reaches
	 * its receiver (ipc_kobject.h's reply_lost): run once, with the
	 * message's rights still in it, when it is destroyed undelivered or
	 * a right in its body finds no name.  NULL for every other message.
	 */
	void (*lost)(mach_msg_header_t *msg);   /* (k) */
	mach_msg_header_t header;          /* (k) then the body: size - sizeof(header) bytes */
};

/*
 * A kmsg with room for a message of room bytes (header included), or
 * NULL: no rights, its size room, the message itself for the caller to
 * write.  ipc_kmsg_free frees only its memory.
 */
struct ipc_kmsg *ipc_kmsg_alloc(mach_msg_size_t room);
void ipc_kmsg_free(struct ipc_kmsg *k);

/*
 * Queues k on k->dest now, whatever the queue's length (the kernel's
 * replies: Mach lets a send-once right through a full queue).  Consumes
 * k; MACH_SEND_INVALID_DEST if the port is dead.  A kernel-object port
 * queues nothing: k is served there (a reply sent to one is refused as an
 * unknown request, so nothing piles up where no one receives).
 */
mach_msg_return_t ipc_kmsg_enqueue(struct ipc_kmsg *k);

/*
 * enqueue's step for a port no kernel object stands for: true when k is
 * queued; false, k untouched and still the caller's, when the port is dead.
 */
bool ipc_kmsg_queue(struct ipc_kmsg *k);

/*
 * Complex messages' bodies (ipc/ipc_kmsg_body.c), in the order a send uses them:
 *  - copyin_body checks the descriptors (MACH_SEND_MSG_TOO_SMALL,
 *    MACH_SEND_INVALID_TYPE) and takes each memory range from the
 *    sender's map (MACH_SEND_INVALID_MEMORY when one cannot be read,
 *    MACH_MSG_VM_KERNEL when the kernel has no memory to copy it; then no
 *    copy is kept);
 *  - copyin_rights takes the header's rights and the port descriptors'
 *    from space, all or nothing (ipc_space_copyin_rights' errors; on one,
 *    the copies are dropped too), and fills k->dest and k->reply;
 *  - deallocate_sent then unmaps from the sender's map the ranges whose
 *    descriptors in sent (the sender's own message) asked for it, once the
 *    send cannot fail.
 * copyout_body maps each copy into the receiver's map and names each
 * carried right in space (MACH_RCV_BODY_ERROR when one does not fit: that
 * data or right is lost).  clean_body drops what the body still holds; a
 * receive right's port dies, and with doomed (not NULL) its queued
 * messages join that list instead of being destroyed at once, so that a
 * chain of ports in transit is freed in a loop, not by recursion.
 */
mach_msg_return_t ipc_kmsg_copyin_body(struct ipc_kmsg *k, struct vm_map *map);
/* Is k's body, as its sender wrote it, well formed and without port descriptors (or is k simple)? */
bool ipc_kmsg_body_is_memory_only(const struct ipc_kmsg *k);
/* copyin_body's second half, the out-of-line memory.  => body checked (body_is_memory_only) */
mach_msg_return_t ipc_kmsg_copyin_memory(struct ipc_kmsg *k, struct vm_map *map);
mach_msg_return_t ipc_kmsg_copyin_rights(struct ipc_kmsg *k, struct ipc_space *space);
void ipc_kmsg_deallocate_sent(const mach_msg_header_t *sent, struct vm_map *map);
mach_msg_return_t ipc_kmsg_copyout_body(struct ipc_kmsg *k, struct ipc_space *space,
                                        struct vm_map *map);
void ipc_kmsg_clean_body(struct ipc_kmsg *k, struct ipc_kmsg **doomed);

/*
 * Makes d a port descriptor carrying a right of type (MACH_MSG_TYPE_PORT_*)
 * to port, whose reference the message now holds: the kernel's replies
 * (task_create's child).
 */
void ipc_kmsg_set_port_descriptor(mach_msg_port_descriptor_t *d, struct ipc_port *port,
                                  mach_msg_type_name_t type);

/* Is k simple when kinds is empty, else complex with one descriptor per letter ('o' memory, 'p' port)? */
bool ipc_kmsg_descriptors_are(const struct ipc_kmsg *k, const char *kinds);

/* The port a descriptor in kernel form carries (its disposition says which right), or NULL. */
struct ipc_port *ipc_kmsg_descriptor_port(const mach_msg_port_descriptor_t *d);

/*
 * Makes d an out-of-line array of the count ports at ports (kalloc'd,
 * count * sizeof(*ports) bytes), each with a right of type: the message
 * now holds the array and the rights (task_threads' reply).
 */
void ipc_kmsg_set_ool_ports_descriptor(mach_msg_ool_ports_descriptor_t *d,
                                       struct ipc_port **ports, mach_msg_size_t count,
                                       mach_msg_type_name_t type);

/* Frees messages and the rights they carry (a dying port's queue), each lost step run first. */
void ipc_kmsg_destroy_list(struct ipc_kmsg *list);

/* Runs k's lost step, if it has one that has not run yet. */
void ipc_kmsg_lost(struct ipc_kmsg *k);

#endif
