/*
 * Port rights from user space: the mach_port calls on the caller's own
 * space, and rights carried in port descriptors with every disposition,
 * receive rights included.  Each send that must fail is checked to have
 * changed nothing; the last case checks that nothing leaked.
 */
#include <ktap.h>
#include <string.h>

#include <mach/mach.h>

#define FORGED_NAME 0x12345u

#pragma pack(push, 4)
struct port_msg {
	mach_msg_header_t header;
	mach_msg_body_t body;
	mach_msg_port_descriptor_t port[2];
};
#pragma pack(pop)

static struct mica_vm_stats at_start;

/* The rights `name` holds in this task's space; MACH_PORT_TYPE_NONE when it names nothing. */
static mach_port_type_t type_of(mach_port_name_t name)
{
	mach_port_type_t type = MACH_PORT_TYPE_NONE;

	return mach_port_type(mach_task_self(), name, &type) == KERN_SUCCESS ? type :
									  MACH_PORT_TYPE_NONE;
}

/* The user references of name's right; ~0 when the call fails. */
static mach_port_urefs_t refs_of(mach_port_name_t name, mach_port_right_t right)
{
	mach_port_urefs_t refs = ~0u;

	mach_port_get_refs(mach_task_self(), name, right, &refs);
	return refs;
}

/* A new receive right in this task's space (MACH_PORT_NULL if none). */
static mach_port_name_t new_port(void)
{
	mach_port_name_t name = MACH_PORT_NULL;

	mach_port_allocate(mach_task_self(), MACH_PORT_RIGHT_RECEIVE, &name);
	return name;
}

/* Gives up the receive right `name`: its port dies. */
static kern_return_t drop_port(mach_port_name_t name)
{
	return mach_port_mod_refs(mach_task_self(), name, MACH_PORT_RIGHT_RECEIVE, -1);
}

/* Sends to dest (a right of dest_disp here) a message carrying count (0 to 2) rights. */
static mach_msg_return_t send_via(mach_port_name_t dest, mach_msg_type_name_t dest_disp,
				  unsigned count,
				     mach_port_name_t n0, mach_msg_type_name_t d0,
				     mach_port_name_t n1, mach_msg_type_name_t d1)
{
	struct port_msg m;

	memset(&m, 0, sizeof(m));
	m.header.msgh_bits = MACH_MSGH_BITS(dest_disp, 0) | MACH_MSGH_BITS_COMPLEX;
	m.header.msgh_remote_port = dest;
	m.body.msgh_descriptor_count = count;
	m.port[0] = (mach_msg_port_descriptor_t){ .name = n0, .disposition = d0,
						  .type = MACH_MSG_PORT_DESCRIPTOR };
	m.port[1] = (mach_msg_port_descriptor_t){ .name = n1, .disposition = d1,
						  .type = MACH_MSG_PORT_DESCRIPTOR };
	mach_msg_size_t size = sizeof(m) - (2 - count) * sizeof(m.port[0]);
	return mach_msg(&m.header, MACH_SEND_MSG | MACH_SEND_TIMEOUT, size, 0, MACH_PORT_NULL, 100,
			MACH_PORT_NULL);
}

/* The same to dest, a receive right here. */
static mach_msg_return_t send_rights(mach_port_name_t dest, unsigned count, mach_port_name_t n0,
				     mach_msg_type_name_t d0, mach_port_name_t n1,
				     mach_msg_type_name_t d1)
{
	return send_via(dest, MACH_MSG_TYPE_MAKE_SEND, count, n0, d0, n1, d1);
}

/* Receives the next message on port into m, waiting at most 100 ms. */
static mach_msg_return_t receive(mach_port_name_t port, struct port_msg *m)
{
	memset(m, 0xee, sizeof(*m));
	return mach_msg(&m->header, MACH_RCV_MSG | MACH_RCV_TIMEOUT, 0, sizeof(*m), port, 100,
			MACH_PORT_NULL);
}

/* Sends one right to r and receives it back: the name it arrives under (MACH_PORT_NULL on error). */
static mach_port_name_t round_trip(mach_port_name_t r, mach_port_name_t name,
				   mach_msg_type_name_t disposition, mach_msg_type_name_t arrives_as)
{
	struct port_msg m;

	if (send_rights(r, 1, name, disposition, 0, 0) != MACH_MSG_SUCCESS ||
	    receive(r, &m) != MACH_MSG_SUCCESS || m.body.msgh_descriptor_count != 1 ||
	    m.port[0].disposition != arrives_as || m.port[0].type != MACH_MSG_PORT_DESCRIPTOR)
		return MACH_PORT_NULL;
	return m.port[0].name;
}

static void rights_are_counted(void)
{
	ipc_space_t self = mach_task_self();
	mach_port_name_t p, q, dead;
	vm_offset_t data;
	mach_msg_type_number_t count;

	/*
	 * vm_read's data, once touched, lands in fresh page tables, which stay
	 * until the task ends (Mica does not free empty tables): make them now.
	 */
	KT_ASSERT_EQ(vm_read(self, (vm_address_t)&at_start, 1, &data, &count), KERN_SUCCESS);
	KT_EXPECT_EQ(*(volatile char *)data, *(volatile char *)&at_start);
	KT_ASSERT_EQ(vm_deallocate(self, data, count), KERN_SUCCESS);
	KT_ASSERT_EQ(host_vm_stats(mach_host_self(), &at_start), KERN_SUCCESS);
	p = new_port();
	q = new_port();
	KT_ASSERT(p != MACH_PORT_NULL && q != MACH_PORT_NULL && p != q);
	KT_EXPECT_EQ(type_of(p), MACH_PORT_TYPE_RECEIVE);
	KT_EXPECT_EQ(mach_port_insert_right(self, p, p, MACH_MSG_TYPE_MAKE_SEND), KERN_SUCCESS);
	KT_EXPECT_EQ(type_of(p), MACH_PORT_TYPE_RECEIVE | MACH_PORT_TYPE_SEND);
	KT_EXPECT_EQ(mach_port_mod_refs(self, p, MACH_PORT_RIGHT_SEND, 2), KERN_SUCCESS);
	KT_EXPECT_EQ(refs_of(p, MACH_PORT_RIGHT_SEND), 3);
	KT_EXPECT_EQ(mach_port_deallocate(self, p), KERN_SUCCESS);
	KT_EXPECT_EQ(refs_of(p, MACH_PORT_RIGHT_SEND), 2);
	KT_EXPECT_EQ(refs_of(p, MACH_PORT_RIGHT_RECEIVE), 1);
	/* misuse: Mach's codes, and nothing changes */
	KT_EXPECT_EQ(mach_port_allocate(self, MACH_PORT_RIGHT_SEND, &dead), KERN_INVALID_VALUE);
	KT_EXPECT_EQ(mach_port_mod_refs(self, FORGED_NAME, MACH_PORT_RIGHT_SEND, 1),
		     KERN_INVALID_NAME);
	KT_EXPECT_EQ(mach_port_mod_refs(self, q, MACH_PORT_RIGHT_SEND, 1), KERN_INVALID_RIGHT);
	KT_EXPECT_EQ(mach_port_mod_refs(self, p, MACH_PORT_RIGHT_SEND, -3), KERN_INVALID_VALUE);
	KT_EXPECT_EQ(mach_port_insert_right(self, p, q, MACH_MSG_TYPE_MAKE_SEND), KERN_NAME_EXISTS);
	KT_EXPECT_EQ(mach_port_insert_right(self, q, q, MACH_MSG_TYPE_MOVE_RECEIVE),
		     KERN_INVALID_VALUE);
	KT_EXPECT_EQ(type_of(q), MACH_PORT_TYPE_RECEIVE);
	KT_EXPECT_EQ(refs_of(p, MACH_PORT_RIGHT_SEND), 2);
	/* the port dies: its send rights become a dead name with their references */
	KT_EXPECT_EQ(drop_port(p), KERN_SUCCESS);
	KT_EXPECT_EQ(type_of(p), MACH_PORT_TYPE_DEAD_NAME);
	KT_EXPECT_EQ(refs_of(p, MACH_PORT_RIGHT_DEAD_NAME), 2);
	KT_EXPECT_EQ(mach_port_deallocate(self, p), KERN_SUCCESS);
	KT_EXPECT_EQ(mach_port_deallocate(self, p), KERN_SUCCESS);
	KT_EXPECT_EQ(mach_port_deallocate(self, p), KERN_INVALID_NAME);
	KT_EXPECT_EQ(drop_port(q), KERN_SUCCESS);
}

/* Copy, move and make of send and send-once rights, each counted on both sides. */
static void each_send_disposition_travels(void)
{
	mach_port_name_t r = new_port(), b = new_port(), once, once2;

	KT_ASSERT_EQ(mach_port_insert_right(mach_task_self(), b, b, MACH_MSG_TYPE_MAKE_SEND),
		     KERN_SUCCESS);
	/* a right to a port this space knows arrives under the name it already has */
	KT_EXPECT_EQ(round_trip(r, b, MACH_MSG_TYPE_COPY_SEND, MACH_MSG_TYPE_PORT_SEND), b);
	KT_EXPECT_EQ(refs_of(b, MACH_PORT_RIGHT_SEND), 2);
	KT_ASSERT_EQ(send_rights(r, 1, b, MACH_MSG_TYPE_MOVE_SEND, 0, 0), MACH_MSG_SUCCESS);
	KT_EXPECT_EQ(refs_of(b, MACH_PORT_RIGHT_SEND), 1);          /* in transit */
	struct port_msg m;
	KT_ASSERT_EQ(receive(r, &m), MACH_MSG_SUCCESS);
	KT_EXPECT_EQ(m.port[0].name, b);
	KT_EXPECT_EQ(refs_of(b, MACH_PORT_RIGHT_SEND), 2);
	KT_EXPECT_EQ(round_trip(r, b, MACH_MSG_TYPE_MAKE_SEND, MACH_MSG_TYPE_PORT_SEND), b);
	KT_EXPECT_EQ(refs_of(b, MACH_PORT_RIGHT_SEND), 3);
	/* a send-once right always has a name of its own */
	once = round_trip(r, b, MACH_MSG_TYPE_MAKE_SEND_ONCE, MACH_MSG_TYPE_PORT_SEND_ONCE);
	KT_EXPECT(once != MACH_PORT_NULL && once != b);
	KT_EXPECT_EQ(type_of(once), MACH_PORT_TYPE_SEND_ONCE);
	KT_ASSERT_EQ(send_rights(r, 1, once, MACH_MSG_TYPE_MOVE_SEND_ONCE, 0, 0), MACH_MSG_SUCCESS);
	KT_EXPECT_EQ(type_of(once), MACH_PORT_TYPE_NONE);           /* it left */
	KT_ASSERT_EQ(receive(r, &m), MACH_MSG_SUCCESS);
	once2 = m.port[0].name;
	KT_EXPECT_EQ(m.port[0].disposition, MACH_MSG_TYPE_PORT_SEND_ONCE);
	KT_EXPECT_EQ(type_of(once2), MACH_PORT_TYPE_SEND_ONCE);
	KT_EXPECT_EQ(mach_port_deallocate(mach_task_self(), once2), KERN_SUCCESS);
	KT_EXPECT_EQ(refs_of(b, MACH_PORT_RIGHT_SEND), 3);
	KT_EXPECT_EQ(mach_port_mod_refs(mach_task_self(), b, MACH_PORT_RIGHT_SEND, -3), KERN_SUCCESS);
	KT_EXPECT_EQ(type_of(b), MACH_PORT_TYPE_RECEIVE);
	KT_EXPECT_EQ(drop_port(b), KERN_SUCCESS);
	KT_EXPECT_EQ(drop_port(r), KERN_SUCCESS);
}

/* A moved receive right leaves the space, and brings its queued messages when it lands. */
static void a_receive_right_travels_with_its_queue(void)
{
	mach_port_name_t r = new_port(), b = new_port(), nb;
	struct port_msg m;

	KT_ASSERT_EQ(send_rights(b, 0, 0, 0, 0, 0), MACH_MSG_SUCCESS);   /* one waits on b */
	KT_ASSERT_EQ(send_rights(r, 1, b, MACH_MSG_TYPE_MOVE_RECEIVE, 0, 0), MACH_MSG_SUCCESS);
	KT_EXPECT_EQ(type_of(b), MACH_PORT_TYPE_NONE);
	KT_EXPECT_EQ(receive(b, &m), MACH_RCV_INVALID_NAME);
	KT_ASSERT_EQ(receive(r, &m), MACH_MSG_SUCCESS);
	KT_EXPECT_EQ(m.port[0].disposition, MACH_MSG_TYPE_PORT_RECEIVE);
	nb = m.port[0].name;
	KT_EXPECT_EQ(type_of(nb), MACH_PORT_TYPE_RECEIVE);
	KT_EXPECT_EQ(receive(nb, &m), MACH_MSG_SUCCESS);
	KT_EXPECT_EQ(m.header.msgh_local_port, nb);
	KT_EXPECT_EQ(receive(nb, &m), MACH_RCV_TIMED_OUT);
	KT_EXPECT_EQ(drop_port(nb), KERN_SUCCESS);
	KT_EXPECT_EQ(drop_port(r), KERN_SUCCESS);
}

/* Receive rights that would be queued behind themselves are refused, changing nothing. */
static void cycles_of_receive_rights_are_refused(void)
{
	mach_port_name_t r = new_port(), b = new_port();
	struct port_msg m;

	KT_EXPECT_EQ(send_rights(r, 1, r, MACH_MSG_TYPE_MOVE_RECEIVE, 0, 0), MACH_SEND_INVALID_RIGHT);
	KT_EXPECT_EQ(type_of(r), MACH_PORT_TYPE_RECEIVE);
	KT_ASSERT_EQ(mach_port_insert_right(mach_task_self(), b, b, MACH_MSG_TYPE_MAKE_SEND),
		     KERN_SUCCESS);
	KT_ASSERT_EQ(send_rights(r, 1, b, MACH_MSG_TYPE_MOVE_RECEIVE, 0, 0), MACH_MSG_SUCCESS);
	KT_EXPECT_EQ(type_of(b), MACH_PORT_TYPE_SEND);              /* the receive right left */
	/* b's receive right waits on r: r's must not wait on b */
	KT_EXPECT_EQ(send_via(b, MACH_MSG_TYPE_COPY_SEND, 1, r, MACH_MSG_TYPE_MOVE_RECEIVE, 0, 0),
		     MACH_SEND_INVALID_RIGHT);
	KT_EXPECT_EQ(type_of(r), MACH_PORT_TYPE_RECEIVE);
	KT_ASSERT_EQ(receive(r, &m), MACH_MSG_SUCCESS);
	KT_EXPECT_EQ(m.port[0].name, b);             /* back beside its send right */
	KT_EXPECT_EQ(type_of(b), MACH_PORT_TYPE_RECEIVE | MACH_PORT_TYPE_SEND);
	KT_EXPECT_EQ(mach_port_deallocate(mach_task_self(), b), KERN_SUCCESS);
	KT_EXPECT_EQ(drop_port(b), KERN_SUCCESS);
	KT_EXPECT_EQ(drop_port(r), KERN_SUCCESS);
}

/* One bad right in a message and none of its rights move; each name is checked in order. */
static void a_bad_right_sends_nothing(void)
{
	mach_port_name_t r = new_port(), c = new_port();
	struct port_msg m;

	KT_ASSERT_EQ(mach_port_insert_right(mach_task_self(), c, c, MACH_MSG_TYPE_MAKE_SEND),
		     KERN_SUCCESS);
	KT_EXPECT_EQ(send_rights(r, 2, c, MACH_MSG_TYPE_MOVE_SEND, FORGED_NAME,
				 MACH_MSG_TYPE_COPY_SEND), MACH_SEND_INVALID_RIGHT);
	KT_EXPECT_EQ(send_rights(r, 2, c, MACH_MSG_TYPE_MOVE_SEND, c, MACH_MSG_TYPE_MOVE_SEND),
		     MACH_SEND_INVALID_RIGHT);       /* one reference cannot leave twice */
	KT_EXPECT_EQ(send_rights(r, 2, c, MACH_MSG_TYPE_MOVE_SEND, c, MACH_MSG_TYPE_COPY_SEND),
		     MACH_SEND_INVALID_RIGHT);       /* nor be copied once it has left */
	KT_EXPECT_EQ(send_rights(r, 2, c, MACH_MSG_TYPE_COPY_SEND, c, 22), MACH_SEND_INVALID_TYPE);
	KT_EXPECT_EQ(send_rights(r, 1, c, MACH_MSG_TYPE_MOVE_SEND_ONCE, 0, 0), MACH_SEND_INVALID_RIGHT);
	KT_EXPECT_EQ(refs_of(c, MACH_PORT_RIGHT_SEND), 1);
	KT_EXPECT_EQ(type_of(c), MACH_PORT_TYPE_RECEIVE | MACH_PORT_TYPE_SEND);
	KT_EXPECT_EQ(receive(r, &m), MACH_RCV_TIMED_OUT);          /* nothing was queued */
	/* with two references the same message is fine */
	KT_ASSERT_EQ(mach_port_mod_refs(mach_task_self(), c, MACH_PORT_RIGHT_SEND, 1), KERN_SUCCESS);
	KT_EXPECT_EQ(send_rights(r, 2, c, MACH_MSG_TYPE_MOVE_SEND, c, MACH_MSG_TYPE_MOVE_SEND),
		     MACH_MSG_SUCCESS);
	KT_EXPECT_EQ(type_of(c), MACH_PORT_TYPE_RECEIVE);
	KT_ASSERT_EQ(receive(r, &m), MACH_MSG_SUCCESS);
	KT_EXPECT(m.port[0].name == c && m.port[1].name == c);
	KT_EXPECT_EQ(refs_of(c, MACH_PORT_RIGHT_SEND), 2);
	KT_EXPECT_EQ(drop_port(c), KERN_SUCCESS);
	KT_EXPECT_EQ(mach_port_mod_refs(mach_task_self(), c, MACH_PORT_RIGHT_DEAD_NAME, -2),
		     KERN_SUCCESS);
	KT_EXPECT_EQ(drop_port(r), KERN_SUCCESS);
}

/* A send that times out on a full queue gives every right it took back, under the same names. */
static void a_timed_out_send_gives_its_rights_back(void)
{
	mach_port_name_t r = new_port(), b = new_port(), c = new_port(), once;
	struct port_msg m;
	int queued = 0;

	KT_ASSERT_EQ(mach_port_insert_right(mach_task_self(), c, c, MACH_MSG_TYPE_MAKE_SEND),
		     KERN_SUCCESS);
	once = round_trip(r, c, MACH_MSG_TYPE_MAKE_SEND_ONCE, MACH_MSG_TYPE_PORT_SEND_ONCE);
	while (send_rights(r, 0, 0, 0, 0, 0) == MACH_MSG_SUCCESS)
		queued++;                      /* until the queue is full: that send timed out */
	KT_EXPECT_EQ(queued, 5);
	KT_EXPECT_EQ(send_rights(r, 2, b, MACH_MSG_TYPE_MOVE_RECEIVE, c, MACH_MSG_TYPE_MOVE_SEND),
		     MACH_SEND_TIMED_OUT);
	KT_EXPECT_EQ(type_of(b), MACH_PORT_TYPE_RECEIVE);
	KT_EXPECT_EQ(type_of(c), MACH_PORT_TYPE_RECEIVE | MACH_PORT_TYPE_SEND);
	KT_EXPECT_EQ(refs_of(c, MACH_PORT_RIGHT_SEND), 1);
	KT_EXPECT_EQ(send_rights(r, 1, once, MACH_MSG_TYPE_MOVE_SEND_ONCE, 0, 0), MACH_SEND_TIMED_OUT);
	KT_EXPECT_EQ(type_of(once), MACH_PORT_TYPE_SEND_ONCE);
	for (; queued > 0; queued--)
		KT_EXPECT_EQ(receive(r, &m), MACH_MSG_SUCCESS);
	KT_EXPECT_EQ(receive(r, &m), MACH_RCV_TIMED_OUT);           /* none of the refused came */
	KT_EXPECT_EQ(mach_port_deallocate(mach_task_self(), once), KERN_SUCCESS);
	KT_EXPECT_EQ(mach_port_deallocate(mach_task_self(), c), KERN_SUCCESS);
	KT_EXPECT_EQ(drop_port(c), KERN_SUCCESS);
	KT_EXPECT_EQ(drop_port(b), KERN_SUCCESS);
	KT_EXPECT_EQ(drop_port(r), KERN_SUCCESS);
}

/* MACH_PORT_NULL, MACH_PORT_DEAD and dead names travel as what they are. */
static void null_and_dead_names_are_carried(void)
{
	mach_port_name_t r = new_port(), dead = MACH_PORT_NULL;
	struct port_msg m;

	KT_EXPECT_EQ(send_rights(r, 2, MACH_PORT_NULL, MACH_MSG_TYPE_COPY_SEND, MACH_PORT_DEAD,
				 MACH_MSG_TYPE_MOVE_SEND), MACH_MSG_SUCCESS);
	KT_ASSERT_EQ(receive(r, &m), MACH_MSG_SUCCESS);
	KT_EXPECT_EQ(m.port[0].name, MACH_PORT_NULL);
	KT_EXPECT_EQ(m.port[1].name, MACH_PORT_DEAD);
	KT_ASSERT_EQ(mach_port_allocate(mach_task_self(), MACH_PORT_RIGHT_DEAD_NAME, &dead),
		     KERN_SUCCESS);
	KT_EXPECT_EQ(send_rights(r, 1, dead, MACH_MSG_TYPE_MOVE_SEND, 0, 0), MACH_MSG_SUCCESS);
	KT_EXPECT_EQ(type_of(dead), MACH_PORT_TYPE_NONE);           /* its one reference went */
	KT_ASSERT_EQ(receive(r, &m), MACH_MSG_SUCCESS);
	KT_EXPECT_EQ(m.port[0].name, MACH_PORT_DEAD);
	KT_EXPECT_EQ(drop_port(r), KERN_SUCCESS);
}

/* A long chain of ports, each one's receive right queued on the one before, dies with its head. */
static void a_chain_of_ports_in_transit_dies_with_its_head(void)
{
	static mach_port_name_t link[1000];
	struct mica_vm_stats before, after;
	mach_port_name_t head = new_port(), next = head;
	unsigned n = 0, wrong = 0;

	host_vm_stats(mach_host_self(), &before);
	for (; n < 1000; n++) {
		link[n] = new_port();
		if (mach_port_insert_right(mach_task_self(), link[n], link[n],
					   MACH_MSG_TYPE_MAKE_SEND) != KERN_SUCCESS ||
		    send_via(next, next == head ? MACH_MSG_TYPE_MAKE_SEND : MACH_MSG_TYPE_COPY_SEND, 1,
			     link[n], MACH_MSG_TYPE_MOVE_RECEIVE, 0, 0) != MACH_MSG_SUCCESS)
			break;
		next = link[n];                /* a send right now: the receive right left */
	}
	KT_EXPECT_EQ(n, 1000);
	KT_EXPECT_EQ(drop_port(head), KERN_SUCCESS);
	for (unsigned i = 0; i < n; i++)
		wrong += type_of(link[i]) != MACH_PORT_TYPE_DEAD_NAME ||
			 mach_port_deallocate(mach_task_self(), link[i]) != KERN_SUCCESS;
	KT_EXPECT_EQ(wrong, 0);
	host_vm_stats(mach_host_self(), &after);
	KT_EXPECT_EQ(after.ports, before.ports - 1);
}

/* The right to a task moves in a message: its new holder can write, the old name cannot. */
static void a_task_right_moves_with_its_authority(void)
{
	mach_port_name_t r = new_port(), child, moved;
	vm_address_t where = 0;
	char got[6] = { 0 };
	vm_offset_t data;
	mach_msg_type_number_t count;

	KT_ASSERT_EQ(task_create(mach_task_self(), 0, &child), KERN_SUCCESS);
	KT_ASSERT_EQ(vm_allocate(child, &where, 4096, VM_FLAGS_ANYWHERE), KERN_SUCCESS);
	KT_ASSERT_EQ(send_rights(r, 1, child, MACH_MSG_TYPE_MOVE_SEND, 0, 0), MACH_MSG_SUCCESS);
	KT_EXPECT_EQ(vm_write(child, where, (pointer_t)"moved", 6), MACH_SEND_INVALID_DEST);
	struct port_msg m;
	KT_ASSERT_EQ(receive(r, &m), MACH_MSG_SUCCESS);
	moved = m.port[0].name;
	KT_EXPECT_EQ(vm_write(moved, where, (pointer_t)"moved", 6), KERN_SUCCESS);
	KT_ASSERT_EQ(vm_read(moved, where, 6, &data, &count), KERN_SUCCESS);
	memcpy(got, (const void *)data, sizeof(got));
	KT_EXPECT_STREQ(got, "moved");
	KT_EXPECT_EQ(vm_deallocate(mach_task_self(), data, count), KERN_SUCCESS);
	KT_EXPECT_EQ(task_terminate(moved), KERN_SUCCESS);
	KT_EXPECT_EQ(mach_port_deallocate(mach_task_self(), moved), KERN_SUCCESS);
	KT_EXPECT_EQ(drop_port(r), KERN_SUCCESS);
}

/*
 * User references saturate at MACH_PORT_UREFS_MAX: the self calls name
 * the same right however often they are made, and a send right that
 * arrives for a name already at the maximum arrives under it.
 */
static void send_rights_outlive_the_user_reference_limit(void)
{
	mach_port_t task = mach_task_self(), host = mach_host_self(), thread = mach_thread_self();
	mach_port_name_t r = new_port(), p = new_port();
	unsigned wrong = 0;

	KT_ASSERT(r != MACH_PORT_NULL && p != MACH_PORT_NULL);
	for (unsigned i = 0; i <= MACH_PORT_UREFS_MAX; i++)
		wrong += (mach_task_self() != task) + (mach_host_self() != host) +
			 (mach_thread_self() != thread);
	KT_EXPECT_EQ(wrong, 0);
	KT_EXPECT_EQ(refs_of(task, MACH_PORT_RIGHT_SEND), MACH_PORT_UREFS_MAX);
	KT_ASSERT_EQ(mach_port_insert_right(task, p, p, MACH_MSG_TYPE_MAKE_SEND), KERN_SUCCESS);
	KT_ASSERT_EQ(mach_port_mod_refs(task, p, MACH_PORT_RIGHT_SEND, MACH_PORT_UREFS_MAX - 1),
		     KERN_SUCCESS);
	KT_EXPECT_EQ(round_trip(r, p, MACH_MSG_TYPE_COPY_SEND, MACH_MSG_TYPE_PORT_SEND), p);
	KT_EXPECT_EQ(refs_of(p, MACH_PORT_RIGHT_SEND), MACH_PORT_UREFS_MAX);
	KT_EXPECT_EQ(mach_port_mod_refs(task, p, MACH_PORT_RIGHT_SEND, -MACH_PORT_UREFS_MAX),
		     KERN_SUCCESS);
	KT_EXPECT_EQ(type_of(p), MACH_PORT_TYPE_RECEIVE);
	KT_EXPECT_EQ(drop_port(p), KERN_SUCCESS);
	KT_EXPECT_EQ(drop_port(r), KERN_SUCCESS);
}

static void nothing_leaked(void)
{
	struct mica_vm_stats now;

	KT_ASSERT_EQ(host_vm_stats(mach_host_self(), &now), KERN_SUCCESS);
	KT_EXPECT_SAME_VM_STATS(at_start, now);
}

int main(void)
{
	static const struct ktap_case cases[] = {
		/* first: it grows this task's name table for good, before the leak check's snapshot */
		KTAP_CASE(a_chain_of_ports_in_transit_dies_with_its_head),
		KTAP_CASE(rights_are_counted),
		KTAP_CASE(each_send_disposition_travels),
		KTAP_CASE(a_receive_right_travels_with_its_queue),
		KTAP_CASE(cycles_of_receive_rights_are_refused),
		KTAP_CASE(a_bad_right_sends_nothing),
		KTAP_CASE(a_timed_out_send_gives_its_rights_back),
		KTAP_CASE(null_and_dead_names_are_carried),
		KTAP_CASE(a_task_right_moves_with_its_authority),
		KTAP_CASE(send_rights_outlive_the_user_reference_limit),
		KTAP_CASE(nothing_leaked),
	};

	return ktap_run(cases, sizeof cases / sizeof cases[0]);
}
