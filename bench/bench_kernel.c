/*
 * make bench (boot option `bench`): the kernel's own cases, measured by
 * lib/bench.c, then the user program user/bin/bench, which measures
 * what a task sees (vm_write by RPC, faults, traps, switches, wakeups,
 * timeouts).  Every case prints one BENCH line as it ends;
 * tools/bench-table turns the lines into a table with the targets of
 * docs/performance.md.
 *
 * The kernel's cases:
 *   memcpy                      the kernel's memcpy: the copy path's ceiling
 *   vm_write_kernel_aligned     vm_map_copyin + vm_write between two maps, no IPC:
 *   vm_write_kernel_unaligned   whole pages (substitution), or both ends one byte on (copying)
 *   vm_map_lookup               vm_map_lookup_entry at random addresses, by entry count
 *   vm_allocate_deallocate      one page in and out of a map
 *   timer_lateness              how long after its deadline a 1 ms timer fires, on an idle CPU
 *   shootdown                   a range of kernel addresses dropped from every CPU's TLB
 */
#include "arch/x86_64/layout.h"
#include "arch/x86_64/pmap_cpu.h"
#include "debug/profile.h"
#include "kern/clock.h"
#include "kern/cmdline.h"
#include "kern/console.h"
#include "kern/exec.h"
#include "kern/machine.h"
#include "kern/lock.h"
#include "kern/panic.h"
#include "kern/sched.h"
#include "kern/service.h"
#include "kern/task.h"
#include "kern/thread.h"
#include "kern/timer.h"
#include "lib/bench.h"
#include "lib/string.h"
#include "vm/pmap.h"
#include "vm/vm_kern.h"
#include "vm/vm_map_copy.h"
#include "vm/vm_user.h"

#define BIG (16ul << 20)               /* the largest size: 16 MiB */
#define SLACK (2 * PAGE_SIZE)          /* room for the one-byte skew */

static const uint64_t copy_sizes[] = { 4096, 64 << 10, 1 << 20, 16 << 20 };
#define NSIZES (sizeof(copy_sizes) / sizeof(copy_sizes[0]))
static const uint64_t lookup_entries[] = { 100, 10000, 100000 };
#define NLOOKUPS (sizeof(lookup_entries) / sizeof(lookup_entries[0]))

static char *mem_src, *mem_dst;
static vm_map_t src_map, dst_map, scratch_map;
static vm_address_t src_addr, dst_addr;

/* Keeps the compiler from dropping work whose result nobody reads. */
static void consume(const void *p)
{
	__asm__ volatile("" : : "r"(p) : "memory");
}

static uint64_t run_memcpy(const struct bench_case *c, uint64_t iters)
{
	uint64_t start = machine_cycle_count();

	for (uint64_t i = 0; i < iters; i++) {
		memcpy(mem_dst, mem_src, c->size);
		consume(mem_dst);
	}
	return machine_cycle_count() - start;
}

/* arg != NULL: both ends one byte past a page boundary, so the data is copied. */
static uint64_t run_vm_write(const struct bench_case *c, uint64_t iters)
{
	vm_offset_t skew = c->arg ? 1 : 0;
	uint64_t start = machine_cycle_count();

	for (uint64_t i = 0; i < iters; i++) {
		vm_map_copy_t copy;
		if (vm_map_copyin(src_map, src_addr + skew, c->size, &copy) != KERN_SUCCESS ||
		    vm_write(dst_map, dst_addr + skew, copy, (mach_msg_type_number_t)c->size) != KERN_SUCCESS)
			panic("bench: vm_write of %lu bytes between two maps failed", c->size);
	}
	return machine_cycle_count() - start;
}

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* arg: a map of size entries, one page each with a page of gap after it, from USER_MIN. */
static uint64_t run_lookup(const struct bench_case *c, uint64_t iters)
{
	vm_map_t map = c->arg;
	uint64_t seed = 0x9e3779b97f4a7c15ull, start;

	vm_map_lock_unint(map);
	start = machine_cycle_count();
	for (uint64_t i = 0; i < iters; i++) {
		uint64_t r = xorshift(&seed);
		vm_offset_t addr = USER_MIN + (r % (2 * c->size)) * PAGE_SIZE + (r >> 52);
		consume(vm_map_lookup_entry(map, addr));
	}
	start = machine_cycle_count() - start;
	vm_map_unlock(map);
	return start;
}

static uint64_t run_allocate_deallocate(const struct bench_case *c, uint64_t iters)
{
	uint64_t start = machine_cycle_count();

	(void)c;
	for (uint64_t i = 0; i < iters; i++) {
		vm_address_t addr = 0;
		if (vm_allocate(scratch_map, &addr, PAGE_SIZE, VM_FLAGS_ANYWHERE) != KERN_SUCCESS ||
		    vm_deallocate(scratch_map, addr, PAGE_SIZE) != KERN_SUCCESS)
			panic("bench: vm_allocate/vm_deallocate of one page failed");
	}
	return machine_cycle_count() - start;
}

static vm_map_t new_map(void)
{
	pmap_t pmap = pmap_create();
	vm_map_t map = pmap ? vm_map_create(pmap, USER_MIN, USER_MAX) : NULL;

	if (map == NULL)
		panic("bench: no memory for a map");
	return map;
}

/* A map region of BIG + SLACK bytes; with data, every page resident and not zero. */
static vm_address_t new_region(vm_map_t map, bool with_data)
{
	vm_address_t addr = 0;

	if (vm_allocate(map, &addr, BIG + SLACK, VM_FLAGS_ANYWHERE) != KERN_SUCCESS)
		panic("bench: no memory for a %lu-byte region", BIG + SLACK);
	for (vm_offset_t off = 0; with_data && off < BIG + SLACK; off += PAGE_SIZE) {
		vm_map_copy_t copy;
		if (vm_map_copy_from_kernel(mem_src + off % BIG, PAGE_SIZE, &copy) != KERN_SUCCESS ||
		    vm_write(map, addr + off, copy, PAGE_SIZE) != KERN_SUCCESS)
			panic("bench: cannot fill a region");
	}
	return addr;
}

/* A map with n one-page entries, each followed by a gap so that none merge. */
static vm_map_t map_with_entries(uint64_t n)
{
	vm_map_t map = new_map();

	for (uint64_t i = 0; i < n; i++) {
		vm_address_t addr = USER_MIN + 2 * i * PAGE_SIZE;
		if (vm_allocate(map, &addr, PAGE_SIZE, VM_FLAGS_FIXED) != KERN_SUCCESS)
			panic("bench: no memory for a map of %lu entries", n);
	}
	return map;
}

/* Measures the n cases together (alternating rounds) and prints their lines. */
static void run_cases(const struct bench_case *cases, size_t n)
{
	struct bench_result r[BENCH_GROUP_MAX];

	KASSERT(n <= BENCH_GROUP_MAX, "bench: %zu cases measured together", n);
	bench_run_cases(cases, r, n, clock_tsc_hz(), kprintf);
}

/* Each size's memcpy and vm_writes together: the targets are their ratios. */
static void run_copy_cases(void)
{
	static const char unaligned;       /* any non-NULL arg */

	for (unsigned i = 0; i < NSIZES; i++) {
		uint64_t size = copy_sizes[i];
		const struct bench_case group[] = {
			{ "memcpy", size, size, run_memcpy, NULL },
			{ "vm_write_kernel_aligned", size, size, run_vm_write, NULL },
			{ "vm_write_kernel_unaligned", size, size, run_vm_write, (void *)&unaligned },
		};
		run_cases(group, 3);
	}
}

/* The lookups at every map size together: the target is their ratio. */
static void run_map_cases(void)
{
	struct bench_case lookups[NLOOKUPS];

	for (unsigned i = 0; i < NLOOKUPS; i++)
		lookups[i] = (struct bench_case){ "vm_map_lookup", lookup_entries[i], 0, run_lookup,
		                                  map_with_entries(lookup_entries[i]) };
	run_cases(lookups, NLOOKUPS);
	for (unsigned i = 0; i < NLOOKUPS; i++)
		vm_map_deallocate(lookups[i].arg);
	run_cases(&(struct bench_case){ "vm_allocate_deallocate", PAGE_SIZE, 0,
	                                run_allocate_deallocate, NULL }, 1);
}

/*
 * A TLB shootdown of the kernel's pmap, active on every CPU: this CPU
 * drops the range, then asks each other one, by an interrupt, and waits
 * for its answer; an idle CPU is woken by it.  With one CPU, only the
 * first step: run with SMP=2 and SMP=1, the difference is what one remote
 * CPU costs.  Past TLB_INVLPG_MAX pages each CPU flushes its whole TLB.
 */
static uint64_t run_shootdown(const struct bench_case *c, uint64_t iters)
{
	vm_offset_t va = (vm_offset_t)mem_dst;
	uint64_t start = machine_cycle_count();

	for (uint64_t i = 0; i < iters; i++)
		pmap_tlb_invalidate(kernel_pmap, va, va + c->size);
	return machine_cycle_count() - start;
}

static void run_shootdown_cases(void)
{
	const struct bench_case cases[] = {
		{ "shootdown", PAGE_SIZE, 0, run_shootdown, NULL },
		{ "shootdown", 512 * PAGE_SIZE, 0, run_shootdown, NULL },
	};

	run_cases(cases, 2);
}

#define LATENESS_TIMERS 100            /* a round: a tenth of a second of 1 ms timers */
#define LATENESS_BUSY_TIMERS 20        /* with the copier, a round takes a quantum a timer */
#define LATENESS_NS 1000000ull         /* each timer's length */
#define COPIER_SIZE (64ul << 20)       /* the concurrent vm_write */

static volatile uint64_t lateness_fired_at;

/* From the clock interrupt: the time it ran, and the waiting thread woken if it sleeps. */
static void lateness_note(struct timer_call *t)
{
	(void)t;
	lateness_fired_at = clock_ns();
	thread_wakeup((const void *)&lateness_fired_at);
}

/* Sleeps until *word is nonzero; whoever sets it wakes it (thread_wakeup(word)). */
static void sleep_until_nonzero(const volatile uint64_t *word, const char *what)
{
	while (*word == 0) {
		assert_wait((const void *)word, what);
		if (*word == 0)
			thread_block();
		else
			clear_wait(current_thread(), THREAD_AWAKENED);
	}
}

/* Until the timer has fired: in halts on an idle CPU, else asleep while the copier runs. */
static void lateness_wait(bool busy)
{
	if (busy) {
		sleep_until_nonzero(&lateness_fired_at, "a bench timer");
		return;
	}
	while (lateness_fired_at == 0)
		__asm__ volatile("sti; hlt; cli" ::: "memory");
}

/*
 * The mean lateness, in picoseconds, of n timers of 1 ms entered one
 * after the other; *worst becomes the largest lateness seen, in ns, if
 * larger.  Lateness is when the timer's function ran, in the interrupt:
 * a thread it wakes runs later still, when the copier's quantum ends.
 */
static uint64_t timer_lateness_round(unsigned n, bool busy, uint64_t *worst)
{
	static struct timer_call timer;
	uint64_t total = 0;

	for (unsigned i = 0; i < n; i++) {
		uint64_t deadline = clock_ns() + LATENESS_NS;
		lateness_fired_at = 0;
		timer_call_enter(&timer, deadline, lateness_note);
		lateness_wait(busy);
		uint64_t late = lateness_fired_at - deadline;
		total += late;
		if (late > *worst)
			*worst = late;
	}
	return total * 1000 / n;
}

static volatile bool copier_stop;
static volatile uint64_t copier_stopped;    /* nonzero once the copier let go of its maps */

/* One 64 MiB vm_write after another, one byte past page boundaries, with interrupts on. */
static void copier_run(void *arg)
{
	vm_map_t src = new_map(), dst = new_map();
	vm_address_t from = 0, to = 0;

	(void)arg;
	machine_interrupts_on();
	if (vm_allocate(src, &from, COPIER_SIZE + SLACK, VM_FLAGS_ANYWHERE) != KERN_SUCCESS ||
	    vm_allocate(dst, &to, COPIER_SIZE + SLACK, VM_FLAGS_ANYWHERE) != KERN_SUCCESS)
		panic("bench: no memory for the copier's regions");
	while (!copier_stop) {
		vm_map_copy_t copy;
		if (vm_map_copyin(src, from + 1, COPIER_SIZE, &copy) != KERN_SUCCESS ||
		    vm_write(dst, to + 1, copy, (mach_msg_type_number_t)COPIER_SIZE) != KERN_SUCCESS)
			panic("bench: the copier's vm_write failed");
	}
	vm_map_deallocate(src);
	vm_map_deallocate(dst);
	copier_stopped = 1;
	thread_wakeup((const void *)&copier_stopped);
}

/*
 * Lateness is not a cost per operation that a longer round would average
 * better, so this case has rounds of its own, of a fixed count of timers:
 * its line reports the best and the median round's mean lateness as
 * ns_per_op and median_ns, and a line of its own the worst timer.
 */
static void run_timer_case(const char *name, unsigned n, bool busy)
{
	const struct bench_case c = { name, LATENESS_NS / 1000000, 0, NULL, NULL };
	struct bench_result r = { .iters = n };
	uint64_t worst = 0;
	char line[192];

	for (int i = 0; i < BENCH_ROUNDS; i++)
		bench_add_round(&r, i, timer_lateness_round(n, busy, &worst));
	bench_format(&c, &r, line, sizeof(line));
	kprintf("%s\n", line);
	kprintf("%s: the latest of %u timers fired %lu ns after its deadline\n", name,
	        BENCH_ROUNDS * n, worst);
}

/* The same timers on an idle CPU, then while a kernel thread runs 64 MiB vm_writes. */
static void run_timer_cases(void)
{
	run_timer_case("timer_lateness", LATENESS_TIMERS, false);
	copier_stop = false;
	copier_stopped = 0;
	if (thread_create_kernel("copier", copier_run, NULL) == NULL)
		panic("bench: no memory for the copier thread");
	run_timer_case("timer_lateness_vm_write", LATENESS_BUSY_TIMERS, true);
	copier_stop = true;
	sleep_until_nonzero(&copier_stopped, "the copier's end");
}

static void report_samples(int slot, const struct bench_case *c)
{
	profile_report(slot, c->name, c->size, kprintf);
}

static const struct bench_profiler kernel_profiler = { profile_fill, report_samples };

/*
 * The kernel's cases, then user/bin/bench's; with the boot option
 * `profile`, each case's samples are reported after its BENCH line.
 * Numbers never fail it: it always passes.
 */
static bool bench_run(const struct boot_options *o)
{
	bool profile = o->profile;
	struct task *user;

	kprintf("make bench: TSC %lu MHz; %u CPUs; each case: the best and the median of %u "
	        "rounds of at least %llu ms\n", clock_tsc_hz() / 1000000, machine_cpu_count(),
	        BENCH_ROUNDS, BENCH_ROUND_NS / 1000000);
	if (profile && profile_start())
		bench_profiler = &kernel_profiler;    /* the user program asks (mica_profile) */
	mem_src = (char *)kmem_alloc(BIG + SLACK);
	mem_dst = (char *)kmem_alloc(BIG + SLACK);
	if (mem_src == NULL || mem_dst == NULL)
		panic("bench: no memory for two %lu-byte buffers", BIG + SLACK);
	for (vm_offset_t i = 0; i < BIG + SLACK; i++)
		mem_src[i] = (char)(i * 7 + 1);
	src_map = new_map();
	dst_map = new_map();
	scratch_map = new_map();
	src_addr = new_region(src_map, true);
	dst_addr = new_region(dst_map, false);

	run_copy_cases();
	run_map_cases();
	run_timer_cases();
	run_shootdown_cases();
	vm_map_deallocate(src_map);
	vm_map_deallocate(dst_map);
	vm_map_deallocate(scratch_map);
	kmem_free((vm_offset_t)mem_src, BIG + SLACK);
	kmem_free((vm_offset_t)mem_dst, BIG + SLACK);

	if (task_spawn(NULL, "bench", &user) == KERN_SUCCESS) {   /* else task_spawn said why */
		task_wait(user);
		task_deallocate(user);
	}
	if (profile_running())
		profile_stop();
	lock_report_stretches();
	return true;
}

static bool bench_wanted(const struct boot_options *o)
{
	return o->bench;
}

/* Boot option `bench` runs the benchmarks instead of the demo (kern/service.h). */
KERN_SERVICE(bench) = { "benchmarks", bench_wanted, NULL, bench_run, NULL };
