/*
 * task_spawn on the host port: a carried program starts in a new task
 * and the caller gets its task port; the task lives until it ends by
 * itself or is terminated, and leaves nothing behind either way.
 */
#include <ktap.h>
#include <string.h>

#include <mach/mach.h>
#include <mica/mica.h>

#define UNTOUCHED 0x5a5a5a5au

static void a_spawned_program_runs_and_its_port_acts_on_it(void)
{
	struct vm_region_basic_info_64 info;
	mach_msg_type_number_t count = VM_REGION_BASIC_INFO_COUNT_64;
	vm_address_t addr = 0;
	vm_size_t size = 0;
	mach_port_t object;
	task_t child;

	KT_ASSERT_EQ(task_spawn(mach_host_self(), "right_receiver", &child), KERN_SUCCESS);
	KT_EXPECT(child != MACH_PORT_NULL && child != mach_task_self());
	KT_EXPECT_EQ(vm_region(child, &addr, &size, VM_REGION_BASIC_INFO_64,
			       (vm_region_info_t)&info, &count, &object), KERN_SUCCESS);
	KT_EXPECT(size > 0 && (info.protection & VM_PROT_EXECUTE));   /* its text, loaded */
	KT_EXPECT_EQ(task_terminate(child), KERN_SUCCESS);            /* it waits for ever else */
	KT_EXPECT_EQ(vm_region(child, &addr, &size, VM_REGION_BASIC_INFO_64,
			       (vm_region_info_t)&info, &count, &object), MACH_SEND_INVALID_DEST);
	KT_EXPECT_EQ(mach_port_deallocate(mach_task_self(), child), KERN_SUCCESS);
}

static void names_and_ports_that_start_nothing(void)
{
	char long_name[80];
	task_t child = UNTOUCHED;

	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	KT_EXPECT_EQ(task_spawn(mach_host_self(), "no_such_program", &child), KERN_INVALID_ARGUMENT);
	KT_EXPECT_EQ(task_spawn(mach_host_self(), "", &child), KERN_INVALID_ARGUMENT);
	KT_EXPECT_EQ(task_spawn(mach_host_self(), long_name, &child), KERN_INVALID_ARGUMENT);
	KT_EXPECT_EQ(task_spawn(mach_host_self(), NULL, &child), KERN_INVALID_ARGUMENT);
	KT_EXPECT_EQ(task_spawn(MACH_PORT_NULL, "quiet_exit", &child), MACH_SEND_INVALID_DEST);
	KT_EXPECT_EQ(task_spawn(mach_task_self(), "quiet_exit", &child), KERN_INVALID_ARGUMENT);
	KT_EXPECT_EQ(child, UNTOUCHED);
}

/*
 * One of each ending: a program that exits at once, and one terminated
 * while it waits.  Each step is its own check, so that a failure names
 * the step.
 */
static void spawn_round(void)
{
	task_t child;

	KT_EXPECT_EQ(task_spawn(mach_host_self(), "quiet_exit", &child), KERN_SUCCESS);
	KT_EXPECT(ktap_wait_task_ended(child));
	KT_EXPECT_EQ(mach_port_deallocate(mach_task_self(), child), KERN_SUCCESS);
	KT_EXPECT_EQ(task_spawn(mach_host_self(), "right_receiver", &child), KERN_SUCCESS);
	KT_EXPECT_EQ(task_terminate(child), KERN_SUCCESS);
	KT_EXPECT_EQ(mach_port_deallocate(mach_task_self(), child), KERN_SUCCESS);
}

/* Ended by itself or by task_terminate, a spawned task returns everything it had. */
static void spawned_tasks_leave_nothing_behind(void)
{
	struct mica_vm_stats before, after;

	spawn_round();                         /* zones and tables settle in first */
	KT_ASSERT_EQ(host_vm_stats(mach_host_self(), &before), KERN_SUCCESS);
	for (int i = 0; i < 10; i++)
		spawn_round();
	KT_ASSERT_EQ(host_vm_stats(mach_host_self(), &after), KERN_SUCCESS);
	KT_EXPECT_SAME_VM_STATS(before, after);
}

/*
 * A task terminated while its thread waits inside mach_msg, or after it
 * suspended itself, leaves nothing behind either.
 */
static void tasks_stopped_in_a_call_can_be_terminated(void)
{
	static const char *const programs[] = { "blocked_receiver", "self_suspender" };
	struct mica_vm_stats before, after;
	task_t child;

	spawn_round();
	KT_ASSERT_EQ(host_vm_stats(mach_host_self(), &before), KERN_SUCCESS);
	for (int i = 0; i < 6; i++) {
		KT_EXPECT_EQ(task_spawn(mach_host_self(), programs[i % 2], &child), KERN_SUCCESS);
		for (int turn = 0; turn < 50; turn++)
			mica_yield();          /* it reaches its receive and waits there */
		KT_EXPECT_EQ(task_terminate(child), KERN_SUCCESS);
		KT_EXPECT_EQ(mach_port_deallocate(mach_task_self(), child), KERN_SUCCESS);
	}
	KT_ASSERT_EQ(host_vm_stats(mach_host_self(), &after), KERN_SUCCESS);
	KT_EXPECT_SAME_VM_STATS(before, after);
}

int main(void)
{
	static const struct ktap_case cases[] = {
		KTAP_CASE(a_spawned_program_runs_and_its_port_acts_on_it),
		KTAP_CASE(names_and_ports_that_start_nothing),
		KTAP_CASE(spawned_tasks_leave_nothing_behind),
		KTAP_CASE(tasks_stopped_in_a_call_can_be_terminated),
	};

	return ktap_run(cases, sizeof cases / sizeof cases[0]);
}
