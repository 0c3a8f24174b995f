/*
 * How kern/ reaches the rooms built on it -- the test harness
 * (tests/harness/), the benchmarks (bench/), the debugger (debug/) --
 * without including their headers: they register what they serve, and
 * kern/ calls only what is registered.  A kernel linked without one of
 * them still boots.
 *
 * Boot services are registered at link time.  Each room defines one
 * struct kern_service with KERN_SERVICE; the link gathers them in the
 * kern_services section (linker.ld), in link order (the Makefile's
 * KERNEL_C: the harness before the benchmarks).  As soon as traps work,
 * kernel_main starts every service the command line asks for that has an
 * early step (the gdb stub: gdb sees the VM come up); once the kernel is
 * up, it lets the first one asked for that runs a boot run it instead of
 * the demo; the demo lets each say what it has built in.
 *
 * Run-time hooks are registered by a call, when what serves them starts:
 * panic_set_hook (the gdb stub: a panic stops for gdb before the machine
 * goes) and syscall_set_profile (the sampler: it serves SYS_profile while
 * it runs).
 */
#ifndef MICA_KERN_SERVICE_H
#define MICA_KERN_SERVICE_H

#include <stdbool.h>
#include <stdint.h>
#include <mach/kern_return.h>

struct boot_options;

struct kern_service {
	const char *name;
	/* Does the command line ask for this service? */
	bool (*wanted)(const struct boot_options *o);
	/* Starts it as soon as traps work, before the VM (NULL: nothing to start). */
	void (*early)(void);
	/*
	 * Runs the boot, once the kernel is up, instead of the demo; true when
	 * it passed (kernel_main then exits with MICA_EXIT_PASS, else _FAIL).
	 * NULL: the service runs no boot.
	 */
	bool (*run)(const struct boot_options *o);
	/* Prints a line on what the service has built in, for the demo; NULL: nothing. */
	void (*describe)(void);
};

/* KERN_SERVICE(name) = { ... };  one a room, at file scope. */
#define KERN_SERVICE(name)                                                      \
	static const struct kern_service kern_service_##name                    \
		__attribute__((section("kern_services"), used, aligned(8)))

extern const struct kern_service _kern_services_start[], _kern_services_end[];   /* linker.ld */

/* panic_end calls hook (once a hook is set) before the machine goes (kern/panic.c). */
void panic_set_hook(void (*hook)(void));

/*
 * SYS_profile's operations go to fn (kern/syscall.c) with the call's
 * arguments; without fn they fail with KERN_FAILURE.
 */
typedef kern_return_t (*syscall_profile_fn)(int op, int slot, uint64_t uname, uint64_t size);
void syscall_set_profile(syscall_profile_fn fn);

#endif
