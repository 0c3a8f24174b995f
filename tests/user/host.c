/*
 * The host port: host_page_size, kernel objects of the wrong kind, and
 * host_vm_stats proving that RPCs, out-of-line memory and refused
 * requests leave nothing behind in the kernel.
 */
#include <ktap.h>
#include <string.h>

#include <mach/mach.h>
#include <mach/host_rpc.h>
#include <mach/mach_port_rpc.h>
#include <mach/vm_map_rpc.h>
#include <mica/mica.h>

static void host_page_size_is_the_pages(void)
{
	mach_port_t host = mach_host_self();
	vm_size_t size = 0;

	KT_ASSERT(host != MACH_PORT_NULL);
	KT_EXPECT_EQ(mach_host_self(), host);
	KT_EXPECT_EQ(host_page_size(host, &size), KERN_SUCCESS);
	KT_EXPECT_EQ(size, PAGE_SIZE);
}

/* A kernel-object port of another kind gets KERN_INVALID_ARGUMENT, as XNU's server gives. */
static void ports_of_the_wrong_kind(void)
{
	vm_address_t a = 0;
	vm_size_t size = 0;
	struct mica_vm_stats stats;

	KT_EXPECT_EQ(vm_allocate(mach_host_self(), &a, PAGE_SIZE, VM_FLAGS_ANYWHERE),
		     KERN_INVALID_ARGUMENT);
	KT_EXPECT_EQ(a, 0);
	KT_EXPECT_EQ(host_page_size(mach_task_self(), &size), KERN_INVALID_ARGUMENT);
	KT_EXPECT_EQ(size, 0);
	KT_EXPECT_EQ(host_vm_stats(mach_task_self(), &stats), KERN_INVALID_ARGUMENT);
	KT_EXPECT_EQ(host_page_size(0x4242, &size), MACH_SEND_INVALID_DEST);
}

/* A request whose reply right is a kernel port: the reply is refused there, not kept. */
static void replies_sent_to_kernel_ports_do_not_pile_up(void)
{
	mach_port_t host = mach_host_self();
	struct mica_vm_stats before, after;
	unsigned wrong = 0;

	KT_ASSERT_EQ(host_vm_stats(host, &before), KERN_SUCCESS);
	for (int i = 0; i < 200; i++) {
		mach_msg_header_t m = {
			.msgh_bits = MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, MACH_MSG_TYPE_COPY_SEND),
			.msgh_size = sizeof(m),
			.msgh_remote_port = host,
			.msgh_local_port = i % 2 ? host : mach_task_self(),
			.msgh_id = HOST_PAGE_SIZE_ID,
		};
		wrong += mach_msg(&m, MACH_SEND_MSG, sizeof(m), 0, MACH_PORT_NULL, 0,
				  MACH_PORT_NULL) != MACH_MSG_SUCCESS;
	}
	KT_ASSERT_EQ(host_vm_stats(host, &after), KERN_SUCCESS);
	KT_EXPECT_EQ(wrong, 0);
	KT_EXPECT_SAME_VM_STATS(before, after);
}

/* Makes m a host_page_size request shaped as mig_rpc makes it, its reply right made from reply. */
static void make_page_size_call(host_page_size_reply_t *m, mach_port_t reply)
{
	memset(m, 0, sizeof(*m));
	m->Head.msgh_bits = MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, MACH_MSG_TYPE_MAKE_SEND_ONCE);
	m->Head.msgh_remote_port = mach_host_self();
	m->Head.msgh_local_port = reply;
	m->Head.msgh_id = HOST_PAGE_SIZE_ID;
}

/* Sends the request in m and receives into m on its reply port. */
static mach_msg_return_t call(host_page_size_reply_t *m)
{
	return mach_msg(&m->Head, MACH_SEND_MSG | MACH_RCV_MSG, sizeof(mach_msg_header_t),
			sizeof(*m), m->Head.msgh_local_port, 0, MACH_PORT_NULL);
}

static mach_msg_return_t page_size_call(host_page_size_reply_t *m, mach_port_t reply)
{
	make_page_size_call(m, reply);
	return call(m);
}

/* Puts a message with id on port's queue, through a send right made from its receive right. */
static mach_msg_return_t queue_one(mach_port_t port, mach_msg_id_t id)
{
	mach_msg_header_t m = {
		.msgh_bits = MACH_MSGH_BITS(MACH_MSG_TYPE_MAKE_SEND, 0),
		.msgh_size = sizeof(m),
		.msgh_remote_port = port,
		.msgh_id = id,
	};

	return mach_msg(&m, MACH_SEND_MSG, sizeof(m), 0, MACH_PORT_NULL, 0, MACH_PORT_NULL);
}

/*
 * A kernel call whose reply port has messages waiting receives them first,
 * and its reply after them; the reply reads the same, byte for byte, as one
 * the kernel gives at once (mach_msg's fast path, ipc/mach_msg.c), and
 * neither leaves a right behind.
 */
static void a_kernel_reply_comes_after_queued_messages(void)
{
	mach_port_t reply = mach_reply_port();
	host_page_size_reply_t at_once, queued;
	mach_port_type_t type = 0;

	KT_ASSERT(reply != MACH_PORT_NULL);
	KT_ASSERT_EQ(page_size_call(&at_once, reply), MACH_MSG_SUCCESS);
	KT_ASSERT_EQ(queue_one(reply, 77), MACH_MSG_SUCCESS);
	KT_ASSERT_EQ(page_size_call(&queued, reply), MACH_MSG_SUCCESS);
	KT_EXPECT_EQ(queued.Head.msgh_id, 77);     /* the message that was waiting */
	memset(&queued, 0, sizeof(queued));
	KT_ASSERT_EQ(mach_msg(&queued.Head, MACH_RCV_MSG | MACH_RCV_TIMEOUT, 0, sizeof(queued),
			      reply, 0, MACH_PORT_NULL), MACH_MSG_SUCCESS);
	KT_EXPECT_EQ(memcmp(&queued, &at_once, sizeof(queued)), 0);
	KT_EXPECT_EQ(at_once.Head.msgh_bits, MACH_MSGH_BITS(0, MACH_MSG_TYPE_PORT_SEND_ONCE));
	KT_EXPECT_EQ(at_once.Head.msgh_size, sizeof(at_once));
	KT_EXPECT_EQ(at_once.Head.msgh_remote_port, MACH_PORT_NULL);
	KT_EXPECT_EQ(at_once.Head.msgh_local_port, reply);
	KT_EXPECT_EQ(at_once.Head.msgh_id, HOST_PAGE_SIZE_ID + 100);
	KT_EXPECT_EQ(at_once.RetCode, KERN_SUCCESS);
	KT_EXPECT_EQ(at_once.page_size, PAGE_SIZE);
	KT_EXPECT_EQ(mach_port_type(mach_task_self(), reply, &type), KERN_SUCCESS);
	KT_EXPECT_EQ(type, MACH_PORT_TYPE_RECEIVE);  /* no send-once right left under the name */
	KT_EXPECT_EQ(mach_port_mod_refs(mach_task_self(), reply, MACH_PORT_RIGHT_RECEIVE, -1),
		     KERN_SUCCESS);
}

/* mach_port_mod_refs dropping reply's receive right, with reply as the call's own reply port. */
static mach_msg_return_t drop_own_reply_port(mach_port_t reply)
{
	union {
		mach_port_refs_request_t in;
		mig_reply_error_t out;
	} m = { .in = {
		.Head = { .msgh_bits = MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND,
						      MACH_MSG_TYPE_MAKE_SEND_ONCE),
			  .msgh_remote_port = mach_task_self(), .msgh_local_port = reply,
			  .msgh_id = MACH_PORT_MOD_REFS_ID },
		.name = reply, .right = MACH_PORT_RIGHT_RECEIVE, .delta = -1 } };

	return mach_msg(&m.in.Head, MACH_SEND_MSG | MACH_RCV_MSG | MACH_RCV_TIMEOUT, sizeof(m.in),
			sizeof(m.out), reply, 0, MACH_PORT_NULL);
}

/*
 * A call that destroys its own reply port gets no reply on either path:
 * the receive finds no such name.  A message waiting on the port sends
 * the call down the general path; without one it takes the fast path.
 */
static void a_call_that_destroys_its_reply_port_gets_no_reply(void)
{
	mach_port_t general = mach_reply_port(), fast = mach_reply_port();
	struct mica_vm_stats before, after;
	mach_port_type_t type = 0;

	KT_ASSERT(general != MACH_PORT_NULL && fast != MACH_PORT_NULL);
	KT_ASSERT_EQ(host_vm_stats(mach_host_self(), &before), KERN_SUCCESS);
	KT_ASSERT_EQ(queue_one(general, 77), MACH_MSG_SUCCESS);
	KT_EXPECT_EQ(drop_own_reply_port(general), MACH_RCV_INVALID_NAME);
	KT_EXPECT_EQ(drop_own_reply_port(fast), MACH_RCV_INVALID_NAME);
	KT_EXPECT_EQ(mach_port_type(mach_task_self(), general, &type), KERN_INVALID_NAME);
	KT_EXPECT_EQ(mach_port_type(mach_task_self(), fast, &type), KERN_INVALID_NAME);
	KT_ASSERT_EQ(host_vm_stats(mach_host_self(), &after), KERN_SUCCESS);
	KT_EXPECT_EQ(after.ports + 2, before.ports);
}

/* A kernel call whose buffer cannot take the reply loses it, and nothing waits on the port. */
static void a_kernel_reply_to_a_read_only_buffer_is_lost(void)
{
	mach_port_t reply = mach_reply_port();
	vm_address_t page = 0;
	host_page_size_reply_t got;

	KT_ASSERT(reply != MACH_PORT_NULL);
	KT_ASSERT_EQ(vm_allocate(mach_task_self(), &page, PAGE_SIZE, VM_FLAGS_ANYWHERE),
		     KERN_SUCCESS);
	host_page_size_reply_t *m = (host_page_size_reply_t *)page;
	make_page_size_call(m, reply);
	KT_ASSERT_EQ(vm_protect(mach_task_self(), page, PAGE_SIZE, FALSE, VM_PROT_READ),
		     KERN_SUCCESS);
	KT_EXPECT_EQ(call(m), MACH_RCV_INVALID_DATA);
	KT_EXPECT_EQ(m->Head.msgh_id, HOST_PAGE_SIZE_ID);   /* the request, untouched */
	KT_EXPECT_EQ(mach_msg(&got.Head, MACH_RCV_MSG | MACH_RCV_TIMEOUT, 0, sizeof(got), reply, 0,
			      MACH_PORT_NULL), MACH_RCV_TIMED_OUT);
	KT_EXPECT_EQ(vm_deallocate(mach_task_self(), page, PAGE_SIZE), KERN_SUCCESS);
	KT_EXPECT_EQ(mach_port_mod_refs(mach_task_self(), reply, MACH_PORT_RIGHT_RECEIVE, -1),
		     KERN_SUCCESS);
}

/* user_wired_count of the region at address in task (~0 if vm_region fails). */
static unsigned wired_at(task_t task, vm_address_t address)
{
	struct vm_region_basic_info_64 info;
	mach_msg_type_number_t count = VM_REGION_BASIC_INFO_COUNT_64;
	vm_size_t size;
	mach_port_t object;

	if (vm_region(task, &address, &size, VM_REGION_BASIC_INFO_64, (vm_region_info_t)&info,
		      &count, &object) != KERN_SUCCESS)
		return ~0u;
	return info.user_wired_count;
}

/* vm_wire goes to the host port and names its task in the request; the child ends wired. */
static void vm_wire_makes_a_tasks_pages_resident(void)
{
	mach_port_t host = mach_host_self();
	struct mica_vm_stats before, wired, after;
	vm_address_t a = 0, ro = 0;
	task_t child;

	KT_ASSERT_EQ(host_vm_stats(host, &before), KERN_SUCCESS);
	KT_ASSERT_EQ(task_create(mach_task_self(), 0, &child), KERN_SUCCESS);
	KT_ASSERT_EQ(vm_allocate(child, &a, 3 * PAGE_SIZE, VM_FLAGS_ANYWHERE), KERN_SUCCESS);
	KT_ASSERT_EQ(vm_allocate(child, &ro, PAGE_SIZE, VM_FLAGS_ANYWHERE), KERN_SUCCESS);
	KT_ASSERT_EQ(vm_protect(child, ro, PAGE_SIZE, 0, VM_PROT_READ), KERN_SUCCESS);
	KT_EXPECT_EQ(vm_wire(host, child, a, 3 * PAGE_SIZE, VM_PROT_READ | VM_PROT_WRITE),
		     KERN_SUCCESS);
	KT_EXPECT_EQ(wired_at(child, a), 1);
	KT_ASSERT_EQ(host_vm_stats(host, &wired), KERN_SUCCESS);
	KT_EXPECT(before.free_frames - wired.free_frames >= 3);     /* resident now */
	/* refusals, each with the code XNU gives, and the range stays as it was */
	KT_EXPECT_EQ(vm_wire(host, MACH_PORT_NULL, a, PAGE_SIZE, VM_PROT_READ), KERN_INVALID_TASK);
	KT_EXPECT_EQ(vm_wire(host, host, a, PAGE_SIZE, VM_PROT_READ), KERN_INVALID_TASK);
	KT_EXPECT_EQ(vm_wire(host, 0x4242, a, PAGE_SIZE, VM_PROT_READ), MACH_SEND_INVALID_RIGHT);
	KT_EXPECT_EQ(vm_wire(child, child, a, PAGE_SIZE, VM_PROT_READ), KERN_INVALID_ARGUMENT);
	KT_EXPECT_EQ(vm_wire(host, child, ro, PAGE_SIZE, VM_PROT_WRITE), KERN_PROTECTION_FAILURE);
	KT_EXPECT_EQ(vm_wire(host, child, ro + PAGE_SIZE * 64, PAGE_SIZE, VM_PROT_READ),
		     KERN_INVALID_ADDRESS);
	KT_EXPECT_EQ(vm_wire(host, child, a, PAGE_SIZE, 0x80), KERN_INVALID_ARGUMENT);
	KT_EXPECT_EQ(wired_at(child, ro), 0);
	KT_EXPECT_EQ(vm_wire(host, child, a, 3 * PAGE_SIZE, VM_PROT_NONE), KERN_SUCCESS);
	KT_EXPECT_EQ(wired_at(child, a), 0);
	KT_EXPECT_EQ(vm_wire(host, child, a, 3 * PAGE_SIZE, VM_PROT_READ), KERN_SUCCESS);
	KT_EXPECT_EQ(task_terminate(child), KERN_SUCCESS);           /* with its pages wired */
	KT_EXPECT_EQ(mach_port_deallocate(mach_task_self(), child), KERN_SUCCESS);
	KT_ASSERT_EQ(host_vm_stats(host, &after), KERN_SUCCESS);
	KT_EXPECT_SAME_VM_STATS(before, after);
}

struct ool_msg {
	mach_msg_header_t header;
	mach_msg_body_t body;
	mach_msg_ool_descriptor_t data;
} __attribute__((packed, aligned(4)));

/* Some of everything: the calls, out-of-line memory both ways, refusals. */
static unsigned one_round(mach_port_t port)
{
	mach_port_t self = mach_task_self();
	vm_address_t a = 0, b = 0;
	vm_offset_t data;
	mach_msg_type_number_t count;
	struct ool_msg m = { 0 };
	unsigned wrong = 0;

	wrong += vm_allocate(self, &a, 4 * PAGE_SIZE, VM_FLAGS_ANYWHERE) != KERN_SUCCESS;
	wrong += vm_allocate(self, &b, 4 * PAGE_SIZE, VM_FLAGS_ANYWHERE) != KERN_SUCCESS;
	ktap_fill((void *)a, 4 * PAGE_SIZE, 5);
	wrong += vm_write(self, b, a, 4 * PAGE_SIZE) != KERN_SUCCESS;
	wrong += vm_write(self, b + 3, a + 5, 5000) != KERN_SUCCESS;
	wrong += vm_read(self, a + 9, 3 * PAGE_SIZE, &data, &count) != KERN_SUCCESS;
	wrong += vm_deallocate(self, data, count) != KERN_SUCCESS;
	wrong += vm_write(self, b, 0x1000, 64) != MACH_SEND_INVALID_MEMORY;
	wrong += vm_read(self, 0x1000, 64, &data, &count) != KERN_INVALID_ADDRESS;

	m.header.msgh_bits = MACH_MSGH_BITS(MACH_MSG_TYPE_MAKE_SEND, 0) | MACH_MSGH_BITS_COMPLEX;
	m.header.msgh_remote_port = port;
	m.body.msgh_descriptor_count = 1;
	m.data.address = (void *)(a + 10);
	m.data.size = 2 * PAGE_SIZE;
	m.data.type = MACH_MSG_OOL_DESCRIPTOR;
	wrong += mach_msg(&m.header, MACH_SEND_MSG | MACH_RCV_MSG, sizeof(m), sizeof(m), port, 0,
			  MACH_PORT_NULL) != MACH_MSG_SUCCESS;
	wrong += vm_deallocate(self, (vm_address_t)m.data.address, m.data.size) != KERN_SUCCESS;
	for (int i = 0; i < 50; i++) {
		union {
			mach_msg_header_t head;
			mig_reply_error_t reply;
			char bytes[96];
		} r = { .head = {
			.msgh_bits = MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, MACH_MSG_TYPE_MAKE_SEND_ONCE),
			.msgh_remote_port = i % 2 ? self : mach_host_self(),
			.msgh_local_port = mig_get_reply_port(),
			.msgh_id = i % 3 ? VM_WRITE_ID : 9999,
		} };
		wrong += mach_msg(&r.head, MACH_SEND_MSG | MACH_RCV_MSG, 24 + 4 * (i % 10),
				  sizeof(r), mig_get_reply_port(), 0, MACH_PORT_NULL) != MACH_MSG_SUCCESS;
		wrong += r.reply.RetCode == KERN_SUCCESS;
	}
	wrong += vm_deallocate(self, a, 4 * PAGE_SIZE) != KERN_SUCCESS;
	wrong += vm_deallocate(self, b, 4 * PAGE_SIZE) != KERN_SUCCESS;
	return wrong;
}

static void nothing_leaks(void)
{
	mach_port_t port = mach_reply_port();
	struct mica_vm_stats before, after;
	unsigned wrong;

	KT_ASSERT(port != MACH_PORT_NULL);
	wrong = one_round(port);                   /* page tables and names settle in */
	KT_ASSERT_EQ(host_vm_stats(mach_host_self(), &before), KERN_SUCCESS);
	for (int i = 0; i < 20; i++)
		wrong += one_round(port);
	KT_ASSERT_EQ(host_vm_stats(mach_host_self(), &after), KERN_SUCCESS);
	KT_EXPECT_EQ(wrong, 0);
	KT_EXPECT_SAME_VM_STATS(before, after);
	KT_EXPECT(before.free_frames > 0 && before.tasks > 0 && before.threads > 0);
}

int main(void)
{
	static const struct ktap_case cases[] = {
		KTAP_CASE(host_page_size_is_the_pages),
		KTAP_CASE(ports_of_the_wrong_kind),
		KTAP_CASE(replies_sent_to_kernel_ports_do_not_pile_up),
		KTAP_CASE(a_kernel_reply_comes_after_queued_messages),
		KTAP_CASE(a_kernel_reply_to_a_read_only_buffer_is_lost),
		KTAP_CASE(a_call_that_destroys_its_reply_port_gets_no_reply),
		KTAP_CASE(vm_wire_makes_a_tasks_pages_resident),
		KTAP_CASE(nothing_leaks),
	};

	return ktap_run(cases, sizeof cases / sizeof cases[0]);
}
