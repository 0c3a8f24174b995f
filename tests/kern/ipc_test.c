/*
 * Ports, rights and names: Mach's mach_port_* semantics on IPC spaces,
 * exact error codes for every misuse, dead names after a port dies, and
 * no port left behind.
 */
#include "ipc/ipc_kmsg.h"
#include "ipc/ipc_kobject.h"
#include "ipc/ipc_space.h"
#include "ipc/mach_msg.h"
#include "kern/host.h"
#include "kern/mach_port_server.h"
#include "lib/string.h"
#include "tests/harness/ktest.h"
#include "kern/task_server.h"
#include "kern/thread_server.h"
#include "tests/kern/vm_user_test.h"
#include "kern/task.h"
#include "kern/clock.h"
#include "kern/kalloc.h"
#include "kern/thread.h"
#include "vm/vm_page.h"
#include "vm/vm_user.h"
#include <mach/host_rpc.h>
#include <mach/mig_errors.h>
#include <mach/vm_map_rpc.h>

static struct ipc_space *new_space(void)
{
	struct ipc_space *s = ipc_space_create();

	if (s == NULL)
		KT_FAIL("no memory for a space");
	return s;
}

static mach_port_type_t type_of(struct ipc_space *s, mach_port_name_t name)
{
	mach_port_type_t t = 0;

	return mach_port_type(s, name, &t) == KERN_SUCCESS ? t : MACH_PORT_TYPE_NONE;
}

static mach_port_urefs_t refs_of(struct ipc_space *s, mach_port_name_t name, mach_port_right_t r)
{
	mach_port_urefs_t n = ~0u;

	mach_port_get_refs(s, name, r, &n);
	return n;
}

/* Replies are built in a buffer of IPC_KOBJECT_REPLY_MAX bytes: every routine's must fit. */
KTEST(ipc, every_routines_reply_fits_the_reply_buffer)
{
	KT_EXPECT(ipc_kobject_largest_reply() <= IPC_KOBJECT_REPLY_MAX);
	KT_EXPECT(ipc_kobject_largest_reply() >= sizeof(host_vm_stats_reply_t));
}

/* Each server's routines, found again by msgh_id through the boot-time index. */
static void expect_found(const struct ipc_routine *routines, size_t count)
{
	for (size_t i = 0; i < count; i++)
		KT_EXPECT(ipc_kobject_routine(routines[i].id) == &routines[i]);
}

KTEST(ipc, every_routine_is_found_by_its_id_and_no_other)
{
	expect_found(task_server_routines, task_server_routine_count);
	expect_found(thread_server_task_routines, thread_server_task_routine_count);
	expect_found(thread_server_routines, thread_server_routine_count);
	expect_found(mach_port_server_routines, mach_port_server_routine_count);
	expect_found(host_server_routines, host_server_routine_count);
	/* no routine: between two that share a slot's neighbourhood, and far off */
	static const mach_msg_id_t unknown[] = { 0, -1, 3806, VM_WRITE_ID + 128, 4702, 0x7fffffff };
	for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++)
		KT_EXPECT(ipc_kobject_routine(unknown[i]) == NULL);
}

KTEST(ipc, allocate_names_are_distinct_and_never_null)
{
	struct ipc_space *s = new_space();
	mach_port_name_t a, b, d;

	KT_ASSERT_EQ(mach_port_allocate(s, MACH_PORT_RIGHT_RECEIVE, &a), KERN_SUCCESS);
	KT_ASSERT_EQ(mach_port_allocate(s, MACH_PORT_RIGHT_RECEIVE, &b), KERN_SUCCESS);
	KT_ASSERT_EQ(mach_port_allocate(s, MACH_PORT_RIGHT_DEAD_NAME, &d), KERN_SUCCESS);
	KT_EXPECT(MACH_PORT_VALID(a) && MACH_PORT_VALID(b) && a != b && d != a && d != b);
	KT_EXPECT_EQ(type_of(s, a), MACH_PORT_TYPE_RECEIVE);
	KT_EXPECT_EQ(type_of(s, d), MACH_PORT_TYPE_DEAD_NAME);
	KT_EXPECT_EQ(refs_of(s, d, MACH_PORT_RIGHT_DEAD_NAME), 1);
	KT_EXPECT_EQ(mach_port_allocate(s, MACH_PORT_RIGHT_SEND, &a), KERN_INVALID_VALUE);
	KT_EXPECT_EQ(mach_port_allocate(s, MACH_PORT_RIGHT_PORT_SET, &a), KERN_INVALID_VALUE);
	ipc_space_destroy(s);
}

KTEST(ipc, send_rights_share_the_receive_rights_name)
{
	struct ipc_space *s = new_space();
	struct ipc_port *port;
	mach_port_name_t n;

	KT_ASSERT_EQ(mach_port_allocate(s, MACH_PORT_RIGHT_RECEIVE, &n), KERN_SUCCESS);
	KT_ASSERT_EQ(ipc_space_lookup(s, n, MACH_PORT_TYPE_RECEIVE, &port), KERN_SUCCESS);
	KT_EXPECT_EQ(mach_port_insert_right(s, n, port, MACH_MSG_TYPE_MAKE_SEND), KERN_SUCCESS);
	KT_EXPECT_EQ(type_of(s, n), MACH_PORT_TYPE_SEND_RECEIVE);
	KT_EXPECT_EQ(mach_port_mod_refs(s, n, MACH_PORT_RIGHT_SEND, 2), KERN_SUCCESS);
	KT_EXPECT_EQ(refs_of(s, n, MACH_PORT_RIGHT_SEND), 3);
	KT_EXPECT_EQ(port->send_rights, 1);               /* one right, three user references */
	KT_EXPECT_EQ(mach_port_deallocate(s, n), KERN_SUCCESS);
	KT_EXPECT_EQ(mach_port_mod_refs(s, n, MACH_PORT_RIGHT_SEND, -2), KERN_SUCCESS);
	KT_EXPECT_EQ(type_of(s, n), MACH_PORT_TYPE_RECEIVE);
	KT_EXPECT_EQ(port->send_rights, 0);
	/* a receive right alone cannot be deallocated, only dropped with mod_refs */
	KT_EXPECT_EQ(mach_port_deallocate(s, n), KERN_INVALID_RIGHT);
	ipc_port_release(port);
	ipc_space_destroy(s);
}

KTEST(ipc, misuse_gets_machs_error_codes)
{
	struct ipc_space *s = new_space();
	struct ipc_port *port;
	mach_port_name_t n, d;

	KT_ASSERT_EQ(mach_port_allocate(s, MACH_PORT_RIGHT_RECEIVE, &n), KERN_SUCCESS);
	KT_ASSERT_EQ(mach_port_allocate(s, MACH_PORT_RIGHT_DEAD_NAME, &d), KERN_SUCCESS);
	KT_ASSERT_EQ(ipc_space_lookup(s, n, MACH_PORT_TYPE_RECEIVE, &port), KERN_SUCCESS);
	KT_EXPECT_EQ(mach_port_deallocate(s, MACH_PORT_NULL), KERN_INVALID_NAME);
	KT_EXPECT_EQ(mach_port_deallocate(s, 0x12345678), KERN_INVALID_NAME);      /* forged */
	KT_EXPECT_EQ(mach_port_deallocate(s, n ^ 1), KERN_INVALID_NAME);          /* wrong generation */
	KT_EXPECT_EQ(mach_port_mod_refs(s, n, MACH_PORT_RIGHT_SEND, 1), KERN_INVALID_RIGHT);
	KT_EXPECT_EQ(mach_port_mod_refs(s, n, MACH_PORT_RIGHT_RECEIVE, 1), KERN_INVALID_VALUE);
	KT_EXPECT_EQ(mach_port_mod_refs(s, n, MACH_PORT_RIGHT_RECEIVE, -2), KERN_INVALID_VALUE);
	KT_EXPECT_EQ(mach_port_mod_refs(s, d, MACH_PORT_RIGHT_DEAD_NAME, -2), KERN_INVALID_VALUE);
	KT_EXPECT_EQ(mach_port_mod_refs(s, d, MACH_PORT_RIGHT_DEAD_NAME,
	                                MACH_PORT_UREFS_MAX + 1), KERN_INVALID_VALUE);
	KT_EXPECT_EQ(mach_port_mod_refs(s, d, 99, 1), KERN_INVALID_VALUE);
	KT_EXPECT_EQ(mach_port_insert_right(s, d, port, MACH_MSG_TYPE_MAKE_SEND), KERN_NAME_EXISTS);
	KT_EXPECT_EQ(mach_port_insert_right(s, 0x503, port, MACH_MSG_TYPE_MAKE_SEND),
	             KERN_RIGHT_EXISTS);                  /* the space names it already */
	KT_EXPECT_EQ(mach_port_insert_right(s, n, port, MACH_MSG_TYPE_MOVE_RECEIVE),
	             KERN_INVALID_VALUE);
	KT_EXPECT_EQ(mach_port_insert_right(s, 0x7, port, MACH_MSG_TYPE_MAKE_SEND),
	             KERN_INVALID_VALUE);                 /* index 0 is never a name */
	/* nothing above changed anything */
	KT_EXPECT_EQ(type_of(s, n), MACH_PORT_TYPE_RECEIVE);
	KT_EXPECT_EQ(refs_of(s, d, MACH_PORT_RIGHT_DEAD_NAME), 1);
	ipc_port_release(port);
	ipc_space_destroy(s);
}

/*
 * User references saturate at MACH_PORT_UREFS_MAX, as XNU's: a send right
 * copied out, inserted or counted up past it stays at the maximum, the
 * carried right spent; given up one at a time it is never lost; only
 * taking all the references away at once ends it.
 */
KTEST(ipc, user_references_saturate_and_the_right_stays)
{
	struct ipc_space *s = new_space();
	struct ipc_port *port;
	mach_port_name_t n, got = 0, d;

	KT_ASSERT_EQ(mach_port_allocate(s, MACH_PORT_RIGHT_RECEIVE, &n), KERN_SUCCESS);
	KT_ASSERT_EQ(ipc_space_lookup(s, n, MACH_PORT_TYPE_RECEIVE, &port), KERN_SUCCESS);
	KT_ASSERT_EQ(mach_port_insert_right(s, n, port, MACH_MSG_TYPE_MAKE_SEND), KERN_SUCCESS);
	KT_EXPECT_EQ(mach_port_mod_refs(s, n, MACH_PORT_RIGHT_SEND, MACH_PORT_UREFS_MAX),
	             KERN_SUCCESS);
	KT_EXPECT_EQ(refs_of(s, n, MACH_PORT_RIGHT_SEND), MACH_PORT_UREFS_MAX);
	KT_EXPECT_EQ(mach_port_insert_right(s, n, port, MACH_MSG_TYPE_COPY_SEND), KERN_SUCCESS);
	ipc_port_make_send(port);
	KT_EXPECT_EQ(ipc_space_copyout_right(s, port, MACH_MSG_TYPE_PORT_SEND, &got), KERN_SUCCESS);
	KT_EXPECT_EQ(got, n);
	KT_EXPECT_EQ(port->send_rights, 1);                /* the carried right was spent */
	KT_EXPECT_EQ(mach_port_deallocate(s, n), KERN_SUCCESS);
	KT_EXPECT_EQ(mach_port_mod_refs(s, n, MACH_PORT_RIGHT_SEND, -2), KERN_SUCCESS);
	KT_EXPECT_EQ(refs_of(s, n, MACH_PORT_RIGHT_SEND), MACH_PORT_UREFS_MAX);
	KT_EXPECT_EQ(mach_port_mod_refs(s, n, MACH_PORT_RIGHT_SEND, -MACH_PORT_UREFS_MAX),
	             KERN_SUCCESS);
	KT_EXPECT_EQ(type_of(s, n), MACH_PORT_TYPE_RECEIVE);
	KT_EXPECT_EQ(port->send_rights, 0);
	KT_ASSERT_EQ(mach_port_allocate(s, MACH_PORT_RIGHT_DEAD_NAME, &d), KERN_SUCCESS);
	KT_EXPECT_EQ(mach_port_mod_refs(s, d, MACH_PORT_RIGHT_DEAD_NAME, MACH_PORT_UREFS_MAX),
	             KERN_SUCCESS);                       /* a dead name saturates too */
	KT_EXPECT_EQ(refs_of(s, d, MACH_PORT_RIGHT_DEAD_NAME), MACH_PORT_UREFS_MAX);
	ipc_port_release(port);
	ipc_space_destroy(s);
}

/*
 * Every name below 0x80000000 (but those of index 0) can be used, however
 * far up: the table is made of pages, not one contiguous block.  A name
 * no table can hold is KERN_NO_SPACE, as in XNU; a name whose page cannot
 * be made while memory is short is KERN_RESOURCE_SHORTAGE, and usable
 * once memory is back.  Destroying the space frees every page.
 */
KTEST(ipc, every_name_below_the_limit_is_usable)
{
	uint64_t in_use = kalloc_in_use(), ports = ipc_port_count();
	struct ipc_space *owner = new_space(), *s = new_space();
	const mach_port_name_t far = (0x10000u << 8) | 3;
	const mach_port_name_t last = ((IPC_NAME_INDEX_LIMIT - 1) << 8) | 0x42;
	struct ipc_port *port;
	mach_port_name_t n;

	KT_ASSERT_EQ(mach_port_allocate(owner, MACH_PORT_RIGHT_RECEIVE, &n), KERN_SUCCESS);
	KT_ASSERT_EQ(ipc_space_lookup(owner, n, MACH_PORT_TYPE_RECEIVE, &port), KERN_SUCCESS);
	KT_EXPECT_EQ(mach_port_insert_right(s, IPC_NAME_INDEX_LIMIT << 8, port,
	                                    MACH_MSG_TYPE_MAKE_SEND), KERN_NO_SPACE);
	KT_EXPECT_EQ(mach_port_insert_right(s, 0xfffffffe, port, MACH_MSG_TYPE_MAKE_SEND),
	             KERN_NO_SPACE);
	vm_page_set_reserve_floor(vm_page_free_count());
	kern_return_t kr = mach_port_insert_right(s, far, port, MACH_MSG_TYPE_MAKE_SEND);
	vm_page_set_reserve_floor(0);
	KT_EXPECT_EQ(kr, KERN_RESOURCE_SHORTAGE);
	KT_EXPECT_EQ(type_of(s, far), MACH_PORT_TYPE_NONE);
	KT_EXPECT_EQ(mach_port_insert_right(s, far, port, MACH_MSG_TYPE_MAKE_SEND), KERN_SUCCESS);
	KT_EXPECT_EQ(type_of(s, far), MACH_PORT_TYPE_SEND);
	KT_EXPECT_EQ(mach_port_deallocate(s, far), KERN_SUCCESS);
	KT_EXPECT_EQ(mach_port_insert_right(s, last, port, MACH_MSG_TYPE_MAKE_SEND), KERN_SUCCESS);
	KT_EXPECT_EQ(type_of(s, last), MACH_PORT_TYPE_SEND);
	ipc_port_release(port);
	ipc_space_destroy(s);
	ipc_space_destroy(owner);
	KT_EXPECT_EQ(kalloc_in_use(), in_use);
	KT_EXPECT_EQ(ipc_port_count(), ports);
}

/* Gives s a send right to each of count new ports of owner: the nanoseconds it took. */
static uint64_t copy_out_new_rights(struct ipc_space *owner, struct ipc_space *s, unsigned count)
{
	uint64_t start = clock_ns();
	unsigned wrong = 0;

	for (unsigned i = 0; i < count; i++) {
		struct ipc_port *port;
		mach_port_name_t n, got;
		if (mach_port_allocate(owner, MACH_PORT_RIGHT_RECEIVE, &n) != KERN_SUCCESS ||
		    ipc_space_lookup(owner, n, MACH_PORT_TYPE_RECEIVE, &port) != KERN_SUCCESS) {
			wrong++;
			continue;
		}
		ipc_port_make_send(port);
		wrong += ipc_space_copyout_right(s, port, MACH_MSG_TYPE_PORT_SEND, &got) != KERN_SUCCESS;
		ipc_port_release(port);
	}
	KT_EXPECT_EQ(wrong, 0);
	return clock_ns() - start;
}

/*
 * A received send right finds the name its space may have for the port
 * through the port-to-name hash, not by a look at every name: copying
 * rights out into a space of 60,000 names takes about as long as into an
 * empty one.  The hash holds each space's send and receive rights, and
 * only those, after every change.
 */
KTEST(ipc, a_received_right_finds_its_name_in_constant_time)
{
	struct ipc_space *owner = new_space(), *small = new_space(), *big = new_space();
	mach_port_name_t n;
	unsigned wrong = 0;

	for (unsigned i = 0; i < 60000; i++)
		wrong += mach_port_allocate(big, MACH_PORT_RIGHT_DEAD_NAME, &n) != KERN_SUCCESS;
	KT_ASSERT_EQ(wrong, 0);
	uint64_t into_small = copy_out_new_rights(owner, small, 2000);
	uint64_t into_big = copy_out_new_rights(owner, big, 2000);
	KT_EXPECT(into_big < 4 * into_small + 5000000);
	KT_EXPECT(ipc_space_hash_consistent(owner) && ipc_space_hash_consistent(small) &&
	          ipc_space_hash_consistent(big));
	ipc_space_destroy(small);
	ipc_space_destroy(big);
	KT_EXPECT(ipc_space_hash_consistent(owner));
	ipc_space_destroy(owner);
}

KTEST(ipc, a_ports_death_turns_send_rights_into_dead_names)
{
	struct ipc_space *owner = new_space(), *holder = new_space();
	struct ipc_port *port;
	mach_port_name_t n, held = 0x1203;
	uint64_t ports = ipc_port_count();

	KT_ASSERT_EQ(mach_port_allocate(owner, MACH_PORT_RIGHT_RECEIVE, &n), KERN_SUCCESS);
	KT_ASSERT_EQ(ipc_space_lookup(owner, n, MACH_PORT_TYPE_RECEIVE, &port), KERN_SUCCESS);
	KT_ASSERT_EQ(mach_port_insert_right(holder, held, port, MACH_MSG_TYPE_MAKE_SEND),
	             KERN_SUCCESS);
	KT_EXPECT_EQ(mach_port_insert_right(holder, held, port, MACH_MSG_TYPE_COPY_SEND),
	             KERN_SUCCESS);
	KT_EXPECT_EQ(type_of(holder, held), MACH_PORT_TYPE_SEND);
	KT_EXPECT_EQ(refs_of(holder, held, MACH_PORT_RIGHT_SEND), 2);
	ipc_port_release(port);
	KT_EXPECT_EQ(mach_port_mod_refs(owner, n, MACH_PORT_RIGHT_RECEIVE, -1), KERN_SUCCESS);
	KT_EXPECT_EQ(type_of(owner, n), MACH_PORT_TYPE_NONE);
	/* the holder's send right is a dead name now, its user references kept */
	KT_EXPECT_EQ(type_of(holder, held), MACH_PORT_TYPE_DEAD_NAME);
	KT_EXPECT_EQ(refs_of(holder, held, MACH_PORT_RIGHT_DEAD_NAME), 2);
	KT_EXPECT_EQ(ipc_port_count(), ports);           /* the dead port is gone */
	KT_EXPECT_EQ(ipc_space_lookup(holder, held, MACH_PORT_TYPE_SEND, &port), KERN_INVALID_RIGHT);
	KT_EXPECT_EQ(mach_port_deallocate(holder, held), KERN_SUCCESS);
	KT_EXPECT_EQ(mach_port_deallocate(holder, held), KERN_SUCCESS);
	KT_EXPECT_EQ(mach_port_deallocate(holder, held), KERN_INVALID_NAME);
	ipc_space_destroy(owner);
	ipc_space_destroy(holder);
}

KTEST(ipc, destroying_spaces_leaks_no_port)
{
	uint64_t ports = ipc_port_count();

	for (int round = 0; round < 100; round++) {
		struct ipc_space *a = new_space(), *b = new_space();
		struct ipc_port *port;
		mach_port_name_t n;
		for (int i = 0; i < 40; i++) {                    /* past the first table size */
			KT_ASSERT_EQ(mach_port_allocate(a, MACH_PORT_RIGHT_RECEIVE, &n), KERN_SUCCESS);
			KT_ASSERT_EQ(ipc_space_lookup(a, n, MACH_PORT_TYPE_RECEIVE, &port), KERN_SUCCESS);
			KT_ASSERT_EQ(mach_port_insert_right(b, 0x100 * (i + 1) + 7, port,
			                                    MACH_MSG_TYPE_MAKE_SEND), KERN_SUCCESS);
			ipc_port_release(port);
		}
		ipc_space_destroy(round & 1 ? a : b);            /* receivers first, or senders */
		ipc_space_destroy(round & 1 ? b : a);
	}
	KT_EXPECT_EQ(ipc_port_count(), ports);
}

/* ---- mach_msg ---- */

/* Copies a string into a fixed field, NUL-padded. */
static void strncpy_test(char *dst, const char *src, size_t len)
{
	size_t i = 0;

	for (; i + 1 < len && src[i]; i++)
		dst[i] = src[i];
	memset(dst + i, 0, len - i);
}

struct test_msg {
	mach_msg_header_t header;
	char body[32];
};

static mach_msg_return_t send_msg(struct ipc_space *s, mach_port_name_t dest,
                                  mach_msg_type_name_t dest_disp, mach_port_name_t reply,
                                  mach_msg_type_name_t reply_disp, const char *text,
                                  mach_msg_option_t option)
{
	struct test_msg m = {
		.header = {
			.msgh_bits = MACH_MSGH_BITS(dest_disp, reply_disp),
			.msgh_size = sizeof(m),
			.msgh_remote_port = dest,
			.msgh_local_port = reply,
			.msgh_id = 4321,
		},
	};

	strncpy_test(m.body, text, sizeof(m.body));
	return ipc_msg_send(s, NULL, &m.header, sizeof(m), option, 0);
}

KTEST(ipc, a_message_reaches_its_receive_right)
{
	struct ipc_space *s = new_space();
	struct test_msg got;
	mach_port_name_t r;

	KT_ASSERT_EQ(mach_port_allocate(s, MACH_PORT_RIGHT_RECEIVE, &r), KERN_SUCCESS);
	KT_ASSERT_EQ(send_msg(s, r, MACH_MSG_TYPE_MAKE_SEND, MACH_PORT_NULL, 0, "hello", 0),
	             MACH_MSG_SUCCESS);
	KT_ASSERT_EQ(ipc_msg_receive(s, NULL, r, &got.header, sizeof(got), 0, 0), MACH_MSG_SUCCESS);
	KT_EXPECT_STREQ(got.body, "hello");
	KT_EXPECT_EQ(got.header.msgh_id, 4321);
	KT_EXPECT_EQ(got.header.msgh_size, sizeof(got));
	KT_EXPECT_EQ(got.header.msgh_local_port, r);
	KT_EXPECT_EQ(got.header.msgh_remote_port, MACH_PORT_NULL);
	KT_EXPECT_EQ(MACH_MSGH_BITS_LOCAL(got.header.msgh_bits), MACH_MSG_TYPE_PORT_SEND);
	KT_EXPECT_EQ(type_of(s, r), MACH_PORT_TYPE_RECEIVE);    /* the made send right was spent */
	ipc_space_destroy(s);
}

KTEST(ipc, a_reply_travels_on_a_send_once_right)
{
	struct ipc_space *server = new_space(), *client = new_space();
	mach_port_name_t rs, rc, to_server = 0x2207;
	struct ipc_port *port;
	struct test_msg got;

	KT_ASSERT_EQ(mach_port_allocate(server, MACH_PORT_RIGHT_RECEIVE, &rs), KERN_SUCCESS);
	KT_ASSERT_EQ(mach_port_allocate(client, MACH_PORT_RIGHT_RECEIVE, &rc), KERN_SUCCESS);
	KT_ASSERT_EQ(ipc_space_lookup(server, rs, MACH_PORT_TYPE_RECEIVE, &port), KERN_SUCCESS);
	KT_ASSERT_EQ(mach_port_insert_right(client, to_server, port, MACH_MSG_TYPE_MAKE_SEND),
	             KERN_SUCCESS);
	ipc_port_release(port);
	KT_ASSERT_EQ(send_msg(client, to_server, MACH_MSG_TYPE_COPY_SEND, rc,
	                      MACH_MSG_TYPE_MAKE_SEND_ONCE, "request", 0), MACH_MSG_SUCCESS);
	KT_EXPECT_EQ(refs_of(client, to_server, MACH_PORT_RIGHT_SEND), 1);   /* copied, kept */
	KT_ASSERT_EQ(ipc_msg_receive(server, NULL, rs, &got.header, sizeof(got), 0, 0),
	             MACH_MSG_SUCCESS);
	KT_EXPECT_STREQ(got.body, "request");
	mach_port_name_t reply = got.header.msgh_remote_port;
	KT_EXPECT_EQ(MACH_MSGH_BITS_REMOTE(got.header.msgh_bits), MACH_MSG_TYPE_PORT_SEND_ONCE);
	KT_EXPECT_EQ(type_of(server, reply), MACH_PORT_TYPE_SEND_ONCE);
	KT_ASSERT_EQ(send_msg(server, reply, MACH_MSG_TYPE_MOVE_SEND_ONCE, MACH_PORT_NULL, 0,
	                      "reply", 0), MACH_MSG_SUCCESS);
	KT_EXPECT_EQ(type_of(server, reply), MACH_PORT_TYPE_NONE);            /* used up */
	KT_ASSERT_EQ(ipc_msg_receive(client, NULL, rc, &got.header, sizeof(got), 0, 0),
	             MACH_MSG_SUCCESS);
	KT_EXPECT_STREQ(got.body, "reply");
	ipc_space_destroy(server);
	ipc_space_destroy(client);
}

KTEST(ipc, bad_messages_are_refused_and_change_nothing)
{
	struct ipc_space *s = new_space();
	mach_port_name_t r, d;
	struct test_msg m = { .header = { .msgh_size = sizeof(m) } }, got;

	KT_ASSERT_EQ(mach_port_allocate(s, MACH_PORT_RIGHT_RECEIVE, &r), KERN_SUCCESS);
	KT_ASSERT_EQ(mach_port_allocate(s, MACH_PORT_RIGHT_DEAD_NAME, &d), KERN_SUCCESS);
	KT_EXPECT_EQ(send_msg(s, 0x12345, MACH_MSG_TYPE_COPY_SEND, 0, 0, "x", 0),
	             MACH_SEND_INVALID_DEST);
	KT_EXPECT_EQ(send_msg(s, d, MACH_MSG_TYPE_COPY_SEND, 0, 0, "x", 0), MACH_SEND_INVALID_DEST);
	KT_EXPECT_EQ(send_msg(s, r, MACH_MSG_TYPE_COPY_SEND, 0, 0, "x", 0), MACH_SEND_INVALID_DEST);
	KT_EXPECT_EQ(send_msg(s, r, MACH_MSG_TYPE_MAKE_SEND, d, MACH_MSG_TYPE_MAKE_SEND_ONCE, "x", 0),
	             MACH_SEND_INVALID_REPLY);
	KT_EXPECT_EQ(send_msg(s, r, 3, 0, 0, "x", 0), MACH_SEND_INVALID_HEADER);
	m.header.msgh_bits = MACH_MSGH_BITS(MACH_MSG_TYPE_MAKE_SEND, 0);
	m.header.msgh_remote_port = r;
	KT_EXPECT_EQ(ipc_msg_send(s, NULL, &m.header, sizeof(m.header) - 4, 0, 0),
	             MACH_SEND_MSG_TOO_SMALL);
	KT_EXPECT_EQ(ipc_msg_send(s, NULL, &m.header, sizeof(m) - 1, 0, 0),
	             MACH_SEND_MSG_TOO_SMALL);
	m.header.msgh_bits |= MACH_MSGH_BITS_COMPLEX;
	m.body[0] = 1;                         /* one descriptor ... */
	m.body[4 + 11] = 7;                    /* ... of a kind Mach does not have */
	KT_EXPECT_EQ(ipc_msg_send(s, NULL, &m.header, sizeof(m), 0, 0), MACH_SEND_INVALID_TYPE);
	m.body[0] = 3;                         /* more descriptors than the message holds */
	m.body[4 + 11] = MACH_MSG_PORT_DESCRIPTOR;
	m.body[4 + 10] = m.body[16 + 10] = MACH_MSG_TYPE_COPY_SEND;
	KT_EXPECT_EQ(ipc_msg_send(s, NULL, &m.header, sizeof(m), 0, 0), MACH_SEND_MSG_TOO_SMALL);
	m.header.msgh_size = IPC_KMSG_MAX + 4;
	KT_EXPECT_EQ(ipc_msg_send(s, NULL, &m.header, IPC_KMSG_MAX + 4, 0, 0), MACH_SEND_TOO_LARGE);
	/* nothing was queued, nothing was lost */
	KT_EXPECT_EQ(ipc_msg_receive(s, NULL, r, &got.header, sizeof(got), MACH_RCV_TIMEOUT, 0),
	             MACH_RCV_TIMED_OUT);
	KT_EXPECT_EQ(type_of(s, d), MACH_PORT_TYPE_DEAD_NAME);
	KT_EXPECT_EQ(ipc_msg_receive(s, NULL, d, &got.header, sizeof(got), MACH_RCV_TIMEOUT, 0),
	             MACH_RCV_INVALID_NAME);
	ipc_space_destroy(s);
}

KTEST(ipc, full_queues_and_small_buffers)
{
	struct ipc_space *s = new_space();
	mach_port_name_t r;
	struct test_msg got;

	KT_ASSERT_EQ(mach_port_allocate(s, MACH_PORT_RIGHT_RECEIVE, &r), KERN_SUCCESS);
	for (int i = 0; i < IPC_PORT_QLIMIT_DEFAULT; i++)
		KT_ASSERT_EQ(send_msg(s, r, MACH_MSG_TYPE_MAKE_SEND, 0, 0, "q", 0), MACH_MSG_SUCCESS);
	KT_EXPECT_EQ(send_msg(s, r, MACH_MSG_TYPE_MAKE_SEND, 0, 0, "q", MACH_SEND_TIMEOUT),
	             MACH_SEND_TIMED_OUT);
	got.header.msgh_size = 0;
	KT_EXPECT_EQ(ipc_msg_receive(s, NULL, r, &got.header, sizeof(got.header),
	                             MACH_RCV_LARGE, 0),
	             MACH_RCV_TOO_LARGE);             /* kept, and its size told */
	KT_EXPECT_EQ(got.header.msgh_size, sizeof(got));
	KT_EXPECT_EQ(send_msg(s, r, MACH_MSG_TYPE_MAKE_SEND, 0, 0, "q", MACH_SEND_TIMEOUT),
	             MACH_SEND_TIMED_OUT);            /* still full */
	KT_EXPECT_EQ(ipc_msg_receive(s, NULL, r, &got.header, sizeof(got), 0, 0), MACH_MSG_SUCCESS);
	KT_EXPECT_EQ(ipc_msg_receive(s, NULL, r, &got.header, sizeof(got.header), 0, 0),
	             MACH_RCV_TOO_LARGE);
	for (int i = 0; i < 2; i++)                   /* room for the one received, the one destroyed */
		KT_EXPECT_EQ(send_msg(s, r, MACH_MSG_TYPE_MAKE_SEND, 0, 0, "q", MACH_SEND_TIMEOUT),
		             MACH_MSG_SUCCESS);
	KT_EXPECT_EQ(send_msg(s, r, MACH_MSG_TYPE_MAKE_SEND, 0, 0, "q", MACH_SEND_TIMEOUT),
	             MACH_SEND_TIMED_OUT);
	ipc_space_destroy(s);                         /* five queued messages go with the port */
}

KTEST(ipc, a_dying_port_frees_its_messages_and_their_rights)
{
	struct ipc_space *s = new_space();
	mach_port_name_t r, other;
	uint64_t ports = ipc_port_count();

	KT_ASSERT_EQ(mach_port_allocate(s, MACH_PORT_RIGHT_RECEIVE, &r), KERN_SUCCESS);
	KT_ASSERT_EQ(mach_port_allocate(s, MACH_PORT_RIGHT_RECEIVE, &other), KERN_SUCCESS);
	/* queued messages carry send-once rights to `other` */
	for (int i = 0; i < 3; i++)
		KT_ASSERT_EQ(send_msg(s, r, MACH_MSG_TYPE_MAKE_SEND, other, MACH_MSG_TYPE_MAKE_SEND_ONCE,
		                      "m", 0), MACH_MSG_SUCCESS);
	KT_EXPECT_EQ(mach_port_mod_refs(s, r, MACH_PORT_RIGHT_RECEIVE, -1), KERN_SUCCESS);
	KT_EXPECT_EQ(mach_port_mod_refs(s, other, MACH_PORT_RIGHT_RECEIVE, -1), KERN_SUCCESS);
	KT_EXPECT_EQ(ipc_port_count(), ports);        /* nothing kept either port alive */
	ipc_space_destroy(s);
}

/* ---- task ports ---- */

/* A vm_allocate request to the task port named task_name, its reply to reply. */
static mach_msg_return_t allocate_rpc(struct ipc_space *s, mach_port_name_t task_name,
                                      mach_port_name_t reply, vm_address_t *addr)
{
	vm_allocate_request_t req = {
		.Head = {
			.msgh_bits = MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND,
			                            MACH_MSG_TYPE_MAKE_SEND_ONCE),
			.msgh_size = sizeof(req),
			.msgh_remote_port = task_name,
			.msgh_local_port = reply,
			.msgh_id = VM_ALLOCATE_ID,
		},
		.size = PAGE_SIZE,
		.flags = VM_FLAGS_ANYWHERE,
	};
	vm_allocate_reply_t rep;
	mach_msg_return_t mr = ipc_msg_send(s, NULL, &req.Head, sizeof(req), 0, 0);

	if (mr != MACH_MSG_SUCCESS)
		return mr;
	mr = ipc_msg_receive(s, NULL, reply, &rep.Head, sizeof(rep), MACH_RCV_TIMEOUT, 0);
	if (mr != MACH_MSG_SUCCESS)
		return mr;
	*addr = rep.address;
	return rep.RetCode;
}

KTEST(ipc, a_task_port_serves_until_the_task_ends)
{
	uint64_t ports = ipc_port_count();
	struct ipc_space *s = new_space();
	mach_port_name_t reply, name;
	vm_address_t addr = 0;
	struct task *t;

	KT_ASSERT_EQ(task_create(NULL, false, &t), KERN_SUCCESS);
	KT_ASSERT_EQ(mach_port_allocate(s, MACH_PORT_RIGHT_RECEIVE, &reply), KERN_SUCCESS);
	ipc_port_make_send(t->self_port);
	KT_ASSERT_EQ(ipc_space_copyout_right(s, t->self_port, MACH_MSG_TYPE_PORT_SEND, &name),
	             KERN_SUCCESS);
	KT_EXPECT_EQ(allocate_rpc(s, name, reply, &addr), KERN_SUCCESS);
	KT_EXPECT(addr >= USER_MIN && addr % PAGE_SIZE == 0);
	vm_region_basic_info_data_64_t info;
	mach_msg_type_number_t count = VM_REGION_BASIC_INFO_COUNT_64;
	vm_address_t where = addr;
	vm_size_t size;
	KT_EXPECT_EQ(vm_region(t->map, &where, &size, VM_REGION_BASIC_INFO_64,
	                       (vm_region_info_t)&info, &count), KERN_SUCCESS);   /* in t's map */
	KT_EXPECT_EQ(where, addr);
	KT_EXPECT_EQ(task_terminate(t), KERN_SUCCESS);
	KT_EXPECT_EQ(allocate_rpc(s, name, reply, &addr), MACH_SEND_INVALID_DEST);
	KT_EXPECT_EQ(type_of(s, name), MACH_PORT_TYPE_DEAD_NAME);
	task_deallocate(t);
	ipc_space_destroy(s);
	KT_EXPECT_EQ(ipc_port_count(), ports);     /* the task port went with the task */
}

/*
 * A message carrying the size bytes at addr out of line, as its sender
 * would write it (the caller frees it).
 */
static struct ipc_kmsg *ool_message(vm_address_t addr, vm_size_t size)
{
	struct {
		mach_msg_header_t header;
		mach_msg_body_t body;
		mach_msg_ool_descriptor_t data;
	} m = {
		.header = { .msgh_bits = MACH_MSGH_BITS_COMPLEX, .msgh_size = sizeof(m) },
		.body = { 1 },
		.data = { .address = (void *)addr, .size = (mach_msg_size_t)size,
		          .copy = MACH_MSG_VIRTUAL_COPY, .type = MACH_MSG_OOL_DESCRIPTOR },
	};
	struct ipc_kmsg *k = ipc_kmsg_alloc(sizeof(m));

	if (k == NULL)
		KT_FAIL("no memory for a message");
	memcpy(&k->header, &m, sizeof(m));
	return k;
}

/*
 * The sender's range is readable but the kernel has no frame to copy it
 * into (wired memory is copied at once): that is the kernel's shortage,
 * not the sender's bad memory, and the same send succeeds later.
 */
KTEST(ipc, out_of_memory_copying_out_of_line_data_is_the_kernels_shortage)
{
	const vm_address_t at = 0x40000000;
	struct task *t;
	struct ipc_kmsg *k;

	KT_ASSERT_EQ(task_create(NULL, false, &t), KERN_SUCCESS);
	vm_address_t addr = at;
	KT_ASSERT_EQ(vm_allocate(t->map, &addr, 4 * PAGE_SIZE, VM_FLAGS_FIXED), KERN_SUCCESS);
	KT_ASSERT_EQ(vm_wire(t->map, at, 4 * PAGE_SIZE, VM_PROT_READ), KERN_SUCCESS);
	k = ool_message(at, 4 * PAGE_SIZE);
	vm_page_set_reserve_floor(vm_page_free_count());
	mach_msg_return_t mr = ipc_kmsg_copyin_body(k, t->map);   /* t, the sender */
	vm_page_set_reserve_floor(0);
	KT_EXPECT_EQ(mr, MACH_MSG_VM_KERNEL);
	ipc_kmsg_free(k);
	k = ool_message(at, 4 * PAGE_SIZE);
	KT_EXPECT_EQ(ipc_kmsg_copyin_body(k, t->map), MACH_MSG_SUCCESS);
	ipc_kmsg_clean_body(k, NULL);
	ipc_kmsg_free(k);
	k = ool_message(at + 8 * PAGE_SIZE, PAGE_SIZE);   /* nothing there: the sender's fault */
	KT_EXPECT_EQ(ipc_kmsg_copyin_body(k, t->map), MACH_SEND_INVALID_MEMORY);
	ipc_kmsg_free(k);
	task_deallocate(t);
}

/* A task_create request to parent's port, its reply to a send right to reply (NULL: none). */
static struct ipc_kmsg *task_create_request(struct task *parent, struct ipc_port *reply)
{
	task_create_request_t req = {
		.Head = { .msgh_size = sizeof(req), .msgh_id = TASK_CREATE_ID },
	};
	struct ipc_kmsg *k = ipc_kmsg_alloc(sizeof(req));

	if (k == NULL)
		KT_FAIL("no memory for a message");
	memcpy(&k->header, &req, sizeof(req));
	ipc_port_make_send(parent->self_port);
	k->dest = parent->self_port;
	k->dest_type = MACH_MSG_TYPE_PORT_SEND;
	if (reply) {
		ipc_port_make_send(reply);
		k->reply = reply;
		k->reply_type = MACH_MSG_TYPE_PORT_SEND;
	}
	return k;
}

/*
 * The child task_create makes is reached only through the send right its
 * reply carries: a reply that cannot be delivered (no reply port, a dead
 * one, a kernel object's) would leave a task no one can reach or end.
 * The kernel ends it, and nothing it held is left behind.
 */
KTEST(ipc, a_task_whose_creation_reply_cannot_arrive_is_ended)
{
	struct leak_counts before;
	unsigned tasks = 0;
	uint64_t ports = 0;
	struct task *parent;

	KT_ASSERT_EQ(task_create(NULL, false, &parent), KERN_SUCCESS);
	for (int round = 0; round < 2; round++) {      /* the first round grows the zones */
		before = test_leak_counts();
		tasks = task_count();
		ports = ipc_port_count();
		struct ipc_port *dead = ipc_port_alloc(NULL);
		KT_ASSERT(dead != NULL);
		struct ipc_kmsg *to_dead = task_create_request(parent, dead);
		ipc_port_destroy(dead);                    /* dies after the send took the right */
		KT_EXPECT_EQ(ipc_kobject_server(task_create_request(parent, NULL)), MACH_MSG_SUCCESS);
		KT_EXPECT_EQ(ipc_kobject_server(to_dead), MACH_MSG_SUCCESS);
		KT_EXPECT_EQ(ipc_kobject_server(task_create_request(parent, parent->self_port)),
		             MACH_MSG_SUCCESS);
		KT_EXPECT_EQ(task_count(), tasks);
		KT_EXPECT_EQ(ipc_port_count(), ports);
	}
	KT_EXPECT_NO_LEAK(before);
	task_terminate(parent);
	task_deallocate(parent);
}
