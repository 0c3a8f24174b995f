/*
 * The machine layer under the VM, faked for host tests: what arch/x86_64
 * gives the machine-independent code (kern/machine.h, the console's
 * output), over a malloc'd block standing in for physical memory.
 *
 * The pmap is the kernel's own, arch/x86_64/pmap.c, built for the host:
 * its four-level page tables, reverse maps, range walks and audit are
 * the ones the kernel runs.  This file plays only its CPU half
 * (arch/x86_64/pmap_cpu.h), as the machine does:
 *  - "physical memory" is ram[0, FAKE_RAM_TOP); pmap_phys_to_virt(pa) is
 *    ram + pa; [0, 1 MiB) is reserved, as on a PC, and the boot_info's
 *    memory map says so;
 *  - fake_pmap_access() is what the CPU does on an access through a
 *    mapping: it sets A, and D for a write;
 *  - no TLB, no PCIDs, one CPU: a removal is visible at once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arch/x86_64/pmap_cpu.h"
#include "kern/alloc_fail.h"
#include <mica/boot_info.h>
#include "kern/lock.h"
#include "kern/sched.h"
#include "kern/machine.h"
#include "kern/panic.h"
#include "kern/kalloc.h"
#include "vm/pmap.h"
#include "vm/vm_kern.h"
#include "vm/vm_map.h"
#include "vm/vm_object.h"
#include "vm/vm_page.h"

/* What the host test programs call (declared there: this file has no header). */
void fake_machine_boot(void);
void fake_pmap_access(pmap_t pmap, vm_offset_t va, vm_prot_t access);

#define LOW_RESERVED  (1ul << 20)
#define FAKE_RAM_TOP  (LOW_RESERVED + (64ul << 20))  /* 1 MiB reserved, then 64 MiB of RAM */

static uint8_t *ram;

/* ------------------------------------------------------------- machine.h */

static bool interrupts_on = true;

/* Lock sections are timed in cycles: the host's count is the TSC too. */
uint64_t machine_cycle_count(void) { return __builtin_ia32_rdtsc(); }

/* The host has no clock to preempt with: nothing is ever pending. */
void sched_preempt_pending(void) {}

/* One thread: a sleep lock is never found taken, so no one sleeps or wakes. */
struct thread *machine_current_thread(void) { return NULL; }
unsigned machine_cpu_number(void) { return 0; }
unsigned machine_cpu_count(void) { return 1; }
static struct cpu_locks the_cpu_locks = { .tag = 1 };
struct cpu_locks *machine_cpu_locks(void) { return &the_cpu_locks; }
struct cpu_locks *machine_cpu_locks_of(unsigned n) { return n == 0 ? &the_cpu_locks : NULL; }
void machine_spin_pause(void) { }
void assert_wait(event_t event, const char *what) { (void)event; (void)what; }
void assert_wait_in_call(event_t event, const char *what, bool interruptible)
{
	(void)event;
	(void)what;
	(void)interruptible;
}
wait_result_t thread_block(void) { panic("thread_block on the host: a sleep lock was taken"); }
void thread_wakeup(event_t event) { (void)event; }

void machine_interrupts_off(void) { interrupts_on = false; }
void machine_interrupts_on(void) { interrupts_on = true; }

bool machine_interrupts_save_off(void)
{
	bool was = interrupts_on;

	interrupts_on = false;
	return was;
}

void machine_exit(enum mica_exit code)
{
	fflush(stdout);
	fprintf(stderr, "fake machine: machine_exit(%#x)\n", code);
	abort();
}

void machine_backtrace_here(void)
{
	fprintf(stderr, "  (no backtrace on the host: run it under gdb)\n");
}

uint64_t machine_installed_ram(void)
{
	return FAKE_RAM_TOP;
}

uint64_t machine_entropy(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000007ull ^ (uint64_t)ts.tv_nsec;
}

/* No threads here, so no allocation-failure switch: nothing ever fails on purpose. */
bool alloc_fail_used;

bool alloc_fail_count(unsigned site)
{
	(void)site;
	return false;
}

bool alloc_fail_has_fired(void)
{
	return false;
}

void console_hw_init(void) {}

void console_hw_putc(char c)
{
	fputc(c, stderr);
}

/* ------------------------------------------------------------- the pmap's CPU half */

/*
 * arch/x86_64/pmap.c runs here as it is, over page tables in the fake
 * RAM; these are the parts of it the processor plays in the kernel
 * (arch/x86_64/pmap_cpu.c): one CPU that caches no translation, so a
 * change to an entry is seen at once, and no PCIDs.
 */
static struct pmap *current_pmap;

void pmap_bootstrap(const struct boot_info *bi)
{
	pmap_tables_bootstrap(bi);
	current_pmap = kernel_pmap;
}

void pmap_tlb_invalidate(struct pmap *pmap, vm_offset_t start, vm_offset_t end)
{
	(void)pmap;
	(void)start;
	(void)end;
}

uint16_t pmap_pcid_new(void)
{
	return 0;
}

void pmap_tlb_service(void)
{
}

void pmap_activate(pmap_t pmap)
{
	current_pmap = pmap;
}

pmap_t pmap_current(void)
{
	return current_pmap;
}

/* What the CPU does on an access through a mapping that allows it: sets A, and D for a write. */
void fake_pmap_access(pmap_t pmap, vm_offset_t va, vm_prot_t access)
{
	uint64_t *pte = pmap_pte(pmap, trunc_page(va));

	KASSERT(pte && (*pte & PTE_P), "fake_pmap_access: %#lx is not mapped", va);
	KASSERT((pmap_access(pmap, va) & access) == access,
	        "fake_pmap_access: %#lx does not allow %#x", va, access);
	*pte |= PTE_A | ((access & VM_PROT_WRITE) ? PTE_D : 0);
}

/* ------------------------------------------------------------- booting */

static struct boot_info fake_boot_info;

void fake_machine_boot(void)
{
	if (ram)
		return;
	ram = aligned_alloc(PAGE_SIZE, FAKE_RAM_TOP);
	pmap_direct_base = (uintptr_t)ram;
	if (ram == NULL) {
		fprintf(stderr, "fake machine: no memory for %lu bytes of RAM\n", FAKE_RAM_TOP);
		abort();
	}
	memset(ram, 0xcc, FAKE_RAM_TOP);           /* never-zeroed memory shows */

	struct boot_info *bi = &fake_boot_info;
	bi->magic = BOOT_INFO_MAGIC;
	bi->version = BOOT_INFO_VERSION;
	bi->size = sizeof(*bi);
	strcpy(bi->loader_name, "fake");
	bi->mmap_count = 2;
	bi->mmap[0] = (struct boot_mmap_entry){ .base = 0, .length = LOW_RESERVED,
	                                        .type = BOOT_MEM_RESERVED };
	bi->mmap[1] = (struct boot_mmap_entry){ .base = LOW_RESERVED,
	                                        .length = FAKE_RAM_TOP - LOW_RESERVED,
	                                        .type = BOOT_MEM_USABLE };
	/* the order of kern/main.c */
	pmap_bootstrap(bi);
	vm_page_bootstrap(bi);
	pmap_init();
	kalloc_init();
	vm_object_bootstrap();
	kmem_init();
	vm_map_bootstrap();
}
