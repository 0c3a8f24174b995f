/*
 * The string and memory functions, for the kernel and (compiled into the
 * user library, like lib/printf.c) for user programs.  GCC may emit calls
 * to memcpy and memset on its own, so these must exist.  memcpy and memset
 * are the copy path's and the page zeroing's engines: their shape was
 * chosen by measurement (docs/performance.md).
 */
#include <stdint.h>
#include "lib/string.h"

/* A 64-bit word at any address, which may alias anything. */
typedef uint64_t __attribute__((may_alias, aligned(1))) word_t;

/*
 * Eight 64-bit words a turn once the destination is aligned, bytes at the
 * ends.  Under QEMU's TCG (make bench's reference) plain moves beat
 * `rep movs`, which costs a trip through the translator's loop per element.
 */
void *memcpy(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	for (; n && ((uintptr_t)d & 7); n--)
		*d++ = *s++;
	for (; n >= 64; n -= 64, d += 64, s += 64) {
		const word_t *from = (const word_t *)s;
		word_t *to = (word_t *)d;
		uint64_t w0 = from[0], w1 = from[1], w2 = from[2], w3 = from[3];
		to[0] = w0; to[1] = w1; to[2] = w2; to[3] = w3;
		w0 = from[4], w1 = from[5], w2 = from[6], w3 = from[7];
		to[4] = w0; to[5] = w1; to[6] = w2; to[7] = w3;
	}
	for (; n >= 8; n -= 8, d += 8, s += 8)
		*(word_t *)d = *(const word_t *)s;
	while (n--)
		*d++ = *s++;
	return dst;
}

/*
 * Forwards as memcpy unless dst overlaps the end of src; then backwards,
 * 64-bit words once the destination's end is aligned.  Each word is read
 * before it is written, so any overlap is safe.
 */
void *memmove(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	if (d <= s || d >= s + n)
		return memcpy(dst, src, n);
	for (; n && ((uintptr_t)(d + n) & 7); n--)
		d[n - 1] = s[n - 1];
	for (; n >= 8; n -= 8)
		*(word_t *)(d + n - 8) = *(const word_t *)(s + n - 8);
	while (n--)
		d[n] = s[n];
	return dst;
}

/* 64-bit stores: aligned ones between the ends, and one unaligned at each end. */
void *memset(void *dst, int c, size_t n)
{
	unsigned char *d = dst;
	uint64_t w = 0x0101010101010101ull * (unsigned char)c;

	if (n < 8) {
		while (n--)
			*d++ = (unsigned char)c;
		return dst;
	}
	/*
	 * Eight bytes at each end, unaligned (x86 allows it), so that what is
	 * between is whole aligned words, without a byte loop at either end.
	 */
	*(word_t *)(d + n - 8) = w;
	*(word_t *)d = w;
	size_t head = -(uintptr_t)d & 7;     /* to the next aligned word; 0 when aligned */
	d += head;
	n -= head;
	for (; n >= 32; n -= 32, d += 32) {
		word_t *to = (word_t *)d;
		to[0] = w; to[1] = w; to[2] = w; to[3] = w;
	}
	for (; n >= 8; n -= 8, d += 8)
		*(word_t *)d = w;
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;

	for (; n--; x++, y++)
		if (*x != *y)
			return *x - *y;
	return 0;
}

size_t strlen(const char *s)
{
	return strnlen(s, (size_t)-1);
}

size_t strnlen(const char *s, size_t max)
{
	size_t n = 0;

	while (n < max && s[n])
		n++;
	return n;
}

int strncmp(const char *a, const char *b, size_t n)
{
	for (; n--; a++, b++) {
		if (*a != *b)
			return (unsigned char)*a - (unsigned char)*b;
		if (*a == '\0')
			return 0;
	}
	return 0;
}

int strcmp(const char *a, const char *b)
{
	return strncmp(a, b, (size_t)-1);
}

char *strstr(const char *haystack, const char *needle)
{
	size_t n = strlen(needle);

	for (; *haystack; haystack++)
		if (strncmp(haystack, needle, n) == 0)
			return (char *)haystack;
	return n == 0 ? (char *)haystack : NULL;
}

char *strcpy(char *dst, const char *src)
{
	return memcpy(dst, src, strlen(src) + 1);
}

/* The terminating NUL counts as part of the string, so strchr(s, 0) finds it. */
char *strchr(const char *s, int c)
{
	for (;; s++) {
		if (*s == (char)c)
			return (char *)s;
		if (*s == '\0')
			return NULL;
	}
}
