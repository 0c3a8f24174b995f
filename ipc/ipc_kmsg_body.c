/*
 * The body of a complex message: out-of-line memory (ipc/mach_msg.h).
 *
 * Sending, each descriptor's range is taken from the sender's map with
 * vm_map_copyin (whole pages copy-on-write: no byte moves), and the
 * kernel's copy of the message holds the vm_map_copy in the descriptor's
 * address field.  Receiving, each copy is mapped into the receiver's map
 * with vm_map_copyout and the field gets the address.  The maps are the
 * current task's, as Mach's current_map(): a kernel thread has none, and
 * its messages carry no memory.
 *
 * Lock order: no IPC lock is held here; the VM takes its own.
 */
#include "ipc/mach_msg.h"
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

/* Discards the copies the first n descriptors hold.  => k's body is in kernel form */
static void discard_copies(struct ipc_kmsg *k, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		mach_msg_ool_descriptor_t *d = descriptor(k, i);
		if (d->address)
			vm_map_copy_discard((vm_map_copy_t)d->address);
		d->address = NULL;
	}
}

void ipc_kmsg_clean_body(struct ipc_kmsg *k)
{
	discard_copies(k, descriptor_count(k));
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
			discard_copies(k, i);
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

mach_msg_return_t ipc_kmsg_copyout_body(struct ipc_kmsg *k)
{
	vm_map_t map = current_map();
	mach_msg_return_t mr = MACH_MSG_SUCCESS;
	uint32_t n = descriptor_count(k);

	for (uint32_t i = 0; i < n; i++) {
		mach_msg_ool_descriptor_t *d = descriptor(k, i);
		vm_address_t addr = 0;
		if (d->address == NULL)
			continue;
		if (map && vm_map_copyout(map, &addr, (vm_map_copy_t)d->address) == KERN_SUCCESS) {
			d->address = (void *)addr;
			continue;
		}
		vm_map_copy_discard((vm_map_copy_t)d->address);   /* no room: the data is lost */
		d->address = NULL;
		d->size = 0;
		mr = MACH_RCV_BODY_ERROR;
	}
	return mr;
}
