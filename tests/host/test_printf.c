/*
 * Tests of lib/printf.c: every conversion, flag, width, precision and
 * length modifier, truncation and return values.  Expected strings are
 * written out by hand; where C defines the result, EXPECT_LIKE_HOST also
 * compares against the host's snprintf.
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

#include "lib/printf.h"
#include "tests/host/htest.h"

/* Expects ksnprintf(buf, ..., fmt, ...) to produce want and return its length. */
#define EXPECT_FMT(want, ...) \
	do { \
		char got_[256]; \
		int n_ = ksnprintf(got_, sizeof got_, __VA_ARGS__); \
		HT_EXPECT_STREQ(got_, want); \
		HT_EXPECT_EQ(n_, (int)strlen(want)); \
	} while (0)

/* Expects ksnprintf to agree with the host's snprintf, text and return value. */
#define EXPECT_LIKE_HOST(...) \
	do { \
		char got_[256], want_[256]; \
		int n_ = ksnprintf(got_, sizeof got_, __VA_ARGS__); \
		int host_n_ = snprintf(want_, sizeof want_, __VA_ARGS__); \
		HT_EXPECT_STREQ(got_, want_); \
		HT_EXPECT_EQ(n_, host_n_); \
	} while (0)

/*
 * Hides a format from gcc's format checking, which (rightly) rejects the
 * odd formats some tests feed the formatter on purpose.
 */
static const char *unchecked(const char *fmt)
{
	return fmt;
}

static void test_plain_text(void)
{
	EXPECT_FMT("", "%s", "");
	EXPECT_FMT("hello, world", "hello, world");
	EXPECT_FMT("100%", "100%%");
	EXPECT_FMT("%%", "%%%%");
	EXPECT_FMT("a % b", "a %% b");
}

static void test_decimal(void)
{
	EXPECT_FMT("0", "%d", 0);
	EXPECT_FMT("42", "%d", 42);
	EXPECT_FMT("-42", "%d", -42);
	EXPECT_FMT("2147483647", "%d", INT_MAX);
	EXPECT_FMT("-2147483648", "%d", INT_MIN);
	EXPECT_FMT("-7", "%i", -7);
	EXPECT_FMT("x=1 y=-2 z=3", "x=%d y=%i z=%d", 1, -2, 3);
}

static void test_unsigned(void)
{
	EXPECT_FMT("0", "%u", 0u);
	EXPECT_FMT("4294967295", "%u", UINT_MAX);
	EXPECT_FMT("4294967295", "%u", (unsigned)-1);
}

static void test_hex(void)
{
	EXPECT_FMT("deadbeef", "%x", 0xdeadbeefu);
	EXPECT_FMT("DEADBEEF", "%X", 0xdeadbeefu);
	EXPECT_FMT("0", "%x", 0u);
	EXPECT_FMT("0xff", "%#x", 0xffu);
	EXPECT_FMT("0XFF", "%#X", 0xffu);
	EXPECT_FMT("0", "%#x", 0u);	/* C: no prefix on zero */
}

static void test_octal(void)
{
	EXPECT_FMT("10", "%o", 8u);
	EXPECT_FMT("010", "%#o", 8u);
	EXPECT_FMT("0", "%#o", 0u);
	EXPECT_FMT("0", "%#.0o", 0u);
	EXPECT_FMT("00010", "%#.5o", 8u);
	EXPECT_FMT("37777777777", "%o", UINT_MAX);
}

static void test_char(void)
{
	EXPECT_FMT("A", "%c", 'A');
	EXPECT_FMT("[  x]", "[%3c]", 'x');
	EXPECT_FMT("[x  ]", "[%-3c]", 'x');
	EXPECT_FMT("abc", "%c%c%c", 'a', 'b', 'c');
}

static void test_string(void)
{
	/* volatile, or gcc sees the NULL and refuses to compile the call */
	const char *volatile null_string = NULL;

	EXPECT_FMT("mica", "%s", "mica");
	EXPECT_FMT("(null)", "%s", null_string);
	EXPECT_FMT("[      mica]", "[%10s]", "mica");
	EXPECT_FMT("[mica      ]", "[%-10s]", "mica");
	EXPECT_FMT("[mi]", "[%.2s]", "mica");
	EXPECT_FMT("[]", "[%.0s]", "mica");
	EXPECT_FMT("[mica]", "[%.10s]", "mica");
	EXPECT_FMT("[   mi]", "[%5.2s]", "mica");
	EXPECT_FMT("[mic]", "[%.*s]", 3, "mica");
	EXPECT_FMT("[mica]", "[%2s]", "mica");	/* width never truncates */
}

static void test_string_precision_stops_reading(void)
{
	char unterminated[3] = { 'a', 'b', 'c' };

	/* With a precision, %s must not read past it (ASan would catch it). */
	EXPECT_FMT("abc", "%.3s", unterminated);
}

static void test_pointer(void)
{
	EXPECT_FMT("0x0000000000000000", "%p", (void *)0);
	EXPECT_FMT("0xffffffff80001000", "%p", (void *)0xffffffff80001000ul);
	EXPECT_FMT("0x00000000deadbeef", "%p", (void *)0xdeadbeeful);
	EXPECT_FMT("[  0x0000000000000001]", "[%20p]", (void *)1);
	EXPECT_FMT("[0x0000000000000001  ]", "[%-20p]", (void *)1);
}

static void test_length_char_and_short(void)
{
	EXPECT_FMT("44", "%hhd", 300);		/* 300 as signed char */
	EXPECT_FMT("-1", "%hhd", 255);
	EXPECT_FMT("ff", "%hhx", -1);
	EXPECT_FMT("255", "%hhu", -1);
	EXPECT_FMT("4464", "%hd", 70000);	/* 70000 as short */
	EXPECT_FMT("-32768", "%hd", 32768);
	EXPECT_FMT("65535", "%hu", -1);
	EXPECT_FMT("ffff", "%hx", 0x12ffff);
}

static void test_length_long(void)
{
	EXPECT_FMT("-9223372036854775808", "%ld", LONG_MIN);
	EXPECT_FMT("9223372036854775807", "%ld", LONG_MAX);
	EXPECT_FMT("18446744073709551615", "%lu", ULONG_MAX);
	EXPECT_FMT("ffffffff80000000", "%lx", 0xffffffff80000000ul);
	EXPECT_FMT("-9223372036854775808", "%lld", (long long)INT64_MIN);
	EXPECT_FMT("18446744073709551615", "%llu", (unsigned long long)UINT64_MAX);
	EXPECT_FMT("FFFFFFFFFFFFFFFF", "%llX", (unsigned long long)UINT64_MAX);
	EXPECT_FMT("1777777777777777777777", "%llo", (unsigned long long)UINT64_MAX);
	EXPECT_FMT("-1", "%lli", -1ll);
}

static void test_length_size(void)
{
	EXPECT_FMT("18446744073709551615", "%zu", SIZE_MAX);
	EXPECT_FMT("4096", "%zu", sizeof(char[4096]));
	EXPECT_FMT("-5", "%zd", (ssize_t)-5);
	EXPECT_FMT("1000", "%zx", (size_t)0x1000);
}

static void test_sign_flags(void)
{
	EXPECT_FMT("+5", "%+d", 5);
	EXPECT_FMT("-5", "%+d", -5);
	EXPECT_FMT("+0", "%+d", 0);
	EXPECT_FMT(" 5", "% d", 5);
	EXPECT_FMT("-5", "% d", -5);
	EXPECT_FMT("+5", unchecked("%+ d"), 5);	/* '+' wins over ' ' */
	EXPECT_FMT("4294967295", unchecked("%+u"), UINT_MAX);	/* unsigned: no sign */
}

static void test_width(void)
{
	EXPECT_FMT("[   42]", "[%5d]", 42);
	EXPECT_FMT("[42   ]", "[%-5d]", 42);
	EXPECT_FMT("[  -42]", "[%5d]", -42);
	EXPECT_FMT("[12345]", "[%2d]", 12345);	/* width never truncates */
	EXPECT_FMT("[   42]", "[%*d]", 5, 42);
	EXPECT_FMT("[42   ]", "[%*d]", -5, 42);	/* negative '*' means '-' */
	EXPECT_FMT("[ +42]", "[%+4d]", 42);
}

static void test_zero_padding(void)
{
	EXPECT_FMT("00042", "%05d", 42);
	EXPECT_FMT("-0042", "%05d", -42);	/* zeros go after the sign */
	EXPECT_FMT("+0042", "%+05d", 42);
	EXPECT_FMT("0x00ff", "%#06x", 0xffu);	/* and after 0x */
	EXPECT_FMT("000000ff", "%08x", 0xffu);
	EXPECT_FMT("42   ", unchecked("%-05d"), 42);	/* '-' beats '0' */
	EXPECT_FMT("  007", unchecked("%05.3d"), 7);	/* so does a precision */
	EXPECT_FMT("0042", "%0*d", 4, 42);
}

static void test_integer_precision(void)
{
	EXPECT_FMT("00042", "%.5d", 42);
	EXPECT_FMT("-00042", "%.5d", -42);
	EXPECT_FMT("42", "%.1d", 42);
	EXPECT_FMT("", "%.0d", 0);		/* C: no digits for zero */
	EXPECT_FMT("", "%.d", 0);		/* "." alone is precision 0 */
	EXPECT_FMT("[     ]", "[%5.0d]", 0);
	EXPECT_FMT("[  00042]", "[%7.5d]", 42);
	EXPECT_FMT("[00042  ]", "[%-7.5d]", 42);
	EXPECT_FMT("00a", "%.3x", 0xau);
	EXPECT_FMT("0x00a", "%#.3x", 0xau);
	EXPECT_FMT("0007", "%.*d", 4, 7);
	EXPECT_FMT("7", "%.*d", -4, 7);	/* negative '*' precision: none */
}

static void test_unknown_conversions(void)
{
	EXPECT_FMT("%q", unchecked("%q"), 0);
	EXPECT_FMT("[%-5q]", unchecked("[%-5q]"), 0);
	EXPECT_FMT("%q5", unchecked("%q%d"), 5);	/* %q takes no argument */
	EXPECT_FMT("%lq", unchecked("%lq"), 0);
	EXPECT_FMT("abc%", unchecked("abc%"), 0);	/* cut off by the end */
	EXPECT_FMT("abc%08l", unchecked("abc%08l"), 0);
}

static void test_truncation(void)
{
	char buf[8];

	memset(buf, '*', sizeof buf);
	HT_EXPECT_EQ(ksnprintf(buf, 6, "hello world"), 11);
	HT_EXPECT_STREQ(buf, "hello");
	HT_EXPECT_EQ(buf[6], '*');		/* nothing written past size */

	HT_EXPECT_EQ(ksnprintf(buf, 6, "hello"), 5);	/* exact fit */
	HT_EXPECT_STREQ(buf, "hello");
	HT_EXPECT_EQ(ksnprintf(buf, 5, "hello"), 5);	/* one short */
	HT_EXPECT_STREQ(buf, "hell");

	HT_EXPECT_EQ(ksnprintf(buf, 1, "%d", 12345), 5);
	HT_EXPECT_STREQ(buf, "");
	HT_EXPECT_EQ(ksnprintf(buf, 4, "%08x", 0xabu), 8);	/* padding counts */
	HT_EXPECT_STREQ(buf, "000");
}

static void test_size_zero_writes_nothing(void)
{
	char c = '*';

	HT_EXPECT_EQ(ksnprintf(NULL, 0, "%s=%d", "answer", 42), 9);
	HT_EXPECT_EQ(ksnprintf(&c, 0, "xyz"), 3);
	HT_EXPECT_EQ(c, '*');
}

/* Forwards to kvsnprintf, to test the va_list entry point. */
static int via_kvsnprintf(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int via_kvsnprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = kvsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

static void test_kvsnprintf(void)
{
	char buf[16];

	HT_EXPECT_EQ(via_kvsnprintf(buf, sizeof buf, "%s:%d", "line", 7), 6);
	HT_EXPECT_STREQ(buf, "line:7");
	HT_EXPECT_EQ(via_kvsnprintf(buf, 4, "%lu", 123456ul), 6);
	HT_EXPECT_STREQ(buf, "123");
}

/* A kputc_fn that counts calls and keeps the first 63 characters. */
struct record {
	char text[64];
	int calls;
};

static void record_put(char c, void *arg)
{
	struct record *r = arg;

	if (r->calls < (int)sizeof r->text - 1)
		r->text[r->calls] = c;
	r->calls++;
}

/* Calls kvformat with a recording callback. */
static int via_kvformat(struct record *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int via_kvformat(struct record *r, const char *fmt, ...)
{
	va_list ap;
	int n;

	memset(r, 0, sizeof *r);
	va_start(ap, fmt);
	n = kvformat(record_put, r, fmt, ap);
	va_end(ap);
	return n;
}

static void test_kvformat_calls_put_per_char(void)
{
	struct record r;

	HT_EXPECT_EQ(via_kvformat(&r, "[%4d|%s]", -3, "ok"), 9);
	HT_EXPECT_EQ(r.calls, 9);
	HT_EXPECT_STREQ(r.text, "[  -3|ok]");
	HT_EXPECT_EQ(via_kvformat(&r, "%s", ""), 0);
	HT_EXPECT_EQ(r.calls, 0);
}

static void test_agrees_with_host(void)
{
	EXPECT_LIKE_HOST("%d|%i|%u|%x|%X|%o", -123, 456, 789u, 0xabcu, 0xabcu, 0777u);
	EXPECT_LIKE_HOST("%lld|%llu|%llx", (long long)INT64_MIN,
			 (unsigned long long)UINT64_MAX, (unsigned long long)UINT64_MAX);
	EXPECT_LIKE_HOST("%hhd|%hhu|%hd|%hu", 200, 511, 40000, 70000);
	EXPECT_LIKE_HOST("%zu|%zd|%zx", SIZE_MAX, (ssize_t)-1, (size_t)255);
	EXPECT_LIKE_HOST("[%8d|%-8d|%08d|%+8d|% 8d]", -99, -99, -99, 99, 99);
	EXPECT_LIKE_HOST("[%.6d|%8.6d|%-8.6d|%.0d|%.0u|%.0x]", -99, -99, -99, 0, 0u, 0u);
	EXPECT_LIKE_HOST("[%#x|%#X|%#o|%#10x|%#010x|%#-10x]", 1u, 255u, 9u, 255u, 255u, 255u);
	EXPECT_LIKE_HOST("[%#o|%#.3o|%#5o|%#05o]", 0u, 8u, 8u, 8u);
	EXPECT_LIKE_HOST("[%*d|%-*d|%*d|%.*d|%*.*d]", 6, 1, 6, 2, -6, 3, 3, 4, 6, 3, 5);
	EXPECT_LIKE_HOST("[%s|%10s|%-10s|%.3s|%10.3s|%-10.3s|%.*s]",
			 "kernel", "kernel", "kernel", "kernel", "kernel", "kernel", 2, "kernel");
	EXPECT_LIKE_HOST("[%c|%5c|%-5c]", 'm', 'i', 'c');
	EXPECT_LIKE_HOST("[%ld|%lu|%lx|%lo]", LONG_MIN, ULONG_MAX, ULONG_MAX, ULONG_MAX);
	EXPECT_LIKE_HOST("%d%%%u", 50, 50u);
}

static const struct ht_case cases[] = {
	HT_CASE(test_plain_text),
	HT_CASE(test_decimal),
	HT_CASE(test_unsigned),
	HT_CASE(test_hex),
	HT_CASE(test_octal),
	HT_CASE(test_char),
	HT_CASE(test_string),
	HT_CASE(test_string_precision_stops_reading),
	HT_CASE(test_pointer),
	HT_CASE(test_length_char_and_short),
	HT_CASE(test_length_long),
	HT_CASE(test_length_size),
	HT_CASE(test_sign_flags),
	HT_CASE(test_width),
	HT_CASE(test_zero_padding),
	HT_CASE(test_integer_precision),
	HT_CASE(test_unknown_conversions),
	HT_CASE(test_truncation),
	HT_CASE(test_size_zero_writes_nothing),
	HT_CASE(test_kvsnprintf),
	HT_CASE(test_kvformat_calls_put_per_char),
	HT_CASE(test_agrees_with_host),
};

HT_MAIN("printf", cases)
