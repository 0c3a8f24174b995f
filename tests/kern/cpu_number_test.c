/*
 * Each CPU's number is in its TSC_AUX (arch/x86_64/cpu.c), where RDTSCP
 * hands it to user code: checked on the CPU the test runs on, from the
 * instruction and the register, and for every CPU that started, from
 * what it read back once it had set it.  In the smp suite, which make
 * test also boots with four CPUs.
 */
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/percpu.h"
#include "kern/machine.h"
#include "tests/harness/ktest.h"

KTEST(smp, rdtscp_gives_each_cpu_its_number)
{
	uint32_t aux;
	unsigned id;
	bool was_on;

	if (!cpu_features.rdtscp)
		KT_SKIP("CPU lacks RDTSCP");
	was_on = machine_interrupts_save_off();        /* the same CPU for both reads */
	__asm__ volatile("rdtscp" : "=c"(aux) : : "rax", "rdx");
	id = curcpu()->id;
	if (was_on)
		machine_interrupts_on();
	KT_EXPECT_EQ(aux, id);
	for (unsigned i = 0; i < MAX_CPUS; i++)
		if (i == 0 || cpus[i].online)
			KT_EXPECT_EQ(cpus[i].seen.tsc_aux, i);
}
