/*
 * The `make run` demo: one user task writing into another's memory with
 * vm_write, then the machinery that finds bugs (a live backtrace with
 * function names, the test inventory).  The boot messages before it show
 * the address space and its protections.
 */
#include "kern/demo.h"
#include "kern/console.h"
#include "kern/exec.h"
#include "kern/ktest.h"
#include "kern/machine.h"

static void __attribute__((noinline)) show_backtrace(void)
{
	kprintf("how a panic names its callers (a live backtrace of demo_run):\n");
	machine_backtrace_here();
}

/* Two user tasks: demo_writer puts bytes into demo_target's memory with vm_write. */
static void show_vm_write(void)
{
	static const char *const names[] = { "demo_target", "demo_writer" };
	struct task *tasks[2];

	kprintf("vm_write between two tasks (user/bin/demo_target.c, demo_writer.c):\n");
	for (int i = 0; i < 2; i++)
		if (task_spawn(NULL, names[i], &tasks[i]) != KERN_SUCCESS)
			return;                    /* task_spawn said why */
	for (int i = 0; i < 2; i++) {
		task_wait(tasks[i]);
		task_deallocate(tasks[i]);
	}
}

void demo_run(void)
{
	unsigned suites;
	unsigned tests = ktest_count(&suites);

	show_vm_write();
	show_backtrace();
	kprintf("%u in-kernel tests in %u suites are built in: `make test` runs them\n", tests,
	        suites);
}
