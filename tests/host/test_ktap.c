/*
 * Tests of tests/harness/ktap.c: counting, nesting, the numbering and plan checks,
 * tolerance of non-KTAP lines, and inputs holding several streams or
 * stopping early.
 */
#include <stdbool.h>
#include <string.h>

#include "tests/harness/ktap.h"
#include "tests/host/htest.h"

/* Shared so that the *why a parse returns stays valid until the next one. */
static struct ktap_parser parser;

/* Feeds text line by line, as tools/ktap-summary does with a file, and finishes. */
static bool parse(const char *text, struct ktap_counts *counts, const char **why)
{
	ktap_init(&parser);
	while (*text != '\0') {
		const char *nl = strchr(text, '\n');
		size_t len = nl != NULL ? (size_t)(nl - text) : strlen(text);

		ktap_feed_line(&parser, text, len);
		text += len + (nl != NULL);
	}
	return ktap_finish(&parser, counts, why);
}

/*
 * Expects text to parse to these leaf counts, and to be complete when
 * want_why is NULL, or incomplete for that reason.
 */
#define EXPECT_PARSE(text, want_passed, want_failed, want_skipped, want_why) \
	do { \
		struct ktap_counts c_; \
		const char *why_; \
		bool complete_ = parse(text, &c_, &why_); \
		HT_EXPECT_EQ(complete_, why_ == NULL); \
		HT_EXPECT_STREQ(why_, want_why); \
		HT_EXPECT_EQ(c_.passed, want_passed); \
		HT_EXPECT_EQ(c_.failed, want_failed); \
		HT_EXPECT_EQ(c_.skipped, want_skipped); \
	} while (0)

/* The example in docs/testing.md. */
static const char nested_example[] =
	"KTAP version 1\n"
	"1..2\n"
	"    KTAP version 1\n"
	"    # Subtest: console\n"
	"    1..2\n"
	"    ok 1 kprintf_formats\n"
	"    # kern/console_test.c:40: expected 3 == got 4\n"
	"    not ok 2 log_ring\n"
	"not ok 1 console\n"
	"    KTAP version 1\n"
	"    # Subtest: traps\n"
	"    1..1\n"
	"    ok 1 ud # SKIP CPU lacks ...\n"
	"ok 2 traps\n";

static void test_flat_stream(void)
{
	EXPECT_PARSE("KTAP version 1\n"
		     "1..3\n"
		     "ok 1 first\n"
		     "not ok 2 second\n"
		     "ok 3 third # SKIP no FPU\n",
		     1, 1, 1, NULL);
}

static void test_nested_suites_count_only_leaves(void)
{
	EXPECT_PARSE(nested_example, 1, 1, 1, NULL);
}

static void test_parent_verdict_is_not_counted(void)
{
	/* A failing summary over passing leaves still counts two passes. */
	EXPECT_PARSE("KTAP version 1\n1..1\n"
		     "    KTAP version 1\n    1..2\n    ok 1 a\n    ok 2 b\n"
		     "not ok 1 suite\n",
		     2, 0, 0, NULL);
}

static void test_deep_nesting(void)
{
	EXPECT_PARSE("KTAP version 1\n1..1\n"
		     "    KTAP version 1\n    1..2\n"
		     "        KTAP version 1\n        1..1\n"
		     "        not ok 1 deepest\n"
		     "    not ok 1 inner\n"
		     "    ok 2 sibling\n"
		     "not ok 1 outer\n",
		     1, 1, 0, NULL);
}

static void test_suite_skipped_whole_is_a_leaf(void)
{
	/* A result with no block under it is a leaf, even at depth 0. */
	EXPECT_PARSE("KTAP version 1\n1..2\n"
		     "ok 1 smp # SKIP no APIC\n"
		     "    KTAP version 1\n    1..1\n    ok 1 a\n"
		     "ok 2 other\n",
		     1, 0, 1, NULL);
}

static void test_skip_directive_forms(void)
{
	EXPECT_PARSE("KTAP version 1\n1..5\n"
		     "ok 1 a # skip lower case\n"
		     "ok 2 b # Skip mixed case\n"
		     "ok 3 c #SKIP no space\n"
		     "not ok 4 d # SKIP skips even when not ok\n"
		     "ok 5 e # TODO other directives are plain results\n",
		     1, 0, 4, NULL);
}

static void test_empty_plan(void)
{
	EXPECT_PARSE("KTAP version 1\n1..0\n", 0, 0, 0, NULL);
}

static void test_missing_plan(void)
{
	EXPECT_PARSE("KTAP version 1\nok 1 a\n",
		     1, 0, 0, "no plan in block at depth 0");
	EXPECT_PARSE("KTAP version 1\n1..1\n"
		     "    KTAP version 1\n    ok 1 a\n"
		     "ok 1 suite\n",
		     1, 0, 0, "no plan in block at depth 1");
}

static void test_short_plan(void)
{
	EXPECT_PARSE("KTAP version 1\n1..3\nok 1 a\nok 2 b\n",
		     2, 0, 0, "plan 1..3 but 2 results");
}

static void test_too_many_results(void)
{
	EXPECT_PARSE("KTAP version 1\n1..1\nok 1 a\nok 2 b\n",
		     2, 0, 0, "plan 1..1 but 2 results");
}

static void test_second_plan(void)
{
	EXPECT_PARSE("KTAP version 1\n1..1\n1..1\nok 1 a\n",
		     1, 0, 0, "second plan in one block");
}

static void test_out_of_order(void)
{
	EXPECT_PARSE("KTAP version 1\n1..3\nok 1 a\nok 3 c\nok 2 b\n",
		     3, 0, 0, "result 3 out of order (expected 2)");
	EXPECT_PARSE("KTAP version 1\n1..2\nok 1 a\nok 1 a\n",
		     2, 0, 0, "result 1 out of order (expected 2)");
	EXPECT_PARSE("KTAP version 1\n1..1\nok 0 zero\n",
		     1, 0, 0, "result 0 out of order (expected 1)");
}

static void test_subtest_not_closed(void)
{
	/* The first suite's summary line is missing. */
	EXPECT_PARSE("KTAP version 1\n1..2\n"
		     "    KTAP version 1\n    1..1\n    ok 1 a\n"
		     "    KTAP version 1\n    1..1\n    ok 1 b\n"
		     "ok 2 second\n",
		     2, 0, 0, "subtest block not closed");
	/* The input ends inside a finished subtest. */
	EXPECT_PARSE("KTAP version 1\n1..1\n"
		     "    KTAP version 1\n    1..1\n    ok 1 a\n",
		     1, 0, 0, "subtest block not closed");
}

static void test_result_outside_any_block(void)
{
	EXPECT_PARSE("KTAP version 1\n1..1\n        ok 1 deep\nok 1 a\n",
		     1, 0, 0, "result 1 at depth 2 outside any block");
	EXPECT_PARSE("KTAP version 1\n1..1\n    1..1\nok 1 a\n",
		     1, 0, 0, "plan at depth 1 outside any block");
}

static void test_version_without_parent(void)
{
	EXPECT_PARSE("KTAP version 1\n1..1\n"
		     "        KTAP version 1\n        1..1\n        ok 1 a\n"
		     "ok 1 b\n",
		     1, 0, 0, "KTAP version line at depth 2 has no parent");
}

/* Appends a block nested `levels` deep, each level a one-test suite. */
static void append_nested(char *buf, int levels)
{
	char *p = buf + strlen(buf);

	for (int d = 0; d < levels; d++)
		p += sprintf(p, "%*sKTAP version 1\n%*s1..1\n", 4 * d, "", 4 * d, "");
	for (int d = levels - 1; d >= 0; d--)
		p += sprintf(p, "%*sok 1 level%d\n", 4 * d, "", d);
}

static void test_nesting_limit(void)
{
	char text[2048] = "";

	append_nested(text, KTAP_MAX_DEPTH);
	EXPECT_PARSE(text, 1, 0, 0, NULL);
	text[0] = '\0';
	append_nested(text, KTAP_MAX_DEPTH + 1);
	/* The refused block's summary line becomes a leaf of its parent. */
	EXPECT_PARSE(text, 1, 0, 0, "subtests nested deeper than 8");
}

static void test_junk_lines_ignored(void)
{
	EXPECT_PARSE("KTAP version 1\n"
		     "[    0.000] mica: booting\n"
		     "1..2\n"
		     "ok, so far so good\n"
		     "  ok 7 indented by two: not KTAP\n"
		     "ok 1 a\n"
		     "    some indented junk\n"
		     "\n"
		     "ok 1x not a number\n"
		     "# a diagnostic\n"
		     "KTAP version 2\n"
		     "1..x\n"
		     "not ok 2 b\n"
		     "okay then\n",
		     1, 1, 0, NULL);
}

static void test_junk_before_version_line(void)
{
	/* Before the first version line even KTAP-looking lines are not KTAP. */
	EXPECT_PARSE("GRUB loading...\n"
		     "1..5\n"
		     "not ok 1 from a boot message\n"
		     "    KTAP version 1\n"
		     "KTAP version 1\n1..1\nok 1 a\n",
		     1, 0, 0, NULL);
}

static void test_no_version_line(void)
{
	EXPECT_PARSE("", 0, 0, 0, "no KTAP version line");
	EXPECT_PARSE("1..1\nok 1 a\n", 0, 0, 0, "no KTAP version line");
}

static void test_crlf_and_trailing_blanks(void)
{
	EXPECT_PARSE("KTAP version 1\r\n1..2\r\n"
		     "ok 1 a # SKIP reason\r\n"
		     "not ok 2 b  \t\r\n",
		     0, 1, 1, NULL);
}

static void test_length_is_respected(void)
{
	/* Each line is followed by text that would change its meaning. */
	static const char version[] = "KTAP version 1 and more";
	static const char plan[] = "1..12";
	static const char result[] = "not ok 1 a # SKIP";
	struct ktap_counts c;
	const char *why;

	ktap_init(&parser);
	ktap_feed_line(&parser, version, 14);
	ktap_feed_line(&parser, plan, 4);
	ktap_feed_line(&parser, result, 10);
	HT_EXPECT_TRUE(ktap_finish(&parser, &c, &why));
	HT_EXPECT_EQ(c.failed, 1);
	HT_EXPECT_EQ(c.skipped, 0);
}

static void test_finish_accepts_null_why(void)
{
	struct ktap_counts c;

	ktap_init(&parser);
	HT_EXPECT_TRUE(!ktap_finish(&parser, &c, NULL));
}

static void test_two_streams(void)
{
	EXPECT_PARSE("KTAP version 1\n1..1\nok 1 a\n"
		     "unrelated output between programs\n"
		     "KTAP version 1\n1..2\nnot ok 1 b\nok 2 c # SKIP x\n",
		     1, 1, 1, NULL);
}

static void test_unfinished_stream_then_another(void)
{
	EXPECT_PARSE("KTAP version 1\n1..3\nok 1 a\n"
		     "KTAP version 1\n1..1\nok 1 b\n",
		     2, 0, 0, "plan 1..3 but 1 results");
}

static void test_stream_stops_in_the_middle(void)
{
	/* As after a kernel panic: the leaves so far count, the stream does not. */
	EXPECT_PARSE("KTAP version 1\n1..2\n"
		     "    KTAP version 1\n    # Subtest: vm\n    1..3\n"
		     "    ok 1 map\n"
		     "    not ok 2 unmap\n"
		     "PANIC: page fault at 0xdead\n"
		     "  rip 0xffffffff80001234\n",
		     1, 1, 0, "plan 1..3 but 2 results");
}

static void test_first_problem_is_kept(void)
{
	EXPECT_PARSE("KTAP version 1\n1..2\nok 2 b\n",
		     1, 0, 0, "result 2 out of order (expected 1)");
}

static const struct ht_case cases[] = {
	HT_CASE(test_flat_stream),
	HT_CASE(test_nested_suites_count_only_leaves),
	HT_CASE(test_parent_verdict_is_not_counted),
	HT_CASE(test_deep_nesting),
	HT_CASE(test_suite_skipped_whole_is_a_leaf),
	HT_CASE(test_skip_directive_forms),
	HT_CASE(test_empty_plan),
	HT_CASE(test_missing_plan),
	HT_CASE(test_short_plan),
	HT_CASE(test_too_many_results),
	HT_CASE(test_second_plan),
	HT_CASE(test_out_of_order),
	HT_CASE(test_subtest_not_closed),
	HT_CASE(test_result_outside_any_block),
	HT_CASE(test_version_without_parent),
	HT_CASE(test_nesting_limit),
	HT_CASE(test_junk_lines_ignored),
	HT_CASE(test_junk_before_version_line),
	HT_CASE(test_no_version_line),
	HT_CASE(test_crlf_and_trailing_blanks),
	HT_CASE(test_length_is_respected),
	HT_CASE(test_finish_accepts_null_why),
	HT_CASE(test_two_streams),
	HT_CASE(test_unfinished_stream_then_another),
	HT_CASE(test_stream_stops_in_the_middle),
	HT_CASE(test_first_problem_is_kept),
};

HT_MAIN("ktap", cases)
