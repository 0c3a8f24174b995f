/*
 * mach_msg from user space: messages through a port whose receive right
 * the program holds (mach_reply_port), with every pointer and name the
 * trap must refuse.
 */
#include <ktap.h>
#include <string.h>

#include <mach/mach.h>
#include <mica/mica.h>

#define KERNEL_ADDRESS 0xffffffff80000000ul

struct text_msg {
	mach_msg_header_t header;
	char text[24];
};

/* A message to `dest` carrying text, with a send right made from the receive right. */
static void make_msg(struct text_msg *m, mach_port_t dest, const char *text)
{
	memset(m, 0, sizeof(*m));
	m->header.msgh_bits = MACH_MSGH_BITS(MACH_MSG_TYPE_MAKE_SEND, 0);
	m->header.msgh_size = sizeof(*m);
	m->header.msgh_remote_port = dest;
	m->header.msgh_id = 1234;
	strcpy(m->text, text);
}

static mach_msg_return_t send_text(mach_port_t dest, const char *text, mach_msg_option_t extra)
{
	struct text_msg m;

	make_msg(&m, dest, text);
	return mach_msg(&m.header, MACH_SEND_MSG | extra, sizeof(m), 0, MACH_PORT_NULL, 10,
			MACH_PORT_NULL);
}

static mach_msg_return_t receive(mach_port_t port, struct text_msg *into, mach_msg_size_t size)
{
	return mach_msg(&into->header, MACH_RCV_MSG | MACH_RCV_TIMEOUT, 0, size, port, 10,
			MACH_PORT_NULL);
}

static void a_message_round_trips(void)
{
	mach_port_t p = mach_reply_port();
	struct text_msg got;

	KT_ASSERT(p != MACH_PORT_NULL);
	KT_ASSERT_EQ(send_text(p, "hello, port", 0), MACH_MSG_SUCCESS);
	memset(&got, 0xee, sizeof(got));
	KT_ASSERT_EQ(receive(p, &got, sizeof(got)), MACH_MSG_SUCCESS);
	KT_EXPECT_STREQ(got.text, "hello, port");
	KT_EXPECT_EQ(got.header.msgh_id, 1234);
	KT_EXPECT_EQ(got.header.msgh_size, sizeof(got));
	KT_EXPECT_EQ(got.header.msgh_local_port, p);
	KT_EXPECT_EQ(got.header.msgh_remote_port, MACH_PORT_NULL);
	KT_EXPECT_EQ(MACH_MSGH_BITS_LOCAL(got.header.msgh_bits), MACH_MSG_TYPE_PORT_SEND);
}

/* One call sends, then receives into the same buffer. */
static void send_then_receive_in_one_call(void)
{
	mach_port_t p = mach_reply_port();
	struct text_msg m;

	KT_ASSERT(p != MACH_PORT_NULL);
	make_msg(&m, p, "to myself");
	KT_ASSERT_EQ(mach_msg(&m.header, MACH_SEND_MSG | MACH_RCV_MSG, sizeof(m), sizeof(m), p, 0,
			      MACH_PORT_NULL), MACH_MSG_SUCCESS);
	KT_EXPECT_STREQ(m.text, "to myself");
	KT_EXPECT_EQ(m.header.msgh_local_port, p);
}

/* An empty port times out and leaves the buffer as it was. */
static void an_empty_port_times_out(void)
{
	mach_port_t p = mach_reply_port();
	struct text_msg got;

	KT_ASSERT(p != MACH_PORT_NULL);
	ktap_fill(&got, sizeof(got), 7);
	KT_EXPECT_EQ(receive(p, &got, sizeof(got)), MACH_RCV_TIMED_OUT);
	KT_EXPECT_EQ(ktap_count_wrong(&got, sizeof(got), 7), 0);
}

static void a_full_queue_times_out(void)
{
	mach_port_t p = mach_reply_port();
	struct text_msg got;
	int sent = 0;

	KT_ASSERT(p != MACH_PORT_NULL);
	while (sent < 100 && send_text(p, "q", MACH_SEND_TIMEOUT) == MACH_MSG_SUCCESS)
		sent++;
	KT_EXPECT_EQ(sent, 5);                     /* Mach's default queue limit */
	KT_EXPECT_EQ(send_text(p, "q", MACH_SEND_TIMEOUT), MACH_SEND_TIMED_OUT);
	for (int i = 0; i < sent; i++)
		KT_EXPECT_EQ(receive(p, &got, sizeof(got)), MACH_MSG_SUCCESS);
	KT_EXPECT_EQ(receive(p, &got, sizeof(got)), MACH_RCV_TIMED_OUT);
}

/* A buffer too small for the message gets MACH_RCV_TOO_LARGE; the message waits. */
/* As Mach: a message too large for the buffer is destroyed, unless MACH_RCV_LARGE keeps it. */
static void a_small_buffer_and_mach_rcv_large(void)
{
	mach_port_t p = mach_reply_port();
	struct text_msg got;

	KT_ASSERT(p != MACH_PORT_NULL);
	KT_ASSERT_EQ(send_text(p, "big", 0), MACH_MSG_SUCCESS);
	KT_ASSERT_EQ(send_text(p, "next", 0), MACH_MSG_SUCCESS);
	got.header.msgh_size = 0;
	KT_EXPECT_EQ(mach_msg(&got.header, MACH_RCV_MSG | MACH_RCV_LARGE | MACH_RCV_TIMEOUT, 0,
			      sizeof(got.header), p, 10, MACH_PORT_NULL), MACH_RCV_TOO_LARGE);
	KT_EXPECT_EQ(got.header.msgh_size, sizeof(got));       /* the size it needs */
	KT_EXPECT_EQ(receive(p, &got, sizeof(got)), MACH_MSG_SUCCESS);
	KT_EXPECT_STREQ(got.text, "big");
	KT_EXPECT_EQ(receive(p, &got, sizeof(got.header)), MACH_RCV_TOO_LARGE);
	KT_EXPECT_EQ(receive(p, &got, sizeof(got)), MACH_RCV_TIMED_OUT);   /* "next" was destroyed */
}

static void names_that_denote_nothing(void)
{
	mach_port_t p = mach_reply_port();
	struct text_msg got;

	KT_ASSERT(p != MACH_PORT_NULL);
	KT_EXPECT_EQ(send_text(MACH_PORT_NULL, "x", 0), MACH_SEND_INVALID_DEST);
	KT_EXPECT_EQ(send_text(0x12345, "x", 0), MACH_SEND_INVALID_DEST);
	KT_EXPECT_EQ(send_text(p + 1, "x", 0), MACH_SEND_INVALID_DEST);
	KT_EXPECT_EQ(receive(0x12345, &got, sizeof(got)), MACH_RCV_INVALID_NAME);
	KT_EXPECT_EQ(receive(MACH_PORT_NULL, &got, sizeof(got)), MACH_RCV_INVALID_NAME);
	KT_EXPECT_EQ(receive(p, &got, sizeof(got)), MACH_RCV_TIMED_OUT);   /* nothing got through */
}

/* Unreadable messages are refused before anything is sent. */
static void bad_send_buffers(void)
{
	mach_port_t p = mach_reply_port();
	struct text_msg m, got;

	KT_ASSERT(p != MACH_PORT_NULL);
	KT_EXPECT_EQ(mach_msg((mach_msg_header_t *)0x10, MACH_SEND_MSG, sizeof(m), 0,
			      MACH_PORT_NULL, 0, MACH_PORT_NULL), MACH_SEND_INVALID_DATA);
	KT_EXPECT_EQ(mach_msg((mach_msg_header_t *)KERNEL_ADDRESS, MACH_SEND_MSG, sizeof(m), 0,
			      MACH_PORT_NULL, 0, MACH_PORT_NULL), MACH_SEND_INVALID_DATA);
	make_msg(&m, p, "x");
	KT_EXPECT_EQ(mach_msg(&m.header, MACH_SEND_MSG, sizeof(m.header) - 4, 0, MACH_PORT_NULL, 0,
			      MACH_PORT_NULL), MACH_SEND_MSG_TOO_SMALL);
	KT_EXPECT_EQ(mach_msg(&m.header, MACH_SEND_MSG, 1u << 30, 0, MACH_PORT_NULL, 0,
			      MACH_PORT_NULL), MACH_SEND_TOO_LARGE);
	KT_EXPECT_EQ(mach_msg(&m.header, MACH_SEND_MSG, sizeof(m), 0, MACH_PORT_NULL, 0, p),
		     MACH_SEND_INVALID_NOTIFY);
	KT_EXPECT_EQ(receive(p, &got, sizeof(got)), MACH_RCV_TIMED_OUT);
}

/*
 * A receive buffer the kernel cannot write gets MACH_RCV_INVALID_DATA
 * and, as in Mach, the message is spent; the program goes on.
 */
static void bad_receive_buffers(void)
{
	mach_port_t p = mach_reply_port();
	vm_address_t ro = 0;
	struct text_msg got;

	KT_ASSERT(p != MACH_PORT_NULL);
	KT_ASSERT_EQ(mica_vm_allocate(&ro, PAGE_SIZE, VM_FLAGS_ANYWHERE), KERN_SUCCESS);
	KT_ASSERT_EQ(mica_vm_protect(ro, PAGE_SIZE, 0, VM_PROT_READ), KERN_SUCCESS);
	KT_ASSERT_EQ(send_text(p, "one", 0), MACH_MSG_SUCCESS);
	KT_ASSERT_EQ(send_text(p, "two", 0), MACH_MSG_SUCCESS);
	KT_EXPECT_EQ(receive(p, (struct text_msg *)ro, sizeof(got)), MACH_RCV_INVALID_DATA);
	KT_EXPECT_EQ(*(volatile char *)ro, 0);                             /* not written */
	KT_EXPECT_EQ(receive(p, (struct text_msg *)KERNEL_ADDRESS, sizeof(got)),
		     MACH_RCV_INVALID_DATA);
	KT_EXPECT_EQ(receive(p, &got, sizeof(got)), MACH_RCV_TIMED_OUT);
	KT_EXPECT_EQ(mica_vm_deallocate(ro, PAGE_SIZE), KERN_SUCCESS);
}

int main(void)
{
	static const struct ktap_case cases[] = {
		KTAP_CASE(a_message_round_trips),
		KTAP_CASE(send_then_receive_in_one_call),
		KTAP_CASE(an_empty_port_times_out),
		KTAP_CASE(a_full_queue_times_out),
		KTAP_CASE(a_small_buffer_and_mach_rcv_large),
		KTAP_CASE(names_that_denote_nothing),
		KTAP_CASE(bad_send_buffers),
		KTAP_CASE(bad_receive_buffers),
	};

	return ktap_run(cases, sizeof cases / sizeof cases[0]);
}
