/*
 * What the lock layer measured, said on the console (kern/lock.h): apart
 * from kern/lock.c, which the host tests build, as it names functions
 * and converts cycles to time with the kernel's own tables.
 */
#include "kern/clock.h"
#include "kern/console.h"
#include "kern/ksym.h"
#include "kern/lock.h"

static void report_stretch(const char *kind, const struct off_stretch *s)
{
	uint64_t hz = clock_tsc_hz(), offset = 0;
	const char *fn = ksym_lookup(s->ended_in, &offset);

	if (hz == 0 || s->longest == 0) {
		kprintf("%s: none", kind);
		return;
	}
	kprintf("%s %lu us, ended in %s+%#lx", kind, s->longest * 1000000 / hz,
	        fn ? fn : "?", offset);
}

void lock_report_stretches(void)
{
#ifdef INVARIANTS
	/* a spin-lock section disables preemption too: the longer of the two is its longest */
	const struct off_stretch *p = preempt_off_stretch.longest > interrupts_off_stretch.longest ?
	                              &preempt_off_stretch : &interrupts_off_stretch;

	kprintf("# longest with ");
	report_stretch("interrupts off", &interrupts_off_stretch);
	report_stretch("; with preemption off", p);
	kprintf("\n");
#endif
}
