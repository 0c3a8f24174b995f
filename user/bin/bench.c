/*
 * make bench's user part (the kernel starts it after its own cases,
 * bench/bench_kernel.c): what things cost as a task sees them.
 *
 *   vm_write_rpc_aligned      vm_write through a task port into another task:
 *   vm_write_rpc_unaligned    whole pages, or address and data one byte on
 *   null_rpc                  host_page_size: a mach_msg round trip the kernel answers
 *   null_syscall              a trap that does nothing
 *   context_switch            yielding to another task that yields back: per switch
 *   zero_fill_fault           first touch of a fresh page
 *   cow_fault                 first write to a page shared copy-on-write (vm_copy)
 *
 * Times come from the TSC (mach_absolute_time) at the rate
 * mach_timebase_info gives; each case prints one BENCH line (lib/bench.h).
 */
#include <mach/mach.h>
#include <mach/mach_time.h>
#include <mica/mica.h>
#include <stdio.h>
#include <string.h>
#include "lib/bench.h"

#define PAGE 4096ul
#define BIG (16ul << 20)
#define FAULT_CHUNK 1024ul             /* pages mapped for one burst of faults */

static const uint64_t copy_sizes[] = { 4096, 64 << 10, 1 << 20, 16 << 20 };
#define NSIZES (sizeof(copy_sizes) / sizeof(copy_sizes[0]))

static mach_port_t self, host, target;
static vm_address_t src, dst, cow_src, cow_dst;
static uint64_t cycle_hz;

static void fail(const char *what, kern_return_t kr)
{
	printf("bench: %s failed: %d\n", what, kr);
	mica_exit(1);
}

/* arg != NULL: address and data one byte past a page boundary, so the data is copied. */
static uint64_t run_vm_write(const struct bench_case *c, uint64_t iters)
{
	vm_offset_t skew = c->arg ? 1 : 0;
	uint64_t start = mach_absolute_time();

	for (uint64_t i = 0; i < iters; i++) {
		kern_return_t kr = vm_write(target, dst + skew, src + skew,
		                            (mach_msg_type_number_t)c->size);
		if (kr != KERN_SUCCESS)
			fail("vm_write", kr);
	}
	return mach_absolute_time() - start;
}

static uint64_t run_null_rpc(const struct bench_case *c, uint64_t iters)
{
	uint64_t start = mach_absolute_time();
	vm_size_t size;

	(void)c;
	for (uint64_t i = 0; i < iters; i++)
		if (host_page_size(host, &size) != KERN_SUCCESS)
			fail("host_page_size", KERN_FAILURE);
	return mach_absolute_time() - start;
}

static uint64_t run_null_syscall(const struct bench_case *c, uint64_t iters)
{
	uint64_t start = mach_absolute_time();

	(void)c;
	for (uint64_t i = 0; i < iters; i++)
		mica_null_trap();
	return mach_absolute_time() - start;
}

/* Each yield is two switches: to the partner, and back when it yields. */
static uint64_t run_context_switch(const struct bench_case *c, uint64_t iters)
{
	uint64_t start = mach_absolute_time();

	(void)c;
	for (uint64_t i = 0; i < iters; i += 2)
		mica_yield();
	return mach_absolute_time() - start;
}

/* Writes one byte in each of n pages from addr, timed. */
static uint64_t touch_pages(vm_address_t addr, uint64_t n)
{
	uint64_t start = mach_absolute_time();

	for (uint64_t i = 0; i < n; i++)
		((volatile char *)addr)[i * PAGE] = 1;
	return mach_absolute_time() - start;
}

/* Fresh pages a chunk at a time; only the touches are timed. */
static uint64_t run_zero_fill(const struct bench_case *c, uint64_t iters)
{
	uint64_t cycles = 0;

	(void)c;
	for (uint64_t done = 0; done < iters;) {
		uint64_t n = iters - done < FAULT_CHUNK ? iters - done : FAULT_CHUNK;
		vm_address_t addr = 0;
		kern_return_t kr = mica_vm_allocate(&addr, n * PAGE, VM_FLAGS_ANYWHERE);
		if (kr != KERN_SUCCESS)
			fail("vm_allocate", kr);
		cycles += touch_pages(addr, n);
		mica_vm_deallocate(addr, n * PAGE);
		done += n;
	}
	return cycles;
}

/* cow_dst gets cow_src's pages copy-on-write (vm_copy), then each is written: timed. */
static uint64_t run_cow(const struct bench_case *c, uint64_t iters)
{
	uint64_t cycles = 0;

	(void)c;
	for (uint64_t done = 0; done < iters;) {
		uint64_t n = iters - done < FAULT_CHUNK ? iters - done : FAULT_CHUNK;
		kern_return_t kr = vm_copy(self, cow_src, n * PAGE, cow_dst);
		if (kr != KERN_SUCCESS)
			fail("vm_copy", kr);
		cycles += touch_pages(cow_dst, n);
		done += n;
	}
	return cycles;
}

static void fill_slot(int slot)
{
	mica_profile(MICA_PROFILE_FILL, slot, NULL, 0);
}

static void report_samples(int slot, const struct bench_case *c)
{
	mica_profile(MICA_PROFILE_REPORT, slot, c->name, c->size);
}

/* make bench PROFILE=1: the kernel samples, and prints each case's functions. */
static const struct bench_profiler kernel_sampler = { fill_slot, report_samples };

/* Measures the n cases together (alternating rounds) and prints their lines. */
static void run_cases(const struct bench_case *cases, size_t n)
{
	struct bench_result r[BENCH_GROUP_MAX];

	if (n > BENCH_GROUP_MAX)
		fail("measuring that many cases together", KERN_INVALID_ARGUMENT);
	bench_run_cases(cases, r, n, cycle_hz, printf);
}

static void run_case(const struct bench_case *c)
{
	run_cases(c, 1);
}

static vm_address_t allocate(mach_port_t task, vm_size_t size)
{
	vm_address_t addr = 0;
	kern_return_t kr = vm_allocate(task, &addr, size, VM_FLAGS_ANYWHERE);

	if (kr != KERN_SUCCESS)
		fail("vm_allocate", kr);
	return addr;
}

static void set_up(void)
{
	mach_timebase_info_data_t tb;
	kern_return_t kr = mach_timebase_info(&tb);

	if (kr != KERN_SUCCESS || tb.numer == 0)
		fail("mach_timebase_info", kr);
	cycle_hz = (uint64_t)tb.denom * 1000000000ull / tb.numer;
	self = mach_task_self();
	host = mach_host_self();
	kr = task_create(self, FALSE, &target);
	if (kr != KERN_SUCCESS)
		fail("task_create", kr);
	src = allocate(self, BIG + 2 * PAGE);
	dst = allocate(target, BIG + 2 * PAGE);
	memset((void *)src, 0x5a, BIG + 2 * PAGE);
	cow_src = allocate(self, FAULT_CHUNK * PAGE);
	cow_dst = allocate(self, FAULT_CHUNK * PAGE);
	memset((void *)cow_src, 0xc0, FAULT_CHUNK * PAGE);
}

int main(void)
{
	static const char unaligned;       /* any non-NULL arg */
	mach_port_t partner;
	kern_return_t kr;

	set_up();
	if (mica_profile(MICA_PROFILE_RUNNING, 0, NULL, 0) == KERN_SUCCESS)
		bench_profiler = &kernel_sampler;
	for (unsigned i = 0; i < NSIZES; i++) {       /* together: the target is their ratio */
		const struct bench_case pair[] = {
			{ "vm_write_rpc_aligned", copy_sizes[i], copy_sizes[i], run_vm_write, NULL },
			{ "vm_write_rpc_unaligned", copy_sizes[i], copy_sizes[i], run_vm_write,
			  (void *)&unaligned },
		};
		run_cases(pair, 2);
	}
	run_case(&(struct bench_case){ "null_rpc", 0, 0, run_null_rpc, NULL });
	run_case(&(struct bench_case){ "null_syscall", 0, 0, run_null_syscall, NULL });
	run_case(&(struct bench_case){ "zero_fill_fault", PAGE, PAGE, run_zero_fill, NULL });
	run_case(&(struct bench_case){ "cow_fault", PAGE, PAGE, run_cow, NULL });
	kr = task_spawn(host, "bench_partner", &partner);
	if (kr != KERN_SUCCESS)
		fail("task_spawn bench_partner", kr);
	run_case(&(struct bench_case){ "context_switch", 0, 0, run_context_switch, NULL });
	task_terminate(partner);
	task_terminate(target);
	return 0;
}
