/*
 * The `make run` demo.  For now it shows the kernel's own layout and the
 * machinery that finds bugs: the test inventory and a live backtrace with
 * function names.  The VM and task issues turn it into vm_write between
 * two tasks.
 */
#include "kern/demo.h"
#include "kern/console.h"
#include "kern/ktest.h"
#include "kern/machine.h"

extern char _text_start[], _text_end[], _rodata_start[], _rodata_end[];
extern char _data_start[], _data_end[], _kernel_start[], _kernel_end[];

static void show_layout(void)
{
	/* The boot page tables still map it all RW; the pmap issue maps each
	 * section with the protection shown. */
	kprintf("kernel image %p-%p, page-aligned sections:\n", _kernel_start, _kernel_end);
	kprintf("  text   %p-%p  R-X\n", _text_start, _text_end);
	kprintf("  rodata %p-%p  R--\n", _rodata_start, _rodata_end);
	kprintf("  data   %p-%p  RW-  (data and bss)\n", _data_start, _data_end);
}

static void __attribute__((noinline)) show_backtrace(void)
{
	kprintf("how a panic names its callers (a live backtrace of demo_run):\n");
	machine_backtrace_here();
}

void demo_run(void)
{
	unsigned suites;
	unsigned tests = ktest_count(&suites);

	show_layout();
	show_backtrace();
	kprintf("%u in-kernel tests in %u suites are built in: `make test` runs them\n", tests,
	        suites);
}
