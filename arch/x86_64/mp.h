/*
 * Starting the other processors (arch/x86_64/mp.c); kern/ reaches it
 * through kern/machine.h.  What the start-up did is kept for the smp
 * tests (tests/kern/smp_test.c).
 */
#ifndef MICA_ARCH_MP_H
#define MICA_ARCH_MP_H

#include <stdbool.h>
#include <stdint.h>
#include "vm/pmap.h"

/* The pages below 1 MiB the start-up borrows: the trampoline, and the tables that map it. */
enum { MP_LOW_CODE, MP_LOW_PML4, MP_LOW_PDPT, MP_LOW_PD, MP_LOW_PT, MP_LOW_PAGES };

struct mp_report {
	bool madt_found;                 /* a sound MADT, reached from the RSDP */
	unsigned madt_enabled;           /* enabled processors it lists (1 without one) */
	unsigned started;                /* CPUs online, the boot processor among them */
	bool low_memory_short;           /* too few free pages below 640 KiB: none started */
	paddr_t low_pages[MP_LOW_PAGES]; /* all 0 unless other CPUs were to start */
};

extern struct mp_report mp_report;

#endif
