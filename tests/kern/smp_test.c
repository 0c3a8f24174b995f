/*
 * The other CPUs' start-up (arch/x86_64/mp.c): as many came up as the
 * MADT lists, each in the boot CPU's protection state with its own APIC
 * ID and per-CPU data, and the pages the start-up borrowed below 1 MiB
 * are neither the allocator's nor mapped any more.  With one CPU the
 * same checks hold of CPU 0 alone; make test boots with --smp 4 too.
 * And the gdb stub's hold: while gdb has one CPU, no other moves.
 */
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/mp.h"
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/pmap_md.h"
#include "debug/gdbstub.h"
#include "kern/clock.h"
#include "kern/machine.h"
#include "kern/sched.h"
#include "kern/thread.h"
#include "tests/harness/ktest.h"
#include "vm/vm_page.h"

/* The bits that make up the protection state every CPU must share. */
#define CR0_BITS  (CR0_PE | CR0_PG | CR0_WP | CR0_NE | CR0_MP | CR0_EM | CR0_TS)
#define CR4_BITS  (CR4_PAE | CR4_PGE | CR4_SMEP | CR4_SMAP | CR4_UMIP | CR4_PCIDE | CR4_OSFXSR | \
                   CR4_OSXMMEXCPT)
#define EFER_BITS (EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE)

static unsigned cpus_online(void)
{
	unsigned n = 0;

	for (unsigned i = 0; i < MAX_CPUS; i++)
		n += cpus[i].online;
	return n;
}

KTEST(smp, every_enabled_cpu_in_the_madt_is_online)
{
	unsigned want = mp_report.madt_enabled < MAX_CPUS ? mp_report.madt_enabled : MAX_CPUS;

	KT_EXPECT(mp_report.madt_found);
	if (mp_report.low_memory_short)
		KT_SKIP("the firmware left no free pages below 640 KiB for the start-up");
	KT_EXPECT_EQ(cpus_online(), want);
	KT_EXPECT_EQ(mp_report.started, want);
	for (unsigned i = 0; i < MAX_CPUS; i++)    /* online ones first, no gaps */
		KT_EXPECT_EQ(cpus[i].online, i < want);
}

/* CPU 0's record is what it runs with now, and has what pmap_bootstrap turned on. */
KTEST(smp, boot_cpu_record_matches_its_registers)
{
	const struct cpu_seen *s = &cpus[0].seen;

	KT_EXPECT_EQ(s->cr0, read_cr0());
	KT_EXPECT_EQ(s->cr4, read_cr4());
	KT_EXPECT_EQ(s->efer, rdmsr(MSR_EFER));
	KT_EXPECT_EQ(s->pat, rdmsr(MSR_PAT));
	KT_EXPECT(s->cr0 & CR0_WP);
	KT_EXPECT(s->efer & EFER_NXE);
	KT_EXPECT_EQ(!!(s->cr4 & CR4_SMEP), cpu_features.smep);
	KT_EXPECT_EQ(!!(s->cr4 & CR4_SMAP), cpu_features.smap);
	KT_EXPECT_EQ(!!(s->cr4 & CR4_UMIP), cpu_features.umip);
}

KTEST(smp, every_cpu_has_the_boot_cpus_protection_state)
{
	const struct cpu_seen *bsp = &cpus[0].seen;

	for (unsigned i = 1; i < MAX_CPUS; i++) {
		const struct cpu_seen *s = &cpus[i].seen;
		if (!cpus[i].online)
			continue;
		KT_EXPECT_EQ(s->cr0 & CR0_BITS, bsp->cr0 & CR0_BITS);
		KT_EXPECT_EQ(s->cr4 & CR4_BITS, bsp->cr4 & CR4_BITS);
		KT_EXPECT_EQ(s->efer & EFER_BITS, bsp->efer & EFER_BITS);
		KT_EXPECT_EQ(s->pat, bsp->pat);
	}
}

/* Each CPU is addressed by its own APIC ID and finds its own struct cpu through GS. */
KTEST(smp, each_cpu_has_its_own_apic_id_and_per_cpu_data)
{
	KT_EXPECT(curcpu() == &cpus[machine_cpu_number()]);   /* wherever the test runs */
	for (unsigned i = 0; i < MAX_CPUS; i++) {
		const struct cpu *c = &cpus[i];
		if (!c->online)
			continue;
		KT_EXPECT_EQ(c->id, i);
		KT_EXPECT(c->self == c);
		KT_EXPECT_EQ(c->seen.gs_base, (uint64_t)c);
		KT_EXPECT_EQ(c->seen.apic_id, c->apic_id);
		for (unsigned j = 0; j < i; j++)
			if (cpus[j].online)
				KT_EXPECT_NE(cpus[j].apic_id, c->apic_id);
		for (int k = 0; k < IST_COUNT; k++)
			KT_EXPECT_NE(c->tss.ist[k], 0);
		if (i > 0)
			KT_EXPECT_NE(c->tss.ist[0], cpus[0].tss.ist[0]);
	}
}

/*
 * The trampoline's page and its tables lie below the video memory, apart,
 * and the frame allocator never had them (neither free nor handed out):
 * nothing it gives can overwrite code another CPU may still be running.
 */
KTEST(smp, startup_pages_are_not_the_allocators)
{
	const paddr_t *low = mp_report.low_pages;

	if (mp_report.started == 1 && low[MP_LOW_CODE] == 0)
		return;                  /* nothing was borrowed */
	for (int i = 0; i < MP_LOW_PAGES; i++) {
		KT_EXPECT(low[i] != 0 && low[i] < 0xa0000 && (low[i] & PAGE_MASK) == 0);
		for (int j = 0; j < i; j++)
			KT_EXPECT_NE(low[i], low[j]);
		KT_EXPECT_EQ(vm_page_from_phys(low[i])->use, VM_PAGE_RESERVED);
	}
}

/* Once the CPUs are up, nothing maps the trampoline at its own address, nor executable. */
KTEST(smp, startup_identity_mapping_is_gone)
{
	const paddr_t *low = mp_report.low_pages;
	struct pmap_audit a;
	uint64_t pte;
	int level;

	pmap_audit(kernel_pmap, &a);
	KT_EXPECT_EQ(a.writable_and_executable + a.aliased_write_execute, 0);
	if (low[MP_LOW_CODE] == 0)
		return;
	KT_EXPECT(!pmap_leaf_entry(kernel_pmap, low[MP_LOW_CODE], &pte, &level));
	for (int i = 0; i < MP_LOW_PAGES; i++) {
		const uint64_t *words = pmap_phys_to_virt(low[i]);
		unsigned nonzero = 0;
		for (unsigned w = 0; w < PAGE_SIZE / sizeof(*words); w++)
			nonzero += words[w] != 0;
		KT_EXPECT_EQ(nonzero, 0);
	}
}

/* A thread that counts on the last CPU, interrupts on, until told to stop. */
struct counter {
	volatile uint64_t count;
	volatile bool stop, stopped;
};

static void count_on_the_last_cpu(void *arg)
{
	struct counter *c = arg;

	sched_bind(machine_cpu_count() - 1);
	while (!c->stop)
		c->count++;
	sched_bind(SCHED_ANY_CPU);
	c->stopped = true;
}

/* Spins 20 ms, interrupts as they are. */
static void spin_a_while(void)
{
	for (uint64_t until = clock_ns() + 20 * 1000 * 1000; clock_ns() < until;)
		__asm__ volatile("pause");
}

/*
 * What the stub does on a stop, without gdb: every other CPU is held at
 * once (by NMI, so even one with interrupts off), and held until let go:
 * a count kept on another CPU holds still meanwhile, then goes on.
 */
KTEST(smp, the_gdb_stub_holds_every_other_cpu_until_it_lets_go)
{
	static struct counter c;

	if (machine_cpu_count() < 2)
		KT_SKIP("one CPU");
	sched_bind(0);                                 /* the counter has the last CPU */
	c = (struct counter){ 0 };
	KT_ASSERT(thread_create_kernel("counter", count_on_the_last_cpu, &c) != NULL);
	KT_WAIT_FOR(c.count > 1000);
	bool was_on = machine_interrupts_save_off();   /* as the stub runs */
	bool all_held = gdbstub_md_stop_others();
	uint64_t held_at = c.count;
	spin_a_while();
	uint64_t later = c.count;
	gdbstub_md_resume_others();
	if (was_on)
		machine_interrupts_on();
	KT_EXPECT(all_held);
	KT_EXPECT_EQ(later, held_at);
	KT_WAIT_FOR(c.count > later);
	KT_EXPECT(c.count > later);                    /* let go, it counts again */
	c.stop = true;
	KT_WAIT_FOR(c.stopped);
	KT_EXPECT(c.stopped);
	sched_bind(SCHED_ANY_CPU);
}

