/*
 * What the lock layer measured, said on the console (kern/lock.h): apart
 * from kern/lock.c, which the host tests build, as it names functions
 * and converts cycles to time with the kernel's own tables.
 */
#include <stddef.h>
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

/* The longest of kind (an offset of struct cpu_locks) over every CPU. */
static const struct off_stretch *longest_of(size_t kind)
{
	const struct off_stretch *best = NULL;

	for (unsigned n = 0; machine_cpu_locks_of(n) != NULL; n++) {
		const struct off_stretch *s =
			(const struct off_stretch *)((const char *)machine_cpu_locks_of(n) + kind);
		if (best == NULL || s->longest > best->longest)
			best = s;
	}
	return best;
}

void lock_report_stretches(void)
{
#ifdef INVARIANTS
	const struct off_stretch *irq = longest_of(offsetof(struct cpu_locks, interrupts_off));
	const struct off_stretch *pre = longest_of(offsetof(struct cpu_locks, preempt_off));

	/* a spin-lock section disables preemption too: the longer of the two is its longest */
	if (irq->longest > pre->longest)
		pre = irq;
	kprintf("# longest with ");
	report_stretch("interrupts off", irq);
	report_stretch("; with preemption off", pre);
	kprintf("\n");
#endif
}
