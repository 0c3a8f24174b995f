/*
 * Threads made and driven through ports: a thread created in a child
 * task by thread_create, given its registers by thread_set_state, run by
 * thread_resume and seen at work through vm_read; task_suspend and
 * thread_suspend stop it, the resumes restart it, task_threads lists it
 * and thread_terminate ends it and kills its port.  Wrong ports, flavors
 * and counts get Mach's codes; children that exit or fault take their
 * ports with them; and nothing is left behind.
 */
#include <ktap.h>
#include <string.h>

#include <mach/mach.h>
#include <mica/mica.h>

#define MARK 0x5eed1e55c0deull
#define USER_CS 0x2b                    /* the ring-3 code selector a user thread runs with */

/* Position-independent: writes rsi at 8(%rdi), then counts at (%rdi) for ever. */
static const unsigned char counting_code[] = {
	0x48, 0x89, 0x77, 0x08,         /* mov %rsi, 8(%rdi) */
	0x48, 0xff, 0x07,               /* 1: incq (%rdi) */
	0xeb, 0xfb,                     /* jmp 1b */
};

/* Ends its task at once: SYS_exit (0) with status 0. */
static const unsigned char exiting_code[] = {
	0x31, 0xc0,                     /* xor %eax, %eax */
	0x31, 0xff,                     /* xor %edi, %edi */
	0x0f, 0x05,                     /* syscall */
};

struct child {
	task_t task;
	thread_act_t thread;
	vm_address_t code, data, stack;
};

/* A page in the child, with prot; 0 when it could not be had. */
static vm_address_t child_page(task_t task, vm_prot_t prot)
{
	vm_address_t a = 0;

	if (vm_allocate(task, &a, PAGE_SIZE, VM_FLAGS_ANYWHERE) != KERN_SUCCESS)
		return 0;
	if (vm_protect(task, a, PAGE_SIZE, 0, prot) != KERN_SUCCESS)
		return 0;
	return a;
}

/* A child task holding code, a data page and a stack, with one thread not yet run. */
static bool child_make_with(struct child *c, const unsigned char *code, size_t len)
{
	memset(c, 0, sizeof(*c));
	KT_EXPECT_EQ(task_create(mach_task_self(), 0, &c->task), KERN_SUCCESS);
	c->data = child_page(c->task, VM_PROT_READ | VM_PROT_WRITE);
	c->stack = child_page(c->task, VM_PROT_READ | VM_PROT_WRITE);
	c->code = child_page(c->task, VM_PROT_READ | VM_PROT_WRITE);
	KT_EXPECT(c->data && c->stack && c->code);
	KT_EXPECT_EQ(vm_write(c->task, c->code, (pointer_t)code, len), KERN_SUCCESS);
	KT_EXPECT_EQ(vm_protect(c->task, c->code, PAGE_SIZE, 0, VM_PROT_READ | VM_PROT_EXECUTE),
		     KERN_SUCCESS);
	KT_EXPECT_EQ(thread_create(c->task, &c->thread), KERN_SUCCESS);
	return MACH_PORT_VALID(c->thread);
}

/* The same, with the counting code. */
static bool child_make(struct child *c)
{
	return child_make_with(c, counting_code, sizeof(counting_code));
}

/* Gives back every name the child left in this task. */
static void child_forget(struct child *c)
{
	KT_EXPECT_EQ(mach_port_deallocate(mach_task_self(), c->task), KERN_SUCCESS);
	if (c->thread != MACH_PORT_NULL)
		KT_EXPECT_EQ(mach_port_deallocate(mach_task_self(), c->thread), KERN_SUCCESS);
}

/* Ends the child and forgets it. */
static void child_end(struct child *c)
{
	KT_EXPECT_EQ(task_terminate(c->task), KERN_SUCCESS);
	child_forget(c);
}

/* The registers that start the counting code on the child's pages. */
static x86_thread_state64_t start_state(const struct child *c)
{
	return (x86_thread_state64_t){
		.rip = c->code, .rsp = c->stack + PAGE_SIZE, .rdi = c->data, .rsi = MARK,
		.rbx = 0x1111, .rbp = 0x2222, .r15 = 0xf0f0f0f0f0f0ull,
	};
}

/* The 64-bit word at the child's data page + offset, or ~0 when it cannot be read. */
static uint64_t child_word(const struct child *c, vm_size_t offset)
{
	vm_offset_t data = 0;
	mach_msg_type_number_t count = 0;
	uint64_t word = ~0ull;

	if (vm_read(c->task, c->data + offset, sizeof(word), &data, &count) != KERN_SUCCESS)
		return word;
	word = *(const uint64_t *)data;
	vm_deallocate(mach_task_self(), data, count);
	return word;
}

/* A child and where its counter stood: what counter_moved looks at. */
struct watch {
	const struct child *child;
	uint64_t start;
};

static bool counter_moved(void *arg)
{
	const struct watch *w = arg;

	return child_word(w->child, 0) != w->start;
}

/* Does the child's counter move while this task gives way (within KTAP_WAIT_MS)? */
static bool counter_moves(const struct child *c)
{
	struct watch w = { c, child_word(c, 0) };

	return mica_wait_until(counter_moved, &w, KTAP_WAIT_MS);
}

/* Does the counter stay where it is for 50 ms of giving way, time a running child uses? */
static bool counter_stays(const struct child *c)
{
	struct watch w = { c, child_word(c, 0) };

	return !mica_wait_until(counter_moved, &w, 50);
}

static void thread_self_names_one_port(void)
{
	thread_act_t self = mach_thread_self();
	x86_thread_state64_t s;
	mach_msg_type_number_t count = x86_THREAD_STATE64_COUNT;

	KT_ASSERT(MACH_PORT_VALID(self));
	KT_EXPECT(self != mach_task_self());
	KT_EXPECT_EQ(mach_thread_self(), self);
	KT_EXPECT_EQ(thread_get_state(self, x86_THREAD_STATE64, (thread_state_t)&s, &count),
		     KERN_SUCCESS);
	KT_EXPECT_EQ(s.cs, USER_CS);
	KT_EXPECT(s.rip >= USER_TEXT_BASE && s.rip < USER_TEXT_BASE + (16ul << 20));
	KT_EXPECT_EQ(thread_resume(self), KERN_FAILURE);           /* not suspended */
	KT_EXPECT_EQ(thread_terminate(self), KERN_INVALID_ARGUMENT);
	KT_EXPECT_EQ(mach_port_deallocate(mach_task_self(), self), KERN_SUCCESS);
	KT_EXPECT_EQ(mach_port_deallocate(mach_task_self(), self), KERN_SUCCESS);
}

/* Every register set comes back from get_state; CS, FS and GS cannot be chosen. */
static void state_round_trips(const struct child *c)
{
	x86_thread_state64_t in = start_state(c), out;
	mach_msg_type_number_t count = 100;                         /* more room than needed */

	in.cs = 0x08;                                              /* the kernel's: ignored */
	in.fs = in.gs = 0xdead;
	KT_EXPECT_EQ(thread_set_state(c->thread, x86_THREAD_STATE64, (thread_state_t)&in,
				      x86_THREAD_STATE64_COUNT), KERN_SUCCESS);
	memset(&out, 0xff, sizeof(out));
	KT_EXPECT_EQ(thread_get_state(c->thread, x86_THREAD_STATE64, (thread_state_t)&out, &count),
		     KERN_SUCCESS);
	KT_EXPECT_EQ(count, 42);
	KT_EXPECT_EQ(out.rip, c->code);
	KT_EXPECT_EQ(out.rsp, c->stack + PAGE_SIZE);
	KT_EXPECT_EQ(out.rdi, c->data);
	KT_EXPECT_EQ(out.rsi, MARK);
	KT_EXPECT_EQ(out.rbx, 0x1111);
	KT_EXPECT_EQ(out.rbp, 0x2222);
	KT_EXPECT_EQ(out.r15, 0xf0f0f0f0f0f0ull);
	KT_EXPECT_EQ(out.rax, 0);
	KT_EXPECT_EQ(out.cs, USER_CS);
	KT_EXPECT(out.rflags & (1u << 9));                         /* interrupts stay on */
}

/* Suspensions are counted, the task's and the thread's alike. */
static void suspensions_stop_it(const struct child *c)
{
	KT_EXPECT_EQ(task_suspend(c->task), KERN_SUCCESS);
	KT_EXPECT_EQ(task_suspend(c->task), KERN_SUCCESS);
	KT_EXPECT(counter_stays(c));
	KT_EXPECT_EQ(task_resume(c->task), KERN_SUCCESS);
	KT_EXPECT(counter_stays(c));                               /* one suspend still holds */
	KT_EXPECT_EQ(task_resume(c->task), KERN_SUCCESS);
	KT_EXPECT(counter_moves(c));
	KT_EXPECT_EQ(task_resume(c->task), KERN_FAILURE);

	KT_EXPECT_EQ(thread_suspend(c->thread), KERN_SUCCESS);
	KT_EXPECT(counter_stays(c));
	KT_EXPECT_EQ(thread_resume(c->thread), KERN_SUCCESS);
	KT_EXPECT(counter_moves(c));
	KT_EXPECT_EQ(thread_resume(c->thread), KERN_FAILURE);
}

/* task_threads names the child's one thread by the name this task already has for it. */
static void the_child_has_one_thread(const struct child *c)
{
	thread_act_array_t list = NULL;
	mach_msg_type_number_t count = 0;

	KT_ASSERT_EQ(task_threads(c->task, &list, &count), KERN_SUCCESS);
	KT_ASSERT_EQ(count, 1);
	KT_EXPECT_EQ(list[0], c->thread);
	KT_EXPECT_EQ(mach_port_deallocate(mach_task_self(), list[0]), KERN_SUCCESS);
	KT_EXPECT_EQ(vm_deallocate(mach_task_self(), (vm_address_t)list, count * sizeof(*list)),
		     KERN_SUCCESS);
}

/* A terminated thread stops, leaves its task's list, and its port is dead. */
static void terminate_ends_it(struct child *c)
{
	thread_act_array_t list = (thread_act_array_t)1;
	mach_msg_type_number_t count = 99;
	x86_thread_state64_t s;
	mach_msg_type_number_t scount = x86_THREAD_STATE64_COUNT;

	KT_EXPECT_EQ(thread_terminate(c->thread), KERN_SUCCESS);
	KT_EXPECT(counter_stays(c));
	KT_EXPECT_EQ(task_threads(c->task, &list, &count), KERN_SUCCESS);
	KT_EXPECT_EQ(count, 0);
	KT_EXPECT_EQ(list, NULL);
	KT_EXPECT_EQ(thread_get_state(c->thread, x86_THREAD_STATE64, (thread_state_t)&s, &scount),
		     MACH_SEND_INVALID_DEST);
	KT_EXPECT_EQ(thread_resume(c->thread), MACH_SEND_INVALID_DEST);
	KT_EXPECT_EQ(thread_terminate(c->thread), MACH_SEND_INVALID_DEST);
}

/* The whole life of a thread in a child task. */
static void live_one_thread(void)
{
	struct child c;
	x86_thread_state64_t s;

	if (child_make(&c)) {
		state_round_trips(&c);
		KT_EXPECT_EQ(child_word(&c, 0), 0);                /* created suspended */
		KT_EXPECT(counter_stays(&c));
		KT_EXPECT_EQ(thread_resume(c.thread), KERN_SUCCESS);
		KT_EXPECT(counter_moves(&c));
		KT_EXPECT_EQ(child_word(&c, 8), MARK);             /* it ran from the state we set */
		suspensions_stop_it(&c);
		the_child_has_one_thread(&c);
		s = start_state(&c);                               /* a running thread: rewound */
		KT_EXPECT_EQ(thread_suspend(c.thread), KERN_SUCCESS);
		KT_EXPECT_EQ(thread_set_state(c.thread, x86_THREAD_STATE64, (thread_state_t)&s,
					      x86_THREAD_STATE64_COUNT), KERN_SUCCESS);
		KT_EXPECT_EQ(thread_resume(c.thread), KERN_SUCCESS);
		KT_EXPECT(counter_moves(&c));
		terminate_ends_it(&c);
	}
	child_end(&c);
}

static void a_thread_lives_in_a_child(void)
{
	live_one_thread();
}

/* Wrong kinds of ports: KERN_INVALID_ARGUMENT, as XNU's servers give; no port: the send fails. */
static void ports_of_the_wrong_kind(void)
{
	struct child c;
	thread_act_t t = MACH_PORT_NULL;
	thread_act_array_t list;
	mach_msg_type_number_t count = x86_THREAD_STATE64_COUNT;
	x86_thread_state64_t s;

	if (child_make(&c)) {
		KT_EXPECT_EQ(thread_create(c.thread, &t), KERN_INVALID_ARGUMENT);
		KT_EXPECT_EQ(thread_create(mach_host_self(), &t), KERN_INVALID_ARGUMENT);
		KT_EXPECT_EQ(task_threads(c.thread, &list, &count), KERN_INVALID_ARGUMENT);
		KT_EXPECT_EQ(task_suspend(c.thread), KERN_INVALID_ARGUMENT);
		KT_EXPECT_EQ(task_resume(c.thread), KERN_INVALID_ARGUMENT);
		KT_EXPECT_EQ(thread_get_state(c.task, x86_THREAD_STATE64, (thread_state_t)&s, &count),
			     KERN_INVALID_ARGUMENT);
		KT_EXPECT_EQ(thread_set_state(c.task, x86_THREAD_STATE64, (thread_state_t)&s,
					      x86_THREAD_STATE64_COUNT), KERN_INVALID_ARGUMENT);
		KT_EXPECT_EQ(thread_resume(c.task), KERN_INVALID_ARGUMENT);
		KT_EXPECT_EQ(thread_suspend(c.task), KERN_INVALID_ARGUMENT);
		KT_EXPECT_EQ(thread_terminate(c.task), KERN_INVALID_ARGUMENT);
		KT_EXPECT_EQ(vm_allocate(c.thread, &c.code, PAGE_SIZE, VM_FLAGS_ANYWHERE),
			     KERN_INVALID_ARGUMENT);
		KT_EXPECT_EQ(t, MACH_PORT_NULL);
	}
	KT_EXPECT_EQ(thread_create(MACH_PORT_NULL, &t), MACH_SEND_INVALID_DEST);
	KT_EXPECT_EQ(thread_get_state(MACH_PORT_NULL, x86_THREAD_STATE64, (thread_state_t)&s,
				      &count), MACH_SEND_INVALID_DEST);
	KT_EXPECT_EQ(thread_terminate(MACH_PORT_NULL), MACH_SEND_INVALID_DEST);
	KT_EXPECT_EQ(task_threads(MACH_PORT_NULL, &list, &count), MACH_SEND_INVALID_DEST);
	child_end(&c);
}

/* Flavors and counts Mach refuses, and registers that would leave user space. */
static void bad_state_is_refused(void)
{
	struct child c;
	x86_thread_state64_t s, out;
	mach_msg_type_number_t count;

	if (child_make(&c)) {
		s = start_state(&c);
		KT_EXPECT_EQ(thread_set_state(c.thread, x86_THREAD_STATE64, (thread_state_t)&s,
					      x86_THREAD_STATE64_COUNT), KERN_SUCCESS);
		count = x86_THREAD_STATE64_COUNT;
		KT_EXPECT_EQ(thread_get_state(c.thread, 99, (thread_state_t)&out, &count),
			     KERN_INVALID_ARGUMENT);
		KT_EXPECT_EQ(thread_set_state(c.thread, 99, (thread_state_t)&s,
					      x86_THREAD_STATE64_COUNT), KERN_INVALID_ARGUMENT);
		count = x86_THREAD_STATE64_COUNT - 1;
		KT_EXPECT_EQ(thread_get_state(c.thread, x86_THREAD_STATE64, (thread_state_t)&out,
					      &count), KERN_INVALID_ARGUMENT);
		KT_EXPECT_EQ(thread_set_state(c.thread, x86_THREAD_STATE64, (thread_state_t)&s,
					      x86_THREAD_STATE64_COUNT - 1), KERN_INVALID_ARGUMENT);
		KT_EXPECT_EQ(thread_set_state(c.thread, x86_THREAD_STATE64, (thread_state_t)&s,
					      x86_THREAD_STATE64_COUNT + 1), KERN_INVALID_ARGUMENT);
		KT_EXPECT_EQ(thread_set_state(c.thread, x86_THREAD_STATE64, (thread_state_t)&s,
					      THREAD_STATE_MAX + 1), MIG_ARRAY_TOO_LARGE);
		s.rip = 0x0000800000000000ull;                     /* not canonical */
		KT_EXPECT_EQ(thread_set_state(c.thread, x86_THREAD_STATE64, (thread_state_t)&s,
					      x86_THREAD_STATE64_COUNT), KERN_INVALID_ARGUMENT);
		s.rip = 0xffffffff80200000ull;                     /* the kernel's */
		KT_EXPECT_EQ(thread_set_state(c.thread, x86_THREAD_STATE64, (thread_state_t)&s,
					      x86_THREAD_STATE64_COUNT), KERN_INVALID_ARGUMENT);
		s = start_state(&c);
		s.rsp = 0x8000000000000000ull;
		KT_EXPECT_EQ(thread_set_state(c.thread, x86_THREAD_STATE64, (thread_state_t)&s,
					      x86_THREAD_STATE64_COUNT), KERN_INVALID_ARGUMENT);
		count = x86_THREAD_STATE64_COUNT;                  /* nothing refused was kept */
		KT_EXPECT_EQ(thread_get_state(c.thread, x86_THREAD_STATE64, (thread_state_t)&out,
					      &count), KERN_SUCCESS);
		KT_EXPECT_EQ(out.rip, c.code);
		KT_EXPECT_EQ(out.rsp, c.stack + PAGE_SIZE);
		KT_EXPECT_EQ(thread_resume(c.thread), KERN_SUCCESS);
		KT_EXPECT(counter_moves(&c));                      /* and it runs as it was set */
	}
	child_end(&c);
}

static bool task_port_died(void *arg)
{
	return task_resume(((const struct child *)arg)->task) == MACH_SEND_INVALID_DEST;
}

/* Does the child's task port die while this task gives way (the child ended)? */
static bool child_dies(const struct child *c)
{
	return mica_wait_until(task_port_died, (void *)c, KTAP_WAIT_MS);
}

/* A child that exits, or faults, ends with its ports; task_terminate then cannot reach it. */
static void children_that_end_themselves(void)
{
	struct child c;
	x86_thread_state64_t s;

	for (int faults = 0; faults < 2; faults++) {
		if (child_make_with(&c, exiting_code, sizeof(exiting_code))) {
			s = start_state(&c);
			s.rip = faults ? 0x1000 : c.code;          /* the null guard: a fault */
			KT_EXPECT_EQ(thread_set_state(c.thread, x86_THREAD_STATE64,
						      (thread_state_t)&s, x86_THREAD_STATE64_COUNT),
				     KERN_SUCCESS);
			KT_EXPECT_EQ(thread_resume(c.thread), KERN_SUCCESS);
			KT_EXPECT(child_dies(&c));
			KT_EXPECT_EQ(thread_resume(c.thread), MACH_SEND_INVALID_DEST);
			KT_EXPECT_EQ(task_terminate(c.task), MACH_SEND_INVALID_DEST);
		}
		child_forget(&c);
	}
}

/* Threads, children and their ports come and go without leaving anything in the kernel. */
static void threads_leave_nothing(void)
{
	struct mica_vm_stats before, after;

	live_one_thread();                                         /* warm up: first-use allocations */
	KT_ASSERT_EQ(host_vm_stats(mach_host_self(), &before), KERN_SUCCESS);
	live_one_thread();
	bad_state_is_refused();
	ports_of_the_wrong_kind();
	children_that_end_themselves();
	KT_ASSERT_EQ(host_vm_stats(mach_host_self(), &after), KERN_SUCCESS);
	KT_EXPECT_SAME_VM_STATS(before, after);
}

int main(void)
{
	static const struct ktap_case cases[] = {
		KTAP_CASE(thread_self_names_one_port),
		KTAP_CASE(a_thread_lives_in_a_child),
		KTAP_CASE(ports_of_the_wrong_kind),
		KTAP_CASE(bad_state_is_refused),
		KTAP_CASE(children_that_end_themselves),
		KTAP_CASE(threads_leave_nothing),
	};

	return ktap_run(cases, sizeof cases / sizeof cases[0]);
}
