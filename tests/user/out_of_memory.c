/*
 * Out of memory at every point.  Each call below runs again and again
 * with the kernel told to fail its first, then its second, third, ...
 * allocation (SYS_alloc_fail, kern/alloc_fail.h), until a run makes no
 * more allocations than were skipped and so succeeds.  Every run that
 * failed must
 *   - return one of the out-of-memory codes docs/vm_write.md and
 *     docs/ipc.md give for the call,
 *   - leave its target as it was: every entry (address, size, protections,
 *     inheritance, sharing) and every byte of the windows the case names,
 *   - and leak nothing: host_vm_stats before and after agree.
 * The run that succeeds must have done what the call does.  This is how
 * SQLite tests its out-of-memory paths; here it tests Mica's promise that
 * a call which fails has changed nothing.
 *
 * The child's memory, from BASE:
 *   W  read/write, W_PAGES pages, filled with pattern 1
 *   R  read-only page (pattern 1 too, written before it was protected)
 *   H  hole, one page
 *   T  read/write, one page
 */
#include <ktap.h>
#include <stdio.h>
#include <string.h>

#include <mach/mach.h>
#include <mica/mica.h>

#define PAGE       4096ul
#define BASE       0x10000000ul
#define W_PAGES    4
#define W_ADDR     BASE
#define R_ADDR     (W_ADDR + W_PAGES * PAGE)
#define H_ADDR     (R_ADDR + PAGE)
#define T_ADDR     (H_ADDR + PAGE)
#define CHILD_END  (T_ADDR + PAGE)
#define USER_TOP   0x0000800000000000ul

#define SWEEP_MAX    4000      /* more allocations than any call here makes */
#define MAX_REGIONS  64
#define MAX_BYTES    (16 * PAGE)

/* Which part of a task a case compares before and after a failed run. */
struct window {
	task_t task;
	vm_address_t lo, hi;
	bool bytes;                    /* its readable bytes too, not only its entries */
};

struct region {
	vm_address_t address;
	vm_size_t size;
	struct vm_region_basic_info_64 info;
};

/* What the windows held: their entries, then the bytes of the readable pages. */
struct snapshot {
	unsigned regions;
	struct region region[MAX_REGIONS];
	size_t bytes;
	unsigned char byte[MAX_BYTES];
	bool complete;                 /* everything fitted and was read */
};

/* One call to sweep. */
struct oom_case {
	const char *call;
	kern_return_t (*run)(void);
	const kern_return_t *codes;    /* what a failed run may return, 0-terminated */
	struct window window[4];       /* compared; task 0 ends the list */
	void (*prepare)(void);         /* before each run, not counted (NULL: nothing) */
	void (*cleanup)(kern_return_t kr);  /* after each failed run, before the comparison */
	bool (*unchanged)(void);       /* what the windows do not show (NULL: nothing) */
};

static mach_port_t host;
static task_t child;                 /* made by task_create, memory as above */
static vm_address_t source;          /* the data written: 4 pages, pattern 2 */
static struct snapshot before_snap, after_snap;

/*
 * The codes of a call on a kernel object that fails for want of memory
 * (docs/ipc.md, docs/vm_write.md): the request's buffer, its out-of-line
 * data, the routine itself.
 */
static const kern_return_t rpc_codes[] = {
	MACH_SEND_NO_BUFFER, MACH_MSG_VM_KERNEL, KERN_RESOURCE_SHORTAGE, 0
};
/* vm_read: or its data could not be mapped in the caller (the reply came, its data lost). */
static const kern_return_t vm_read_codes[] = {
	MACH_SEND_NO_BUFFER, KERN_RESOURCE_SHORTAGE, MACH_RCV_BODY_ERROR, 0
};
/*
 * task_create: or the reply could not reach the caller (its buffer, or a
 * name for the child's port), which ends the child.
 */
static const kern_return_t task_create_codes[] = {
	MACH_SEND_NO_BUFFER, KERN_RESOURCE_SHORTAGE, MACH_RCV_HEADER_ERROR, MACH_RCV_BODY_ERROR, 0
};

static void snapshot_add_bytes(struct snapshot *s, task_t task, vm_address_t page)
{
	vm_offset_t got = 0;
	mach_msg_type_number_t count = 0;

	if (s->bytes + PAGE > MAX_BYTES ||
	    vm_read(task, page, PAGE, &got, &count) != KERN_SUCCESS || count != PAGE) {
		s->complete = false;
		return;
	}
	memcpy(&s->byte[s->bytes], (const void *)got, PAGE);
	s->bytes += PAGE;
	vm_deallocate(mach_task_self(), got, count);
}

/* Records one window's entries (and bytes) into s. */
static void snapshot_window(struct snapshot *s, const struct window *w)
{
	vm_address_t addr = w->lo;

	while (addr < w->hi) {
		struct region r = { .address = addr };
		mach_msg_type_number_t n = VM_REGION_BASIC_INFO_COUNT_64;
		mach_port_t object = MACH_PORT_NULL;

		if (vm_region(w->task, &r.address, &r.size, VM_REGION_BASIC_INFO_64,
			      (vm_region_info_t)&r.info, &n, &object) != KERN_SUCCESS ||
		    r.address >= w->hi)
			return;
		if (s->regions == MAX_REGIONS) {
			s->complete = false;
			return;
		}
		s->region[s->regions++] = r;
		for (vm_address_t p = r.address; w->bytes && p < r.address + r.size && p < w->hi;
		     p += PAGE)
			if (r.info.protection & VM_PROT_READ)
				snapshot_add_bytes(s, w->task, p);
		addr = r.address + r.size;
	}
}

static void snapshot_take(struct snapshot *s, const struct oom_case *c)
{
	s->regions = 0;
	s->bytes = 0;
	s->complete = true;
	for (const struct window *w = c->window; w < c->window + 4 && w->task; w++)
		snapshot_window(s, w);
}

static bool snapshots_agree(const struct snapshot *a, const struct snapshot *b)
{
	return a->complete && b->complete && a->regions == b->regions && a->bytes == b->bytes &&
	       memcmp(a->region, b->region, a->regions * sizeof(a->region[0])) == 0 &&
	       memcmp(a->byte, b->byte, a->bytes) == 0;
}

static bool is_oom_code(const struct oom_case *c, kern_return_t kr)
{
	for (const kern_return_t *k = c->codes; *k; k++)
		if (*k == kr)
			return true;
	return false;
}

/*
 * One failed run checked: its code, its windows, the kernel's counts.
 * false (reported) when any is wrong.
 */
static bool failed_run_changed_nothing(const struct oom_case *c, unsigned n, kern_return_t kr,
				       const struct mica_vm_stats *before)
{
	struct mica_vm_stats after;

	if (!is_oom_code(c, kr)) {
		ktap_fail_at(__FILE__, __LINE__, "%s, allocation %u failed: got %#x", c->call, n,
			     kr);
		return false;
	}
	if (host_vm_stats(host, &after) != KERN_SUCCESS ||
	    !ktap_check_vm_stats(__FILE__, __LINE__, before, &after)) {
		ktap_fail_at(__FILE__, __LINE__, "%s, allocation %u failed: counts changed",
			     c->call, n);
		return false;
	}
	if (c->unchanged && !c->unchanged()) {
		ktap_fail_at(__FILE__, __LINE__, "%s, allocation %u failed: it changed something",
			     c->call, n);
		return false;
	}
	snapshot_take(&after_snap, c);
	if (!snapshots_agree(&before_snap, &after_snap)) {
		ktap_fail_at(__FILE__, __LINE__, "%s, allocation %u failed: target changed "
			     "(%u/%u entries, %lu/%lu bytes)", c->call, n, before_snap.regions,
			     after_snap.regions, before_snap.bytes, after_snap.bytes);
		return false;
	}
	return true;
}

/*
 * Runs c's call with its n-th allocation failing, n = 1, 2, ..., until a
 * run finishes with no failure injected; returns that run's result, or
 * KERN_ABORTED when some failed run was wrong (reported) or none finished.
 */
static kern_return_t sweep(const struct oom_case *c)
{
	for (unsigned n = 1; n <= SWEEP_MAX; n++) {
		struct mica_vm_stats before;

		snapshot_take(&before_snap, c);
		if (host_vm_stats(host, &before) != KERN_SUCCESS)
			return KERN_ABORTED;
		if (c->prepare)
			c->prepare();
		if (mica_alloc_fail_arm(MICA_ALLOC_ANY, n) != KERN_SUCCESS)
			return KERN_ABORTED;
		kern_return_t kr = c->run();
		if (!mica_alloc_fail_fired()) {
			printf("# %s: %u allocations, each failed in turn\n", c->call, n - 1);
			return kr;
		}
		if (c->cleanup)
			c->cleanup(kr);
		if (!failed_run_changed_nothing(c, n, kr, &before))
			return KERN_ABORTED;
	}
	ktap_fail_at(__FILE__, __LINE__, "%s: still failing after %u allocations", c->call,
		     SWEEP_MAX);
	return KERN_ABORTED;
}

static kern_return_t child_region(vm_address_t addr, vm_size_t size)
{
	return vm_allocate(child, &addr, size, VM_FLAGS_FIXED);
}

/* The child of the picture above, and the source pages; false when either cannot be made. */
static bool child_set_out(void)
{
	if (task_create(mach_task_self(), 0, &child) != KERN_SUCCESS ||
	    child_region(W_ADDR, (W_PAGES + 1) * PAGE) != KERN_SUCCESS ||
	    child_region(T_ADDR, PAGE) != KERN_SUCCESS)
		return false;
	vm_address_t pattern = 0;
	if (vm_allocate(mach_task_self(), &pattern, (W_PAGES + 1) * PAGE, VM_FLAGS_ANYWHERE) ||
	    vm_allocate(mach_task_self(), &source, 4 * PAGE, VM_FLAGS_ANYWHERE))
		return false;
	ktap_fill((void *)pattern, (W_PAGES + 1) * PAGE, 1);
	ktap_fill((void *)source, 4 * PAGE, 2);
	bool ok = vm_write(child, W_ADDR, pattern, (W_PAGES + 1) * PAGE) == KERN_SUCCESS &&
		  vm_protect(child, R_ADDR, PAGE, 0, VM_PROT_READ) == KERN_SUCCESS;
	vm_deallocate(mach_task_self(), pattern, (W_PAGES + 1) * PAGE);
	return ok;
}

static void child_ends(void)
{
	task_terminate(child);
	ktap_wait_task_ended(child);
	mach_port_deallocate(mach_task_self(), child);
	vm_deallocate(mach_task_self(), source, 4 * PAGE);
	child = MACH_PORT_NULL;
}

/* Does task hold len bytes of source, from src_off, at addr?  Read back with vm_read. */
static bool holds_source(task_t task, vm_address_t addr, vm_size_t src_off, vm_size_t len)
{
	vm_offset_t got = 0;
	mach_msg_type_number_t count = 0;

	if (vm_read(task, addr, len, &got, &count) != KERN_SUCCESS || count != len)
		return false;
	bool same = memcmp((const void *)got, (const void *)(source + src_off), len) == 0;
	vm_deallocate(mach_task_self(), got, count);
	return same;
}

static vm_offset_t read_data;              /* what vm_read gave */
static mach_msg_type_number_t read_count;

/* Do len bytes at data match the child's at addr (the pattern child_set_out wrote)? */
static bool child_holds_at(vm_offset_t data, vm_address_t addr, vm_size_t len)
{
	static unsigned char pattern[(W_PAGES + 1) * PAGE];

	ktap_fill(pattern, sizeof(pattern), 1);
	return read_count == len && memcmp((const void *)data, pattern + (addr - W_ADDR), len) == 0;
}

#define CHILD_WINDOW { child, BASE, CHILD_END, true }

static kern_return_t write_two_aligned_pages(void)
{
	return vm_write(child, W_ADDR + PAGE, source, 2 * PAGE);
}

static kern_return_t write_unaligned(void)
{
	return vm_write(child, W_ADDR + 100, source + 300, 2 * PAGE + 500);
}

static kern_return_t write_small(void)
{
	return vm_write(child, W_ADDR + 10, source + 5, 100);
}

/* vm_write into a child: aligned, unaligned and small, each swept. */
static void vm_write_into_a_child(void)
{
	KT_ASSERT(child_set_out());
	struct oom_case aligned = {
		.call = "vm_write (two aligned pages)", .run = write_two_aligned_pages,
		.codes = rpc_codes, .window = { CHILD_WINDOW },
	};
	struct oom_case unaligned = {
		.call = "vm_write (unaligned)", .run = write_unaligned, .codes = rpc_codes,
		.window = { CHILD_WINDOW },
	};
	struct oom_case small = {
		.call = "vm_write (100 bytes)", .run = write_small, .codes = rpc_codes,
		.window = { CHILD_WINDOW },
	};

	KT_EXPECT_EQ(sweep(&aligned), KERN_SUCCESS);
	KT_EXPECT(holds_source(child, W_ADDR + PAGE, 0, 2 * PAGE));
	KT_EXPECT_EQ(sweep(&unaligned), KERN_SUCCESS);
	KT_EXPECT(holds_source(child, W_ADDR + 100, 300, 2 * PAGE + 500));
	KT_EXPECT_EQ(sweep(&small), KERN_SUCCESS);
	KT_EXPECT(holds_source(child, W_ADDR + 10, 5, 100));
	child_ends();
}

static kern_return_t read_two_pages(void)
{
	return vm_read(child, W_ADDR + 100, 2 * PAGE, &read_data, &read_count);
}

static kern_return_t read_small(void)
{
	return vm_read(child, W_ADDR + 100, 100, &read_data, &read_count);
}

#define OWN_WINDOW { mach_task_self(), 0, USER_TOP, false }

/* vm_read: the child unchanged, and nothing new in the caller's map. */
static void vm_read_from_a_child(void)
{
	KT_ASSERT(child_set_out());
	struct oom_case two = {
		.call = "vm_read (two pages)", .run = read_two_pages, .codes = vm_read_codes,
		.window = { CHILD_WINDOW, OWN_WINDOW },
	};
	struct oom_case small = {
		.call = "vm_read (100 bytes)", .run = read_small, .codes = vm_read_codes,
		.window = { CHILD_WINDOW, OWN_WINDOW },
	};

	KT_EXPECT_EQ(sweep(&two), KERN_SUCCESS);
	KT_EXPECT(child_holds_at(read_data, W_ADDR + 100, 2 * PAGE));
	vm_deallocate(mach_task_self(), read_data, read_count);
	KT_EXPECT_EQ(sweep(&small), KERN_SUCCESS);
	KT_EXPECT(child_holds_at(read_data, W_ADDR + 100, 100));
	vm_deallocate(mach_task_self(), read_data, read_count);
	child_ends();
}

static kern_return_t copy_two_pages(void)
{
	return vm_copy(child, W_ADDR, 2 * PAGE, W_ADDR + 2 * PAGE);
}

static vm_address_t allocated;

static kern_return_t allocate_anywhere(void)
{
	allocated = 0;
	return vm_allocate(child, &allocated, 3 * PAGE, VM_FLAGS_ANYWHERE);
}

static kern_return_t allocate_in_the_hole(void)
{
	allocated = H_ADDR;
	return vm_allocate(child, &allocated, PAGE, VM_FLAGS_FIXED);
}

static kern_return_t protect_the_middle(void)
{
	return vm_protect(child, W_ADDR + PAGE, PAGE, 0, VM_PROT_READ);
}

/* Wires the last page of W and the read-only page R: two entries, W's split. */
static kern_return_t wire_across_entries(void)
{
	return vm_wire(host, child, R_ADDR - PAGE, 2 * PAGE, VM_PROT_READ);
}

/* Is the child's region at addr wired? */
static bool child_wired_at(vm_address_t addr)
{
	struct vm_region_basic_info_64 info;
	mach_msg_type_number_t n = VM_REGION_BASIC_INFO_COUNT_64;
	mach_port_t object = MACH_PORT_NULL;
	vm_size_t size;

	return vm_region(child, &addr, &size, VM_REGION_BASIC_INFO_64, (vm_region_info_t)&info,
			 &n, &object) == KERN_SUCCESS && info.user_wired_count != 0;
}

/*
 * vm_copy, vm_allocate, vm_protect (an entry split in three) and vm_wire
 * (across two entries) in a child.
 */
static void vm_calls_on_a_child(void)
{
	KT_ASSERT(child_set_out());
	struct oom_case copy = {
		.call = "vm_copy", .run = copy_two_pages, .codes = rpc_codes,
		.window = { CHILD_WINDOW },
	};
	struct oom_case anywhere = {
		.call = "vm_allocate (anywhere)", .run = allocate_anywhere, .codes = rpc_codes,
		.window = { { child, 0, USER_TOP, false } },
	};
	struct oom_case fixed = {
		.call = "vm_allocate (fixed)", .run = allocate_in_the_hole, .codes = rpc_codes,
		.window = { CHILD_WINDOW },
	};
	struct oom_case protect = {
		.call = "vm_protect", .run = protect_the_middle, .codes = rpc_codes,
		.window = { CHILD_WINDOW },
	};
	struct oom_case wire = {
		.call = "vm_wire", .run = wire_across_entries, .codes = rpc_codes,
		.window = { CHILD_WINDOW },
	};

	KT_EXPECT_EQ(sweep(&copy), KERN_SUCCESS);
	KT_EXPECT_EQ(sweep(&anywhere), KERN_SUCCESS);
	KT_EXPECT_EQ(sweep(&fixed), KERN_SUCCESS);
	KT_EXPECT_EQ(sweep(&protect), KERN_SUCCESS);
	KT_EXPECT_EQ(sweep(&wire), KERN_SUCCESS);
	KT_EXPECT(!child_wired_at(R_ADDR - 2 * PAGE) && child_wired_at(R_ADDR - PAGE) &&
		  child_wired_at(R_ADDR));
	child_ends();
}

static task_t made;

static kern_return_t create_empty_task(void)
{
	return task_create(mach_task_self(), 0, &made);
}

static kern_return_t create_inheriting_task(void)
{
	return task_create(mach_task_self(), 1, &made);
}

static void made_task_ends(void)
{
	task_terminate(made);
	ktap_wait_task_ended(made);
	mach_port_deallocate(mach_task_self(), made);
}

/* task_create, with and without the caller's memory: no task, port or page left over. */
static void task_create_with_and_without_memory(void)
{
	struct oom_case empty = {
		.call = "task_create", .run = create_empty_task, .codes = task_create_codes,
		.window = { OWN_WINDOW },
	};
	struct oom_case inheriting = {
		.call = "task_create (inherit)", .run = create_inheriting_task,
		.codes = task_create_codes, .window = { OWN_WINDOW },
	};

	KT_EXPECT_EQ(sweep(&empty), KERN_SUCCESS);
	made_task_ends();
	KT_EXPECT_EQ(sweep(&inheriting), KERN_SUCCESS);
	made_task_ends();
}

static thread_act_t made_thread;

static kern_return_t create_thread(void)
{
	return thread_create(child, &made_thread);
}

static void thread_create_in_a_child(void)
{
	KT_ASSERT(child_set_out());
	struct oom_case c = {
		.call = "thread_create", .run = create_thread, .codes = rpc_codes,
		.window = { CHILD_WINDOW },
	};

	KT_EXPECT_EQ(sweep(&c), KERN_SUCCESS);
	thread_terminate(made_thread);
	mach_port_deallocate(mach_task_self(), made_thread);
	child_ends();
}

/* ------------------------------------------------------------- shared and copy-on-write targets */

static task_t heir;                  /* inherits X copy-on-write and Y shared */
static vm_address_t x_addr, y_addr;

static kern_return_t write_cow_small(void)
{
	return vm_write(heir, x_addr + 100, source, 300);
}

static kern_return_t write_cow_pages(void)
{
	return vm_write(heir, x_addr, source, 2 * PAGE);
}

static kern_return_t write_shared_small(void)
{
	return vm_write(heir, y_addr + 100, source, 300);
}

static kern_return_t write_shared_pages(void)
{
	return vm_write(heir, y_addr, source, 2 * PAGE);
}

/*
 * vm_write into memory a child shares with its parent: copy-on-write (the
 * parent must never see the data) and shared (it must, but only once the
 * call succeeded); small writes take the copy path, whole pages
 * substitution where they may.
 */
static void vm_write_into_shared_and_copy_on_write_memory(void)
{
	KT_ASSERT_EQ(vm_allocate(mach_task_self(), &source, 4 * PAGE, VM_FLAGS_ANYWHERE), 0);
	KT_ASSERT_EQ(vm_allocate(mach_task_self(), &x_addr, 2 * PAGE, VM_FLAGS_ANYWHERE), 0);
	KT_ASSERT_EQ(vm_allocate(mach_task_self(), &y_addr, 2 * PAGE, VM_FLAGS_ANYWHERE), 0);
	ktap_fill((void *)source, 4 * PAGE, 2);
	ktap_fill((void *)x_addr, 2 * PAGE, 3);
	ktap_fill((void *)y_addr, 2 * PAGE, 4);
	KT_ASSERT_EQ(vm_inherit(mach_task_self(), y_addr, 2 * PAGE, VM_INHERIT_SHARE), 0);
	KT_ASSERT_EQ(task_create(mach_task_self(), 1, &heir), KERN_SUCCESS);
#define BOTH_SIDES(addr) { heir, addr, addr + 2 * PAGE, true }, \
			 { mach_task_self(), addr, addr + 2 * PAGE, true }
	struct oom_case cases[] = {
		{ .call = "vm_write (copy-on-write, small)", .run = write_cow_small,
		  .codes = rpc_codes, .window = { BOTH_SIDES(x_addr) } },
		{ .call = "vm_write (copy-on-write, pages)", .run = write_cow_pages,
		  .codes = rpc_codes, .window = { BOTH_SIDES(x_addr) } },
		{ .call = "vm_write (shared, small)", .run = write_shared_small,
		  .codes = rpc_codes, .window = { BOTH_SIDES(y_addr) } },
		{ .call = "vm_write (shared, pages)", .run = write_shared_pages,
		  .codes = rpc_codes, .window = { BOTH_SIDES(y_addr) } },
	};
#undef BOTH_SIDES

	KT_EXPECT_EQ(sweep(&cases[0]), KERN_SUCCESS);
	KT_EXPECT(holds_source(heir, x_addr + 100, 0, 300));
	KT_EXPECT_EQ(sweep(&cases[1]), KERN_SUCCESS);
	KT_EXPECT(holds_source(heir, x_addr, 0, 2 * PAGE));
	KT_EXPECT_EQ(ktap_count_wrong((void *)x_addr, 2 * PAGE, 3), 0);
	KT_EXPECT_EQ(sweep(&cases[2]), KERN_SUCCESS);
	KT_EXPECT_EQ(sweep(&cases[3]), KERN_SUCCESS);
	KT_EXPECT(holds_source(heir, y_addr, 0, 2 * PAGE));
	KT_EXPECT(memcmp((void *)y_addr, (void *)source, 2 * PAGE) == 0);
	task_terminate(heir);
	ktap_wait_task_ended(heir);
	mach_port_deallocate(mach_task_self(), heir);
	vm_deallocate(mach_task_self(), source, 4 * PAGE);
	vm_deallocate(mach_task_self(), x_addr, 2 * PAGE);
	vm_deallocate(mach_task_self(), y_addr, 2 * PAGE);
}

/* ------------------------------------------------------------- mach_msg */

struct rich_msg {
	mach_msg_header_t header;
	mach_msg_body_t body;
	mach_msg_ool_descriptor_t data;
	mach_msg_port_descriptor_t right;
} __attribute__((packed, aligned(4)));

static mach_port_t to_port, carried_port, reply_port;

/*
 * Out-of-line data (two pages, not aligned), a send right made from a
 * receive right, a reply right.
 */
static kern_return_t send_rich(void)
{
	struct rich_msg m = { 0 };

	m.header.msgh_bits = MACH_MSGH_BITS(MACH_MSG_TYPE_MAKE_SEND, MACH_MSG_TYPE_MAKE_SEND_ONCE) |
			     MACH_MSGH_BITS_COMPLEX;
	m.header.msgh_remote_port = to_port;
	m.header.msgh_local_port = reply_port;
	m.header.msgh_id = 4242;
	m.body.msgh_descriptor_count = 2;
	m.data = (mach_msg_ool_descriptor_t){ .address = (void *)(source + 100), .size = 2 * PAGE,
					      .type = MACH_MSG_OOL_DESCRIPTOR };
	m.right = (mach_msg_port_descriptor_t){ .name = carried_port,
						.disposition = MACH_MSG_TYPE_MAKE_SEND,
						.type = MACH_MSG_PORT_DESCRIPTOR };
	return mach_msg(&m.header, MACH_SEND_MSG, sizeof(m), 0, MACH_PORT_NULL, 0, MACH_PORT_NULL);
}

static struct { struct rich_msg m; char room[64]; } received;

static kern_return_t receive_rich(void)
{
	memset(&received, 0, sizeof(received));
	return mach_msg(&received.m.header, MACH_RCV_MSG | MACH_RCV_TIMEOUT, 0, sizeof(received),
			to_port, 0, MACH_PORT_NULL);
}

/* Gives back whatever a receive delivered: the reply right, the data, the carried right. */
static void release_received(kern_return_t kr)
{
	if (kr != MACH_MSG_SUCCESS && kr != MACH_RCV_BODY_ERROR)
		return;
	if (MACH_PORT_VALID(received.m.header.msgh_remote_port))
		mach_port_deallocate(mach_task_self(), received.m.header.msgh_remote_port);
	if (received.m.data.address)
		vm_deallocate(mach_task_self(), (vm_address_t)received.m.data.address,
			      received.m.data.size);
	if (MACH_PORT_VALID(received.m.right.name))
		mach_port_deallocate(mach_task_self(), received.m.right.name);
}

/* A send that failed sent nothing: no message waits, no send right was made. */
static bool nothing_was_sent(void)
{
	mach_port_urefs_t refs = 1;
	bool empty = receive_rich() == MACH_RCV_TIMED_OUT;

	return empty && mach_port_get_refs(mach_task_self(), carried_port, MACH_PORT_RIGHT_SEND,
					   &refs) == KERN_SUCCESS && refs == 0;
}

static void send_unarmed(void)
{
	KT_EXPECT_EQ(send_rich(), MACH_MSG_SUCCESS);
}

static const kern_return_t send_codes[] = { MACH_SEND_NO_BUFFER, MACH_MSG_VM_KERNEL, 0 };
/*
 * A receive that runs short: the header and what fitted arrive, the rest
 * is lost (MACH_RCV_BODY_ERROR), or the message is destroyed before
 * anything of it arrived (MACH_RCV_HEADER_ERROR).
 */
static const kern_return_t receive_codes[] = { MACH_RCV_BODY_ERROR, MACH_RCV_HEADER_ERROR, 0 };

/*
 * mach_msg with out-of-line data and port rights, send and receive each
 * swept; the message received at last is whole.
 */
static void mach_msg_with_memory_and_rights(void)
{
	KT_ASSERT_EQ(vm_allocate(mach_task_self(), &source, 4 * PAGE, VM_FLAGS_ANYWHERE), 0);
	ktap_fill((void *)source, 4 * PAGE, 2);
	to_port = mach_reply_port();
	carried_port = mach_reply_port();
	reply_port = mach_reply_port();
	KT_ASSERT(to_port && carried_port && reply_port);
	struct oom_case send = {
		.call = "mach_msg (send)", .run = send_rich, .codes = send_codes,
		.window = { OWN_WINDOW }, .unchanged = nothing_was_sent,
	};
	struct oom_case receive = {
		.call = "mach_msg (receive)", .run = receive_rich, .codes = receive_codes,
		.prepare = send_unarmed, .cleanup = release_received,
	};

	KT_EXPECT_EQ(sweep(&send), MACH_MSG_SUCCESS);
	KT_EXPECT_EQ(receive_rich(), MACH_MSG_SUCCESS);
	release_received(MACH_MSG_SUCCESS);
	KT_EXPECT_EQ(sweep(&receive), MACH_MSG_SUCCESS);
	KT_EXPECT_EQ(received.m.header.msgh_id, 4242);
	KT_EXPECT_EQ(received.m.data.size, 2 * PAGE);
	KT_EXPECT(received.m.data.address &&
		  memcmp(received.m.data.address, (void *)(source + 100), 2 * PAGE) == 0);
	KT_EXPECT(MACH_PORT_VALID(received.m.right.name));
	release_received(MACH_MSG_SUCCESS);
	mach_port_mod_refs(mach_task_self(), to_port, MACH_PORT_RIGHT_RECEIVE, -1);
	mach_port_mod_refs(mach_task_self(), carried_port, MACH_PORT_RIGHT_RECEIVE, -1);
	mach_port_mod_refs(mach_task_self(), reply_port, MACH_PORT_RIGHT_RECEIVE, -1);
	vm_deallocate(mach_task_self(), source, 4 * PAGE);
}

/* ------------------------------------------------------------- the switch itself */

/*
 * SYS_alloc_fail refuses what makes no sense, counts only what the
 * kernel allocates inside this thread's system calls (not its page
 * faults), and fails exactly once.
 */
static void the_switch_counts_system_calls_only(void)
{
	vm_address_t fresh = 0;

	KT_EXPECT_EQ(mica_alloc_fail_arm(0, 1), KERN_INVALID_ARGUMENT);
	KT_EXPECT_EQ(mica_alloc_fail_arm(MICA_ALLOC_ANY + 1, 1), KERN_INVALID_ARGUMENT);
	KT_EXPECT_EQ(mica_alloc_fail_arm(MICA_ALLOC_FRAME, 0), KERN_INVALID_ARGUMENT);
	KT_EXPECT_EQ(mica_syscall(SYS_alloc_fail, 7, MICA_ALLOC_ANY, 1, 0), KERN_INVALID_ARGUMENT);
	KT_EXPECT(!mica_alloc_fail_fired());
	KT_ASSERT_EQ(mica_vm_allocate(&fresh, 4 * PAGE, VM_FLAGS_ANYWHERE), KERN_SUCCESS);
	KT_ASSERT_EQ(mica_alloc_fail_arm(MICA_ALLOC_FRAME, 1), KERN_SUCCESS);
	memset((void *)fresh, 1, 4 * PAGE);      /* four page faults, four frames: not counted */
	KT_EXPECT(!mica_alloc_fail_fired());
	KT_ASSERT_EQ(mica_alloc_fail_arm(MICA_ALLOC_ZONE | MICA_ALLOC_KALLOC, 1), KERN_SUCCESS);
	KT_EXPECT_EQ(mach_port_allocate(mach_task_self(), MACH_PORT_RIGHT_RECEIVE,
					&(mach_port_name_t){ 0 }), KERN_RESOURCE_SHORTAGE);
	KT_EXPECT(mica_alloc_fail_fired());
	KT_EXPECT(!mica_alloc_fail_fired());     /* disarmed: once only */
	mica_vm_deallocate(fresh, 4 * PAGE);
}

int main(void)
{
	static const struct ktap_case cases[] = {
		KTAP_CASE(vm_write_into_a_child),
		KTAP_CASE(vm_read_from_a_child),
		KTAP_CASE(vm_calls_on_a_child),
		KTAP_CASE(task_create_with_and_without_memory),
		KTAP_CASE(thread_create_in_a_child),
		KTAP_CASE(vm_write_into_shared_and_copy_on_write_memory),
		KTAP_CASE(mach_msg_with_memory_and_rights),
		KTAP_CASE(the_switch_counts_system_calls_only),
	};

	host = mach_host_self();
	return ktap_run(cases, sizeof cases / sizeof cases[0]);
}
