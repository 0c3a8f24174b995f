/*
 * Random traffic of rights between two spaces: every mach_port call and
 * every disposition a message can carry, MOVE_RECEIVE included, in random
 * order with names that are often wrong (forged, stale, of the other
 * space).  Whatever each call answers, the kernel must not panic or trip
 * an assertion, and once both spaces are gone every port and every kalloc
 * element must be back: rights are counted right on every path, refused
 * cycles, timed-out sends and ports dying with messages queued included.
 * After every call each space's port-to-name hash must agree with its names.
 */
#include "ipc/ipc_space.h"
#include "ipc/mach_msg.h"
#include "kern/kalloc.h"
#include "tests/harness/ktest.h"
#include "lib/string.h"

#define NAMES 24
#define OPS   20000

struct side {
	struct ipc_space *space;
	mach_port_name_t names[NAMES]; /* names this side has seen: live, stale or dead */
};

#pragma pack(push, 4)
struct rights_msg {
	mach_msg_header_t header;
	mach_msg_body_t body;
	mach_msg_port_descriptor_t port[2];
};
#pragma pack(pop)

static uint64_t rng;

static uint32_t next(uint32_t below)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % below);
}

/* A name to try: mostly one seen, sometimes nothing at all. */
static mach_port_name_t pick(const struct side *s)
{
	static const mach_port_name_t odd[] = { MACH_PORT_NULL, MACH_PORT_DEAD, 0x12345 };

	return next(8) ? s->names[next(NAMES)] : odd[next(3)];
}

static void remember(struct side *s, mach_port_name_t name)
{
	if (MACH_PORT_VALID(name))
		s->names[next(NAMES)] = name;
}

/* A destination's disposition: mostly the two that work most often. */
static mach_msg_type_name_t dest_disposition(void)
{
	uint32_t r = next(10);

	return r < 5 ? MACH_MSG_TYPE_MAKE_SEND : r < 8 ? MACH_MSG_TYPE_COPY_SEND :
	                                         MACH_MSG_TYPE_MOVE_SEND + next(5);
}

/* A descriptor's disposition, now and then one no message may carry. */
static mach_msg_type_name_t any_disposition(void)
{
	uint32_t r = next(16);

	return r < 5 ? MACH_MSG_TYPE_MOVE_RECEIVE : r < 15 ? MACH_MSG_TYPE_MOVE_RECEIVE + next(6) :
	                                             next(32);
}

static void random_send(struct side *s)
{
	struct rights_msg m;
	unsigned count = next(3);

	memset(&m, 0, sizeof(m));
	m.header.msgh_bits = MACH_MSGH_BITS(dest_disposition(), next(2) ? dest_disposition() : 0) |
	                     MACH_MSGH_BITS_COMPLEX;
	m.header.msgh_remote_port = pick(s);
	m.header.msgh_local_port = MACH_MSGH_BITS_LOCAL(m.header.msgh_bits) ? pick(s) : 0;
	m.body.msgh_descriptor_count = count;
	for (unsigned i = 0; i < count; i++)
		m.port[i] = (mach_msg_port_descriptor_t){ .name = pick(s),
		                                          .disposition = any_disposition(),
		                                          .type = MACH_MSG_PORT_DESCRIPTOR };
	mach_msg_size_t size = sizeof(m) - (2 - count) * sizeof(m.port[0]);
	m.header.msgh_size = size;
	ipc_msg_send(s->space, NULL, &m.header, size, MACH_SEND_TIMEOUT, 0);
}

static void random_receive(struct side *s)
{
	struct rights_msg m;

	if (ipc_msg_receive(s->space, NULL, pick(s), &m.header, sizeof(m), MACH_RCV_TIMEOUT, 0) !=
	    MACH_MSG_SUCCESS)
		return;
	remember(s, m.header.msgh_remote_port);
	for (unsigned i = 0; i < m.body.msgh_descriptor_count && i < 2; i++)
		remember(s, m.port[i].name);
}

/* Gives a side a send right to one of from's receive rights, under a name of the caller's choosing. */
static void share(struct side *from, struct side *to)
{
	struct ipc_port *port;
	mach_port_name_t name = ((next(64) + 1) << 8) | next(256);

	if (ipc_space_lookup(from->space, pick(from), MACH_PORT_TYPE_RECEIVE, &port) !=
	    KERN_SUCCESS)
		return;
	if (mach_port_insert_right(to->space, name, port, MACH_MSG_TYPE_MAKE_SEND) == KERN_SUCCESS)
		remember(to, name);
	ipc_port_release(port);
}

static void random_op(struct side *s, struct side *other)
{
	mach_port_name_t name = 0;

	switch (next(8)) {
	case 0:
		if (mach_port_allocate(s->space, next(4) ? MACH_PORT_RIGHT_RECEIVE :
		                                           MACH_PORT_RIGHT_DEAD_NAME, &name) == KERN_SUCCESS)
			remember(s, name);
		break;
	case 1:
		share(s, next(2) ? other : s);
		break;
	case 2:
		mach_port_mod_refs(s->space, pick(s), next(MACH_PORT_RIGHT_NUMBER + 1),
		                   (mach_port_delta_t)next(5) - 2);
		break;
	case 3:
		mach_port_deallocate(s->space, pick(s));
		break;
	case 4:
	case 5:
		random_send(s);
		break;
	default:
		random_receive(s);
		break;
	}
}

KTEST(ipc, random_traffic_of_rights_leaks_nothing)
{
	uint64_t zones_before[8], zones_after[8], large_before, large_after;
	uint64_t ports_before = ipc_port_count();
	struct side a, b;

	kalloc_zone_in_use(zones_before, 8, &large_before);
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	a.space = ipc_space_create();
	b.space = ipc_space_create();
	KT_ASSERT(a.space != NULL && b.space != NULL);
	rng = ktest_seed() | 1;
	unsigned inconsistent = 0;
	for (int i = 0; i < OPS; i++) {
		random_op(i % 2 ? &a : &b, i % 2 ? &b : &a);
		inconsistent += !ipc_space_hash_consistent(a.space) ||
		                !ipc_space_hash_consistent(b.space);
	}
	KT_EXPECT_EQ(inconsistent, 0);
	ipc_space_destroy(a.space);
	ipc_space_destroy(b.space);
	kalloc_zone_in_use(zones_after, 8, &large_after);
	KT_EXPECT_EQ(ipc_port_count(), ports_before);
	for (int z = 0; z < 8; z++)
		KT_EXPECT_EQ(zones_after[z], zones_before[z]);
	KT_EXPECT_EQ(large_after, large_before);
}
