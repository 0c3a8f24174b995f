/*
 * Threads of one task calling the kernel at once (<mica/thread.h>): four
 * threads make thousands of RPCs each and every reply is the caller's
 * own, since each thread has its own reply port; each keeps its own
 * thread pointer across switches; a pointer that is no user address is
 * refused and changes nothing; a new thread starts with none; RDTSCP
 * names the CPU; threads leave nothing behind.
 *
 * With one CPU the threads meet only where one is switched out between
 * its send and its receive.  A timer's preemption there is rare, so the
 * threads also send, give way a varying number of times and only then
 * receive: with one reply port for the task a thread would take
 * another's reply at once (make test also runs this program with
 * preempt=always, where the stubs' own calls are switched out inside).
 */
#include <ktap.h>
#include <stdlib.h>
#include <string.h>

#include <mach/mach.h>
#include <mach/mach_port_rpc.h>
#include <mica/mica.h>
#include <mica/thread.h>

#define WORKERS 4
#define ROUNDS 2000
#define ALL_DONE_MS 90000	/* for every worker's rounds: the slowest boots take a while */
#define MARKER 0x600dfeedull

/* One thread's calls and what it found. */
struct worker {
	unsigned id;
	struct mica_thread *thread;
	unsigned rounds;
	vm_address_t page;		/* filled with a pattern seeded by id */
	mach_port_name_t name;		/* a name whose type no other worker's has */
	mach_port_type_t type;
	mach_port_t reply_port;		/* what mig_get_reply_port gave it */
	struct mica_thread *self;	/* what its thread pointer showed */
	unsigned wrong;			/* calls that failed or replies that were not its own */
};

static struct worker workers[WORKERS];

/* Gives worker i a name of a type of its own, and a page that names it. */
static bool worker_prepare(struct worker *w, unsigned i, unsigned rounds)
{
	task_t self = mach_task_self();
	static const mach_port_right_t rights[] = {
		MACH_PORT_RIGHT_RECEIVE, MACH_PORT_RIGHT_RECEIVE, MACH_PORT_RIGHT_DEAD_NAME,
	};
	kern_return_t kr = KERN_SUCCESS;

	memset(w, 0, sizeof(*w));
	w->id = i;
	w->rounds = rounds;
	if (i < 3)
		kr = mach_port_allocate(self, rights[i], &w->name);
	else
		w->name = mach_host_self();
	if (kr == KERN_SUCCESS && i == 1)
		kr = mach_port_insert_right(self, w->name, w->name, MACH_MSG_TYPE_MAKE_SEND);
	if (kr == KERN_SUCCESS)
		kr = mach_port_type(self, w->name, &w->type);
	if (kr == KERN_SUCCESS)
		kr = mica_vm_allocate(&w->page, PAGE_SIZE, VM_FLAGS_ANYWHERE);
	if (kr == KERN_SUCCESS)
		ktap_fill((void *)w->page, PAGE_SIZE, 100 + i);
	return kr == KERN_SUCCESS;
}

/* Gives back the worker's name and page. */
static void worker_forget(struct worker *w)
{
	task_t self = mach_task_self();

	if (w->type & MACH_PORT_TYPE_SEND && w->type & MACH_PORT_TYPE_RECEIVE)
		KT_EXPECT_EQ(mach_port_mod_refs(self, w->name, MACH_PORT_RIGHT_SEND, -1),
			     KERN_SUCCESS);
	if (w->type & MACH_PORT_TYPE_RECEIVE)
		KT_EXPECT_EQ(mach_port_mod_refs(self, w->name, MACH_PORT_RIGHT_RECEIVE, -1),
			     KERN_SUCCESS);
	else
		KT_EXPECT_EQ(mach_port_deallocate(self, w->name), KERN_SUCCESS);
	KT_EXPECT_EQ(mica_vm_deallocate(w->page, PAGE_SIZE), KERN_SUCCESS);
}

/* vm_read of the worker's page: its own bytes come back. */
static bool read_own_page(const struct worker *w)
{
	vm_offset_t data = 0;
	mach_msg_type_number_t count = 0;
	bool own;

	if (vm_read(mach_task_self(), w->page, 64, &data, &count) != KERN_SUCCESS)
		return false;
	own = count == 64 && ktap_count_wrong((const void *)data, 64, 100 + w->id) == 0;
	mica_vm_deallocate(data, count);
	return own;
}

/*
 * mach_port_type of the worker's name by hand: the request goes out, the
 * thread gives way `turns` times, and only then takes its reply from
 * mig_get_reply_port, which must be the one answering its request.
 */
static bool port_type_split(const struct worker *w, unsigned turns)
{
	union {
		mach_port_name_request_t in;
		mach_port_type_reply_t out;
	} m = { .in = { .name = w->name } };
	mach_port_t reply = mig_get_reply_port();

	m.in.Head.msgh_bits = MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, MACH_MSG_TYPE_MAKE_SEND_ONCE);
	m.in.Head.msgh_remote_port = mach_task_self();
	m.in.Head.msgh_local_port = reply;
	m.in.Head.msgh_id = MACH_PORT_TYPE_ID;
	if (mach_msg(&m.in.Head, MACH_SEND_MSG, sizeof(m.in), 0, MACH_PORT_NULL, 0,
		     MACH_PORT_NULL) != MACH_MSG_SUCCESS)
		return false;
	while (turns-- > 0)
		mica_yield();
	if (mach_msg(&m.out.Head, MACH_RCV_MSG | MACH_RCV_TIMEOUT, 0, sizeof(m.out), reply,
		     KTAP_WAIT_MS, MACH_PORT_NULL) != MACH_MSG_SUCCESS)
		return false;
	return m.out.Head.msgh_id == MACH_PORT_TYPE_ID + MIG_REPLY_ID_OFFSET &&
	       m.out.RetCode == KERN_SUCCESS && m.out.ptype == w->type;
}

/* One round of calls, each checked to have brought back the caller's own answer. */
static unsigned one_round(const struct worker *w, unsigned round)
{
	vm_size_t page_size = 0;
	mach_port_type_t type = 0;
	unsigned wrong = 0;

	wrong += !read_own_page(w);
	wrong += host_page_size(mach_host_self(), &page_size) != KERN_SUCCESS ||
		 page_size != PAGE_SIZE;
	wrong += mach_port_type(mach_task_self(), w->name, &type) != KERN_SUCCESS ||
		 type != w->type;
	wrong += !port_type_split(w, (round + w->id) % 3);
	wrong += mica_thread_self() != w->self;
	return wrong;
}

/* A worker thread: its reply port and pointer noted, then its rounds. */
static void work(void *arg)
{
	struct worker *w = arg;

	w->reply_port = mig_get_reply_port();
	w->self = mica_thread_self();
	for (unsigned r = 0; r < w->rounds; r++)
		w->wrong += one_round(w, r);
}

static unsigned join_failures;

/* mica_wait_until's test: joins each worker whose rounds are done; true once all are. */
static bool join_finished(void *arg)
{
	bool all = true;

	(void)arg;
	for (unsigned i = 0; i < WORKERS; i++) {
		struct worker *w = &workers[i];
		kern_return_t kr;

		if (w->thread == NULL)
			continue;
		kr = mica_thread_join(w->thread, 0);
		if (kr == KERN_OPERATION_TIMED_OUT) {
			all = false;
			continue;
		}
		join_failures += kr != KERN_SUCCESS;
		w->thread = NULL;
	}
	return all;
}

/*
 * Runs the workers, rounds each, to their end and gives back what they
 * used; false, leaving them be, when they did not all end in time.
 */
static bool run_workers(unsigned rounds)
{
	bool ready = true;

	join_failures = 0;
	for (unsigned i = 0; i < WORKERS; i++)
		ready &= worker_prepare(&workers[i], i, rounds);
	KT_EXPECT(ready);
	for (unsigned i = 0; ready && i < WORKERS; i++)
		KT_EXPECT_EQ(mica_thread_start(work, &workers[i], &workers[i].thread),
			     KERN_SUCCESS);
	if (!mica_wait_until(join_finished, NULL, ALL_DONE_MS)) {
		ktap_fail_at(__FILE__, __LINE__, "the workers did not all end within %u ms",
			     ALL_DONE_MS);
		return false;
	}
	KT_EXPECT_EQ(join_failures, 0);
	for (unsigned i = 0; i < WORKERS; i++)
		worker_forget(&workers[i]);
	return ready;
}

/* Each thread has a reply port and a block of its own, the main thread's among them. */
static void each_thread_has_its_own_reply_port(void)
{
	mach_port_t main_port = mig_get_reply_port();

	if (!run_workers(1))
		return;
	for (unsigned i = 0; i < WORKERS; i++) {
		KT_EXPECT(MACH_PORT_VALID(workers[i].reply_port));
		KT_EXPECT_NE(workers[i].reply_port, main_port);
		KT_EXPECT_NE(workers[i].self, mica_thread_self());
		for (unsigned j = 0; j < i; j++) {
			KT_EXPECT_NE(workers[i].reply_port, workers[j].reply_port);
			KT_EXPECT_NE(workers[i].self, workers[j].self);
		}
	}
	KT_EXPECT_EQ(mig_get_reply_port(), main_port);
}

/* ROUNDS rounds of calls in each of four threads at once: every answer is its caller's. */
static void rpcs_of_four_threads_never_cross(void)
{
	if (!run_workers(ROUNDS))
		return;
	for (unsigned i = 0; i < WORKERS; i++) {
		KT_EXPECT_EQ(workers[i].wrong, 0);
		KT_EXPECT_NE(workers[i].self, NULL);
	}
}

/* The main thread keeps its pointer through all of that, and its reply port works. */
static void the_main_thread_keeps_its_pointer(void)
{
	vm_size_t page_size = 0;
	struct mica_thread *me = mica_thread_self();

	for (int i = 0; i < 200; i++)
		mica_yield();
	KT_EXPECT_EQ(mica_thread_self(), me);
	KT_EXPECT_EQ(*(struct mica_thread **)me, me);        /* %fs:0 holds its own address */
	KT_EXPECT_EQ(host_page_size(mach_host_self(), &page_size), KERN_SUCCESS);
	KT_EXPECT_EQ(page_size, PAGE_SIZE);
}

/* A block for the moment the main thread borrows another pointer: its own address first. */
static struct { void *self; } borrowed = { &borrowed };

/*
 * Anything but a user address is KERN_INVALID_ARGUMENT, and the pointer
 * stays; a user address is taken.  Nothing between a change and its
 * undoing reads the pointer (no RPC, no check that prints).
 */
static void bad_pointers_are_refused_and_change_nothing(void)
{
	static const uint64_t bad[] = {
		0x0000800000000000ull,  /* the first address past user space: not canonical */
		0x00ff000000000000ull,  /* not canonical */
		0x8000000000000000ull,  /* not canonical */
		0xffff800000000000ull,  /* the kernel's half */
		0xffffffff80000000ull,  /* the kernel's image */
		0xffffffffffffffffull,
	};
	struct mica_thread *me = mica_thread_self();
	mach_port_t reply = mig_get_reply_port();
	kern_return_t set, back;
	struct mica_thread *seen;

	for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		KT_EXPECT_EQ(mica_thread_set_pointer(bad[i]), KERN_INVALID_ARGUMENT);
		KT_EXPECT_EQ(mica_thread_self(), me);
	}
	set = mica_thread_set_pointer((uintptr_t)&borrowed);
	seen = mica_thread_self();
	back = mica_thread_set_pointer((uintptr_t)me);
	KT_EXPECT_EQ(set, KERN_SUCCESS);
	KT_EXPECT_EQ(seen, (struct mica_thread *)&borrowed);
	KT_EXPECT_EQ(back, KERN_SUCCESS);
	KT_EXPECT_EQ(mica_thread_self(), me);
	KT_EXPECT_EQ(mig_get_reply_port(), reply);
}

/* A page in task at address (0: anywhere), with prot; 0 when it could not be had. */
static vm_address_t child_page(task_t task, vm_address_t address, vm_prot_t prot)
{
	vm_address_t a = address;

	if (vm_allocate(task, &a, PAGE_SIZE, address ? VM_FLAGS_FIXED : VM_FLAGS_ANYWHERE) !=
	    KERN_SUCCESS)
		return 0;
	if (vm_protect(task, a, PAGE_SIZE, 0, prot) != KERN_SUCCESS)
		return 0;
	return a;
}

#define LOW_PAGE 0x100000ul

/* Reads %fs:LOW_PAGE and stores it at (%rdi), then spins. */
static const unsigned char fs_reading_code[] = {
	0x64, 0x48, 0x8b, 0x04, 0x25, 0x00, 0x00, 0x10, 0x00,  /* mov %fs:0x100000, %rax */
	0x48, 0x89, 0x07,                                      /* mov %rax, (%rdi) */
	0xeb, 0xfe,                                            /* 1: jmp 1b */
};

/* The child's data word: what its thread read, or 0 while it has not. */
static bool child_wrote(void *arg)
{
	const vm_address_t *where = arg;	/* { task, data } */
	vm_offset_t data = 0;
	mach_msg_type_number_t count = 0;
	bool wrote = false;

	if (vm_read(where[0], where[1], 8, &data, &count) == KERN_SUCCESS) {
		wrote = *(const uint64_t *)data != 0;
		vm_deallocate(mach_task_self(), data, count);
	}
	return wrote;
}

/*
 * A thread made by thread_create starts with thread pointer 0, not the
 * pointer of the thread that ran before it: in a child whose page at
 * LOW_PAGE holds MARKER, reading %fs:LOW_PAGE finds MARKER only from 0
 * (from this thread's pointer it would fault, and the child would die).
 */
static void a_new_thread_starts_without_a_pointer(void)
{
	task_t child;
	thread_act_t thread = MACH_PORT_NULL;
	vm_address_t where[2] = { 0, 0 }, code, low, stack;
	uint64_t marker = MARKER;
	x86_thread_state64_t s;

	KT_ASSERT_EQ(task_create(mach_task_self(), 0, &child), KERN_SUCCESS);
	where[0] = child;
	low = child_page(child, LOW_PAGE, VM_PROT_READ | VM_PROT_WRITE);
	where[1] = child_page(child, 0, VM_PROT_READ | VM_PROT_WRITE);
	stack = child_page(child, 0, VM_PROT_READ | VM_PROT_WRITE);
	code = child_page(child, 0, VM_PROT_READ | VM_PROT_WRITE);
	KT_EXPECT(where[1] && low == LOW_PAGE && stack && code);
	KT_EXPECT_EQ(vm_write(child, low, (pointer_t)&marker, sizeof(marker)), KERN_SUCCESS);
	KT_EXPECT_EQ(vm_write(child, code, (pointer_t)fs_reading_code, sizeof(fs_reading_code)),
		     KERN_SUCCESS);
	KT_EXPECT_EQ(vm_protect(child, code, PAGE_SIZE, 0, VM_PROT_READ | VM_PROT_EXECUTE),
		     KERN_SUCCESS);
	KT_EXPECT_EQ(thread_create(child, &thread), KERN_SUCCESS);
	s = (x86_thread_state64_t){ .rip = code, .rsp = stack + PAGE_SIZE, .rdi = where[1] };
	KT_EXPECT_EQ(thread_set_state(thread, x86_THREAD_STATE64, (thread_state_t)&s,
				      x86_THREAD_STATE64_COUNT), KERN_SUCCESS);
	KT_EXPECT_EQ(thread_resume(thread), KERN_SUCCESS);
	KT_EXPECT(mica_wait_until(child_wrote, where, KTAP_WAIT_MS));
	KT_EXPECT_EQ(task_terminate(child), KERN_SUCCESS);
	KT_EXPECT_EQ(mach_port_deallocate(mach_task_self(), child), KERN_SUCCESS);
	KT_EXPECT_EQ(mach_port_deallocate(mach_task_self(), thread), KERN_SUCCESS);
}

/* CPUID's word for RDTSCP (leaf 0x80000001, EDX bit 27), asked here apart from the library. */
static bool cpu_has_rdtscp(void)
{
	uint32_t a, b, c, d;

	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0x80000000u), "c"(0));
	if (a < 0x80000001u)
		return false;
	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0x80000001u), "c"(0));
	return d & (1u << 27);
}

/*
 * RDTSCP names the CPU the thread runs on: a number below Mica's 16 CPUs
 * (the kernel's smp suite checks it is each CPU's own); -1 only on a CPU
 * without RDTSCP.
 */
static void rdtscp_names_a_cpu(void)
{
	if (!cpu_has_rdtscp()) {
		KT_EXPECT_EQ(mica_cpu_number(), -1);
		return;
	}
	for (int i = 0; i < 100; i++) {
		int n = mica_cpu_number();

		KT_ASSERT(n >= 0 && n < 16);
		mica_yield();
	}
}

/*
 * The heap serves four threads at once: each allocates blocks of sizes of
 * its own, fills each with a pattern of its own, checks the pattern and
 * frees the block, over and over.  Without the heap's lock two threads
 * end up with one block, or the free list breaks.
 */
#define HEAP_ROUNDS 3000

struct heap_worker {
	unsigned id;
	struct mica_thread *thread;
	unsigned wrong;
};

static void heap_work(void *arg)
{
	struct heap_worker *h = arg;
	unsigned char *held[4] = { 0 };
	size_t sizes[4];

	for (unsigned r = 0; r < HEAP_ROUNDS; r++) {
		unsigned slot = r % 4;
		if (held[slot] != NULL) {
			h->wrong += ktap_count_wrong(held[slot], sizes[slot], 200 + h->id * 4 + slot);
			free(held[slot]);
		}
		sizes[slot] = 16 + (r * 37 + h->id * 101) % 700;
		held[slot] = malloc(sizes[slot]);
		if (held[slot] == NULL) {
			h->wrong++;
			continue;
		}
		ktap_fill(held[slot], sizes[slot], 200 + h->id * 4 + slot);
	}
	for (unsigned slot = 0; slot < 4; slot++)
		free(held[slot]);
}

static void the_heap_serves_four_threads_at_once(void)
{
	static struct heap_worker h[WORKERS];   /* a worker that outlives a failed join keeps it */

	for (unsigned i = 0; i < WORKERS; i++) {
		h[i] = (struct heap_worker){ .id = i };
		KT_ASSERT_EQ(mica_thread_start(heap_work, &h[i], &h[i].thread), KERN_SUCCESS);
	}
	for (unsigned i = 0; i < WORKERS; i++) {
		KT_EXPECT_EQ(mica_thread_join(h[i].thread, ALL_DONE_MS), KERN_SUCCESS);
		KT_EXPECT_EQ(h[i].wrong, 0);
	}
}

/* Threads, their stacks, blocks and reply ports come and go without a trace in the kernel. */
static void threads_leave_nothing(void)
{
	struct mica_vm_stats before, after;

	KT_ASSERT_EQ(host_vm_stats(mach_host_self(), &before), KERN_SUCCESS);
	run_workers(20);
	run_workers(1);
	KT_ASSERT_EQ(host_vm_stats(mach_host_self(), &after), KERN_SUCCESS);
	KT_EXPECT_SAME_VM_STATS(before, after);
}

int main(void)
{
	static const struct ktap_case cases[] = {
		KTAP_CASE(each_thread_has_its_own_reply_port),
		KTAP_CASE(rpcs_of_four_threads_never_cross),
		KTAP_CASE(the_main_thread_keeps_its_pointer),
		KTAP_CASE(bad_pointers_are_refused_and_change_nothing),
		KTAP_CASE(a_new_thread_starts_without_a_pointer),
		KTAP_CASE(rdtscp_names_a_cpu),
		KTAP_CASE(the_heap_serves_four_threads_at_once),
		KTAP_CASE(threads_leave_nothing),
	};

	return ktap_run(cases, sizeof cases / sizeof cases[0]);
}
