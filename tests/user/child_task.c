/*
 * A task made with task_create and reached only through its port: the
 * VM calls act on the child's memory, not the caller's; inherit_memory
 * gives the child a copy; terminating it kills the port and frees all.
 */
#include <ktap.h>
#include <string.h>

#include <mach/mach.h>
#include <mach/vm_map_rpc.h>
#include <mica/mica.h>

static int inherited = 1234;            /* .data: the child of inherit_memory gets a copy */

static void vm_calls_reach_the_child(void)
{
	task_t child = MACH_PORT_NULL;
	vm_address_t a = 0, mine = 0;
	vm_offset_t data = 0;
	mach_msg_type_number_t count = 0;
	char text[] = "written into the child";

	KT_ASSERT_EQ(task_create(mach_task_self(), 0, &child), KERN_SUCCESS);
	KT_ASSERT(child != MACH_PORT_NULL && child != mach_task_self());
	KT_ASSERT_EQ(vm_allocate(child, &a, 2 * PAGE_SIZE, VM_FLAGS_ANYWHERE), KERN_SUCCESS);
	/* the address is the child's: the same one is free in the caller */
	mine = a;
	KT_EXPECT_EQ(vm_allocate(mach_task_self(), &mine, PAGE_SIZE, VM_FLAGS_FIXED), KERN_SUCCESS);
	KT_EXPECT_EQ(vm_deallocate(mach_task_self(), mine, PAGE_SIZE), KERN_SUCCESS);

	KT_EXPECT_EQ(vm_write(child, a + PAGE_SIZE - 5, (pointer_t)text, sizeof(text)), KERN_SUCCESS);
	KT_ASSERT_EQ(vm_read(child, a + PAGE_SIZE - 5, sizeof(text), &data, &count), KERN_SUCCESS);
	KT_EXPECT_EQ(count, sizeof(text));
	KT_EXPECT_STREQ((const char *)data, text);
	KT_EXPECT_EQ(vm_deallocate(mach_task_self(), data, count), KERN_SUCCESS);

	KT_EXPECT_EQ(vm_protect(child, a, PAGE_SIZE, 0, VM_PROT_READ), KERN_SUCCESS);
	KT_EXPECT_EQ(vm_write(child, a, (pointer_t)text, 4), KERN_PROTECTION_FAILURE);
	KT_EXPECT_EQ(vm_write(child, a + 2 * PAGE_SIZE, (pointer_t)text, 4), KERN_INVALID_ADDRESS);

	KT_EXPECT_EQ(task_terminate(child), KERN_SUCCESS);
	KT_EXPECT_EQ(vm_allocate(child, &a, PAGE_SIZE, VM_FLAGS_ANYWHERE), MACH_SEND_INVALID_DEST);
	KT_EXPECT_EQ(task_terminate(child), MACH_SEND_INVALID_DEST);
	KT_EXPECT_EQ(mach_port_deallocate(mach_task_self(), child), KERN_SUCCESS);
	KT_EXPECT_EQ(mach_port_deallocate(mach_task_self(), child), KERN_INVALID_NAME);
}

static void inherit_memory_copies_the_parent(void)
{
	task_t child = MACH_PORT_NULL;
	vm_offset_t data = 0;
	mach_msg_type_number_t count = 0;
	int other = 99;

	KT_ASSERT_EQ(task_create(mach_task_self(), 1, &child), KERN_SUCCESS);
	KT_ASSERT_EQ(vm_read(child, (vm_address_t)&inherited, sizeof(int), &data, &count),
		     KERN_SUCCESS);
	KT_EXPECT_EQ(*(int *)data, 1234);
	KT_EXPECT_EQ(vm_deallocate(mach_task_self(), data, count), KERN_SUCCESS);
	KT_EXPECT_EQ(vm_write(child, (vm_address_t)&inherited, (pointer_t)&other, sizeof(int)),
		     KERN_SUCCESS);
	ktap_opaque(&inherited);
	KT_EXPECT_EQ(inherited, 1234);                 /* the copy changed, not the parent */
	KT_ASSERT_EQ(vm_read(child, (vm_address_t)&inherited, sizeof(int), &data, &count),
		     KERN_SUCCESS);
	KT_EXPECT_EQ(*(int *)data, 99);
	KT_EXPECT_EQ(vm_deallocate(mach_task_self(), data, count), KERN_SUCCESS);
	KT_EXPECT_EQ(task_terminate(child), KERN_SUCCESS);
}

static void a_task_cannot_terminate_itself_by_rpc(void)
{
	KT_EXPECT_EQ(task_terminate(mach_task_self()), KERN_INVALID_ARGUMENT);
	KT_EXPECT_EQ(task_terminate(mach_host_self()), KERN_INVALID_ARGUMENT);
}

/* Children come and go without leaving a frame, an object, a port or a task behind. */
static void children_leave_nothing(void)
{
	struct mica_vm_stats before, after;
	vm_address_t page = 0;
	unsigned wrong = 0;

	KT_ASSERT_EQ(vm_allocate(mach_task_self(), &page, PAGE_SIZE, VM_FLAGS_ANYWHERE), KERN_SUCCESS);

	for (int i = 0; i < 11; i++) {
		task_t child;
		vm_address_t a = 0;
		if (i == 1)
			KT_ASSERT_EQ(host_vm_stats(mach_host_self(), &before), KERN_SUCCESS);
		wrong += task_create(mach_task_self(), i % 2, &child) != KERN_SUCCESS;
		wrong += vm_allocate(child, &a, 8 * PAGE_SIZE, VM_FLAGS_ANYWHERE) != KERN_SUCCESS;
		wrong += vm_write(child, a + PAGE_SIZE, page, PAGE_SIZE) != KERN_SUCCESS;
		/* the data runs off the end of page: refused, and nothing may be kept */
		wrong += vm_write(child, a, page, 2 * PAGE_SIZE) != MACH_SEND_INVALID_MEMORY;
		wrong += task_terminate(child) != KERN_SUCCESS;
		wrong += mach_port_deallocate(mach_task_self(), child) != KERN_SUCCESS;   /* the dead name */
	}
	KT_ASSERT_EQ(host_vm_stats(mach_host_self(), &after), KERN_SUCCESS);
	KT_EXPECT_EQ(wrong, 0);
	KT_EXPECT_SAME_VM_STATS(before, after);
}

/* Sends task_create for a child of this task with no reply port: the child's right is lost. */
static void task_create_without_reply(boolean_t inherit_memory)
{
	task_create_request_t req;

	memset(&req, 0, sizeof(req));
	req.Head.msgh_bits = MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, 0);
	req.Head.msgh_remote_port = mach_task_self();
	req.Head.msgh_id = TASK_CREATE_ID;
	req.inherit_memory = inherit_memory;
	KT_ASSERT_EQ(mach_msg(&req.Head, MACH_SEND_MSG, sizeof(req), 0, MACH_PORT_NULL, 0,
			      MACH_PORT_NULL), MACH_MSG_SUCCESS);
}

/*
 * A child no one holds a right to is ended by the kernel.  The forked one
 * goes first, as it leaves this task's memory shadowed differently (not a
 * leak) and would blur the comparison of what the others leave.
 */
static void a_child_whose_reply_is_lost_is_ended(void)
{
	struct mica_vm_stats start, before, after;

	KT_ASSERT_EQ(host_vm_stats(mach_host_self(), &start), KERN_SUCCESS);
	task_create_without_reply(true);
	task_create_without_reply(false);              /* the zones grow once */
	KT_ASSERT_EQ(host_vm_stats(mach_host_self(), &before), KERN_SUCCESS);
	task_create_without_reply(false);
	task_create_without_reply(false);
	KT_ASSERT_EQ(host_vm_stats(mach_host_self(), &after), KERN_SUCCESS);
	KT_EXPECT_EQ(before.tasks, start.tasks);
	KT_EXPECT_SAME_VM_STATS(before, after);
}

int main(void)
{
	static const struct ktap_case cases[] = {
		KTAP_CASE(vm_calls_reach_the_child),
		KTAP_CASE(inherit_memory_copies_the_parent),
		KTAP_CASE(a_task_cannot_terminate_itself_by_rpc),
		KTAP_CASE(children_leave_nothing),
		KTAP_CASE(a_child_whose_reply_is_lost_is_ended),
	};

	return ktap_run(cases, sizeof cases / sizeof cases[0]);
}
