/*
 * The user stubs of the mach_port calls: each builds the request
 * <mach/mach_port_rpc.h> describes and sends it to the task port of the
 * space it acts on (mig_rpc, user/lib/mach.c).
 */
#include <mach/mach.h>
#include <mach/mach_port_rpc.h>
#include "lib.h"

kern_return_t mach_port_allocate(ipc_space_t task, mach_port_right_t right,
				 mach_port_name_t *name)
{
	union {
		mach_port_allocate_request_t in;
		mach_port_allocate_reply_t out;
	} m = { .in = { .right = right } };
	kern_return_t kr = mig_rpc(task, &m.in.Head, MACH_PORT_ALLOCATE_ID, sizeof(m.in),
				   sizeof(m.out));

	if (kr == KERN_SUCCESS)
		*name = m.out.name;
	return kr;
}

kern_return_t mach_port_deallocate(ipc_space_t task, mach_port_name_t name)
{
	union {
		mach_port_name_request_t in;
		mig_reply_error_t out;
	} m = { .in = { .name = name } };

	return mig_rpc(task, &m.in.Head, MACH_PORT_DEALLOCATE_ID, sizeof(m.in), sizeof(m.out));
}

kern_return_t mach_port_type(ipc_space_t task, mach_port_name_t name, mach_port_type_t *ptype)
{
	union {
		mach_port_name_request_t in;
		mach_port_type_reply_t out;
	} m = { .in = { .name = name } };
	kern_return_t kr = mig_rpc(task, &m.in.Head, MACH_PORT_TYPE_ID, sizeof(m.in), sizeof(m.out));

	if (kr == KERN_SUCCESS)
		*ptype = m.out.ptype;
	return kr;
}

kern_return_t mach_port_get_refs(ipc_space_t task, mach_port_name_t name,
				 mach_port_right_t right, mach_port_urefs_t *refs)
{
	union {
		mach_port_refs_request_t in;
		mach_port_get_refs_reply_t out;
	} m = { .in = { .name = name, .right = right } };
	kern_return_t kr = mig_rpc(task, &m.in.Head, MACH_PORT_GET_REFS_ID, sizeof(m.in),
				   sizeof(m.out));

	if (kr == KERN_SUCCESS)
		*refs = m.out.refs;
	return kr;
}

kern_return_t mach_port_mod_refs(ipc_space_t task, mach_port_name_t name,
				 mach_port_right_t right, mach_port_delta_t delta)
{
	union {
		mach_port_refs_request_t in;
		mig_reply_error_t out;
	} m = { .in = { .name = name, .right = right, .delta = delta } };

	return mig_rpc(task, &m.in.Head, MACH_PORT_MOD_REFS_ID, sizeof(m.in), sizeof(m.out));
}

/*
 * poly travels in a port descriptor with the disposition polyPoly.  Mica
 * inserts send rights only; a receive or send-once right would be spent
 * by the trip, so those are refused here, before they leave.
 */
kern_return_t mach_port_insert_right(ipc_space_t task, mach_port_name_t name, mach_port_t poly,
				     mach_msg_type_name_t polyPoly)
{
	union {
		mach_port_insert_right_request_t in;
		mig_reply_error_t out;
	} m = { .in = {
		.Head = { .msgh_bits = MACH_MSGH_BITS_COMPLEX },
		.msgh_body = { .msgh_descriptor_count = 1 },
		.poly = { .name = poly, .disposition = polyPoly, .type = MACH_MSG_PORT_DESCRIPTOR },
		.name = name,
	} };

	if (polyPoly != MACH_MSG_TYPE_MAKE_SEND && polyPoly != MACH_MSG_TYPE_COPY_SEND &&
	    polyPoly != MACH_MSG_TYPE_MOVE_SEND)
		return KERN_INVALID_VALUE;
	return mig_rpc(task, &m.in.Head, MACH_PORT_INSERT_RIGHT_ID, sizeof(m.in), sizeof(m.out));
}
