/*
 * Tests of lib/bench.c, make bench's measuring: the iteration count it
 * picks, the best and median rounds it keeps, and the BENCH line, over
 * cases whose "cycles" are made up, so every number is known.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lib/bench.h"
#include "tests/host/htest.h"

#define HZ 1000000000ull               /* a 1 GHz counter: a cycle is a nanosecond */

static uint64_t calls, last_iters, total_iters;

/* 7 ns an operation, always. */
static uint64_t steady(const struct bench_case *c, uint64_t iters)
{
	(void)c;
	calls++;
	last_iters = iters;
	total_iters += iters;
	return 7 * iters;
}

/* The first call (picking the count) lasts a second; the five rounds then take these ns an op. */
static const uint64_t noisy_ns[] = { 50, 10, 40, 20, 30 };
static int noisy_calls;

static uint64_t noisy(const struct bench_case *c, uint64_t iters)
{
	(void)c;
	if (noisy_calls++ == 0)
		return HZ;
	return noisy_ns[(noisy_calls - 2) % 5] * iters;
}

static void reset(void)
{
	calls = last_iters = total_iters = 0;
}

/* The count makes a round last at least 0.2 s, and every round after uses it. */
static void test_rounds_are_long_enough(void)
{
	struct bench_case c = { "steady", 0, 0, steady, NULL };
	struct bench_result r;

	reset();
	bench_measure(&c, &r, 1, HZ);
	HT_EXPECT_TRUE(r.iters * 7 >= BENCH_ROUND_NS);
	HT_EXPECT_TRUE(r.iters * 7 < 4 * BENCH_ROUND_NS);   /* and not absurdly longer */
	HT_EXPECT_EQ(last_iters, r.iters);
	HT_EXPECT_TRUE(calls >= 1 + BENCH_ROUNDS);
	HT_EXPECT_EQ(r.min_ps, 7000);
	HT_EXPECT_EQ(r.median_ps, 7000);
}

/* Best and median are taken over the five rounds, whatever their order. */
static void test_best_and_median(void)
{
	struct bench_case c = { "noisy", 0, 0, noisy, NULL };
	struct bench_result r;

	noisy_calls = 0;
	bench_measure(&c, &r, 1, HZ);
	HT_EXPECT_EQ(r.iters, 1);
	HT_EXPECT_EQ(noisy_calls, 1 + BENCH_ROUNDS);
	HT_EXPECT_EQ(r.min_ps, 10000);
	HT_EXPECT_EQ(r.median_ps, 30000);
}

static char printed[256];

static int capture(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(printed, sizeof(printed), fmt, ap);
	va_end(ap);
	return n;
}

/* bench_run_cases measures and prints the line, newline included, through the given printer. */
static void test_run_case_prints_its_line(void)
{
	struct bench_case c = { "noisy", 0, 0, noisy, NULL };

	noisy_calls = 0;
	struct bench_result r;

	bench_run_cases(&c, &r, 1, HZ, capture);
	HT_EXPECT_STREQ(printed, "BENCH name=noisy size=0 iters=1 ns_per_op=10.000 "
	                         "median_ns=30.000 gbps=0.000\n");
}

/* Which case ran each call, in order, once the counts are picked. */
static char order[32];
static size_t order_len;

/* A round of case "a" takes 3 ns an op, of "b" 5 ns; each call is noted in order[]. */
static uint64_t noted(const struct bench_case *c, uint64_t iters)
{
	if (order_len < sizeof(order) - 1)
		order[order_len++] = c->name[0];
	return (c->name[0] == 'a' ? 3 : 5) * iters;
}

/* Cases measured together run their rounds in turn, and each keeps its own numbers. */
static void test_cases_together_alternate_rounds(void)
{
	const struct bench_case both[] = { { "a", 0, 0, noted, NULL }, { "b", 0, 0, noted, NULL } };
	struct bench_result r[2];

	order_len = 0;
	memset(order, 0, sizeof(order));
	bench_measure(both, r, 2, HZ);
	/* first each case's count is picked (calls until a round is long enough), then the rounds */
	const char *rounds = order + order_len - 2 * BENCH_ROUNDS;
	HT_EXPECT_TRUE(order_len >= 2 + 2 * BENCH_ROUNDS);
	HT_EXPECT_STREQ(rounds, "ababababab");
	HT_EXPECT_EQ(r[0].min_ps, 3000);
	HT_EXPECT_EQ(r[1].min_ps, 5000);
	HT_EXPECT_EQ(r[1].median_ps, 5000);
	HT_EXPECT_TRUE(r[0].iters * 3 >= BENCH_ROUND_NS && r[1].iters * 5 >= BENCH_ROUND_NS);
}

/* The profiler's calls, in order: 'f' and the slot for fill, 'r' and the slot for report. */
static char hooks[64];
static size_t hooks_len;

static void note_fill(int slot)
{
	if (hooks_len + 2 < sizeof(hooks)) {
		hooks[hooks_len++] = 'f';
		hooks[hooks_len++] = slot < 0 ? '-' : (char)('0' + slot);
	}
}

static void note_report(int slot, const struct bench_case *c)
{
	if (hooks_len + 3 < sizeof(hooks)) {
		hooks[hooks_len++] = 'r';
		hooks[hooks_len++] = (char)('0' + slot);
		hooks[hooks_len++] = c->name[0];
	}
}

/* With a profiler, every timed round (not the count-picking ones) fills its case's slot; reports follow. */
static void test_profiler_sees_each_timed_round_then_reports(void)
{
	static const struct bench_profiler noting = { note_fill, note_report };
	const struct bench_case both[] = { { "a", 0, 0, noted, NULL }, { "b", 0, 0, noted, NULL } };
	struct bench_result r[2];

	hooks_len = 0;
	memset(hooks, 0, sizeof(hooks));
	bench_profiler = &noting;
	bench_run_cases(both, r, 2, HZ, capture);
	bench_profiler = NULL;
	HT_EXPECT_STREQ(hooks, "f0f-f1f-f0f-f1f-f0f-f1f-f0f-f1f-f0f-f1f-r0ar1b");
	HT_EXPECT_TRUE(strncmp(printed, "BENCH name=b ", 13) == 0);   /* the last line printed */
}

static void test_line(void)
{
	struct bench_case c = { "memcpy", 4096, 4096, steady, NULL };
	struct bench_result r = { .iters = 123, .min_ps = 1249679, .median_ps = 1252995 };
	char line[192];

	bench_format(&c, &r, line, sizeof(line));
	HT_EXPECT_STREQ(line, "BENCH name=memcpy size=4096 iters=123 ns_per_op=1249.679 "
	                      "median_ns=1252.995 gbps=3.277");
	struct bench_case none = { "null_rpc", 0, 0, steady, NULL };
	r = (struct bench_result){ .iters = 7, .min_ps = 4749916, .median_ps = 4808758 };
	bench_format(&none, &r, line, sizeof(line));
	HT_EXPECT_STREQ(line, "BENCH name=null_rpc size=0 iters=7 ns_per_op=4749.916 "
	                      "median_ns=4808.758 gbps=0.000");
	/* sub-nanosecond operations keep their digits */
	r = (struct bench_result){ .iters = 1, .min_ps = 5, .median_ps = 999 };
	bench_format(&c, &r, line, sizeof(line));
	HT_EXPECT_STREQ(line, "BENCH name=memcpy size=4096 iters=1 ns_per_op=0.005 "
	                      "median_ns=0.999 gbps=819200.000");
}

static const struct ht_case cases[] = {
	HT_CASE(test_rounds_are_long_enough),
	HT_CASE(test_cases_together_alternate_rounds),
	HT_CASE(test_profiler_sees_each_timed_round_then_reports),
	HT_CASE(test_best_and_median),
	HT_CASE(test_run_case_prints_its_line),
	HT_CASE(test_line),
};
HT_MAIN("bench", cases)
