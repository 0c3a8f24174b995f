/*
 * Stress: WORKERS threads of this task, on every CPU there is, each with
 * TARGETS tasks of its own, make STRESS_ROUNDS random calls on them at
 * the same time: vm_write (whole pages, which substitutes them, or any
 * bytes, which copies), vm_protect, vm_deallocate and vm_allocate again,
 * vm_copy, task_create inheriting a target's memory (the child must keep
 * the memory as it was when the parent changes), and vm_read.  Every
 * round each worker also sends the next one, around a ring, a message
 * with out-of-line memory, and writes what it receives from the previous
 * one into a target.  Each worker keeps a model of its targets' bytes and
 * page protections: every call must answer what the model says, and at
 * the end every target must hold what its model holds, and host_vm_stats
 * be back where it began.  make stress runs the same program longer
 * (user/bin/stress_long.c).
 */
#include <ktap.h>
#include <stdio.h>
#include <string.h>

#include <mach/mach.h>
#include <mica/mica.h>
#include <mica/thread.h>

#ifndef STRESS_ROUNDS
#define STRESS_ROUNDS 120
#endif
#define WORKERS 4
#define TARGETS 2
#define PAGES 16
#define REGION (PAGES * PAGE_SIZE)
#define MSG_MAX (2 * PAGE_SIZE + 100)      /* the most a ring message carries */
#define DONE_MS 100000                     /* for all the rounds, within the program's 120 s */

/* A task of a worker's, and what its region must hold. */
struct target {
	mach_port_t task;
	vm_address_t base;                 /* REGION bytes there */
	bool read_only[PAGES];
	uint8_t bytes[REGION];
};

/* One worker: its tasks, its end of the ring, and what went wrong. */
struct worker {
	unsigned id;
	uint64_t rng;
	struct mica_thread *thread;
	mach_port_t port;                  /* receives the previous worker's messages */
	mach_port_t next;                  /* a send right to the next worker's */
	vm_address_t data;                 /* REGION + PAGE_SIZE of this worker's data to send */
	unsigned sent, received;
	struct target targets[TARGETS];
	uint8_t snapshot[REGION];          /* a target's bytes when a child was made */
	unsigned wrong;
	char first_wrong[120];
};

/* One ring message: its out-of-line bytes are ktap_fill(seed). */
struct ring_message {
	mach_msg_header_t header;
	mach_msg_body_t body;
	mach_msg_ool_descriptor_t data;
	unsigned seed;
};

static struct worker workers[WORKERS];

static uint64_t random_next(struct worker *w)
{
	w->rng ^= w->rng << 13;
	w->rng ^= w->rng >> 7;
	w->rng ^= w->rng << 17;
	return w->rng;
}

/* A number in [0, n). */
static size_t below(struct worker *w, size_t n)
{
	return (size_t)(random_next(w) % n);
}

static void wrong(struct worker *w, const char *what, kern_return_t kr)
{
	if (w->wrong++ == 0)
		snprintf(w->first_wrong, sizeof(w->first_wrong), "worker %u: %s: %d", w->id, what, kr);
}

/* Does [off, off+len) of t's region touch a read-only page? */
static bool touches_read_only(const struct target *t, size_t off, size_t len)
{
	for (size_t p = off / PAGE_SIZE; p * PAGE_SIZE < off + len; p++)
		if (t->read_only[p])
			return true;
	return false;
}

/* A run of whole pages of the region: the first page and the count. */
static void some_pages(struct worker *w, size_t *first, size_t *count)
{
	*first = below(w, PAGES);
	*count = 1 + below(w, PAGES - *first);
}

/* Does [off, off+len) of the region at base in task hold what model does there? */
static bool holds(struct worker *w, mach_port_t task, vm_address_t base, const uint8_t *model,
                  size_t off, size_t len)
{
	vm_offset_t got;
	mach_msg_type_number_t count;
	kern_return_t kr = vm_read(task, base + off, len, &got, &count);

	if (kr != KERN_SUCCESS) {
		wrong(w, "vm_read", kr);
		return false;
	}
	bool same = count == len && memcmp((const void *)got, model + off, len) == 0;
	vm_deallocate(mach_task_self(), got, count);
	return same;
}

/*
 * Writes len bytes at from into t at off, as vm_write must: refused with
 * KERN_PROTECTION_FAILURE, and nothing changed, where a page is read-only.
 */
static void write_into(struct worker *w, struct target *t, size_t off, vm_address_t from,
                       size_t len)
{
	bool refused = touches_read_only(t, off, len);
	kern_return_t kr = vm_write(t->task, t->base + off, from, (mach_msg_type_number_t)len);

	if (kr != (refused ? KERN_PROTECTION_FAILURE : KERN_SUCCESS))
		wrong(w, refused ? "vm_write into a read-only page" : "vm_write", kr);
	else if (!refused)
		memcpy(t->bytes + off, (const void *)from, len);
}

static void random_write(struct worker *w, struct target *t)
{
	size_t off, len, from = 0;

	if (random_next(w) & 1) {              /* whole pages: substituted */
		size_t first, count;
		some_pages(w, &first, &count);
		off = first * PAGE_SIZE;
		len = count * PAGE_SIZE;
	} else {                               /* any bytes: copied */
		off = below(w, REGION);
		len = 1 + below(w, REGION - off);
		from = below(w, PAGE_SIZE);
	}
	ktap_fill((void *)(w->data + from), len, (unsigned)random_next(w));
	write_into(w, t, off, w->data + from, len);
}

static void random_protect(struct worker *w, struct target *t)
{
	size_t first, count;
	bool read_only = random_next(w) & 1;

	some_pages(w, &first, &count);
	kern_return_t kr = vm_protect(t->task, t->base + first * PAGE_SIZE, count * PAGE_SIZE,
	                              FALSE, read_only ? VM_PROT_READ : VM_PROT_DEFAULT);
	if (kr != KERN_SUCCESS)
		wrong(w, "vm_protect", kr);
	for (size_t p = first; p < first + count; p++)
		t->read_only[p] = read_only;
}

/* Pages taken away and allocated again, at the same place: zeroes, writable. */
static void random_reallocate(struct worker *w, struct target *t)
{
	size_t first, count;

	some_pages(w, &first, &count);
	vm_address_t at = t->base + first * PAGE_SIZE;
	kern_return_t kr = vm_deallocate(t->task, at, count * PAGE_SIZE);
	if (kr == KERN_SUCCESS)
		kr = vm_allocate(t->task, &at, count * PAGE_SIZE, VM_FLAGS_FIXED);
	if (kr != KERN_SUCCESS) {
		wrong(w, "vm_deallocate and vm_allocate", kr);
		return;
	}
	memset(t->bytes + first * PAGE_SIZE, 0, count * PAGE_SIZE);
	for (size_t p = first; p < first + count; p++)
		t->read_only[p] = false;
}

/* Whole pages copied to pages they do not overlap; refused into a read-only one. */
static void random_copy(struct worker *w, struct target *t)
{
	size_t count = 1 + below(w, PAGES / 2), from = below(w, PAGES - 2 * count + 1);
	size_t to = from + count + below(w, PAGES - from - 2 * count + 1);

	if (random_next(w) & 1) {              /* either way round */
		size_t swap = from;
		from = to;
		to = swap;
	}
	size_t len = count * PAGE_SIZE;
	bool refused = touches_read_only(t, to * PAGE_SIZE, len);
	kern_return_t kr = vm_copy(t->task, t->base + from * PAGE_SIZE, len, t->base + to * PAGE_SIZE);
	if (kr != (refused ? KERN_PROTECTION_FAILURE : KERN_SUCCESS))
		wrong(w, refused ? "vm_copy into a read-only page" : "vm_copy", kr);
	else if (!refused)
		memcpy(t->bytes + to * PAGE_SIZE, t->bytes + from * PAGE_SIZE, len);
}

/*
 * A child that inherits t's memory holds what t held, and still does once
 * t has changed (copy-on-write both ways).
 */
static void random_child(struct worker *w, struct target *t)
{
	task_t child;
	kern_return_t kr = task_create(t->task, TRUE, &child);

	if (kr != KERN_SUCCESS) {
		wrong(w, "task_create", kr);
		return;
	}
	memcpy(w->snapshot, t->bytes, REGION);
	if (!holds(w, child, t->base, w->snapshot, 0, REGION))
		wrong(w, "a new child's memory", 0);
	random_write(w, t);
	random_write(w, t);
	if (!holds(w, child, t->base, w->snapshot, 0, REGION))
		wrong(w, "a child's memory after its parent wrote", 0);
	if ((kr = task_terminate(child)) != KERN_SUCCESS)
		wrong(w, "task_terminate", kr);
	mach_port_deallocate(mach_task_self(), child);
}

static void random_check(struct worker *w, struct target *t)
{
	size_t off = below(w, REGION), len = 1 + below(w, REGION - off);

	if (!holds(w, t->task, t->base, t->bytes, off, len))
		wrong(w, "vm_read of a target", 0);
}

/* Sends the next worker some of this one's data, out of line, with the seed it was made from. */
static void ring_send(struct worker *w)
{
	struct ring_message m = { 0 };
	size_t len = 1 + below(w, MSG_MAX), from = below(w, PAGE_SIZE);

	m.seed = w->id << 24 | w->sent++;
	ktap_fill((void *)(w->data + from), len, m.seed);
	m.header.msgh_bits = MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, 0) | MACH_MSGH_BITS_COMPLEX;
	m.header.msgh_size = sizeof(m);
	m.header.msgh_remote_port = w->next;
	m.body.msgh_descriptor_count = 1;
	m.data = (mach_msg_ool_descriptor_t){ .address = (void *)(w->data + from),
	                                      .size = (mach_msg_size_t)len,
	                                      .type = MACH_MSG_OOL_DESCRIPTOR };
	kern_return_t kr = mach_msg(&m.header, MACH_SEND_MSG | MACH_SEND_TIMEOUT, m.header.msgh_size,
	                            0, MACH_PORT_NULL, KTAP_WAIT_MS, MACH_PORT_NULL);
	if (kr != MACH_MSG_SUCCESS)
		wrong(w, "a ring send", kr);
}

/* Takes the previous worker's message, checks it, and writes its bytes into t. */
static void ring_receive(struct worker *w, struct target *t)
{
	struct ring_message m;
	kern_return_t kr = mach_msg(&m.header, MACH_RCV_MSG | MACH_RCV_TIMEOUT, 0, sizeof(m),
	                            w->port, KTAP_WAIT_MS, MACH_PORT_NULL);

	if (kr != MACH_MSG_SUCCESS) {
		wrong(w, "a ring receive", kr);
		return;
	}
	vm_address_t at = (vm_address_t)m.data.address;
	unsigned from = (w->id + WORKERS - 1) % WORKERS;
	if (m.seed != (from << 24 | w->received++) ||
	    ktap_count_wrong((const void *)at, m.data.size, m.seed) != 0)
		wrong(w, "a ring message's bytes", (kern_return_t)m.seed);
	size_t off = below(w, REGION - m.data.size + 1);
	write_into(w, t, off, at, m.data.size);
	if ((kr = vm_deallocate(mach_task_self(), at, m.data.size)) != KERN_SUCCESS)
		wrong(w, "vm_deallocate of a ring message", kr);
}

static void work(void *arg)
{
	struct worker *w = arg;
	void (*const calls[])(struct worker *, struct target *) = {
		random_write, random_write, random_protect, random_reallocate, random_copy,
		random_child, random_check,
	};

	for (unsigned r = 0; r < STRESS_ROUNDS && w->wrong == 0; r++) {
		struct target *t = &w->targets[below(w, TARGETS)];
		calls[below(w, sizeof(calls) / sizeof(calls[0]))](w, t);
		ring_send(w);
		ring_receive(w, &w->targets[below(w, TARGETS)]);
	}
	for (unsigned i = 0; i < TARGETS && w->wrong == 0; i++)
		if (!holds(w, w->targets[i].task, w->targets[i].base, w->targets[i].bytes, 0, REGION))
			wrong(w, "a target's memory at the end", (kern_return_t)i);
}

/* Worker i's ports, data and tasks, as the model has them at the start: zeroes, writable. */
static bool prepare(struct worker *w, unsigned i)
{
	task_t self = mach_task_self();
	kern_return_t kr = mach_port_allocate(self, MACH_PORT_RIGHT_RECEIVE, &w->port);

	w->id = i;
	w->rng = 0x9e3779b97f4a7c15ull * (i + 1);
	if (kr == KERN_SUCCESS)
		kr = vm_allocate(self, &w->data, REGION + PAGE_SIZE, VM_FLAGS_ANYWHERE);
	for (unsigned k = 0; k < TARGETS && kr == KERN_SUCCESS; k++) {
		struct target *t = &w->targets[k];
		kr = task_create(self, FALSE, &t->task);
		if (kr == KERN_SUCCESS)
			kr = vm_allocate(t->task, &t->base, REGION, VM_FLAGS_ANYWHERE);
	}
	return kr == KERN_SUCCESS;
}

/* Gives each worker a send right to the next one's port, under the same name. */
static bool link_ring(void)
{
	for (unsigned i = 0; i < WORKERS; i++) {
		struct worker *w = &workers[i], *n = &workers[(i + 1) % WORKERS];
		if (mach_port_insert_right(mach_task_self(), n->port, n->port,
		                           MACH_MSG_TYPE_MAKE_SEND) != KERN_SUCCESS)
			return false;
		w->next = n->port;
	}
	return true;
}

/* Everything prepare and link_ring made goes. */
static void take_down(struct worker *w)
{
	task_t self = mach_task_self();

	for (unsigned k = 0; k < TARGETS; k++)
		if (w->targets[k].task != MACH_PORT_NULL) {
			task_terminate(w->targets[k].task);
			mach_port_deallocate(self, w->targets[k].task);
		}
	if (w->next != MACH_PORT_NULL)
		mach_port_deallocate(self, w->next);
	if (w->port != MACH_PORT_NULL)
		mach_port_mod_refs(self, w->port, MACH_PORT_RIGHT_RECEIVE, -1);
	if (w->data)
		vm_deallocate(self, w->data, REGION + PAGE_SIZE);
}

static void noop(void *arg)
{
	(void)arg;
}

static void workers_agree_with_the_model_and_leave_nothing(void)
{
	struct mica_vm_stats before, after;
	struct mica_thread *t;

	memset(workers, 0, sizeof(workers));   /* its pages are this task's from here on */
	KT_ASSERT_EQ(mica_thread_start(noop, NULL, &t), KERN_SUCCESS);   /* and a thread's */
	KT_ASSERT_EQ(mica_thread_join(t, KTAP_WAIT_MS), KERN_SUCCESS);
	KT_ASSERT_EQ(host_vm_stats(mach_host_self(), &before), KERN_SUCCESS);
	bool ready = true;
	for (unsigned i = 0; i < WORKERS; i++)
		ready &= prepare(&workers[i], i);
	ready = ready && link_ring();
	for (unsigned i = 0; ready && i < WORKERS; i++)
		ready = mica_thread_start(work, &workers[i], &workers[i].thread) == KERN_SUCCESS;
	KT_EXPECT(ready);
	for (unsigned i = 0; i < WORKERS; i++) {
		struct worker *w = &workers[i];
		if (w->thread == NULL)
			continue;
		KT_EXPECT_EQ(mica_thread_join(w->thread, DONE_MS), KERN_SUCCESS);
		if (w->wrong)
			ktap_fail_at(__FILE__, __LINE__, "%u calls the model did not predict; first: %s",
			             w->wrong, w->first_wrong);
	}
	for (unsigned i = 0; i < WORKERS; i++)
		take_down(&workers[i]);
	KT_ASSERT_EQ(host_vm_stats(mach_host_self(), &after), KERN_SUCCESS);
	KT_EXPECT_SAME_VM_STATS(before, after);
}

int main(void)
{
	static const struct ktap_case cases[] = {
		KTAP_CASE(workers_agree_with_the_model_and_leave_nothing),
	};

	return ktap_run(cases, sizeof(cases) / sizeof(cases[0]));
}
