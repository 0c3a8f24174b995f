/*
 * Tests of debug/gdb_packet.c, the gdb protocol's framing: whole,
 * fragmented, corrupted, overlong and interleaved packets, the sender's
 * frame and escapes, and the hex helpers' edge cases.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "debug/gdb_packet.h"
#include "tests/host/htest.h"

/* The checksum gdb would write for payload. */
static unsigned checksum(const char *payload)
{
	unsigned sum = 0;

	for (; *payload; payload++)
		sum += (unsigned char)*payload;
	return sum & 0xff;
}

/* Writes `$payload#cc` with the right checksum into wire; returns wire. */
static char *packet(char *wire, size_t cap, const char *payload)
{
	snprintf(wire, cap, "$%s#%02x", payload, checksum(payload));
	return wire;
}

/* Feeds every byte of wire; returns the last event other than MORE (MORE if none). */
static enum gdb_rx_event feed(struct gdb_rx *rx, const char *wire, size_t len)
{
	enum gdb_rx_event last = GDB_RX_MORE;

	for (size_t i = 0; i < len; i++) {
		enum gdb_rx_event e = gdb_rx_feed(rx, wire[i]);
		if (e != GDB_RX_MORE)
			last = e;
	}
	return last;
}

static enum gdb_rx_event feed_str(struct gdb_rx *rx, const char *wire)
{
	return feed(rx, wire, strlen(wire));
}

static void test_whole_packet(void)
{
	struct gdb_rx rx;
	char wire[64];

	gdb_rx_init(&rx);
	HT_EXPECT_EQ(feed_str(&rx, packet(wire, sizeof wire, "m1000,4")), GDB_RX_PACKET);
	HT_EXPECT_STREQ(rx.data, "m1000,4");
	HT_EXPECT_EQ(feed_str(&rx, "$g#67"), GDB_RX_PACKET);        /* as gdb writes it */
	HT_EXPECT_STREQ(rx.data, "g");
	HT_EXPECT_EQ(feed_str(&rx, "$#00"), GDB_RX_PACKET);         /* empty payload */
	HT_EXPECT_STREQ(rx.data, "");
	HT_EXPECT_EQ(feed_str(&rx, "$?#3F"), GDB_RX_PACKET);        /* upper-case checksum */
	HT_EXPECT_STREQ(rx.data, "?");
}

/* Each byte on its own, with noise between packets, gives each packet once, whole. */
static void test_fragmented_and_noisy(void)
{
	const char *want[] = { "g", "qSupported:multiprocess+", "c" };
	char wire[128], middle[64];
	struct gdb_rx rx;
	int seen = 0, acks = 0;

	snprintf(wire, sizeof wire, "xyz\r\n$g#67junk%s+\n$c#63",
	         packet(middle, sizeof middle, want[1]));
	gdb_rx_init(&rx);
	for (const char *p = wire; *p; p++) {
		enum gdb_rx_event e = gdb_rx_feed(&rx, *p);
		if (e == GDB_RX_PACKET) {
			HT_EXPECT_TRUE(seen < 3);
			if (seen < 3)
				HT_EXPECT_STREQ(rx.data, want[seen]);
			seen++;
		}
		acks += e == GDB_RX_ACK;
		HT_EXPECT_TRUE(e == GDB_RX_MORE || e == GDB_RX_PACKET || e == GDB_RX_ACK);
	}
	HT_EXPECT_EQ(seen, 3);
	HT_EXPECT_EQ(acks, 1);
}

static void test_bad_checksum(void)
{
	struct gdb_rx rx;

	gdb_rx_init(&rx);
	HT_EXPECT_EQ(feed_str(&rx, "$g#68"), GDB_RX_BAD_CHECKSUM);  /* off by one */
	HT_EXPECT_EQ(feed_str(&rx, "$g#6z"), GDB_RX_BAD_CHECKSUM);  /* not hex */
	HT_EXPECT_EQ(feed_str(&rx, "$g#z7"), GDB_RX_BAD_CHECKSUM);
	HT_EXPECT_EQ(feed_str(&rx, "$g##7"), GDB_RX_BAD_CHECKSUM);
	/* and the receiver is ready for the resent packet */
	HT_EXPECT_EQ(feed_str(&rx, "$g#67"), GDB_RX_PACKET);
	HT_EXPECT_STREQ(rx.data, "g");
}

/* A `$` inside a packet starts over: the cut packet is dropped, the next one arrives whole. */
static void test_dollar_restarts(void)
{
	struct gdb_rx rx;

	gdb_rx_init(&rx);
	HT_EXPECT_EQ(feed_str(&rx, "$m10,$g#67"), GDB_RX_PACKET);
	HT_EXPECT_STREQ(rx.data, "g");
	HT_EXPECT_EQ(feed_str(&rx, "$g#$?#3f"), GDB_RX_PACKET);  /* `$` in place of a digit */
	HT_EXPECT_STREQ(rx.data, "?");
}

/* One byte too many gives OVERLONG, with its checksum still checked; the next packet is fine. */
static void test_overlong(void)
{
	static char wire[3 * GDB_PACKET_MAX];
	struct gdb_rx rx;
	size_t sizes[] = { GDB_PACKET_MAX, GDB_PACKET_MAX + 1, 2 * GDB_PACKET_MAX };

	gdb_rx_init(&rx);
	for (size_t i = 0; i < 3; i++) {
		size_t n = sizes[i];
		unsigned sum = (n * 'a') & 0xff;
		wire[0] = '$';
		memset(wire + 1, 'a', n);
		snprintf(wire + 1 + n, 4, "#%02x", sum);
		HT_EXPECT_EQ(feed(&rx, wire, n + 4), i == 0 ? GDB_RX_PACKET : GDB_RX_OVERLONG);
		if (i == 0)
			HT_EXPECT_EQ(strlen(rx.data), GDB_PACKET_MAX);
		snprintf(wire + 1 + n, 4, "#%02x", (sum + 1) & 0xff);
		HT_EXPECT_EQ(feed(&rx, wire, n + 4), GDB_RX_BAD_CHECKSUM);
	}
	HT_EXPECT_EQ(feed_str(&rx, "$?#3f"), GDB_RX_PACKET);
	HT_EXPECT_STREQ(rx.data, "?");
}

static void test_acks_and_interrupt(void)
{
	struct gdb_rx rx;

	gdb_rx_init(&rx);
	HT_EXPECT_EQ(gdb_rx_feed(&rx, '+'), GDB_RX_ACK);
	HT_EXPECT_EQ(gdb_rx_feed(&rx, '-'), GDB_RX_NAK);
	HT_EXPECT_EQ(gdb_rx_feed(&rx, 0x03), GDB_RX_INTERRUPT);
	/* inside a packet they are data */
	HT_EXPECT_EQ(feed(&rx, "$+-\x03#2b", 8), GDB_RX_BAD_CHECKSUM);
	char wire[16];
	snprintf(wire, sizeof wire, "$+-\x03#%02x", checksum("+-\x03"));
	HT_EXPECT_EQ(feed_str(&rx, wire), GDB_RX_PACKET);
	HT_EXPECT_STREQ(rx.data, "+-\x03");
}

static void test_frame(void)
{
	char out[64];
	size_t n;

	n = gdb_packet_frame(out, sizeof out, "OK", 2);
	out[n] = '\0';
	HT_EXPECT_STREQ(out, "$OK#9a");
	n = gdb_packet_frame(out, sizeof out, "", 0);
	out[n] = '\0';
	HT_EXPECT_STREQ(out, "$#00");
	/* reserved bytes are escaped, and the checksum covers the escaped form */
	n = gdb_packet_frame(out, sizeof out, "a$b#c}d*", 8);
	out[n] = '\0';
	char want[64];
	snprintf(want, sizeof want, "$a}\x04" "b}\x03" "c}]d}\x0a#%02x",
	         checksum("a}\x04" "b}\x03" "c}]d}\x0a"));
	HT_EXPECT_STREQ(out, want);
	/* what a frame says, the receiver takes back */
	struct gdb_rx rx;
	gdb_rx_init(&rx);
	n = gdb_packet_frame(out, sizeof out, "S05", 3);
	HT_EXPECT_EQ(feed(&rx, out, n), GDB_RX_PACKET);
	HT_EXPECT_STREQ(rx.data, "S05");
}

static void test_frame_too_small(void)
{
	char out[8];

	HT_EXPECT_EQ(gdb_packet_frame(out, sizeof out, "OK", 2), 6);
	HT_EXPECT_EQ(gdb_packet_frame(out, sizeof out, "abcd", 4), 8);     /* exactly full */
	HT_EXPECT_EQ(gdb_packet_frame(out, sizeof out, "abcde", 5), 0);
	HT_EXPECT_EQ(gdb_packet_frame(out, sizeof out, "abc#", 4), 0);     /* # needs two */
	HT_EXPECT_EQ(gdb_packet_frame(out, 3, "", 0), 0);
	HT_EXPECT_EQ(gdb_packet_frame(out, 4, "", 0), 4);
}

static void test_hex(void)
{
	uint8_t bytes[4] = { 0x00, 0x7f, 0xa5, 0xff }, back[4];
	char hex[9] = { 0 };

	gdb_hex_encode(bytes, 4, hex);
	HT_EXPECT_STREQ(hex, "007fa5ff");
	HT_EXPECT_TRUE(gdb_hex_decode("007FA5ff", 4, back));
	HT_EXPECT_EQ(memcmp(bytes, back, 4), 0);
	HT_EXPECT_TRUE(!gdb_hex_decode("007fa5fg", 4, back));
	HT_EXPECT_TRUE(!gdb_hex_decode("007fa5f", 4, back));    /* one digit short */
	HT_EXPECT_TRUE(!gdb_hex_decode("0x7fa5ff", 4, back));
	HT_EXPECT_EQ(gdb_hex_digit('g'), -1);
	HT_EXPECT_EQ(gdb_hex_digit('F'), 15);
}

static void test_parse_hex(void)
{
	const char *p = "ffffffff80200000,4";
	uint64_t v = 0;

	HT_EXPECT_TRUE(gdb_parse_hex(&p, &v));
	HT_EXPECT_EQ(v, 0xffffffff80200000ull);
	HT_EXPECT_STREQ(p, ",4");
	p = ",4";
	HT_EXPECT_TRUE(!gdb_parse_hex(&p, &v));                /* no digit */
	HT_EXPECT_STREQ(p, ",4");
	p = "10000000000000000";                               /* 17 digits: too big */
	HT_EXPECT_TRUE(!gdb_parse_hex(&p, &v));
	HT_EXPECT_STREQ(p, "10000000000000000");
	p = "0";
	HT_EXPECT_TRUE(gdb_parse_hex(&p, &v));
	HT_EXPECT_EQ(v, 0);
}

static const struct ht_case cases[] = {
	HT_CASE(test_whole_packet),
	HT_CASE(test_fragmented_and_noisy),
	HT_CASE(test_bad_checksum),
	HT_CASE(test_dollar_restarts),
	HT_CASE(test_overlong),
	HT_CASE(test_acks_and_interrupt),
	HT_CASE(test_frame),
	HT_CASE(test_frame_too_small),
	HT_CASE(test_hex),
	HT_CASE(test_parse_hex),
};
HT_MAIN("gdb_packet", cases)
