/*
 * The VM calls as Mach RPCs on the program's own task port: authority
 * is the send right, replies carry the kernel's codes, and requests the
 * server cannot read get MIG's.
 */
#include <ktap.h>
#include <string.h>

#include <mach/mach.h>
#include <mach/vm_map_rpc.h>
#include <mica/mica.h>

static void task_self_names_one_port(void)
{
	mach_port_t self = mach_task_self();

	KT_EXPECT(self != MACH_PORT_NULL);
	KT_EXPECT_EQ(mach_task_self(), self);
}

static size_t nonzero_bytes(const unsigned char *p, size_t n)
{
	size_t count = 0;

	for (size_t i = 0; i < n; i++)
		count += p[i] != 0;
	return count;
}

static void vm_calls_reach_the_own_map(void)
{
	mach_port_t self = mach_task_self();
	vm_address_t a = 0;

	KT_ASSERT_EQ(vm_allocate(self, &a, 3 * PAGE_SIZE, VM_FLAGS_ANYWHERE), KERN_SUCCESS);
	KT_EXPECT(a >= 0x10000 && a % PAGE_SIZE == 0);
	KT_EXPECT_EQ(nonzero_bytes((const unsigned char *)a, 3 * PAGE_SIZE), 0);
	memset((void *)a, 0x5a, 3 * PAGE_SIZE);
	KT_EXPECT_EQ(((volatile unsigned char *)a)[3 * PAGE_SIZE - 1], 0x5a);
	KT_EXPECT_EQ(vm_protect(self, a, PAGE_SIZE, 0, VM_PROT_READ), KERN_SUCCESS);
	KT_EXPECT_EQ(((volatile unsigned char *)a)[0], 0x5a);              /* still readable */
	KT_EXPECT_EQ(vm_deallocate(self, a, 3 * PAGE_SIZE), KERN_SUCCESS);
	vm_address_t again = a;
	KT_EXPECT_EQ(vm_allocate(self, &again, PAGE_SIZE, VM_FLAGS_FIXED), KERN_SUCCESS);
	KT_EXPECT_EQ(((volatile unsigned char *)a)[0], 0);                 /* fresh, zero-filled */
	KT_EXPECT_EQ(vm_deallocate(self, a, PAGE_SIZE), KERN_SUCCESS);
	again = a + 5;                            /* nothing allocated: no address, as XNU */
	KT_EXPECT_EQ(vm_allocate(self, &again, 0, VM_FLAGS_FIXED), KERN_SUCCESS);
	KT_EXPECT_EQ(again, 0);
	again = a;
	KT_EXPECT_EQ(vm_allocate(self, &again, 0, VM_FLAGS_ANYWHERE), KERN_SUCCESS);
	KT_EXPECT_EQ(again, 0);
}

/* The kernel's error codes come back in the reply, and the call changed nothing. */
static void errors_travel_in_the_reply(void)
{
	mach_port_t self = mach_task_self();
	vm_address_t a = 0, b;

	KT_ASSERT_EQ(vm_allocate(self, &a, PAGE_SIZE, VM_FLAGS_ANYWHERE), KERN_SUCCESS);
	b = a;
	KT_EXPECT_EQ(vm_allocate(self, &b, PAGE_SIZE, VM_FLAGS_FIXED), KERN_NO_SPACE);
	KT_EXPECT_EQ(b, a);
	KT_EXPECT_EQ(vm_protect(self, a, PAGE_SIZE, 1, VM_PROT_READ), KERN_SUCCESS);
	KT_EXPECT_EQ(vm_protect(self, a, PAGE_SIZE, 0, VM_PROT_READ | VM_PROT_WRITE),
		     KERN_PROTECTION_FAILURE);
	KT_EXPECT_EQ(vm_deallocate(self, a, PAGE_SIZE), KERN_SUCCESS);
}

/* The basic information of the region at or above addr. */
static kern_return_t region_at(vm_address_t *addr, vm_size_t *size,
			       vm_region_basic_info_data_64_t *info)
{
	mach_msg_type_number_t count = VM_REGION_BASIC_INFO_COUNT_64;
	mach_port_t object_name = 1;
	kern_return_t kr = vm_region(mach_task_self(), addr, size, VM_REGION_BASIC_INFO_64,
				     (vm_region_info_t)info, &count, &object_name);

	KT_EXPECT_EQ(object_name, kr == KERN_SUCCESS ? MACH_PORT_NULL : 1);
	KT_EXPECT_EQ(count, VM_REGION_BASIC_INFO_COUNT_64);
	return kr;
}

static void vm_region_inherit_and_copy(void)
{
	mach_port_t self = mach_task_self();
	vm_region_basic_info_data_64_t info;
	vm_address_t a = 0, at;
	vm_size_t size;

	KT_ASSERT_EQ(vm_allocate(self, &a, 3 * PAGE_SIZE, VM_FLAGS_ANYWHERE), KERN_SUCCESS);
	KT_ASSERT_EQ(vm_protect(self, a + PAGE_SIZE, PAGE_SIZE, 0, VM_PROT_READ), KERN_SUCCESS);
	KT_ASSERT_EQ(vm_inherit(self, a + PAGE_SIZE, PAGE_SIZE, VM_INHERIT_NONE), KERN_SUCCESS);
	at = a + PAGE_SIZE + 8;
	KT_ASSERT_EQ(region_at(&at, &size, &info), KERN_SUCCESS);
	KT_EXPECT_EQ(at, a + PAGE_SIZE);
	KT_EXPECT_EQ(size, PAGE_SIZE);
	KT_EXPECT_EQ(info.protection, VM_PROT_READ);
	KT_EXPECT_EQ(info.inheritance, VM_INHERIT_NONE);
	at = a;
	KT_ASSERT_EQ(region_at(&at, &size, &info), KERN_SUCCESS);
	KT_EXPECT_EQ(info.protection, VM_PROT_READ | VM_PROT_WRITE);
	KT_EXPECT_EQ(vm_inherit(self, a, PAGE_SIZE, 99), KERN_INVALID_ARGUMENT);

	memset((void *)a, 0x33, 16);
	KT_EXPECT_EQ(vm_copy(self, a, 16, a + 2 * PAGE_SIZE + 8), KERN_SUCCESS);
	KT_EXPECT_EQ(((unsigned char *)a)[2 * PAGE_SIZE + 8 + 15], 0x33);
	KT_EXPECT_EQ(vm_copy(self, a, 16, a + PAGE_SIZE), KERN_PROTECTION_FAILURE);
	KT_EXPECT_EQ(((unsigned char *)a)[PAGE_SIZE], 0);

	mach_msg_type_number_t small = 2;
	mach_port_t object_name;
	at = a;
	KT_EXPECT_EQ(vm_region(self, &at, &size, VM_REGION_BASIC_INFO_64, (vm_region_info_t)&info,
			       &small, &object_name), KERN_INVALID_ARGUMENT);
	small = VM_REGION_BASIC_INFO_COUNT_64;
	KT_EXPECT_EQ(vm_region(self, &at, &size, 1234, (vm_region_info_t)&info, &small,
			       &object_name), KERN_INVALID_ARGUMENT);
	KT_EXPECT_EQ(at, a);
	KT_EXPECT_EQ(vm_deallocate(self, a, 3 * PAGE_SIZE), KERN_SUCCESS);
}

static void names_that_denote_no_task(void)
{
	vm_address_t a = 0;

	KT_EXPECT_EQ(vm_allocate(MACH_PORT_NULL, &a, PAGE_SIZE, VM_FLAGS_ANYWHERE),
		     MACH_SEND_INVALID_DEST);
	KT_EXPECT_EQ(vm_allocate(0x12345, &a, PAGE_SIZE, VM_FLAGS_ANYWHERE), MACH_SEND_INVALID_DEST);
	KT_EXPECT_EQ(vm_deallocate(0x7fffff03, 0x100000, PAGE_SIZE), MACH_SEND_INVALID_DEST);
	KT_EXPECT_EQ(a, 0);
}

union raw_msg {
	mach_msg_header_t head;
	mig_reply_error_t reply;
	vm_allocate_request_t allocate;
	char bytes[128];
};

/* Sends size bytes of m to the task port with msgh_id id and receives the reply into m. */
static mach_msg_return_t raw_rpc(union raw_msg *m, mach_msg_id_t id, mach_msg_size_t size)
{
	mach_port_t reply = mig_get_reply_port();

	m->head.msgh_bits = MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, MACH_MSG_TYPE_MAKE_SEND_ONCE);
	m->head.msgh_remote_port = mach_task_self();
	m->head.msgh_local_port = reply;
	m->head.msgh_id = id;
	return mach_msg(&m->head, MACH_SEND_MSG | MACH_RCV_MSG | MACH_RCV_TIMEOUT, size,
			sizeof(*m), reply, 1000, MACH_PORT_NULL);
}

static void malformed_requests_get_mig_codes(void)
{
	union raw_msg m;
	unsigned wrong = 0;

	memset(&m, 0, sizeof(m));
	KT_ASSERT_EQ(raw_rpc(&m, 3899, sizeof(m.head)), MACH_MSG_SUCCESS);
	KT_EXPECT_EQ(m.reply.RetCode, MIG_BAD_ID);
	KT_EXPECT_EQ(m.head.msgh_id, 3899 + 100);
	KT_EXPECT_EQ(m.head.msgh_size, sizeof(mig_reply_error_t));
	memset(&m, 0, sizeof(m));
	KT_ASSERT_EQ(raw_rpc(&m, VM_ALLOCATE_ID, sizeof(m.allocate) - 8), MACH_MSG_SUCCESS);
	KT_EXPECT_EQ(m.reply.RetCode, MIG_BAD_ARGUMENTS);
	memset(&m, 0, sizeof(m));
	KT_ASSERT_EQ(raw_rpc(&m, VM_ALLOCATE_ID, sizeof(m.allocate) + 8), MACH_MSG_SUCCESS);
	KT_EXPECT_EQ(m.reply.RetCode, MIG_BAD_ARGUMENTS);
	for (int i = 0; i < 1000; i++) {
		memset(&m, 0, sizeof(m));
		wrong += raw_rpc(&m, 5000 + i % 7, sizeof(m.head) + 4 * (i % 20)) != MACH_MSG_SUCCESS ||
			 m.reply.RetCode != MIG_BAD_ID;
	}
	KT_EXPECT_EQ(wrong, 0);
	vm_address_t a = 0;                       /* and the port still serves */
	KT_EXPECT_EQ(vm_allocate(mach_task_self(), &a, PAGE_SIZE, VM_FLAGS_ANYWHERE), KERN_SUCCESS);
	KT_EXPECT_EQ(vm_deallocate(mach_task_self(), a, PAGE_SIZE), KERN_SUCCESS);
}

/* A request without a reply right is served all the same; its reply is dropped. */
static void a_request_without_reply_port_is_served(void)
{
	mach_port_t self = mach_task_self();
	vm_address_t a = 0, b;
	vm_allocate_request_t req;

	KT_ASSERT_EQ(vm_allocate(self, &a, PAGE_SIZE, VM_FLAGS_ANYWHERE), KERN_SUCCESS);
	KT_ASSERT_EQ(vm_deallocate(self, a, PAGE_SIZE), KERN_SUCCESS);
	memset(&req, 0, sizeof(req));
	req.Head.msgh_bits = MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, 0);
	req.Head.msgh_remote_port = self;
	req.Head.msgh_id = VM_ALLOCATE_ID;
	req.address = a;
	req.size = PAGE_SIZE;
	req.flags = VM_FLAGS_FIXED;
	KT_ASSERT_EQ(mach_msg(&req.Head, MACH_SEND_MSG, sizeof(req), 0, MACH_PORT_NULL, 0,
			      MACH_PORT_NULL), MACH_MSG_SUCCESS);
	b = a;
	KT_EXPECT_EQ(vm_allocate(self, &b, PAGE_SIZE, VM_FLAGS_FIXED), KERN_NO_SPACE);
	KT_EXPECT_EQ(vm_deallocate(self, a, PAGE_SIZE), KERN_SUCCESS);
}

int main(void)
{
	static const struct ktap_case cases[] = {
		KTAP_CASE(task_self_names_one_port),
		KTAP_CASE(vm_calls_reach_the_own_map),
		KTAP_CASE(errors_travel_in_the_reply),
		KTAP_CASE(vm_region_inherit_and_copy),
		KTAP_CASE(names_that_denote_no_task),
		KTAP_CASE(malformed_requests_get_mig_codes),
		KTAP_CASE(a_request_without_reply_port_is_served),
	};

	return ktap_run(cases, sizeof cases / sizeof cases[0]);
}
