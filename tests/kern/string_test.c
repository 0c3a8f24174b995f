/*
 * lib/string.c's memset, at every alignment and every small size: its
 * ends are two unaligned words that overlap what lies between, so it must
 * write the bytes asked for and no others.
 */
#include "tests/harness/ktest.h"
#include "lib/string.h"

#define GUARD 32                       /* bytes on either side that must not change */

KTEST(string, memset_writes_exactly_the_bytes_asked_at_every_alignment)
{
	static uint8_t buf[GUARD + 16 + 300 + GUARD];

	for (size_t off = 0; off < 16; off++) {
		for (size_t n = 0; n <= 300; n++) {
			for (size_t i = 0; i < sizeof(buf); i++)
				buf[i] = (uint8_t)(i * 7 + 1);
			KT_ASSERT(memset(buf + GUARD + off, 0xc3, n) == buf + GUARD + off);
			for (size_t i = 0; i < sizeof(buf); i++) {
				bool inside = i >= GUARD + off && i < GUARD + off + n;
				if (buf[i] != (inside ? 0xc3 : (uint8_t)(i * 7 + 1)))
					KT_FAIL("memset of %zu bytes at offset %zu: byte %zu is %#x", n, off,
					        i, buf[i]);
			}
		}
	}
}
