/*
 * kernel_main: where every boot path arrives (arch/x86_64/entry.asm calls
 * it with the physical address of struct boot_info).  It brings up the
 * console and the CPU tables, says what machine it found, and then runs
 * the boot service the command line asks for (kern/service.h: the
 * in-kernel tests with `test`, the benchmarks with `bench`) or the demo,
 * and powers off.
 */
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/pmap_md.h"
#include "kern/bootinfo.h"
#include "kern/clock.h"
#include "kern/cmdline.h"
#include "kern/console.h"
#include "kern/demo.h"
#include "kern/host.h"
#include "kern/kalloc.h"
#include "kern/machine.h"
#include "kern/mach_port_server.h"
#include "kern/panic.h"
#include "kern/sched.h"
#include "kern/service.h"
#include "kern/task_server.h"
#include "kern/thread_server.h"
#include "vm/pmap.h"
#include "vm/vm_kern.h"
#include "vm/vm_map.h"
#include "vm/vm_object.h"
#include "vm/vm_page.h"

struct boot_options boot_options;

static void print_banner(void)
{
	kprintf("\nMica: a small Mach VM kernel for x86-64\n");
	kprintf("loader: %s; command line: \"%s\"\n", boot_info.loader_name, boot_info.cmdline);
}

static void print_cpu(void)
{
	const struct cpu_features *f = &cpu_features;

	klog("cpu: %s (%s)\n", f->brand[0] ? f->brand : "unknown model", f->vendor);
	klog("cpu features: NX %s, SMEP %s, SMAP %s, UMIP %s, PCID %s, 1 GiB pages %s, x2APIC %s\n",
	     f->nx ? "yes" : "no", f->smep ? "yes" : "no", f->smap ? "yes" : "no",
	     f->umip ? "yes" : "no", f->pcid ? "yes" : "no", f->page1g ? "yes" : "no",
	     f->x2apic ? "yes" : "no");
}

/* The address space as the page tables now say, and the audit that proves it W^X. */
static void print_memory(void)
{
	struct vm_page_stats st;
	struct pmap_audit a;

	vm_page_get_stats(&st);
	klog("frames: %lu free, %lu kernel, %lu page tables, %lu reserved (of %lu)\n",
	     st.count[VM_PAGE_FREE], st.count[VM_PAGE_KERNEL], st.count[VM_PAGE_PAGETABLE],
	     st.count[VM_PAGE_RESERVED], st.total);
	pmap_print_kernel_layout(&boot_info);
	pmap_print_protection();
	pmap_audit(kernel_pmap, &a);
	if (a.writable_and_executable || a.aliased_write_execute || a.user_kernel_pages)
		panic("W^X audit: %lu writable+executable, %lu aliased frames, %lu user kernel pages",
		      a.writable_and_executable, a.aliased_write_execute, a.user_kernel_pages);
	klog("W^X audit: %lu mappings, none writable and executable, no aliases, "
	     "no user-accessible kernel page\n", a.leaves);
}

static void warn_unknown_options(const struct boot_options *o)
{
	for (unsigned i = 0; i < o->unknown_count && i < CMDLINE_MAX_UNKNOWN; i++)
		kprintf("mica: warning: unknown command line option '%s' ignored\n", o->unknown[i]);
	if (o->unknown_count > CMDLINE_MAX_UNKNOWN)
		kprintf("mica: warning: %u more unknown options ignored\n",
		        o->unknown_count - CMDLINE_MAX_UNKNOWN);
}

void kernel_main(uint64_t boot_info_phys)
{
	cpu_init_early();
	console_init();
	boot_info_take(boot_info_phys);
	cmdline_parse(boot_info.cmdline, &boot_options);
	console_set_quiet(boot_options.quiet);
	cpu_features_detect();
	cpu_init();
	machine_cpus_find(&boot_info);     /* while the loader's identity map reaches ACPI */
	for (const struct kern_service *s = _kern_services_start; s < _kern_services_end; s++)
		if (s->early && s->wanted(&boot_options))
			s->early();          /* the gdb stub: gdb sees the VM come up */
	pmap_bootstrap(&boot_info);
	vm_page_bootstrap(&boot_info);
	pmap_init();
	kalloc_init();
	vm_object_bootstrap();
	kmem_init();
	vm_map_bootstrap();
	cpu_init_ist();
	sched_init();
	sched_preempt_always(boot_options.preempt_always);
	task_server_init();        /* each kind's routines, before the first message */
	mach_port_server_init();
	thread_server_init();
	host_init();

	print_banner();
	warn_unknown_options(&boot_options);
	print_cpu();
	boot_info_print(&boot_info);
	clock_init();              /* before the W^X audit, so that it covers the APIC page */
	clock_set_tick_handler(sched_tick);
	machine_cpus_start(&boot_info);   /* after the clock, which times it; before the audit */
	print_memory();

	/* `test` (tests/harness/) or `bench` (bench/): kern/service.h */
	for (const struct kern_service *s = _kern_services_start; s < _kern_services_end; s++)
		if (s->run && s->wanted(&boot_options))
			machine_exit(s->run(&boot_options) ? MICA_EXIT_PASS : MICA_EXIT_FAIL);
	demo_run();
	kprintf("mica: demo finished, powering off\n");
	machine_exit(MICA_EXIT_PASS);
}
