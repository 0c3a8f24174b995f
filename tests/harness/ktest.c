/*
 * The in-kernel test runner: finds the tests in the `ktests` section,
 * groups them by suite in link order, runs the selected ones and prints
 * KTAP version 1, one indented block per suite.  The user suite (the
 * carried test programs) comes after the others, and the suites of
 * KTEST_LAST tests after that.
 */
#include "tests/harness/ktest.h"
#include "kern/alloc_fail.h"
#include "kern/lock.h"
#include "kern/machine.h"
#include "kern/service.h"
#include "kern/setjmp.h"
#include "lib/string.h"
#include "tests/harness/usertest.h"

extern const struct ktest _ktests_start[], _ktests_end[];   /* linker.ld */

#define MAX_SUITES 64

/* The state of the test now running. */
static struct {
	bool failed;
	const char *skip_reason;
	struct kjmp_buf abort_jb;
} kt;

static uint64_t seed;

uint64_t ktest_seed(void)
{
	return seed;
}

void ktest_fail_at(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	kt.failed = true;
	kprintf("    # %s:%d: ", file, line);
	va_start(ap, fmt);
	kvprintf(fmt, ap);
	va_end(ap);
	kprintf("\n");
}

void ktest_abort(void)
{
	kern_longjmp(&kt.abort_jb, 1);
}

void ktest_skip(const char *reason)
{
	kt.skip_reason = reason;
	ktest_abort();
}

bool ktest_check_eq(const char *file, int line, const char *a_src, const char *b_src,
                    uint64_t a, uint64_t b, bool want_equal)
{
	if ((a == b) == want_equal)
		return true;
	ktest_fail_at(file, line, "expected %s %s %s: %#lx (%ld) vs %#lx (%ld)", a_src,
	              want_equal ? "==" : "!=", b_src, a, (int64_t)a, b, (int64_t)b);
	return false;
}

bool ktest_check_streq(const char *file, int line, const char *a_src, const char *b_src,
                       const char *a, const char *b)
{
	if (a && b && strcmp(a, b) == 0)
		return true;
	ktest_fail_at(file, line, "expected %s == %s: \"%s\" vs \"%s\"", a_src, b_src, a, b);
	return false;
}

static int ktest_nap_event;

void ktest_nap(void)
{
	assert_wait_deadline(&ktest_nap_event, "a test's nap", clock_ns() + 100000);
	thread_block();
}

/* Runs one test and prints its result line; returns 0 pass, 1 fail, 2 skip. */
static int run_one(const struct ktest *t, unsigned number)
{
	kt.failed = false;
	kt.skip_reason = NULL;
	KT_WAIT_FOR(sched_quiescent());        /* the last test's threads are gone */
	if (kern_setjmp(&kt.abort_jb) == 0)
		t->fn();
	if (kt.skip_reason && !kt.failed) {
		kprintf("    ok %u %s # SKIP %s\n", number, t->name, kt.skip_reason);
		return 2;
	}
	kprintf("    %s %u %s\n", kt.failed ? "not ok" : "ok", number, t->name);
	return kt.failed ? 1 : 0;
}

static bool test_selected(const struct boot_options *o, const struct ktest *t)
{
	if (o->suites[0] == '\0')
		return !(t->flags & KTEST_ONLY_BY_NAME);
	return cmdline_suite_selected(o, t->suite);
}

/*
 * Appends to suites[0..n) the distinct suite names among selected tests
 * that run last, or that do not, in link order; returns the new count.
 */
static unsigned list_suites(const struct boot_options *o, bool last, const char **suites,
                            unsigned n)
{
	for (const struct ktest *t = _ktests_start; t < _ktests_end; t++) {
		if (!test_selected(o, t) || ((t->flags & KTEST_RUNS_LAST) != 0) != last)
			continue;
		unsigned i = 0;
		while (i < n && strcmp(suites[i], t->suite) != 0)
			i++;
		if (i == n && n < MAX_SUITES)
			suites[n++] = t->suite;
	}
	return n;
}

struct totals {
	unsigned passed, failed, skipped;
};

#define USER_SUITE "user"

/* The suite of carried test programs runs after the others, when selected. */
static bool user_suite_selected(const struct boot_options *o)
{
	if (usertest_count(o) == 0)
		return false;
	return o->suites[0] == '\0' || cmdline_suite_selected(o, USER_SUITE);
}

/* The user suite's block: one case per program, the program's KTAP nested inside. */
static void run_user_suite(const struct boot_options *o, unsigned number, struct totals *tot)
{
	unsigned n = usertest_count(o), failed = 0;

	kprintf("    KTAP version 1\n    # Subtest: %s\n    1..%u\n", USER_SUITE, n);
	for (unsigned i = 0; i < n; i++) {
		bool ok = usertest_run(o, i, i + 1);
		failed += !ok;
		tot->passed += ok;
		tot->failed += !ok;
	}
	kprintf("%s %u %s\n", failed ? "not ok" : "ok", number, USER_SUITE);
}

/* Prints one suite's KTAP block and its parent result line. */
static void run_suite(const struct boot_options *o, const char *suite, unsigned number,
                      struct totals *tot)
{
	unsigned count = 0, i = 0, failed = 0;

	for (const struct ktest *t = _ktests_start; t < _ktests_end; t++)
		count += test_selected(o, t) && strcmp(t->suite, suite) == 0;
	kprintf("    KTAP version 1\n    # Subtest: %s\n    1..%u\n", suite, count);
	for (const struct ktest *t = _ktests_start; t < _ktests_end; t++) {
		if (!test_selected(o, t) || strcmp(t->suite, suite) != 0)
			continue;
		int r = run_one(t, ++i);
		failed += r == 1;
		tot->passed += r == 0;
		tot->failed += r == 1;
		tot->skipped += r == 2;
	}
	kprintf("%s %u %s\n", failed ? "not ok" : "ok", number, suite);
}

/* Suites named on the command line that have no test: each is a failure. */
static unsigned count_unknown_suites(const struct boot_options *o, const char **suites,
                                     unsigned nsuites, char unknown[][64])
{
	unsigned n = 0;
	char name[64];

	for (unsigned k = 0; cmdline_list_item(o->suites, k, name, sizeof(name)); k++) {
		bool known = strcmp(name, USER_SUITE) == 0 && user_suite_selected(o);
		for (unsigned i = 0; i < nsuites; i++)
			known |= strcmp(suites[i], name) == 0;
		if (!known && name[0] && n < MAX_SUITES)
			memcpy(unknown[n++], name, sizeof(name));
	}
	return n;
}

unsigned ktest_count(unsigned *suites)
{
	static const struct boot_options all;   /* as plain `test`: default suites */
	const char *names[MAX_SUITES];
	unsigned n = 0;

	for (const struct ktest *t = _ktests_start; t < _ktests_end; t++)
		n += test_selected(&all, t);
	*suites = list_suites(&all, true, names, list_suites(&all, false, names, 0));
	return n;
}

bool ktest_run(const struct boot_options *o)
{
	static char unknown[MAX_SUITES][64];
	const char *suites[MAX_SUITES];
	unsigned nfirst = list_suites(o, false, suites, 0);
	unsigned nsuites = list_suites(o, true, suites, nfirst);
	unsigned nunknown = count_unknown_suites(o, suites, nsuites, unknown);
	unsigned nuser = user_suite_selected(o), number = 0;
	struct totals tot = { 0, 0, 0 };

	alloc_fail_permit();       /* a test boot: programs may make allocations fail */
	seed = o->seed_given ? o->seed : machine_entropy();
	kprintf("KTAP version 1\n# seed: %lu (boot with seed=%lu to repeat)\n1..%u\n", seed, seed,
	        nsuites + nuser + nunknown);
	for (unsigned i = 0; i < nfirst; i++)
		run_suite(o, suites[i], ++number, &tot);
	if (nuser)
		run_user_suite(o, ++number, &tot);
	for (unsigned i = nfirst; i < nsuites; i++)
		run_suite(o, suites[i], ++number, &tot);
	for (unsigned i = 0; i < nunknown; i++) {
		kprintf("# no test suite is named %s\n", unknown[i]);
		kprintf("not ok %u %s\n", ++number, unknown[i]);
		tot.failed++;
	}
	lock_report_stretches();
	kprintf("# mica: %u passed, %u failed, %u skipped\n", tot.passed, tot.failed, tot.skipped);
	return tot.failed == 0;
}

static bool test_wanted(const struct boot_options *o)
{
	return o->test;
}

/* For the demo: how many tests `make test` would run. */
static void describe_tests(void)
{
	unsigned suites;
	unsigned tests = ktest_count(&suites);

	kprintf("%u in-kernel tests in %u suites are built in: `make test` runs them\n", tests,
	        suites);
}

/* Boot option `test` runs the tests instead of the demo (kern/service.h). */
KERN_SERVICE(tests) = { "tests", test_wanted, NULL, ktest_run, describe_tests };
