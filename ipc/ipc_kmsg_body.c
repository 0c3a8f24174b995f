/*
 * The body of a complex message: out-of-line memory, and the port
 * rights the kernel's replies carry (ipc/mach_msg.h).
 *
 * Sending, each descriptor's range is taken from the sender's map with
 * vm_map_copyin (whole pages copy-on-write: no byte moves), and the
 * kernel's copy of the message holds the vm_map_copy in the descriptor's
 * address field.  Receiving, each copy is mapped into the receiver's map
 * with vm_map_copyout and the field gets the address.  A port descriptor
 * made by the kernel holds its port and a right to it; receiving turns
 * the right into a name in the receiver's space.  The maps are the
 * current task's, as Mach's current_map(): a kernel thread has none, and
 * its messages carry no memory.
 *
 * Lock order: no IPC lock is held here; the VM takes its own.
 */
#include "ipc/mach_msg.h"
#include "kern/kalloc.h"
#include "kern/string.h"
#include "kern/task.h"
#include "vm/vm_map.h"
#include "vm/vm_user.h"

#define BODY_OFFSET  sizeof(mach_msg_header_t)
#define DESC_OFFSET  (BODY_OFFSET + sizeof(mach_msg_body_t))

static vm_map_t current_map(void)
{
	struct task *t = current_task();

	return t ? t->map : NULL;
}

static mach_msg_ool_descriptor_t *descriptor(struct ipc_kmsg *k, uint32_t i)
{
	return (mach_msg_ool_descriptor_t *)((char *)&k->header + DESC_OFFSET) + i;
}

/* How many descriptors k has (0 for a simple message). */
static uint32_t descriptor_count(const struct ipc_kmsg *k)
{
	mach_msg_body_t body;

	if (!(k->header.msgh_bits & MACH_MSGH_BITS_COMPLEX))
		return 0;
	memcpy(&body, (const char *)&k->header + BODY_OFFSET, sizeof(body));
	return body.msgh_descriptor_count;
}

/* Every kind of descriptor keeps its type in byte 11; the kind gives the size. */
static unsigned descriptor_type(const char *d)
{
	return (unsigned char)d[11];
}

static char *next_descriptor(char *d)
{
	return d + (descriptor_type(d) == MACH_MSG_PORT_DESCRIPTOR ?
	            sizeof(mach_msg_port_descriptor_t) : sizeof(mach_msg_ool_descriptor_t));
}

/* A port descriptor in kernel form holds the port in its name and pad1 words. */
static struct ipc_port *descriptor_port(const char *d)
{
	struct ipc_port *port;

	memcpy(&port, d, sizeof(port));
	return port;
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

void ipc_kmsg_clean_body(struct ipc_kmsg *k)
{
	char *d = (char *)&k->header + DESC_OFFSET;

	for (uint32_t i = descriptor_count(k); i > 0; i--, d = next_descriptor(d)) {
		if (descriptor_type(d) == MACH_MSG_PORT_DESCRIPTOR) {
			mach_msg_port_descriptor_t *pd = (void *)d;
			if (descriptor_port(d))
				ipc_right_release(descriptor_port(d), pd->disposition);
			memset(d, 0, 8);
		} else if (descriptor_type(d) == MACH_MSG_OOL_PORTS_DESCRIPTOR) {
			discard_ports((void *)d);
		} else {
			discard_memory((void *)d);
		}
	}
}

/* Is k's body well formed: a count its size holds, every descriptor out-of-line? */
static mach_msg_return_t check_body(struct ipc_kmsg *k)
{
	if (k->size < DESC_OFFSET)
		return MACH_SEND_MSG_TOO_SMALL;
	uint32_t n = descriptor_count(k);
	if (n > (k->size - DESC_OFFSET) / sizeof(mach_msg_ool_descriptor_t))
		return MACH_SEND_MSG_TOO_SMALL;
	for (uint32_t i = 0; i < n; i++)
		if (descriptor(k, i)->type != MACH_MSG_OOL_DESCRIPTOR)
			return MACH_SEND_INVALID_TYPE;  /* port descriptors are not carried yet */
	return MACH_MSG_SUCCESS;
}

mach_msg_return_t ipc_kmsg_copyin_body(struct ipc_kmsg *k)
{
	vm_map_t map = current_map();
	mach_msg_return_t mr;

	if (!(k->header.msgh_bits & MACH_MSGH_BITS_COMPLEX))
		return MACH_MSG_SUCCESS;
	if (map == NULL)
		return MACH_SEND_INVALID_TYPE;
	if ((mr = check_body(k)) != MACH_MSG_SUCCESS)
		return mr;
	uint32_t n = descriptor_count(k);
	for (uint32_t i = 0; i < n; i++) {
		mach_msg_ool_descriptor_t *d = descriptor(k, i);
		vm_map_copy_t copy = NULL;
		if (d->size && vm_map_copyin(map, (vm_address_t)d->address, d->size, &copy) !=
		    KERN_SUCCESS) {
			for (uint32_t j = i; j < n; j++)
				descriptor(k, j)->address = NULL;   /* still the sender's: not ours */
			ipc_kmsg_clean_body(k);             /* drops the copies made so far */
			return MACH_SEND_INVALID_MEMORY;
		}
		d->address = copy;
	}
	return MACH_MSG_SUCCESS;
}

void ipc_kmsg_deallocate_sent(const mach_msg_header_t *sent)
{
	vm_map_t map = current_map();
	mach_msg_body_t body;

	if (!(sent->msgh_bits & MACH_MSGH_BITS_COMPLEX))
		return;
	memcpy(&body, (const char *)sent + BODY_OFFSET, sizeof(body));
	for (uint32_t i = 0; i < body.msgh_descriptor_count; i++) {
		mach_msg_ool_descriptor_t d;
		memcpy(&d, (const char *)sent + DESC_OFFSET + i * sizeof(d), sizeof(d));
		if (d.deallocate && d.size)
			vm_deallocate(map, (vm_address_t)d.address, d.size);
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

/* Gives one carried right to space; MACH_RCV_BODY_ERROR (the right lost) when it cannot. */
static mach_msg_return_t copyout_port(struct ipc_space *space, mach_msg_port_descriptor_t *d)
{
	struct ipc_port *port = descriptor_port((const char *)d);
	mach_port_name_t name = MACH_PORT_NULL;
	mach_msg_return_t mr = MACH_MSG_SUCCESS;

	if (port && ipc_space_copyout_right(space, port, d->disposition, &name) != KERN_SUCCESS)
		mr = MACH_RCV_BODY_ERROR;
	d->name = name;
	d->pad1 = 0;
	return mr;
}

static mach_msg_return_t copyout_descriptor(vm_map_t map, struct ipc_space *space, char *d);

mach_msg_return_t ipc_kmsg_copyout_body(struct ipc_kmsg *k, struct ipc_space *space)
{
	vm_map_t map = current_map();
	mach_msg_return_t mr = MACH_MSG_SUCCESS;
	char *d = (char *)&k->header + DESC_OFFSET;

	for (uint32_t i = descriptor_count(k); i > 0; i--, d = next_descriptor(d)) {
		mach_msg_return_t one = copyout_descriptor(map, space, d);
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

/* Delivers one descriptor of any kind to the receiver. */
static mach_msg_return_t copyout_descriptor(vm_map_t map, struct ipc_space *space, char *d)
{
	switch (descriptor_type(d)) {
	case MACH_MSG_PORT_DESCRIPTOR:
		return copyout_port(space, (void *)d);
	case MACH_MSG_OOL_PORTS_DESCRIPTOR:
		return copyout_ports(map, space, (void *)d);
	default:
		return copyout_memory(map, (void *)d);
	}
}
