/*
 * The `make run` demo.  For now it shows the machinery that finds bugs:
 * a live backtrace with function names and the test inventory (the boot
 * messages before it show the address space and its protections).  The VM and task issues turn it into vm_write between
 * two tasks.
 */
#include "kern/demo.h"
#include "kern/console.h"
#include "kern/ktest.h"
#include "kern/machine.h"

static void __attribute__((noinline)) show_backtrace(void)
{
	kprintf("how a panic names its callers (a live backtrace of demo_run):\n");
	machine_backtrace_here();
}

void demo_run(void)
{
	unsigned suites;
	unsigned tests = ktest_count(&suites);

	show_backtrace();
	kprintf("%u in-kernel tests in %u suites are built in: `make test` runs them\n", tests,
	        suites);
}
