/*
 * gdb remote-protocol framing (debug/gdb_packet.h): a receiver fed one
 * byte at a time, the sender's frame, and the hex the packets are made of.
 */
#include "debug/gdb_packet.h"

static const char hex_digits[] = "0123456789abcdef";

void gdb_rx_init(struct gdb_rx *rx)
{
	rx->state = GDB_RX_IDLE;
	rx->len = 0;
	rx->sum = 0;
	rx->data[0] = '\0';
}

/* Outside a packet only `$`, acks and Ctrl-C mean anything; line noise is dropped. */
static enum gdb_rx_event rx_idle(struct gdb_rx *rx, char c)
{
	switch (c) {
	case '$':
		rx->state = GDB_RX_DATA;
		rx->len = 0;
		rx->sum = 0;
		return GDB_RX_MORE;
	case '+':
		return GDB_RX_ACK;
	case '-':
		return GDB_RX_NAK;
	case 0x03:
		return GDB_RX_INTERRUPT;
	default:
		return GDB_RX_MORE;
	}
}

/* The second checksum digit ends the packet: say what arrived. */
static enum gdb_rx_event rx_finish(struct gdb_rx *rx)
{
	rx->state = GDB_RX_IDLE;
	if (!rx->sent_sum_ok || rx->sent_sum != rx->sum)
		return GDB_RX_BAD_CHECKSUM;
	if (rx->len > GDB_PACKET_MAX)
		return GDB_RX_OVERLONG;
	rx->data[rx->len] = '\0';
	return GDB_RX_PACKET;
}

enum gdb_rx_event gdb_rx_feed(struct gdb_rx *rx, char c)
{
	int digit = gdb_hex_digit(c);

	if (c == '$' || rx->state == GDB_RX_IDLE)
		return rx_idle(rx, c);
	switch (rx->state) {
	case GDB_RX_DATA:
		if (c == '#') {
			rx->state = GDB_RX_SUM_HIGH;
			return GDB_RX_MORE;
		}
		if (rx->len < GDB_PACKET_MAX)
			rx->data[rx->len] = c;
		if (rx->len <= GDB_PACKET_MAX)   /* stops counting once too long: no wrap */
			rx->len++;
		rx->sum += (uint8_t)c;
		return GDB_RX_MORE;
	case GDB_RX_SUM_HIGH:
		rx->sent_sum_ok = digit >= 0;
		rx->sent_sum = rx->sent_sum_ok ? (uint8_t)(digit << 4) : 0;
		rx->state = GDB_RX_SUM_LOW;
		return GDB_RX_MORE;
	default:
		rx->sent_sum_ok = rx->sent_sum_ok && digit >= 0;
		rx->sent_sum |= rx->sent_sum_ok ? (uint8_t)digit : 0;
		return rx_finish(rx);
	}
}

static bool is_reserved(char c)
{
	return c == '$' || c == '#' || c == '}' || c == '*';
}

size_t gdb_packet_frame(char *out, size_t cap, const char *payload, size_t len)
{
	size_t n = 0;
	uint8_t sum = 0;

	if (cap < 4)
		return 0;
	out[n++] = '$';
	for (size_t i = 0; i < len; i++) {
		char c = payload[i];
		if (n + (is_reserved(c) ? 2 : 1) + 3 > cap)   /* 3: `#cc` */
			return 0;
		if (is_reserved(c)) {
			out[n++] = '}';
			sum += '}';
			c ^= 0x20;
		}
		out[n++] = c;
		sum += (uint8_t)c;
	}
	out[n++] = '#';
	out[n++] = hex_digits[sum >> 4];
	out[n++] = hex_digits[sum & 15];
	return n;
}

int gdb_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

void gdb_hex_encode(const uint8_t *bytes, size_t len, char *out)
{
	for (size_t i = 0; i < len; i++) {
		out[2 * i] = hex_digits[bytes[i] >> 4];
		out[2 * i + 1] = hex_digits[bytes[i] & 15];
	}
}

bool gdb_hex_decode(const char *hex, size_t len, uint8_t *bytes)
{
	for (size_t i = 0; i < len; i++) {
		int high = gdb_hex_digit(hex[2 * i]);
		int low = high < 0 ? -1 : gdb_hex_digit(hex[2 * i + 1]);
		if (low < 0)
			return false;
		bytes[i] = (uint8_t)(high << 4 | low);
	}
	return true;
}

bool gdb_parse_hex(const char **p, uint64_t *value)
{
	const char *s = *p;
	uint64_t v = 0;
	int digits = 0;

	for (int d; (d = gdb_hex_digit(*s)) >= 0; s++, digits++) {
		if (digits == 16)
			return false;
		v = v << 4 | (uint64_t)d;
	}
	if (digits == 0)
		return false;
	*value = v;
	*p = s;
	return true;
}
