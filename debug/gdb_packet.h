/*
 * The framing of gdb's remote serial protocol, free of any machine
 * detail, so host tests can drive it byte by byte (tests/host/test_gdb_packet.c).
 *
 * On the wire a packet is `$payload#cc`: cc is the sum of the payload's
 * bytes modulo 256 in two hex digits.  The receiver answers every packet
 * with `+` (received) or `-` (checksum wrong: send it again).  Outside a
 * packet gdb sends `+`/`-` for our own packets, and byte 0x03 to stop a
 * running target.  Our replies never need gdb's run-length encoding.
 */
#ifndef MICA_DEBUG_GDB_PACKET_H
#define MICA_DEBUG_GDB_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The longest payload we take or send; qSupported tells gdb (PacketSize). */
#define GDB_PACKET_MAX 4096

/* What one received byte completed. */
enum gdb_rx_event {
	GDB_RX_MORE,           /* nothing yet: feed the next byte */
	GDB_RX_PACKET,         /* rx.data holds a whole packet whose checksum is right */
	GDB_RX_BAD_CHECKSUM,   /* a whole packet whose checksum is wrong (or not hex) */
	GDB_RX_OVERLONG,       /* a whole packet, checksum right, longer than GDB_PACKET_MAX */
	GDB_RX_ACK,            /* `+` outside a packet */
	GDB_RX_NAK,            /* `-` outside a packet */
	GDB_RX_INTERRUPT,      /* 0x03 outside a packet: gdb's Ctrl-C */
};

struct gdb_rx {
	enum { GDB_RX_IDLE, GDB_RX_DATA, GDB_RX_SUM_HIGH, GDB_RX_SUM_LOW } state;
	size_t len;             /* payload bytes seen, kept or not */
	uint8_t sum;            /* running sum of the payload */
	uint8_t sent_sum;       /* the checksum as the sender wrote it */
	bool sent_sum_ok;       /* both of its characters were hex digits */
	char data[GDB_PACKET_MAX + 1];   /* the payload, NUL-terminated on GDB_RX_PACKET */
};

void gdb_rx_init(struct gdb_rx *rx);

/*
 * Takes the next byte from the line.  A `$` always starts a new packet,
 * so a packet cut short by a lost byte is dropped, not joined to the next.
 */
enum gdb_rx_event gdb_rx_feed(struct gdb_rx *rx, char c);

/*
 * Writes `$payload#cc` into out[cap], escaping the bytes the protocol
 * reserves ($, #, } and *) as `}` followed by the byte XOR 0x20.  Returns
 * the frame's length, or 0 if it does not fit (out is then unspecified).
 */
size_t gdb_packet_frame(char *out, size_t cap, const char *payload, size_t len);

/* The value of one hex digit (either case), or -1. */
int gdb_hex_digit(char c);

/* Writes 2 * len lower-case hex digits for bytes[0, len) to out (no NUL). */
void gdb_hex_encode(const uint8_t *bytes, size_t len, char *out);

/* Decodes exactly 2 * len hex digits into bytes; false on any other character. */
bool gdb_hex_decode(const char *hex, size_t len, uint8_t *bytes);

/*
 * Reads a hex number of 1 to 16 digits at *p and moves *p past it; false
 * (and *p unchanged) when there is no digit or the number exceeds 64 bits.
 */
bool gdb_parse_hex(const char **p, uint64_t *value);

#endif
