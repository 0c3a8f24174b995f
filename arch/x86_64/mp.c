/*
 * Starting the other processors (Intel SDM vol. 3A, "Multiple-Processor
 * Management"; docs/boot.md, "Starting the other CPUs").
 *
 * The MADT lists them; it is read at boot while the loader's identity
 * map still reaches ACPI's tables.  Once the clock runs, each gets INIT
 * and start-up IPIs that start it in real mode on a page below 1 MiB
 * holding arch/x86_64/mp_trampoline.asm, which takes it to long mode
 * through a private top-level table and calls ap_main on a kernel stack.
 * There it loads its own GDT, TSS and GS base, takes the boot
 * processor's protection state, enables its local APIC, records what it
 * sees, says it is online and joins the scheduler (sched_cpu_run), whose
 * idle thread it becomes.  The CPUs start one at a time, so one parameter
 * block serves them all.
 */
#include "arch/x86_64/mp.h"
#include "arch/x86_64/acpi.h"
#include "arch/x86_64/apic.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/trap.h"
#include "arch/x86_64/pmap_md.h"
#include "kern/clock.h"
#include "kern/console.h"
#include "kern/machine.h"
#include "kern/panic.h"
#include "kern/sched.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "vm/vm_kern.h"
#include "vm/vm_page.h"

/* A start-up IPI names a page below the legacy video memory at 0xa0000. */
#define LOW_LIMIT            0xa0000ul
#define LOADER_IDENTITY_TOP  (4ull << 30)  /* the entry contract's identity map, at least */
#define INIT_DELAY_NS        (10ull * 1000 * 1000)
#define STARTUP_DELAY_NS     (200ull * 1000)
/* Under TCG on a busy host a CPU's first steps take milliseconds, not microseconds. */
#define ONLINE_TIMEOUT_NS    (2000ull * 1000 * 1000)
#define PT_ENTRIES           512

/* The parameter block at the trampoline's end, as mp_trampoline.asm lays it out. */
struct trampoline_params {
	uint32_t cr3;
	uint32_t jump32;            /* offset, then selector: a far pointer */
	uint16_t jump32_selector;
	uint16_t gdt_limit;         /* limit, then base: what LGDT reads */
	uint32_t gdt_base;
	uint32_t jump64;
	uint16_t jump64_selector;
	uint16_t pad;
	uint64_t stack;
	uint64_t entry;
	uint64_t cpu;
} __attribute__((packed));

_Static_assert(sizeof(struct trampoline_params) == 48, "mp_trampoline.asm's parameter block");

extern const char mp_trampoline_start[], mp_trampoline_params[], mp_trampoline_end[];

struct mp_report mp_report;
static struct madt_cpus madt;
static uint64_t ap_kernel_cr3;        /* what each CPU loads once it runs kernel code */

/*
 * ACPI's tables through the loader's identity map (pmap_bootstrap has
 * not yet replaced it), which reaches at least the first 4 GiB.
 */
static const void *identity_phys(uint64_t pa, size_t len)
{
	if (pa == 0 || pa >= LOADER_IDENTITY_TOP || len > LOADER_IDENTITY_TOP - pa)
		return NULL;
	return (const void *)(uintptr_t)pa;
}

void machine_cpus_find(const struct boot_info *bi)
{
	size_t len;
	const void *t = acpi_find_table(bi->acpi_rsdp, "APIC", identity_phys, &len);

	mp_report.madt_found = t != NULL && madt_parse(t, len, &madt);
	mp_report.madt_enabled = mp_report.madt_found ? madt.enabled : 1;
}

/*
 * What this CPU runs with, read from its registers: the values every
 * CPU must share, and where its GS base points.
 */
static void seen_record(struct cpu_seen *s)
{
	s->cr0 = read_cr0();
	s->cr4 = read_cr4();
	s->efer = rdmsr(MSR_EFER);
	s->pat = rdmsr(MSR_PAT);
	s->gs_base = rdmsr(MSR_GS_BASE);
	s->apic_id = apic_id();
}

/*
 * Where each CPU but the boot processor enters C, from the trampoline,
 * on its own kernel stack, interrupts off.  CR3 first: nothing in the
 * kernel may depend on the trampoline's page still being mapped.  The
 * control registers and PAT come from the boot processor's record, so
 * no feature is left out by a CPU that worked them out on its own.
 */
static void __attribute__((noreturn)) ap_main(struct cpu *c)
{
	const struct cpu_seen *bsp = &cpus[0].seen;

	write_cr3(ap_kernel_cr3);
	cpu_init_ap(c);
	write_cr0(bsp->cr0);
	write_cr4(bsp->cr4);
	wrmsr(MSR_EFER, bsp->efer);
	wrmsr(MSR_PAT, bsp->pat);
	apic_init_ap();
	c->pmap = kernel_pmap;
	seen_record(&c->seen);
	__atomic_store_n(&c->online, true, __ATOMIC_RELEASE);
	sched_cpu_run();               /* its start-up stack becomes its idle thread's */
}

unsigned machine_cpu_count(void)
{
	unsigned n = 1;

	while (n < MAX_CPUS && __atomic_load_n(&cpus[n].online, __ATOMIC_ACQUIRE))
		n++;
	return n;
}

void machine_cpu_kick(unsigned n)
{
	apic_send_ipi(cpus[n].apic_id, T_RESCHEDULE);
}

/*
 * Takes n pages of usable RAM below LOW_LIMIT from the memory map, the
 * highest first, page 0 (the real-mode interrupt vectors) never; false if
 * there are fewer.  The frame allocator never owns memory below 1 MiB
 * (pmap_frame_available), and a free frame here is refused all the same,
 * so the start-up's pages are nobody else's.
 */
static bool low_pages_take(const struct boot_info *bi, paddr_t *out, unsigned n)
{
	unsigned got = 0;

	for (uint32_t i = bi->mmap_count; i-- > 0 && got < n;) {
		const struct boot_mmap_entry *e = &bi->mmap[i];
		paddr_t lo = round_page(e->base), hi = trunc_page(e->base + e->length);
		if (e->type != BOOT_MEM_USABLE)
			continue;
		if (hi > LOW_LIMIT)
			hi = LOW_LIMIT;
		if (lo < PAGE_SIZE)
			lo = PAGE_SIZE;
		for (paddr_t pa = hi; pa > lo && got < n;) {
			pa -= PAGE_SIZE;
			if (pa >> PAGE_SHIFT >= vm_page_count ||
			    vm_page_from_phys(pa)->use != VM_PAGE_FREE)
				out[got++] = pa;
		}
	}
	return got == n;
}

/*
 * The start-up's own top-level table: the kernel half copied from the
 * kernel's (its top-level entries never change after boot), and in the
 * lower half only the trampoline's page, at its own address, read-only
 * and executable, for the instructions that run while paging comes on.
 * No address space the kernel uses ever has that mapping.
 */
static void identity_tables_build(const paddr_t *low)
{
	const uint64_t *kernel = pmap_phys_to_virt(ap_kernel_cr3 & PTE_ADDR);
	uint64_t *table[MP_LOW_PAGES];

	for (int i = 0; i < MP_LOW_PAGES; i++) {
		table[i] = pmap_phys_to_virt(low[i]);
		memset(table[i], 0, PAGE_SIZE);
	}
	memcpy(&table[MP_LOW_PML4][PT_ENTRIES / 2], &kernel[PT_ENTRIES / 2],
	       PT_ENTRIES / 2 * sizeof(uint64_t));
	table[MP_LOW_PML4][0] = low[MP_LOW_PDPT] | PTE_P | PTE_RW;
	table[MP_LOW_PDPT][0] = low[MP_LOW_PD] | PTE_P | PTE_RW;
	table[MP_LOW_PD][0] = low[MP_LOW_PT] | PTE_P | PTE_RW;
	table[MP_LOW_PT][low[MP_LOW_CODE] >> PAGE_SHIFT] = low[MP_LOW_CODE] | PTE_P;
}

/*
 * Copies the trampoline to its page and fills in what it cannot know:
 * where it landed, its tables, the kernel's entry.  Returns the
 * parameter block, in the page, for the per-CPU fields.
 */
static struct trampoline_params *trampoline_install(const paddr_t *low)
{
	size_t size = mp_trampoline_end - mp_trampoline_start;
	size_t at = mp_trampoline_params - mp_trampoline_start;
	char *page = pmap_phys_to_virt(low[MP_LOW_CODE]);
	struct trampoline_params *p = (struct trampoline_params *)(page + at);
	uint32_t base = (uint32_t)low[MP_LOW_CODE];

	KASSERT(size <= PAGE_SIZE && at + sizeof(*p) == size, "mp_trampoline.asm's layout changed");
	memcpy(page, mp_trampoline_start, size);
	p->cr3 = (uint32_t)low[MP_LOW_PML4];
	p->jump32 += base;
	p->gdt_base += base;
	p->jump64 += base;
	p->entry = (uint64_t)ap_main;
	return p;
}

/* Spins until c is online or ns have passed; says whether it is. */
static bool online_wait(const struct cpu *c, uint64_t ns)
{
	uint64_t end = clock_ns() + ns;

	while (!__atomic_load_n(&c->online, __ATOMIC_ACQUIRE) && clock_ns() < end)
		__asm__ volatile("pause");
	return __atomic_load_n(&c->online, __ATOMIC_ACQUIRE);
}

/*
 * INIT, then up to two start-up IPIs (the second only if the first was
 * lost), as the SDM's protocol has it; true once c says it is online.
 * A CPU that stays silent gets INIT again, so that it cannot wake up late
 * in a trampoline that is gone.
 */
static bool ap_signal(struct cpu *c, uint8_t vector)
{
	bool sent = apic_send_init(c->apic_id);

	online_wait(c, INIT_DELAY_NS);            /* cannot answer yet: the SDM's pause */
	for (int i = 0; sent && i < 2 && !c->online; i++) {
		sent = apic_send_startup(c->apic_id, vector);
		online_wait(c, i == 0 ? STARTUP_DELAY_NS : ONLINE_TIMEOUT_NS);
	}
	if (!c->online)
		apic_send_init(c->apic_id);
	return c->online;
}

/*
 * Starts the CPU with APIC ID apic as cpus[id], on a stack of its own;
 * false, with what it was given taken back, if it does not come online.
 */
static bool ap_start(struct trampoline_params *p, uint8_t vector, unsigned id, uint32_t apic)
{
	struct cpu *c = &cpus[id];
	vm_offset_t stack;

	if (!cpu_prepare(c, id, apic))
		return false;
	stack = kmem_stack_alloc();
	if (stack == 0) {
		cpu_release(c);
		return false;
	}
	p->stack = stack + KSTACK_SIZE;
	p->cpu = (uint64_t)c;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);   /* the block is whole before the IPI */
	if (ap_signal(c, vector))
		return true;
	kmem_stack_free(stack);
	cpu_release(c);
	return false;
}

/* Starts every enabled processor the MADT lists, up to MAX_CPUS in all; returns how many came up. */
static unsigned aps_start(struct trampoline_params *p, uint8_t vector)
{
	unsigned n = 1;

	for (unsigned i = 0; i < madt.enabled && n < MAX_CPUS; i++) {
		if (madt.apic_id[i] == cpus[0].apic_id)
			continue;
		if (ap_start(p, vector, n, madt.apic_id[i]))
			n++;
		else
			kprintf("cpus: the CPU with APIC ID %u did not start\n", madt.apic_id[i]);
	}
	if (madt.enabled > MAX_CPUS)
		kprintf("cpus: %u more listed than the kernel's %d\n", madt.enabled - MAX_CPUS, MAX_CPUS);
	return n;
}

/* Why no other CPU can start, or NULL if they can. */
static const char *start_refused(const struct boot_info *bi)
{
	if (!mp_report.madt_found)
		return "no ACPI MADT";
	if (madt.enabled <= 1)
		return NULL;
	if (!low_pages_take(bi, mp_report.low_pages, MP_LOW_PAGES)) {
		memset(mp_report.low_pages, 0, sizeof(mp_report.low_pages));
		mp_report.low_memory_short = true;
		return "no free memory below 640 KiB for the start-up trampoline";
	}
	return NULL;
}

/* The closing line, `cpus: N started (APIC IDs ...)`, that make run SMP=N shows. */
static void started_print(unsigned n)
{
	char ids[MAX_CPUS * 4 + 1];
	size_t at = 0;

	ids[0] = '\0';
	for (unsigned i = 0; i < n; i++)
		at += ksnprintf(ids + at, sizeof(ids) - at, " %u", cpus[i].apic_id);
	klog("cpus: %u started (APIC IDs%s)\n", n, ids);
}

void machine_cpus_start(const struct boot_info *bi)
{
	const char *refused = start_refused(bi);
	unsigned n = 1;

	cpus[0].apic_id = apic_id();
	seen_record(&cpus[0].seen);
	cpus[0].online = true;
	ap_kernel_cr3 = read_cr3();
	if (refused)
		kprintf("cpus: %s: starting no other CPU\n", refused);
	else if (madt.enabled > 1) {
		identity_tables_build(mp_report.low_pages);
		n = aps_start(trampoline_install(mp_report.low_pages),
		              mp_report.low_pages[MP_LOW_CODE] >> PAGE_SHIFT);
		for (int i = 0; i < MP_LOW_PAGES; i++)   /* the identity mapping goes with them */
			memset(pmap_phys_to_virt(mp_report.low_pages[i]), 0, PAGE_SIZE);
	}
	mp_report.started = n;
	started_print(n);
}
