/* Command line parsing: every option, unknown ones, and odd spacing. */
#include "kern/cmdline.h"
#include "tests/harness/ktest.h"

static struct boot_options o;

KTEST(cmdline, empty_line_means_defaults)
{
	cmdline_parse("", &o);
	KT_EXPECT(!o.test && !o.quiet && !o.seed_given && !o.gdb && !o.bench && !o.preempt_always);
	KT_EXPECT_EQ(o.unknown_count, 0);
}

KTEST(cmdline, bench_runs_the_benchmarks)
{
	cmdline_parse("quiet bench", &o);
	KT_EXPECT(o.bench && o.quiet && !o.test && !o.profile);
	KT_EXPECT_EQ(o.unknown_count, 0);
	cmdline_parse("bench quiet profile", &o);     /* make bench PROFILE=1 */
	KT_EXPECT(o.bench && o.profile);
	KT_EXPECT_EQ(o.unknown_count, 0);
}

/* `gdb` turns the stub on; words that merely start with it do not. */
KTEST(cmdline, gdb_turns_the_stub_on)
{
	cmdline_parse("test gdb", &o);
	KT_EXPECT(o.gdb && o.test);
	KT_EXPECT_EQ(o.unknown_count, 0);
	cmdline_parse("gdbx gdb=1", &o);
	KT_EXPECT(!o.gdb);
	KT_EXPECT_EQ(o.unknown_count, 2);
}

/* Only the whole word asks for it: a mode that changes every run is not guessed at. */
KTEST(cmdline, preempt_always_is_one_word)
{
	cmdline_parse("test preempt=always", &o);
	KT_EXPECT(o.preempt_always && o.test);
	KT_EXPECT_EQ(o.unknown_count, 0);
	cmdline_parse("preempt preempt=al preempt=alwaysx", &o);
	KT_EXPECT(!o.preempt_always);
	KT_EXPECT_EQ(o.unknown_count, 3);
}

KTEST(cmdline, test_selects_suites)
{
	cmdline_parse("test=boot,traps", &o);
	KT_EXPECT(o.test);
	KT_EXPECT(cmdline_suite_selected(&o, "boot"));
	KT_EXPECT(cmdline_suite_selected(&o, "traps"));
	KT_EXPECT(!cmdline_suite_selected(&o, "trap"));
	KT_EXPECT(!cmdline_suite_selected(&o, "boo"));
}

KTEST(cmdline, options_combine_with_any_spacing)
{
	cmdline_parse("  quiet\ttest   seed=42 ", &o);
	KT_EXPECT(o.test);
	KT_EXPECT(o.quiet);
	KT_EXPECT(o.seed_given);
	KT_EXPECT_EQ(o.seed, 42);
	KT_EXPECT_STREQ(o.suites, "");
}

KTEST(cmdline, unknown_options_are_reported_not_fatal)
{
	cmdline_parse("frobnicate test seed=12x seed=", &o);
	KT_EXPECT(o.test);
	KT_EXPECT(!o.seed_given);
	KT_ASSERT_EQ(o.unknown_count, 3);
	KT_EXPECT_STREQ(o.unknown[0], "frobnicate");
	KT_EXPECT_STREQ(o.unknown[1], "seed=12x");
	KT_EXPECT_STREQ(o.unknown[2], "seed=");
}

KTEST(cmdline, seed_overflow_is_rejected)
{
	cmdline_parse("seed=18446744073709551615", &o);
	KT_EXPECT(o.seed_given);
	KT_EXPECT_EQ(o.seed, UINT64_MAX);
	cmdline_parse("seed=18446744073709551616", &o);
	KT_EXPECT(!o.seed_given);
	KT_EXPECT_EQ(o.unknown_count, 1);
}

KTEST(cmdline, too_many_unknown_options_are_counted)
{
	cmdline_parse("a b c d e f g h i j", &o);
	KT_EXPECT_EQ(o.unknown_count, 10);
	KT_EXPECT_STREQ(o.unknown[CMDLINE_MAX_UNKNOWN - 1], "h");
}

KTEST(cmdline, usertest_names_extra_programs)
{
	char item[16];

	cmdline_parse("test=user usertest=a,bc", &o);
	KT_EXPECT(cmdline_list_has(o.usertests, "bc"));
	KT_EXPECT(!cmdline_list_has(o.usertests, "b"));
	KT_EXPECT(cmdline_list_item(o.usertests, 1, item, sizeof(item)));
	KT_EXPECT_STREQ(item, "bc");
	KT_EXPECT(!cmdline_list_item(o.usertests, 2, item, sizeof(item)));
	KT_EXPECT(!o.usertests_only);
	KT_EXPECT_EQ(o.unknown_count, 0);
}

KTEST(cmdline, userprograms_names_the_only_programs)
{
	cmdline_parse("test=user userprograms=stress_long,x", &o);
	KT_EXPECT(o.usertests_only);
	KT_EXPECT(cmdline_list_has(o.usertests, "stress_long"));
	KT_EXPECT(cmdline_list_has(o.usertests, "x"));
	KT_EXPECT_EQ(o.unknown_count, 0);
}
