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
 *   wakeup_round_trip         a request to a task asleep in mach_msg's receive, and its answer
 *   rcv_timeout_idle          how late a receive's 1 ms timeout returns, on an idle CPU,
 *   rcv_timeout_vm_write      and while another task runs a 64 MiB vm_write
 *   vm_write_rpc_one_task     page-aligned 4 KiB vm_writes by RPC, by this task alone,
 *   vm_write_rpc_two_tasks    and by this task and bench_echo at once, each into a task
 *                             of its own: time per call of the two together
 *   null_rpc_one_task         the same with null_rpc
 *   null_rpc_two_tasks
 *   vm_write_rpc_aligned_then_store
 *                             a page-aligned vm_write, then a store into each page of the
 *                             source buffer: the copy-on-write work the call deferred, paid
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
#include "bench_echo.h"

#define PAGE 4096ul
#define BIG (16ul << 20)
#define FAULT_CHUNK 1024ul             /* pages mapped for one burst of faults */

static const uint64_t copy_sizes[] = { 4096, 64 << 10, 1 << 20, 16 << 20 };
#define NSIZES (sizeof(copy_sizes) / sizeof(copy_sizes[0]))

static mach_port_t self, host, target;
static vm_address_t src, dst, cow_src, cow_dst;
static uint64_t cycle_hz;
static mach_port_t echo, echo_reply, never;   /* bench_echo's port, its answers', an empty one */

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

/*
 * The sender's side of a page-aligned vm_write: the call shares the
 * source pages copy-on-write, and the sender's next store into each one
 * pays for that (GNU Mach's own case, ../shared/peers/).  Both timed.
 */
static uint64_t run_vm_write_then_store(const struct bench_case *c, uint64_t iters)
{
	uint64_t start = mach_absolute_time();

	for (uint64_t i = 0; i < iters; i++) {
		kern_return_t kr = vm_write(target, dst, src, (mach_msg_type_number_t)c->size);
		if (kr != KERN_SUCCESS)
			fail("vm_write", kr);
		for (vm_size_t off = 0; off < c->size; off += PAGE)
			((volatile char *)src)[off]++;
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

/*
 * bench_echo started and asleep in its receive; returns a send right to
 * the port it serves, and in task and sink its task port and its sink's.
 * Its set-up writes 128 MiB, hence the long wait for its hello.
 */
static mach_port_t start_echo(mach_port_t *task, mach_port_t *sink)
{
	struct bench_echo_hello hello;
	mach_port_t boot = MACH_PORT_NULL;
	kern_return_t kr = mach_port_allocate(self, MACH_PORT_RIGHT_RECEIVE, &boot);

	if (kr == KERN_SUCCESS)
		kr = task_spawn(host, "bench_echo", task);
	if (kr == KERN_SUCCESS)
		kr = mach_port_insert_right(*task, BENCH_ECHO_BOOT_NAME, boot,
		                            MACH_MSG_TYPE_MAKE_SEND);
	if (kr != KERN_SUCCESS)
		fail("starting bench_echo", kr);
	kr = mach_msg(&hello.header, MACH_RCV_MSG | MACH_RCV_TIMEOUT, 0, sizeof(hello), boot,
	              60000, MACH_PORT_NULL);
	if (kr != MACH_MSG_SUCCESS || hello.header.msgh_id != BENCH_ECHO_HELLO)
		fail("waiting for bench_echo", kr);
	mach_port_mod_refs(self, boot, MACH_PORT_RIGHT_RECEIVE, -1);
	*sink = hello.sink.name;
	return hello.port.name;
}

/* A request to bench_echo, answered on echo_reply. */
static mach_msg_header_t echo_request(int id)
{
	return (mach_msg_header_t){
		.msgh_bits = MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, MACH_MSG_TYPE_MAKE_SEND_ONCE),
		.msgh_size = sizeof(mach_msg_header_t),
		.msgh_remote_port = echo,
		.msgh_local_port = echo_reply,
		.msgh_id = id,
	};
}

/*
 * bench_echo sleeps in its receive when each request comes, so a round
 * trip is two wakeups and two switches between the tasks: the request
 * wakes it, and its answer wakes this task, asleep for it meanwhile.
 */
static uint64_t run_wakeup(const struct bench_case *c, uint64_t iters)
{
	uint64_t start = mach_absolute_time();

	(void)c;
	for (uint64_t i = 0; i < iters; i++) {
		mach_msg_header_t m = echo_request(BENCH_ECHO_PING);
		kern_return_t kr = mach_msg(&m, MACH_SEND_MSG | MACH_RCV_MSG, sizeof(m), sizeof(m),
		                            echo_reply, MACH_MSG_TIMEOUT_NONE, MACH_PORT_NULL);
		if (kr != MACH_MSG_SUCCESS)
			fail("a round trip to bench_echo", kr);
	}
	return mach_absolute_time() - start;
}

#define TIMEOUT_MS 1
#define TIMEOUT_NS (TIMEOUT_MS * 1000000ull)
#define IDLE_TIMEOUTS 100              /* a round on an idle CPU: a tenth of a second */
#define LOADED_TIMEOUTS 10             /* a round under load: ten vm_writes of 64 MiB */

static uint64_t cycles_to_ns(uint64_t cycles)
{
	return cycles * 1000000000ull / cycle_hz;
}

/*
 * How late, in ns, a receive of TIMEOUT_MS on a port nothing is sent to
 * returns, counted from before the call.  With load, the same call first
 * sends bench_echo a LOAD: it wakes, but runs only once this task sleeps
 * in the receive, so the timeout's deadline falls within its vm_write.
 */
static uint64_t timeout_lateness(bool load)
{
	mach_msg_header_t m = echo_request(BENCH_ECHO_LOAD);
	mach_msg_option_t option = (load ? MACH_SEND_MSG : 0) | MACH_RCV_MSG | MACH_RCV_TIMEOUT;
	uint64_t start = mach_absolute_time();
	kern_return_t kr = mach_msg(&m, option, load ? sizeof(m) : 0, sizeof(m), never, TIMEOUT_MS,
	                            MACH_PORT_NULL);
	uint64_t ns = cycles_to_ns(mach_absolute_time() - start);

	if (kr != MACH_RCV_TIMED_OUT)
		fail("a receive that should time out", kr);
	return ns > TIMEOUT_NS ? ns - TIMEOUT_NS : 0;
}

/* LOAD's answer, once bench_echo's vm_write is over: how long that took, in ns. */
static uint64_t load_done(void)
{
	struct bench_echo_loaded a;
	kern_return_t kr = mach_msg(&a.header, MACH_RCV_MSG, 0, sizeof(a), echo_reply,
	                            MACH_MSG_TIMEOUT_NONE, MACH_PORT_NULL);

	if (kr != MACH_MSG_SUCCESS || a.result != KERN_SUCCESS)
		fail("bench_echo's vm_write", kr != MACH_MSG_SUCCESS ? kr : a.result);
	return cycles_to_ns(a.cycles);
}

/*
 * The mean lateness, in picoseconds, of n timeouts one after the other;
 * *worst becomes the largest lateness seen, in ns, if larger, and
 * *write_ns gains the time each vm_write took, under load.
 */
static uint64_t timeout_round(unsigned n, bool load, uint64_t *worst, uint64_t *write_ns)
{
	uint64_t total = 0;

	for (unsigned i = 0; i < n; i++) {
		uint64_t late = timeout_lateness(load);
		if (load)
			*write_ns += load_done();
		total += late;
		if (late > *worst)
			*worst = late;
	}
	return total * 1000 / n;
}

/*
 * As the kernel's timer_lateness: lateness is no cost per operation that
 * a longer round would average better, so these cases have rounds of
 * their own, of n timeouts: ns_per_op and median_ns are the best and the
 * median round's mean lateness, and lines of their own give the worst
 * timeout and, under load, the vm_write's mean time.
 */
static void run_timeout_case(const char *name, unsigned n, bool load)
{
	const struct bench_case c = { name, TIMEOUT_MS, 0, NULL, NULL };
	struct bench_result r = { .iters = n };
	uint64_t worst = 0, write_ns = 0;
	char line[192];

	for (int i = 0; i < BENCH_ROUNDS; i++)
		bench_add_round(&r, i, timeout_round(n, load, &worst, &write_ns));
	bench_format(&c, &r, line, sizeof(line));
	printf("%s\n%s: the latest of %u timeouts of %d ms returned %lu ns late\n", line, name,
	       BENCH_ROUNDS * n, TIMEOUT_MS, worst);
	if (load)
		printf("%s: bench_echo's vm_write of %lu bytes took %lu ns on average\n", name,
		       BENCH_ECHO_LOAD_SIZE, write_ns / (BENCH_ROUNDS * n));
}

/* iters of the loop kind names (BENCH_ECHO_WRITES or _RPCS), here. */
static void work(int kind, uint64_t iters)
{
	vm_size_t size;

	for (uint64_t i = 0; i < iters; i++) {
		kern_return_t kr = kind == BENCH_ECHO_WRITES ? vm_write(target, dst, src, PAGE) :
		                   host_page_size(host, &size);
		if (kr != KERN_SUCCESS)
			fail(kind == BENCH_ECHO_WRITES ? "vm_write" : "host_page_size", kr);
	}
}

/* arg: the loop's kind, as an int; this task alone runs every iteration. */
static uint64_t run_one_task(const struct bench_case *c, uint64_t iters)
{
	uint64_t start = mach_absolute_time();

	work((int)(uintptr_t)c->arg, iters);
	return mach_absolute_time() - start;
}

/*
 * The same loop, half of it here and half in bench_echo at the same
 * time, timed from the request until both halves are done: with a CPU
 * each, twice the throughput of one task is the most it can be.
 */
static uint64_t run_two_tasks(const struct bench_case *c, uint64_t iters)
{
	int kind = (int)(uintptr_t)c->arg;
	struct bench_echo_work w = { .header = echo_request(kind), .iters = iters / 2 };
	struct bench_echo_loaded done;
	uint64_t start = mach_absolute_time();

	w.header.msgh_size = sizeof(w);
	kern_return_t kr = mach_msg(&w.header, MACH_SEND_MSG, sizeof(w), 0, MACH_PORT_NULL,
	                            MACH_MSG_TIMEOUT_NONE, MACH_PORT_NULL);
	if (kr != MACH_MSG_SUCCESS)
		fail("asking bench_echo to work", kr);
	work(kind, iters - iters / 2);
	kr = mach_msg(&done.header, MACH_RCV_MSG, 0, sizeof(done), echo_reply,
	              MACH_MSG_TIMEOUT_NONE, MACH_PORT_NULL);
	if (kr != MACH_MSG_SUCCESS || done.result != KERN_SUCCESS)
		fail("bench_echo's half", kr != MACH_MSG_SUCCESS ? kr : done.result);
	return mach_absolute_time() - start;
}

/* Two tasks side by side against one, measured together: their ratio is the point. */
static void run_parallel_cases(void)
{
	void *writes = (void *)(uintptr_t)BENCH_ECHO_WRITES, *rpcs = (void *)(uintptr_t)BENCH_ECHO_RPCS;
	const struct bench_case write_pair[] = {
		{ "vm_write_rpc_one_task", PAGE, PAGE, run_one_task, writes },
		{ "vm_write_rpc_two_tasks", PAGE, PAGE, run_two_tasks, writes },
	};
	const struct bench_case rpc_pair[] = {
		{ "null_rpc_one_task", 0, 0, run_one_task, rpcs },
		{ "null_rpc_two_tasks", 0, 0, run_two_tasks, rpcs },
	};

	run_cases(write_pair, 2);
	run_cases(rpc_pair, 2);
}

/* The cases with bench_echo, in a task of its own, on the other side. */
static void run_echo_cases(void)
{
	mach_port_t task, sink;
	kern_return_t kr = mach_port_allocate(self, MACH_PORT_RIGHT_RECEIVE, &never);

	if (kr != KERN_SUCCESS || (echo_reply = mach_reply_port()) == MACH_PORT_NULL)
		fail("making two ports", kr);
	echo = start_echo(&task, &sink);
	run_case(&(struct bench_case){ "wakeup_round_trip", 0, 0, run_wakeup, NULL });
	run_timeout_case("rcv_timeout_idle", IDLE_TIMEOUTS, false);
	run_timeout_case("rcv_timeout_vm_write", LOADED_TIMEOUTS, true);
	run_parallel_cases();
	task_terminate(task);
	task_terminate(sink);
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
	run_echo_cases();
	for (unsigned i = 0; i < NSIZES; i++)        /* last: the cases before keep their order */
		if (copy_sizes[i] == PAGE || copy_sizes[i] == 1 << 20)
			run_case(&(struct bench_case){ "vm_write_rpc_aligned_then_store", copy_sizes[i],
			                               copy_sizes[i], run_vm_write_then_store, NULL });
	task_terminate(target);
	return 0;
}
