/*
 * The body of a complex message: out-of-line memory and port rights
 * (ipc/ipc_kmsg.h).
 *
 * Sending, each memory descriptor's range is taken from the sender's map
 * with vm_map_copyin (whole pages copy-on-write: no byte moves), and the
 * kernel's copy of the message holds the vm_map_copy in the descriptor's
 * address field.  Each port descriptor's right is taken from the sender's
 * space together with the header's (ipc_space_copyin_rights: all or
 * nothing), and the descriptor holds the port in its name and pad1 words.
 * Receiving, each copy is mapped into the receiver's map with
 * vm_map_copyout and each right becomes a name in the receiver's space.
 * The maps come from the caller, as the spaces do: the trap layer knows
 * whose they are, and ipc/ knows only ports.  A kernel thread has none
 * (NULL), and its messages carry no memory.
 *
 * Locking: no IPC lock is held here; the VM and ipc_space take their own.
 */
#include "ipc/ipc_kmsg.h"
#include "ipc/ipc_space.h"
#include "kern/kalloc.h"
#include "lib/string.h"
#include "vm/vm_map.h"
#include "vm/vm_map_copy.h"
#include "vm/vm_user.h"

#define BODY_OFFSET  sizeof(mach_msg_header_t)
#define DESC_OFFSET  (BODY_OFFSET + sizeof(mach_msg_body_t))

/* A port descriptor in kernel form that carries the name MACH_PORT_DEAD. */
#define PORT_DEAD ((struct ipc_port *)~0ul)

/* How many descriptors the message at h has (0 for a simple message). */
static uint32_t descriptor_count(const mach_msg_header_t *h)
{
	mach_msg_body_t body;

	if (!(h->msgh_bits & MACH_MSGH_BITS_COMPLEX))
		return 0;
	__builtin_memcpy(&body, (const char *)h + BODY_OFFSET, sizeof(body));   /* moves, not a call */
	return body.msgh_descriptor_count;
}

static char *first_descriptor(const mach_msg_header_t *h)
{
	return (char *)h + DESC_OFFSET;
}

/* Every kind of descriptor keeps its type in byte 11; the kind gives the size. */
static unsigned descriptor_type(const char *d)
{
	return (unsigned char)d[11];
}

static size_t descriptor_size(unsigned type)
{
	return type == MACH_MSG_PORT_DESCRIPTOR ? sizeof(mach_msg_port_descriptor_t) :
	                                          sizeof(mach_msg_ool_descriptor_t);
}

static char *next_descriptor(char *d)
{
	return d + descriptor_size(descriptor_type(d));
}

/* A port descriptor in kernel form holds the port in its name and pad1 words. */
static struct ipc_port *descriptor_port(const char *d)
{
	struct ipc_port *port;

	__builtin_memcpy(&port, d, sizeof(port));
	return port;
}

struct ipc_port *ipc_kmsg_descriptor_port(const mach_msg_port_descriptor_t *d)
{
	struct ipc_port *port = descriptor_port((const char *)d);

	return port == PORT_DEAD ? NULL : port;
}

void ipc_kmsg_set_port_descriptor(mach_msg_port_descriptor_t *d, struct ipc_port *port,
                                  mach_msg_type_name_t type)
{
	_Static_assert(sizeof(port) <= sizeof(d->name) + sizeof(d->pad1), "a port fits name+pad1");
	memset(d, 0, sizeof(*d));
	memcpy(d, &port, sizeof(port));
	d->disposition = type;
	d->type = MACH_MSG_PORT_DESCRIPTOR;
}

/* Drops the copy an out-of-line descriptor in kernel form holds, if any. */
static void discard_memory(mach_msg_ool_descriptor_t *d)
{
	if (d->address)
		vm_map_copy_discard((vm_map_copy_t)d->address);
	d->address = NULL;
}

static void discard_ports(mach_msg_ool_ports_descriptor_t *d);

/* Drops every out-of-line copy k holds; its port descriptors are left as they are. */
static void discard_all_memory(struct ipc_kmsg *k)
{
	char *d = first_descriptor(&k->header);

	for (uint32_t i = descriptor_count(&k->header); i > 0; i--, d = next_descriptor(d))
		if (descriptor_type(d) == MACH_MSG_OOL_DESCRIPTOR)
			discard_memory((void *)d);
}

/* Drops the right a port descriptor in kernel form carries, if any. */
static void discard_right(mach_msg_port_descriptor_t *d, struct ipc_kmsg **doomed)
{
	struct ipc_port *port = ipc_kmsg_descriptor_port(d);

	if (port && d->disposition == MACH_MSG_TYPE_PORT_RECEIVE && doomed)
		ipc_port_destroy_into(port, doomed);
	else if (port)
		ipc_right_release(port, d->disposition);
	memset(d, 0, 8);
}

void ipc_kmsg_clean_body(struct ipc_kmsg *k, struct ipc_kmsg **doomed)
{
	char *d = first_descriptor(&k->header);

	for (uint32_t i = descriptor_count(&k->header); i > 0; i--, d = next_descriptor(d)) {
		if (descriptor_type(d) == MACH_MSG_PORT_DESCRIPTOR)
			discard_right((void *)d, doomed);
		else if (descriptor_type(d) == MACH_MSG_OOL_PORTS_DESCRIPTOR)
			discard_ports((void *)d);
		else
			discard_memory((void *)d);
	}
}

bool ipc_kmsg_descriptors_are(const struct ipc_kmsg *k, const char *kinds)
{
	char *d = first_descriptor(&k->header);
	uint32_t n = descriptor_count(&k->header);

	if (!(k->header.msgh_bits & MACH_MSGH_BITS_COMPLEX))
		return *kinds == '\0';
	if (n != strlen(kinds))
		return false;
	for (; *kinds; kinds++, d = next_descriptor(d))
		if (descriptor_type(d) != (*kinds == 'p' ? MACH_MSG_PORT_DESCRIPTOR :
		                                           MACH_MSG_OOL_DESCRIPTOR))
			return false;
	return true;
}

/* Is d's disposition one a port descriptor may carry? */
static bool valid_disposition(const mach_msg_port_descriptor_t *d)
{
	return d->disposition >= MACH_MSG_TYPE_MOVE_RECEIVE &&
	       d->disposition <= MACH_MSG_TYPE_MAKE_SEND_ONCE;
}

/*
 * Is k's body well formed: every descriptor within the message, of a kind
 * Mica carries (memory or one port), with a disposition a port can have?
 */
static uint32_t port_descriptor_count(const struct ipc_kmsg *k);

static mach_msg_return_t check_body(const struct ipc_kmsg *k)
{
	const char *end = (const char *)&k->header + k->size;
	char *d = first_descriptor(&k->header);

	if (k->size < DESC_OFFSET || descriptor_count(&k->header) >
	    (k->size - DESC_OFFSET) / sizeof(mach_msg_port_descriptor_t))
		return MACH_SEND_MSG_TOO_SMALL;    /* not even room for that many of the smallest */
	for (uint32_t i = descriptor_count(&k->header); i > 0; i--, d = next_descriptor(d)) {
		if (end - d < (ptrdiff_t)sizeof(mach_msg_port_descriptor_t))
			return MACH_SEND_MSG_TOO_SMALL;
		unsigned type = descriptor_type(d);
		if (type != MACH_MSG_PORT_DESCRIPTOR && type != MACH_MSG_OOL_DESCRIPTOR)
			return MACH_SEND_INVALID_TYPE;
		if (end - d < (ptrdiff_t)descriptor_size(type))
			return MACH_SEND_MSG_TOO_SMALL;
		if (type == MACH_MSG_PORT_DESCRIPTOR && !valid_disposition((void *)d))
			return MACH_SEND_INVALID_TYPE;
	}
	return MACH_MSG_SUCCESS;
}

bool ipc_kmsg_body_is_memory_only(const struct ipc_kmsg *k)
{
	return !(k->header.msgh_bits & MACH_MSGH_BITS_COMPLEX) ||
	       (check_body(k) == MACH_MSG_SUCCESS && port_descriptor_count(k) == 0);
}

/*
 * Takes d's range from map: MACH_SEND_INVALID_MEMORY when it cannot be
 * read (or there is no map), MACH_MSG_VM_KERNEL when the kernel has no
 * memory for the copy, as XNU's ipc_kmsg_copyin_ool_descriptor: the
 * sender's range was fine, and the same send may succeed later.
 */
static mach_msg_return_t copyin_memory(vm_map_t map, mach_msg_ool_descriptor_t *d)
{
	vm_map_copy_t copy = NULL;
	kern_return_t kr = KERN_SUCCESS;

	if (d->size)
		kr = map ? vm_map_copyin(map, (vm_address_t)d->address, d->size, &copy) :
		           KERN_INVALID_ADDRESS;
	if (kr == KERN_RESOURCE_SHORTAGE)
		return MACH_MSG_VM_KERNEL;
	if (kr != KERN_SUCCESS)
		return MACH_SEND_INVALID_MEMORY;
	d->address = copy;
	return MACH_MSG_SUCCESS;
}

mach_msg_return_t ipc_kmsg_copyin_body(struct ipc_kmsg *k, vm_map_t map)
{
	if (!(k->header.msgh_bits & MACH_MSGH_BITS_COMPLEX))
		return MACH_MSG_SUCCESS;
	mach_msg_return_t mr = check_body(k);
	return mr == MACH_MSG_SUCCESS ? ipc_kmsg_copyin_memory(k, map) : mr;
}

mach_msg_return_t ipc_kmsg_copyin_memory(struct ipc_kmsg *k, vm_map_t map)
{
	uint32_t left = descriptor_count(&k->header);
	mach_msg_return_t mr = MACH_MSG_SUCCESS;
	char *d = first_descriptor(&k->header);

	for (; left > 0; left--, d = next_descriptor(d))
		if (descriptor_type(d) == MACH_MSG_OOL_DESCRIPTOR &&
		    (mr = copyin_memory(map, (void *)d)) != MACH_MSG_SUCCESS)
			break;
	if (left == 0)
		return MACH_MSG_SUCCESS;
	for (; left > 0; left--, d = next_descriptor(d))    /* from the failed one on: the sender's */
		if (descriptor_type(d) == MACH_MSG_OOL_DESCRIPTOR)
			((mach_msg_ool_descriptor_t *)d)->address = NULL;
	discard_all_memory(k);                 /* the copies made so far */
	return mr;
}

/* How many port descriptors k has.  => body checked */
static uint32_t port_descriptor_count(const struct ipc_kmsg *k)
{
	char *d = first_descriptor(&k->header);
	uint32_t n = 0;

	for (uint32_t i = descriptor_count(&k->header); i > 0; i--, d = next_descriptor(d))
		n += descriptor_type(d) == MACH_MSG_PORT_DESCRIPTOR;
	return n;
}

/* The header's two rights, then one item per port descriptor, as the sender named them. */
static void fill_items(const struct ipc_kmsg *k, struct ipc_right_item *items)
{
	char *d = first_descriptor(&k->header);

	items[0] = (struct ipc_right_item){ .name = k->header.msgh_remote_port,
	                                    .disposition = MACH_MSGH_BITS_REMOTE(k->header.msgh_bits) };
	items[1] = (struct ipc_right_item){ .name = k->header.msgh_local_port,
	                                    .disposition = MACH_MSGH_BITS_LOCAL(k->header.msgh_bits) };
	for (uint32_t i = descriptor_count(&k->header), n = 2; i > 0; i--, d = next_descriptor(d)) {
		const mach_msg_port_descriptor_t *pd = (const void *)d;
		if (descriptor_type(d) == MACH_MSG_PORT_DESCRIPTOR)
			items[n++] = (struct ipc_right_item){ .name = pd->name,
			                                      .disposition = pd->disposition };
	}
}

/* Puts the rights taken into k: its header's, and each port descriptor in kernel form. */
static void store_items(struct ipc_kmsg *k, const struct ipc_right_item *items)
{
	char *d = first_descriptor(&k->header);

	k->dest = items[0].port;
	k->dest_type = items[0].carried;
	k->reply = items[1].port;
	k->reply_type = items[1].carried;
	for (uint32_t i = descriptor_count(&k->header), n = 2; i > 0; i--, d = next_descriptor(d)) {
		if (descriptor_type(d) != MACH_MSG_PORT_DESCRIPTOR)
			continue;
		const struct ipc_right_item *item = &items[n++];
		struct ipc_port *port = item->port ? item->port :
		                        item->name == MACH_PORT_DEAD ? PORT_DEAD : NULL;
		ipc_kmsg_set_port_descriptor((void *)d, port, item->carried);
	}
}

mach_msg_return_t ipc_kmsg_copyin_rights(struct ipc_kmsg *k, struct ipc_space *space)
{
	struct ipc_right_item few[8];          /* most messages: no kalloc on the way */
	uint32_t count = 2 + port_descriptor_count(k);
	size_t bytes = count * sizeof(few[0]);
	struct ipc_right_item *items = count <= 8 ? few : kalloc(bytes);
	mach_msg_return_t mr = MACH_SEND_NO_BUFFER;

	if (items) {
		fill_items(k, items);
		mr = ipc_space_copyin_rights(space, items, count);
	}
	if (mr == MACH_MSG_SUCCESS)
		store_items(k, items);
	else
		discard_all_memory(k);
	if (items && items != few)
		kfree(items, bytes);
	return mr;
}

void ipc_kmsg_deallocate_sent(const mach_msg_header_t *sent, vm_map_t map)
{
	char *d = first_descriptor(sent);

	for (uint32_t i = descriptor_count(sent); i > 0; i--, d = next_descriptor(d)) {
		mach_msg_ool_descriptor_t ool;
		if (descriptor_type(d) != MACH_MSG_OOL_DESCRIPTOR)
			continue;
		__builtin_memcpy(&ool, d, sizeof(ool));
		if (ool.deallocate && ool.size)
			vm_deallocate(map, (vm_address_t)ool.address, ool.size);
	}
}

/* Maps one out-of-line copy into map; MACH_RCV_BODY_ERROR (the data lost) when it cannot. */
static mach_msg_return_t copyout_memory(vm_map_t map, mach_msg_ool_descriptor_t *d)
{
	vm_address_t addr = 0;

	if (d->address == NULL)
		return MACH_MSG_SUCCESS;
	if (map && vm_map_copyout(map, &addr, (vm_map_copy_t)d->address) == KERN_SUCCESS) {
		d->address = (void *)addr;
		return MACH_MSG_SUCCESS;
	}
	discard_memory(d);
	d->size = 0;
	return MACH_RCV_BODY_ERROR;
}

/*
 * Gives one carried right of k to space; MACH_RCV_BODY_ERROR (the right
 * lost) when it cannot, after k's lost step, which may still read the
 * descriptor's port (a reference keeps it).
 */
static mach_msg_return_t copyout_port(struct ipc_kmsg *k, struct ipc_space *space,
                                      mach_msg_port_descriptor_t *d)
{
	struct ipc_port *port = descriptor_port((const char *)d);
	mach_port_name_t name = port == PORT_DEAD ? MACH_PORT_DEAD : MACH_PORT_NULL;
	mach_msg_return_t mr = MACH_MSG_SUCCESS;
	bool held = k->lost && port && port != PORT_DEAD;

	if (held)
		ipc_port_reference(port);
	if (port && port != PORT_DEAD &&
	    ipc_space_copyout_right(space, port, d->disposition, &name) != KERN_SUCCESS) {
		mr = MACH_RCV_BODY_ERROR;
		ipc_kmsg_lost(k);
	}
	if (held)
		ipc_port_release(port);
	d->name = name;
	d->pad1 = 0;
	return mr;
}

static mach_msg_return_t copyout_descriptor(struct ipc_kmsg *k, vm_map_t map,
                                            struct ipc_space *space, char *d);

mach_msg_return_t ipc_kmsg_copyout_body(struct ipc_kmsg *k, struct ipc_space *space,
                                        vm_map_t map)
{
	mach_msg_return_t mr = MACH_MSG_SUCCESS;
	char *d = first_descriptor(&k->header);

	for (uint32_t i = descriptor_count(&k->header); i > 0; i--, d = next_descriptor(d)) {
		mach_msg_return_t one = copyout_descriptor(k, map, space, d);
		if (one != MACH_MSG_SUCCESS)
			mr = one;
	}
	return mr;
}

/*
 * ---- out-of-line arrays of port rights, made by the kernel (task_threads) ----
 *
 * In kernel form the descriptor's address is a kalloc'd array of count
 * ports, each holding the right the message carries; receiving turns
 * every right into a name and maps the array of names anywhere in the
 * receiver, which vm_deallocates it.
 */

void ipc_kmsg_set_ool_ports_descriptor(mach_msg_ool_ports_descriptor_t *d,
                                       struct ipc_port **ports, mach_msg_size_t count,
                                       mach_msg_type_name_t type)
{
	memset(d, 0, sizeof(*d));
	d->address = ports;
	d->count = count;
	d->copy = MACH_MSG_PHYSICAL_COPY;
	d->disposition = type;
	d->type = MACH_MSG_OOL_PORTS_DESCRIPTOR;
}

/* Drops the rights an array in kernel form still holds, and the array. */
static void discard_ports(mach_msg_ool_ports_descriptor_t *d)
{
	struct ipc_port **ports = d->address;

	for (mach_msg_size_t i = 0; ports && i < d->count; i++)
		if (ports[i])
			ipc_right_release(ports[i], d->disposition);
	if (ports)
		kfree(ports, d->count * sizeof(*ports));
	d->address = NULL;
}

/*
 * Names every right of d in space (the rights are the space's now: a
 * right that no longer fits is lost and named MACH_PORT_NULL).  false
 * when one was lost.
 */
static bool name_ports(struct ipc_space *space, mach_msg_ool_ports_descriptor_t *d,
                       mach_port_name_t *names)
{
	struct ipc_port **ports = d->address;
	bool all = true;

	for (mach_msg_size_t i = 0; i < d->count; i++) {
		names[i] = MACH_PORT_NULL;
		if (ports[i] && ipc_space_copyout_right(space, ports[i], d->disposition, &names[i]) !=
		    KERN_SUCCESS)
			all = false;
		ports[i] = NULL;               /* given away either way */
	}
	return all;
}

/* Maps len bytes of names anywhere in map: the address, or 0 when it cannot. */
static vm_address_t map_names(vm_map_t map, const mach_port_name_t *names, vm_size_t len)
{
	vm_map_copy_t copy;
	vm_address_t addr = 0;

	if (map == NULL || vm_map_copy_from_kernel(names, len, &copy) != KERN_SUCCESS)
		return 0;
	if (vm_map_copyout(map, &addr, copy) != KERN_SUCCESS) {
		vm_map_copy_discard(copy);
		return 0;
	}
	return addr;
}

/* Takes back the names name_ports gave (their memory could not be mapped). */
static void unname_ports(struct ipc_space *space, const mach_port_name_t *names,
                         mach_msg_size_t count)
{
	for (mach_msg_size_t i = 0; i < count; i++)
		if (MACH_PORT_VALID(names[i]))
			mach_port_deallocate(space, names[i]);
}

/* Gives d's rights to space and their names to map; MACH_RCV_BODY_ERROR when some are lost. */
static mach_msg_return_t copyout_ports(vm_map_t map, struct ipc_space *space,
                                       mach_msg_ool_ports_descriptor_t *d)
{
	vm_size_t len = (vm_size_t)d->count * sizeof(mach_port_name_t);
	mach_port_name_t *names = d->count ? kalloc(len) : NULL;
	mach_msg_return_t mr = MACH_MSG_SUCCESS;
	vm_address_t addr = 0;

	if (d->count == 0 || names == NULL) {
		mr = d->count ? MACH_RCV_BODY_ERROR : MACH_MSG_SUCCESS;
		discard_ports(d);
		d->count = 0;
		return mr;
	}
	if (!name_ports(space, d, names))
		mr = MACH_RCV_BODY_ERROR;
	addr = map_names(map, names, len);
	if (addr == 0) {
		unname_ports(space, names, d->count);
		mr = MACH_RCV_BODY_ERROR;
	}
	discard_ports(d);                      /* the array; its rights are all gone */
	kfree(names, len);
	d->address = (void *)addr;
	if (addr == 0)
		d->count = 0;
	return mr;
}

/* Delivers one descriptor of k's of any kind to the receiver. */
static mach_msg_return_t copyout_descriptor(struct ipc_kmsg *k, vm_map_t map,
                                            struct ipc_space *space, char *d)
{
	switch (descriptor_type(d)) {
	case MACH_MSG_PORT_DESCRIPTOR:
		return copyout_port(k, space, (void *)d);
	case MACH_MSG_OOL_PORTS_DESCRIPTOR:
		return copyout_ports(map, space, (void *)d);
	default:
		return copyout_memory(map, (void *)d);
	}
}
