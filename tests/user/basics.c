/*
 * The ground every user program stands on: the loader put the data and
 * bss where the program was linked, the stack is where the kernel said,
 * and the C library's printf and string functions work.
 */
#include <ktap.h>
#include <stdio.h>
#include <string.h>

#include <mica/mica.h>

static int answer = 42;				/* .data */
static const char greeting[] = "hello, user"; /* .rodata */
static unsigned zeroed[3 * 1024];		/* .bss, three pages of it */
static struct {					/* .data over a page boundary */
	char head[16];
	char middle[PAGE_SIZE];
	char tail[16];
} spread = { "starts here", "", "ends here" };

static void data_is_initialised(void)
{
	/* read what the loader put in memory, not what GCC knows from the initialisers */
	ktap_opaque(&spread);
	KT_EXPECT_EQ(answer, 42);
	KT_EXPECT_STREQ(spread.head, "starts here");
	KT_EXPECT_EQ(spread.middle[PAGE_SIZE - 1], 0);
	KT_EXPECT_STREQ(spread.tail, "ends here");
	answer++;
	ktap_opaque(&answer);
	KT_EXPECT_EQ(answer, 43);
}

static void rodata_is_initialised(void)
{
	KT_EXPECT_STREQ(greeting, "hello, user");
	KT_EXPECT_EQ(sizeof greeting, 12);
}

static void bss_is_zero(void)
{
	unsigned nonzero = 0;

	for (size_t i = 0; i < sizeof zeroed / sizeof zeroed[0]; i++)
		nonzero += zeroed[i] != 0;
	KT_EXPECT_EQ(nonzero, 0);

	/* and it is writable, every page of it */
	for (size_t i = 0; i < sizeof zeroed / sizeof zeroed[0]; i++)
		zeroed[i] = (unsigned)i;
	ktap_opaque(zeroed);
	KT_EXPECT_EQ(zeroed[0], 0);
	KT_EXPECT_EQ(zeroed[1024], 1024);
	KT_EXPECT_EQ(zeroed[3 * 1024 - 1], 3 * 1024 - 1);
}

static void program_is_where_it_was_linked(void)
{
	KT_EXPECT((uintptr_t)data_is_initialised >= USER_TEXT_BASE);
	KT_EXPECT((uintptr_t)greeting >= USER_TEXT_BASE);
	KT_EXPECT((uintptr_t)&answer >= USER_TEXT_BASE);
	/* three segments, each with pages of its own (user/user.ld) */
	KT_EXPECT((uintptr_t)data_is_initialised / PAGE_SIZE < (uintptr_t)greeting / PAGE_SIZE);
	KT_EXPECT((uintptr_t)greeting / PAGE_SIZE < (uintptr_t)&answer / PAGE_SIZE);
}

static void stack_is_in_the_user_stack(void)
{
	int local;
	uintptr_t sp = (uintptr_t)&local;

	KT_EXPECT(sp < USER_STACK_TOP);
	KT_EXPECT(sp >= USER_STACK_TOP - USER_STACK_SIZE);
}

/* Fills a 160 KiB array on the stack (the stack is 256 KiB) and reads it back. */
static void large_stack_array(void)
{
	unsigned char big[160 << 10];

	ktap_fill(big, sizeof big, 1);
	KT_EXPECT_EQ(ktap_count_wrong(big, sizeof big, 1), 0);
}

/* Formats fmt into a buffer and checks both the text and printf's count. */
#define EXPECT_FORMAT(want, ...)                                      \
	do {                                                          \
		char buf_[64];                                        \
		int n_ = snprintf(buf_, sizeof buf_, __VA_ARGS__);    \
		KT_EXPECT_STREQ(buf_, want);                          \
		KT_EXPECT_EQ(n_, strlen(want));                       \
	} while (0)

static void printf_formats(void)
{
	EXPECT_FORMAT("42 -7 4294967295", "%d %i %u", 42, -7, 4294967295u);
	EXPECT_FORMAT("ff FF 0xff 17 017", "%x %X %#x %o %#o", 255, 255, 255, 15, 15);
	EXPECT_FORMAT("[   42][42   ][00042][+42][ 42]", "[%5d][%-5d][%05d][%+d][% d]",
		      42, 42, 42, 42, 42);
	EXPECT_FORMAT("[  abc][abc  ][ab]", "[%5s][%-5s][%.2s]", "abc", "abc", "abc");
	EXPECT_FORMAT("[   7][007]", "[%*d][%.*d]", 4, 7, 3, 7);
	EXPECT_FORMAT("-9223372036854775808 18446744073709551615", "%lld %lu",
		      -9223372036854775807ll - 1, 18446744073709551615ul);
	EXPECT_FORMAT("-1 65535 12345", "%hhd %hu %zu", 255, 65535, (size_t)12345);
	EXPECT_FORMAT("0x0000000000400000", "%p", (void *)0x400000);
	EXPECT_FORMAT("c % done", "%c %% %s", 'c', "done");
}

static void snprintf_truncates(void)
{
	char buf[8];

	memset(buf, '#', sizeof buf);
	KT_EXPECT_EQ(snprintf(buf, sizeof buf, "%s", "0123456789"), 10);
	KT_EXPECT_STREQ(buf, "0123456");
	KT_EXPECT_EQ(snprintf(buf, 0, "%d", 12345), 5);
	KT_EXPECT_EQ(buf[0], '0');
}

/* printf's result counts what went to the console; the line is a KTAP diagnostic. */
static void printf_counts_what_it_prints(void)
{
	KT_EXPECT_EQ(printf("# printf %s %d\n", "says", 42), 17);
	KT_EXPECT_EQ(putchar('#'), '#');
	KT_EXPECT_EQ(puts(" puts says hello"), 0);
}

/*
 * memmove over its word loops: every length to 40 bytes, every overlap to
 * 17 bytes either way, every alignment, against a byte-by-byte copy.
 */
static void overlapping_moves_of_words(void)
{
	unsigned char buf[96], want[96];
	unsigned wrong = 0;

	for (unsigned len = 0; len <= 40; len++)
		for (int shift = -17; shift <= 17; shift++)
			for (unsigned at = 17; at < 25; at++) {
				for (unsigned i = 0; i < sizeof buf; i++)
					buf[i] = want[i] = (unsigned char)(i * 7 + 1);
				unsigned char tmp[40];
				for (unsigned i = 0; i < len; i++)
					tmp[i] = want[at + i];
				for (unsigned i = 0; i < len; i++)
					want[at + shift + i] = tmp[i];
				memmove(buf + at + shift, buf + at, len);
				wrong += memcmp(buf, want, sizeof buf) != 0;
			}
	KT_EXPECT_EQ(wrong, 0);
}

static void memory_functions(void)
{
	char buf[16];

	KT_EXPECT_EQ(memset(buf, 'a', sizeof buf), buf);
	KT_EXPECT_EQ(buf[0], 'a');
	KT_EXPECT_EQ(buf[15], 'a');
	KT_EXPECT_EQ(memcpy(buf, "0123456789", 11), buf);
	KT_EXPECT_STREQ(buf, "0123456789");

	/* overlapping moves, both ways */
	KT_EXPECT_EQ(memmove(buf + 2, buf, 5), buf + 2);
	KT_EXPECT_STREQ(buf, "0101234789");
	memmove(buf, buf + 3, 8);
	KT_EXPECT_STREQ(buf, "1234789");
	overlapping_moves_of_words();

	KT_EXPECT_EQ(memcmp("abc", "abc", 3), 0);
	KT_EXPECT(memcmp("abc", "abd", 3) < 0);
	KT_EXPECT(memcmp("\xff", "\x01", 1) > 0);	/* bytes are unsigned */
	KT_EXPECT_EQ(memcmp("abc", "xyz", 0), 0);
}

static void string_functions(void)
{
	char buf[16];
	const char *s = "hello";

	KT_EXPECT_EQ(strlen(""), 0);
	KT_EXPECT_EQ(strlen(s), 5);
	KT_EXPECT_EQ(strcmp(s, "hello"), 0);
	KT_EXPECT(strcmp("abc", "abd") < 0);
	KT_EXPECT(strcmp("abd", "abc") > 0);
	KT_EXPECT(strcmp("ab", "abc") < 0);
	KT_EXPECT(strcmp("\xff", "a") > 0);		/* characters compare unsigned */
	KT_EXPECT_EQ(strncmp("abcx", "abcy", 3), 0);
	KT_EXPECT(strncmp("abcx", "abcy", 4) < 0);
	KT_EXPECT_EQ(strncmp("ab", "ab", 10), 0);
	KT_EXPECT_EQ(strcpy(buf, s), buf);
	KT_EXPECT_STREQ(buf, "hello");
	KT_EXPECT_EQ(strchr(s, 'l'), s + 2);
	KT_EXPECT_EQ(strchr(s, '\0'), s + 5);
	KT_EXPECT_EQ(strchr(s, 'z'), NULL);
}

int main(void)
{
	static const struct ktap_case cases[] = {
		KTAP_CASE(data_is_initialised),
		KTAP_CASE(rodata_is_initialised),
		KTAP_CASE(bss_is_zero),
		KTAP_CASE(program_is_where_it_was_linked),
		KTAP_CASE(stack_is_in_the_user_stack),
		KTAP_CASE(large_stack_array),
		KTAP_CASE(printf_formats),
		KTAP_CASE(snprintf_truncates),
		KTAP_CASE(printf_counts_what_it_prints),
		KTAP_CASE(memory_functions),
		KTAP_CASE(string_functions),
	};

	return ktap_run(cases, sizeof cases / sizeof cases[0]);
}
