/*
 * 10,000 malformed requests to kernel-object ports, of every kind the
 * dispatcher and mach_msg must refuse: unknown ids, wrong sizes, the
 * wrong descriptors, unreadable out-of-line memory, forged rights and
 * destinations, bad headers, a port of the wrong kind, a dead task's port.
 * Each gets its exact error, from mach_msg or in the reply; the kernel
 * survives, and host_vm_stats shows nothing leaked.
 */
#include <ktap.h>
#include <string.h>

#include <mach/mach.h>
#include <mach/host_rpc.h>
#include <mach/mach_port_rpc.h>
#include <mach/vm_map_rpc.h>

#define ROUNDS      10000
#define FORGED      0x7f4203u
#define UNMAPPED    0x1000ul       /* under the null guard: never mapped */
#define PAGE        4096u

#pragma pack(push, 4)
union request {
	mach_msg_header_t head;
	mig_reply_error_t reply;
	struct {
		mach_msg_header_t head;
		mach_msg_body_t body;
		union {
			mach_msg_port_descriptor_t port;
			mach_msg_ool_descriptor_t ool;
		} d;
	} complex;
	unsigned char bytes[256];
};
#pragma pack(pop)

/* Routines and the exact size of their requests. */
static const struct {
	mach_msg_id_t id;
	mach_msg_size_t size;
} routines[] = {
	{ VM_ALLOCATE_ID, sizeof(vm_allocate_request_t) },
	{ VM_READ_ID, sizeof(vm_read_request_t) },
	{ VM_WRITE_ID, sizeof(vm_write_request_t) },
	{ TASK_CREATE_ID, sizeof(task_create_request_t) },
	{ MACH_PORT_ALLOCATE_ID, sizeof(mach_port_allocate_request_t) },
	{ HOST_PAGE_SIZE_ID, sizeof(host_request_t) },
};
#define ROUTINES (sizeof(routines) / sizeof(routines[0]))

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static task_t child, dead;

static uint32_t next(uint32_t below)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % below);
}

/* A request of size bytes to dest with a send-once reply right, its body random. */
static void build(union request *m, mach_port_t dest, mach_msg_id_t id, mach_msg_size_t size)
{
	for (unsigned i = 0; i < sizeof(m->bytes); i++)
		m->bytes[i] = (unsigned char)next(256);
	m->head.msgh_bits = MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, MACH_MSG_TYPE_MAKE_SEND_ONCE);
	m->head.msgh_size = size;
	m->head.msgh_remote_port = dest;
	m->head.msgh_local_port = mig_get_reply_port();
	m->head.msgh_voucher_port = 0;
	m->head.msgh_id = id;
}

/* Sends m and waits for the reply: mach_msg's error, or the reply's RetCode. */
static kern_return_t call(union request *m, mach_msg_size_t size)
{
	mach_msg_return_t mr = mach_msg(&m->head, MACH_SEND_MSG | MACH_RCV_MSG | MACH_RCV_TIMEOUT,
					size, sizeof(*m), mig_get_reply_port(), 1000,
					MACH_PORT_NULL);

	return mr != MACH_MSG_SUCCESS ? mr : m->reply.RetCode;
}

/* A complex request to child with one descriptor, the exact size of vm_write's. */
static void build_complex(union request *m, unsigned type)
{
	build(m, child, VM_WRITE_ID, sizeof(vm_write_request_t));
	m->head.msgh_bits |= MACH_MSGH_BITS_COMPLEX;
	m->complex.body.msgh_descriptor_count = 1;
	memset(&m->complex.d, 0, sizeof(m->complex.d));
	m->complex.d.ool.type = type;
}

/* One malformed request of kind k, checked against the code it must get; true when it did. */
static bool one(unsigned k)
{
	union request m;
	unsigned r = next(ROUTINES);
	mach_msg_size_t size = routines[r].size;

	switch (k) {
	case 0:                        /* no routine has the id */
		build(&m, next(2) ? child : mach_host_self(), 5000 + next(1000), 24 + 4 * next(20));
		return call(&m, m.head.msgh_size) == MIG_BAD_ID;
	case 1:                        /* a routine's id, another size */
		size += 4 * (1 + next(8));
		build(&m, child, routines[r].id, size);
		return call(&m, size) == MIG_BAD_ARGUMENTS;
	case 2:                        /* the right size, a port where memory belongs */
		build_complex(&m, MACH_MSG_PORT_DESCRIPTOR);
		m.complex.d.port.disposition = MACH_MSG_TYPE_COPY_SEND;   /* names MACH_PORT_NULL */
		return call(&m, sizeof(vm_write_request_t)) == MIG_BAD_ARGUMENTS;
	case 3:                        /* a descriptor of no kind Mach has */
		build_complex(&m, 7 + next(200));
		return call(&m, sizeof(vm_write_request_t)) == MACH_SEND_INVALID_TYPE;
	case 4:                        /* more descriptors than the message holds */
		build_complex(&m, MACH_MSG_OOL_DESCRIPTOR);
		m.complex.body.msgh_descriptor_count = 2 + next(1000000);
		return call(&m, sizeof(vm_write_request_t)) == MACH_SEND_MSG_TOO_SMALL;
	case 5:                        /* out-of-line memory that cannot be read */
		build_complex(&m, MACH_MSG_OOL_DESCRIPTOR);
		m.complex.d.ool.address = (void *)(UNMAPPED + next(PAGE));
		m.complex.d.ool.size = 1 + next(3 * PAGE);
		return call(&m, sizeof(vm_write_request_t)) == MACH_SEND_INVALID_MEMORY;
	case 6:                        /* a port right the sender does not have */
		build_complex(&m, MACH_MSG_PORT_DESCRIPTOR);
		m.complex.d.port.name = FORGED + (next(64) << 8);
		m.complex.d.port.disposition = MACH_MSG_TYPE_MOVE_SEND + next(5);
		return call(&m, sizeof(vm_write_request_t)) == MACH_SEND_INVALID_RIGHT;
	case 7:                        /* a disposition no descriptor may carry */
		build_complex(&m, MACH_MSG_PORT_DESCRIPTOR);
		m.complex.d.port.disposition = next(2) ? next(16) : 22 + next(10);
		return call(&m, sizeof(vm_write_request_t)) == MACH_SEND_INVALID_TYPE;
	case 8:                        /* a destination that is nothing, or a dead task */
		build(&m, next(3) == 0 ? MACH_PORT_NULL : next(2) ? FORGED : dead, routines[r].id, size);
		return call(&m, size) == MACH_SEND_INVALID_DEST;
	case 9:                        /* a reply right the sender does not have */
		build(&m, child, routines[r].id, size);
		m.head.msgh_local_port = FORGED;
		return call(&m, size) == MACH_SEND_INVALID_REPLY;
	case 10:                       /* a header mach_msg refuses */
		build(&m, child, routines[r].id, size);
		if (next(2)) {
			m.head.msgh_bits = MACH_MSGH_BITS(1 + next(16), MACH_MSG_TYPE_MAKE_SEND_ONCE);
			return call(&m, size) == MACH_SEND_INVALID_HEADER;
		}
		return call(&m, 4 * next(6) + 1 + next(3)) == MACH_SEND_MSG_TOO_SMALL;
	default:                       /* a port of the wrong kind for the routine */
		build(&m, mach_host_self(), VM_ALLOCATE_ID, sizeof(vm_allocate_request_t));
		if (next(2)) {
			m.head.msgh_remote_port = child;
			m.head.msgh_id = HOST_PAGE_SIZE_ID;
			return call(&m, sizeof(host_request_t)) == KERN_INVALID_ARGUMENT;
		}
		return call(&m, sizeof(vm_allocate_request_t)) == KERN_INVALID_ARGUMENT;
	}
}

#define KINDS 12

static void ten_thousand_malformed_requests_are_refused(void)
{
	struct mica_vm_stats before, after;
	unsigned wrong[KINDS] = { 0 }, total = 0;
	union request m;

	KT_ASSERT_EQ(task_create(mach_task_self(), 0, &child), KERN_SUCCESS);
	KT_ASSERT_EQ(task_create(mach_task_self(), 0, &dead), KERN_SUCCESS);
	KT_ASSERT_EQ(task_terminate(dead), KERN_SUCCESS);
	mach_port_type_t type = 0;                    /* the right now reads as a dead name */
	KT_ASSERT_EQ(mach_port_type(mach_task_self(), dead, &type), KERN_SUCCESS);
	KT_EXPECT_EQ(type, MACH_PORT_TYPE_DEAD_NAME);
	for (unsigned k = 0; k < KINDS; k++)   /* every path once before the snapshot */
		one(k);
	KT_ASSERT_EQ(host_vm_stats(mach_host_self(), &before), KERN_SUCCESS);
	for (unsigned i = 0; i < ROUNDS; i++) {
		unsigned k = next(KINDS);
		if (!one(k))
			wrong[k]++;
	}
	KT_ASSERT_EQ(host_vm_stats(mach_host_self(), &after), KERN_SUCCESS);
	for (unsigned k = 0; k < KINDS; k++) {
		if (wrong[k])
			ktap_fail_at(__FILE__, __LINE__, "kind %u: %u wrong answers", k, wrong[k]);
		total += wrong[k];
	}
	KT_EXPECT_EQ(total, 0);
	KT_EXPECT_SAME_VM_STATS(before, after);
	/* no stray reply waits, and the child is still whole */
	KT_EXPECT_EQ(mach_msg(&m.head, MACH_RCV_MSG | MACH_RCV_TIMEOUT, 0, sizeof(m),
			      mig_get_reply_port(), 0, MACH_PORT_NULL), MACH_RCV_TIMED_OUT);
	KT_EXPECT_EQ(task_terminate(child), KERN_SUCCESS);
	KT_EXPECT_EQ(mach_port_deallocate(mach_task_self(), child), KERN_SUCCESS);
	KT_EXPECT_EQ(mach_port_deallocate(mach_task_self(), dead), KERN_SUCCESS);
}

int main(void)
{
	static const struct ktap_case cases[] = {
		KTAP_CASE(ten_thousand_malformed_requests_are_refused),
	};

	return ktap_run(cases, sizeof cases / sizeof cases[0]);
}
