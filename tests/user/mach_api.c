/*
 * <mach/mach.h> offers every call the IPC issue lists, with Mach's exact
 * signatures: each is taken through a pointer of the declared type (a
 * mismatch does not compile), then called on MACH_PORT_NULL, where each
 * must give MACH_SEND_INVALID_DEST and leave its out-arguments alone.
 */
#include <ktap.h>

#include <mach/mach.h>

#define UNTOUCHED 0x5a5a5a5au

/* The calls on a task port, with the seed's vm_write first. */
static kern_return_t (*const vm_write_fn)(vm_task_t, vm_address_t, pointer_t,
					  mach_msg_type_number_t) = vm_write;
static kern_return_t (*const vm_read_fn)(vm_map_t, vm_address_t, vm_size_t, vm_offset_t *,
					 mach_msg_type_number_t *) = vm_read;
static kern_return_t (*const vm_allocate_fn)(vm_map_t, vm_address_t *, vm_size_t, int) =
	vm_allocate;
static kern_return_t (*const vm_deallocate_fn)(vm_map_t, vm_address_t, vm_size_t) =
	vm_deallocate;
static kern_return_t (*const vm_protect_fn)(vm_map_t, vm_address_t, vm_size_t, boolean_t,
					    vm_prot_t) = vm_protect;
static kern_return_t (*const vm_inherit_fn)(vm_map_t, vm_address_t, vm_size_t, vm_inherit_t) =
	vm_inherit;
static kern_return_t (*const vm_copy_fn)(vm_map_t, vm_address_t, vm_size_t, vm_address_t) =
	vm_copy;
static kern_return_t (*const vm_wire_fn)(host_t, vm_map_t, vm_address_t, vm_size_t,
					 vm_prot_t) = vm_wire;
static kern_return_t (*const vm_region_fn)(vm_map_t, vm_address_t *, vm_size_t *,
					   vm_region_flavor_t, vm_region_info_t,
					   mach_msg_type_number_t *, mach_port_t *) = vm_region;
static kern_return_t (*const host_page_size_fn)(host_t, vm_size_t *) = host_page_size;
static kern_return_t (*const host_vm_stats_fn)(host_t, struct mica_vm_stats *) = host_vm_stats;
static kern_return_t (*const task_create_fn)(task_t, boolean_t, task_t *) = task_create;
static kern_return_t (*const task_terminate_fn)(task_t) = task_terminate;
static kern_return_t (*const task_spawn_fn)(host_t, const char *, task_t *) = task_spawn;
static kern_return_t (*const task_suspend_fn)(task_t) = task_suspend;
static kern_return_t (*const task_resume_fn)(task_t) = task_resume;
static kern_return_t (*const task_threads_fn)(task_t, thread_act_array_t *,
					      mach_msg_type_number_t *) = task_threads;
static kern_return_t (*const thread_create_fn)(task_t, thread_t *) = thread_create;
static kern_return_t (*const thread_set_state_fn)(thread_t, thread_state_flavor_t, thread_state_t,
						  mach_msg_type_number_t) = thread_set_state;
static kern_return_t (*const thread_get_state_fn)(thread_t, thread_state_flavor_t, thread_state_t,
						  mach_msg_type_number_t *) = thread_get_state;
static kern_return_t (*const thread_resume_fn)(thread_t) = thread_resume;
static kern_return_t (*const thread_terminate_fn)(thread_t) = thread_terminate;
static kern_return_t (*const mach_port_allocate_fn)(ipc_space_t, mach_port_right_t,
						    mach_port_name_t *) = mach_port_allocate;
static kern_return_t (*const mach_port_deallocate_fn)(ipc_space_t, mach_port_name_t) =
	mach_port_deallocate;
static kern_return_t (*const mach_port_mod_refs_fn)(ipc_space_t, mach_port_name_t,
						    mach_port_right_t, mach_port_delta_t) =
	mach_port_mod_refs;
static kern_return_t (*const mach_port_insert_right_fn)(ipc_space_t, mach_port_name_t,
							mach_port_t, mach_msg_type_name_t) =
	mach_port_insert_right;
static mach_msg_return_t (*const mach_msg_fn)(mach_msg_header_t *, mach_msg_option_t,
					      mach_msg_size_t, mach_msg_size_t, mach_port_name_t,
					      mach_msg_timeout_t, mach_port_name_t) = mach_msg;
static mach_port_t (*const mach_task_self_fn)(void) = mach_task_self;
static mach_port_t (*const mach_host_self_fn)(void) = mach_host_self;

static void the_vm_calls_need_a_task_port(void)
{
	vm_address_t addr = UNTOUCHED;
	vm_offset_t data = UNTOUCHED;
	vm_size_t size = UNTOUCHED;
	mach_msg_type_number_t count = UNTOUCHED;
	struct vm_region_basic_info_64 info;
	mach_port_t object = UNTOUCHED;
	char byte = 1;

	KT_EXPECT_EQ(vm_write_fn(MACH_PORT_NULL, 0x10000, (pointer_t)&byte, 1),
		     MACH_SEND_INVALID_DEST);
	KT_EXPECT_EQ(vm_read_fn(MACH_PORT_NULL, 0x10000, 1, &data, &count), MACH_SEND_INVALID_DEST);
	KT_EXPECT_EQ(vm_allocate_fn(MACH_PORT_NULL, &addr, 4096, VM_FLAGS_ANYWHERE),
		     MACH_SEND_INVALID_DEST);
	KT_EXPECT_EQ(vm_deallocate_fn(MACH_PORT_NULL, 0x10000, 4096), MACH_SEND_INVALID_DEST);
	KT_EXPECT_EQ(vm_protect_fn(MACH_PORT_NULL, 0x10000, 4096, TRUE, VM_PROT_READ),
		     MACH_SEND_INVALID_DEST);
	KT_EXPECT_EQ(vm_inherit_fn(MACH_PORT_NULL, 0x10000, 4096, VM_INHERIT_SHARE),
		     MACH_SEND_INVALID_DEST);
	KT_EXPECT_EQ(vm_copy_fn(MACH_PORT_NULL, 0x10000, 4096, 0x20000), MACH_SEND_INVALID_DEST);
	KT_EXPECT_EQ(vm_wire_fn(MACH_PORT_NULL, mach_task_self_fn(), 0x10000, 4096, VM_PROT_READ),
		     MACH_SEND_INVALID_DEST);
	count = VM_REGION_BASIC_INFO_COUNT_64;
	KT_EXPECT_EQ(vm_region_fn(MACH_PORT_NULL, &addr, &size, VM_REGION_BASIC_INFO_64,
				  (vm_region_info_t)&info, &count, &object), MACH_SEND_INVALID_DEST);
	KT_EXPECT(addr == UNTOUCHED && data == UNTOUCHED && size == UNTOUCHED &&
		  object == UNTOUCHED);
}

static void the_thread_calls_need_their_ports(void)
{
	thread_act_array_t list = (thread_act_array_t)UNTOUCHED;
	mach_msg_type_number_t count = x86_THREAD_STATE64_COUNT;
	x86_thread_state64_t state = { .__rip = UNTOUCHED };
	thread_t thread = UNTOUCHED;

	KT_EXPECT_EQ(task_suspend_fn(MACH_PORT_NULL), MACH_SEND_INVALID_DEST);
	KT_EXPECT_EQ(task_resume_fn(MACH_PORT_NULL), MACH_SEND_INVALID_DEST);
	KT_EXPECT_EQ(task_threads_fn(MACH_PORT_NULL, &list, &count), MACH_SEND_INVALID_DEST);
	KT_EXPECT_EQ(thread_create_fn(MACH_PORT_NULL, &thread), MACH_SEND_INVALID_DEST);
	KT_EXPECT_EQ(thread_get_state_fn(MACH_PORT_NULL, x86_THREAD_STATE64, (thread_state_t)&state,
					 &count), MACH_SEND_INVALID_DEST);
	KT_EXPECT_EQ(thread_set_state_fn(MACH_PORT_NULL, x86_THREAD_STATE64, (thread_state_t)&state,
					 x86_THREAD_STATE64_COUNT), MACH_SEND_INVALID_DEST);
	KT_EXPECT_EQ(thread_resume_fn(MACH_PORT_NULL), MACH_SEND_INVALID_DEST);
	KT_EXPECT_EQ(thread_terminate_fn(MACH_PORT_NULL), MACH_SEND_INVALID_DEST);
	KT_EXPECT(list == (thread_act_array_t)UNTOUCHED && thread == UNTOUCHED &&
		  state.__rip == UNTOUCHED && count == x86_THREAD_STATE64_COUNT);
}

static void the_task_host_and_port_calls_need_their_ports(void)
{
	task_t child = UNTOUCHED;
	vm_size_t page = UNTOUCHED;
	mach_port_name_t name = UNTOUCHED;
	struct mica_vm_stats stats;
	mach_msg_header_t m = { .msgh_bits = MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, 0),
				.msgh_size = sizeof(m) };

	KT_EXPECT_EQ(task_create_fn(MACH_PORT_NULL, FALSE, &child), MACH_SEND_INVALID_DEST);
	KT_EXPECT_EQ(task_terminate_fn(MACH_PORT_NULL), MACH_SEND_INVALID_DEST);
	KT_EXPECT_EQ(task_spawn_fn(MACH_PORT_NULL, "quiet_exit", &child), MACH_SEND_INVALID_DEST);
	KT_EXPECT_EQ(host_page_size_fn(MACH_PORT_NULL, &page), MACH_SEND_INVALID_DEST);
	KT_EXPECT_EQ(host_vm_stats_fn(MACH_PORT_NULL, &stats), MACH_SEND_INVALID_DEST);
	KT_EXPECT_EQ(mach_port_allocate_fn(MACH_PORT_NULL, MACH_PORT_RIGHT_RECEIVE, &name),
		     MACH_SEND_INVALID_DEST);
	KT_EXPECT_EQ(mach_port_deallocate_fn(MACH_PORT_NULL, 1), MACH_SEND_INVALID_DEST);
	KT_EXPECT_EQ(mach_port_mod_refs_fn(MACH_PORT_NULL, 1, MACH_PORT_RIGHT_SEND, 1),
		     MACH_SEND_INVALID_DEST);
	KT_EXPECT_EQ(mach_port_insert_right_fn(MACH_PORT_NULL, 1, 1, MACH_MSG_TYPE_COPY_SEND),
		     MACH_SEND_INVALID_DEST);
	KT_EXPECT_EQ(mach_msg_fn(&m, MACH_SEND_MSG, sizeof(m), 0, MACH_PORT_NULL,
				 MACH_MSG_TIMEOUT_NONE, MACH_PORT_NULL), MACH_SEND_INVALID_DEST);
	KT_EXPECT(child == UNTOUCHED && page == UNTOUCHED && name == UNTOUCHED);
	KT_EXPECT(mach_task_self_fn() != MACH_PORT_NULL && mach_host_self_fn() != MACH_PORT_NULL);
}

int main(void)
{
	static const struct ktap_case cases[] = {
		KTAP_CASE(the_vm_calls_need_a_task_port),
		KTAP_CASE(the_thread_calls_need_their_ports),
		KTAP_CASE(the_task_host_and_port_calls_need_their_ports),
	};

	return ktap_run(cases, sizeof cases / sizeof cases[0]);
}
