/*
 * The user stubs of the VM calls on a task port: each builds the request
 * <mach/vm_map_rpc.h> describes, sends it with a send-once right to this
 * program's reply port and receives the reply into the same buffer, as a
 * MIG-generated stub would.
 */
#include <string.h>
#include <mach/mach.h>
#include <mach/vm_map_rpc.h>
#include "lib.h"

kern_return_t vm_allocate(vm_map_t target_task, vm_address_t *address, vm_size_t size,
			  int flags)
{
	union {
		vm_allocate_request_t in;
		vm_allocate_reply_t out;
	} m = { .in = { .address = *address, .size = size, .flags = flags } };
	kern_return_t kr = mig_rpc(target_task, &m.in.Head, VM_ALLOCATE_ID, sizeof(m.in),
			       sizeof(m.out));

	if (kr == KERN_SUCCESS)
		*address = m.out.address;
	return kr;
}

kern_return_t vm_deallocate(vm_map_t target_task, vm_address_t address, vm_size_t size)
{
	union {
		vm_deallocate_request_t in;
		mig_reply_error_t out;
	} m = { .in = { .address = address, .size = size } };

	return mig_rpc(target_task, &m.in.Head, VM_DEALLOCATE_ID, sizeof(m.in), sizeof(m.out));
}

kern_return_t vm_protect(vm_map_t target_task, vm_address_t address, vm_size_t size,
			 boolean_t set_maximum, vm_prot_t new_protection)
{
	union {
		vm_protect_request_t in;
		mig_reply_error_t out;
	} m = { .in = { .address = address, .size = size, .set_maximum = set_maximum,
			.new_protection = new_protection } };

	return mig_rpc(target_task, &m.in.Head, VM_PROTECT_ID, sizeof(m.in), sizeof(m.out));
}

kern_return_t vm_write(vm_task_t target_task, vm_address_t address, pointer_t data,
		       mach_msg_type_number_t data_count)
{
	union {
		vm_write_request_t in;
		mig_reply_error_t out;
	} m = { .in = {
		.msgh_body = { .msgh_descriptor_count = 1 },
		.data = { .address = (void *)data, .size = data_count,
			  .copy = MACH_MSG_VIRTUAL_COPY, .type = MACH_MSG_OOL_DESCRIPTOR },
		.address = address,
		.dataCnt = data_count,
	} };

	m.in.Head.msgh_bits = MACH_MSGH_BITS_COMPLEX;
	return mig_rpc(target_task, &m.in.Head, VM_WRITE_ID, sizeof(m.in), sizeof(m.out));
}

kern_return_t vm_inherit(vm_map_t target_task, vm_address_t address, vm_size_t size,
			 vm_inherit_t new_inheritance)
{
	union {
		vm_inherit_request_t in;
		mig_reply_error_t out;
	} m = { .in = { .address = address, .size = size, .new_inheritance = new_inheritance } };

	return mig_rpc(target_task, &m.in.Head, VM_INHERIT_ID, sizeof(m.in), sizeof(m.out));
}

kern_return_t vm_copy(vm_map_t target_task, vm_address_t source_address, vm_size_t size,
		      vm_address_t dest_address)
{
	union {
		vm_copy_request_t in;
		mig_reply_error_t out;
	} m = { .in = { .source_address = source_address, .size = size,
			.dest_address = dest_address } };

	return mig_rpc(target_task, &m.in.Head, VM_COPY_ID, sizeof(m.in), sizeof(m.out));
}

kern_return_t vm_region(vm_map_t target_task, vm_address_t *address, vm_size_t *size,
			vm_region_flavor_t flavor, vm_region_info_t info,
			mach_msg_type_number_t *infoCnt, mach_port_t *object_name)
{
	union {
		vm_region_request_t in;
		vm_region_reply_t out;
	} m = { .in = { .address = *address, .flavor = flavor, .infoCnt = *infoCnt } };
	kern_return_t kr = mig_rpc(target_task, &m.in.Head, VM_REGION_ID, sizeof(m.in), sizeof(m.out));

	if (kr != KERN_SUCCESS)
		return kr;
	if (m.out.infoCnt > *infoCnt || m.out.infoCnt > VM_REGION_INFO_MAX_COUNT)
		return MIG_TYPE_ERROR;             /* more than the caller has room for */
	memcpy(info, m.out.info, m.out.infoCnt * sizeof(int));
	*address = m.out.address;
	*size = m.out.size;
	*infoCnt = m.out.infoCnt;
	*object_name = MACH_PORT_NULL;
	return KERN_SUCCESS;
}

kern_return_t vm_read(vm_map_t target_task, vm_address_t address, vm_size_t size,
		      vm_offset_t *data, mach_msg_type_number_t *data_count)
{
	union {
		vm_read_request_t in;
		vm_read_reply_t out;
	} m = { .in = { .address = address, .size = size } };
	kern_return_t kr = mig_rpc(target_task, &m.in.Head, VM_READ_ID, sizeof(m.in), sizeof(m.out));

	if (kr != KERN_SUCCESS)
		return kr;
	*data = (vm_offset_t)m.out.data.address;
	*data_count = m.out.dataCnt;
	return KERN_SUCCESS;
}

kern_return_t task_create(task_t parent_task, boolean_t inherit_memory, task_t *child_task)
{
	union {
		task_create_request_t in;
		task_create_reply_t out;
	} m = { .in = { .inherit_memory = inherit_memory } };
	kern_return_t kr = mig_rpc(parent_task, &m.in.Head, TASK_CREATE_ID, sizeof(m.in),
				   sizeof(m.out));

	if (kr == KERN_SUCCESS)
		*child_task = m.out.child_task.name;
	return kr;
}

kern_return_t task_terminate(task_t target_task)
{
	union {
		task_terminate_request_t in;
		mig_reply_error_t out;
	} m = { .in = { .Head = { 0 } } };

	return mig_rpc(target_task, &m.in.Head, TASK_TERMINATE_ID, sizeof(m.in), sizeof(m.out));
}
