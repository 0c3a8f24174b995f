/*
 * Ports, rights and names: Mach's mach_port_* semantics on IPC spaces,
 * exact error codes for every misuse, dead names after a port dies, and
 * no port left behind.
 */
#include "ipc/ipc_space.h"
#include "kern/ktest.h"

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
	                                MACH_PORT_UREFS_MAX), KERN_UREFS_OVERFLOW);
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
