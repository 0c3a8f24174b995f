/*
 * Kernel command line options:
 *   test            run every in-kernel test suite, then exit QEMU; test programs
 *                   may make the kernel fail allocations (SYS_alloc_fail)
 *   test=A[,B...]   run only these suites (also ones left out of `test`)
 *   quiet           keep informational boot messages off the console
 *   bench           run the benchmarks (make bench), then exit QEMU
 *   profile         with bench: sample where each case spends its time
 *                   (make bench PROFILE=1, debug/profile.h)
 *   gdb             wait at boot for gdb on COM2, and stop for it at
 *                   breakpoints and panics (debug/gdbstub.h)
 *   seed=N          seed for randomized tests (default: a random one)
 *   usertest=A[,B]  also run these carried programs (user/bin) in the user suite
 *   preempt=always  preempt at every point the kernel may, whenever another thread
 *                   can run, not only when a quantum ends: races show at once
 * Anything else is reported as unknown and boot goes on.
 */
#ifndef MICA_KERN_CMDLINE_H
#define MICA_KERN_CMDLINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CMDLINE_MAX 512
#define CMDLINE_MAX_UNKNOWN 8

struct boot_options {
	bool test;
	bool quiet;
	bool gdb;
	bool bench;
	bool profile;
	bool preempt_always;
	bool seed_given;
	uint64_t seed;
	char suites[CMDLINE_MAX];          /* comma-separated; empty: every default suite */
	char usertests[CMDLINE_MAX];       /* comma-separated extra programs for the user suite */
	bool usertests_only;               /* userprograms=: the user suite runs those alone */
	unsigned unknown_count;
	char unknown[CMDLINE_MAX_UNKNOWN][64];  /* the first few unknown options, for warnings */
};

/* Fills *o from a space-separated command line; never fails. */
void cmdline_parse(const char *cmdline, struct boot_options *o);

/* Is this suite named in o->suites (which must be non-empty)? */
bool cmdline_suite_selected(const struct boot_options *o, const char *suite);

/* Is name an item of the comma-separated list? */
bool cmdline_list_has(const char *list, const char *name);

/* The i-th item of a comma-separated list, copied into buf; false past the end. */
bool cmdline_list_item(const char *list, unsigned i, char *buf, size_t len);

#endif
