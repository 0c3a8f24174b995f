/*
 * htest: the host test harness.  Each test program is one suite and
 * prints it as one KTAP stream (docs/testing.md):
 *
 *	KTAP version 1
 *	1..1
 *	    KTAP version 1
 *	    # Subtest: printf
 *	    1..2
 *	    ok 1 test_decimal
 *	    # tests/host/test_printf.c:40: expected got == want: got "4", want "3"
 *	    not ok 2 test_hex
 *	not ok 1 printf
 *
 * A test is a static void function using the HT_EXPECT_* macros, which
 * report a failure and carry on.  A program lists its tests and ends with
 * HT_MAIN, which defines main():
 *
 *	static const struct ht_case cases[] = {
 *		HT_CASE(test_decimal),
 *		HT_CASE(test_hex),
 *	};
 *	HT_MAIN("printf", cases)
 *
 * main() exits 0 when every test passed and 1 otherwise.  Include this
 * header from one file per program: it holds the harness's state.
 */
#ifndef MICA_HTEST_H
#define MICA_HTEST_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

struct ht_case {
	const char *name;
	void (*fn)(void);
};

#define HT_CASE(fn) { #fn, fn }

#define HT_MAIN(suite, cases) \
	int main(void) \
	{ \
		return ht_run(suite, cases, sizeof(cases) / sizeof(cases[0])); \
	}

/* Expects cond to be true. */
#define HT_EXPECT_TRUE(cond) \
	ht_expect_true(__FILE__, __LINE__, #cond, (cond))

/*
 * Expects two integers to be equal and prints both when they are not.
 * Each side is evaluated once; its signedness decides how it is printed.
 */
#define HT_EXPECT_EQ(got, want) \
	ht_expect_eq(__FILE__, __LINE__, #got " == " #want, \
		     (uintmax_t)(got), HT_IS_SIGNED(got), \
		     (uintmax_t)(want), HT_IS_SIGNED(want))

/* Expects two strings to be equal; either may be NULL (equal only to NULL). */
#define HT_EXPECT_STREQ(got, want) \
	ht_expect_streq(__FILE__, __LINE__, #got " == " #want, (got), (want))

/* Adding 0 promotes small types to int, so four unsigned cases cover all. */
#define HT_IS_SIGNED(x) \
	_Generic((x) + 0, unsigned int: false, unsigned long: false, \
		 unsigned long long: false, default: true)

static bool ht_failed;		/* the running test has failed */

/* Prints a "# file:line: ..." diagnostic and marks the running test failed. */
static inline void ht_fail_start(const char *file, int line, const char *what)
{
	ht_failed = true;
	printf("    # %s:%d: expected %s", file, line, what);
}

static inline void ht_expect_true(const char *file, int line, const char *what,
				  bool cond)
{
	if (cond)
		return;
	ht_fail_start(file, line, what);
	printf("\n");
}

/* Prints an integer as ht_expect_eq got it: its bits, and whether they are signed. */
static inline void ht_print_int(uintmax_t v, bool is_signed)
{
	if (is_signed)
		printf("%jd", (intmax_t)v);
	else
		printf("%ju", v);
}

static inline void ht_expect_eq(const char *file, int line, const char *what,
				uintmax_t got, bool got_signed,
				uintmax_t want, bool want_signed)
{
	if (got == want)
		return;
	ht_fail_start(file, line, what);
	printf(": got ");
	ht_print_int(got, got_signed);
	printf(", want ");
	ht_print_int(want, want_signed);
	printf("\n");
}

/* Prints s quoted, with escapes for anything that would break the KTAP line. */
static inline void ht_print_str(const char *s)
{
	if (s == NULL) {
		printf("NULL");
		return;
	}
	putchar('"');
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\')
			printf("\\x%02x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static inline void ht_expect_streq(const char *file, int line, const char *what,
				   const char *got, const char *want)
{
	if (got == want || (got != NULL && want != NULL && strcmp(got, want) == 0))
		return;
	ht_fail_start(file, line, what);
	printf(": got ");
	ht_print_str(got);
	printf(", want ");
	ht_print_str(want);
	printf("\n");
}

/* Runs every case as one KTAP suite; returns main's exit status. */
static inline int ht_run(const char *suite, const struct ht_case *cases,
			 size_t n)
{
	bool all_passed = true;

	/* Line-buffered, so the output interleaves sanely with a sanitizer's stderr. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("KTAP version 1\n1..1\n");
	printf("    KTAP version 1\n    # Subtest: %s\n    1..%zu\n", suite, n);
	for (size_t i = 0; i < n; i++) {
		ht_failed = false;
		cases[i].fn();
		printf("    %sok %zu %s\n", ht_failed ? "not " : "", i + 1,
		       cases[i].name);
		all_passed &= !ht_failed;
	}
	printf("%sok 1 %s\n", all_passed ? "" : "not ", suite);
	return all_passed ? 0 : 1;
}

#endif
