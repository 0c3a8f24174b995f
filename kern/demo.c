/*
 * The `make run` demo: one user task writing into another's memory with
 * vm_write, then the machinery that finds bugs (a live backtrace with
 * function names, the test inventory).  The boot messages before it show
 * the address space and its protections.
 */
#include "kern/demo.h"
#include "kern/console.h"
#include "kern/exec.h"
#include "kern/machine.h"
#include "kern/service.h"

static void __attribute__((noinline)) show_backtrace(void)
{
	kprintf("how a panic names its callers (a live backtrace of demo_run):\n");
	machine_backtrace_here();
}

/*
 * Two user tasks: demo_writer spawns demo_target and puts a page into its
 * memory with vm_write through the child's task port.
 */
static void show_vm_write(void)
{
	struct task *writer;

	kprintf("vm_write between two tasks (user/bin/demo_writer.c, demo_target.c):\n");
	if (task_spawn(NULL, "demo_writer", &writer) != KERN_SUCCESS)
		return;                            /* task_spawn said why */
	task_wait(writer);
	task_deallocate(writer);
}

void demo_run(void)
{
	show_vm_write();
	show_backtrace();
	for (const struct kern_service *s = _kern_services_start; s < _kern_services_end; s++)
		if (s->describe)
			s->describe();
}
