/*
 * In-kernel tests.  KTEST(suite, name) { ... } registers a test in the
 * `ktests` linker section; with the command line option `test` the kernel
 * runs every suite and prints KTAP version 1 (docs/testing.md).
 *
 * KT_EXPECT_* record a failure and let the test go on; KT_ASSERT_* record it
 * and end the test.  Each failure prints "# file:line:" and the compared
 * values.  A failing test never stops the run.
 */
#ifndef MICA_HARNESS_KTEST_H
#define MICA_HARNESS_KTEST_H

#include <stdbool.h>
#include <stdint.h>
#include "kern/clock.h"
#include "kern/cmdline.h"
#include "kern/console.h"
#include "kern/machine.h"
#include "kern/sched.h"

struct ktest {
	const char *suite;
	const char *name;
	void (*fn)(void);
	unsigned flags;
};

#define KTEST_ONLY_BY_NAME 1u   /* runs only when test=SUITE names its suite */
#define KTEST_RUNS_LAST    2u   /* its suite runs after every other, the user suite too */

#define KTEST_DEFINE(suite, name, flags)                                        \
	static void ktest_fn_##suite##_##name(void);                            \
	static const struct ktest ktest_##suite##_##name                        \
		__attribute__((section("ktests"), used, aligned(8))) = {        \
		#suite, #name, ktest_fn_##suite##_##name, flags };              \
	static void ktest_fn_##suite##_##name(void)

#define KTEST(suite, name) KTEST_DEFINE(suite, name, 0)

/* A test that brings the kernel down on purpose: only `test=SUITE` runs it. */
#define KTEST_CRASH(suite, name) KTEST_DEFINE(suite, name, KTEST_ONLY_BY_NAME)

/*
 * A test that would stop the machine if the kernel got it wrong (a hang, a
 * dead clock): its suite runs after every other in the boot, so that such
 * a failure hides no other result.  Every test of its suite must be one.
 */
#define KTEST_LAST(suite, name) KTEST_DEFINE(suite, name, KTEST_RUNS_LAST)

void ktest_fail_at(const char *file, int line, const char *fmt, ...) KPRINTF_FORMAT(3, 4);
void ktest_abort(void) __attribute__((noreturn));
void ktest_skip(const char *reason) __attribute__((noreturn));
bool ktest_check_eq(const char *file, int line, const char *a_src, const char *b_src,
                    uint64_t a, uint64_t b, bool want_equal);
bool ktest_check_streq(const char *file, int line, const char *a_src, const char *b_src,
                       const char *a, const char *b);

/* The seed randomized tests use: seed=N from the command line, or a random one. */
uint64_t ktest_seed(void);

/* How many tests (and, in *suites, suites) `test` would run. */
unsigned ktest_count(unsigned *suites);

/*
 * Runs the selected suites, prints KTAP; returns true when nothing failed.
 * The boot option `test` runs it (its kern/service.h entry), instead of the demo.
 */
bool ktest_run(const struct boot_options *o);

#define KT_EXPECT(cond)                                                          \
	do {                                                                     \
		if (!(cond))                                                     \
			ktest_fail_at(__FILE__, __LINE__, "expected %s", #cond); \
	} while (0)
#define KT_ASSERT(cond)                                                          \
	do {                                                                     \
		if (!(cond)) {                                                   \
			ktest_fail_at(__FILE__, __LINE__, "expected %s", #cond); \
			ktest_abort();                                           \
		}                                                                \
	} while (0)

#define KT_EXPECT_EQ(a, b) \
	((void)ktest_check_eq(__FILE__, __LINE__, #a, #b, (uint64_t)(a), (uint64_t)(b), true))
#define KT_EXPECT_NE(a, b) \
	((void)ktest_check_eq(__FILE__, __LINE__, #a, #b, (uint64_t)(a), (uint64_t)(b), false))
#define KT_ASSERT_EQ(a, b)                                                                  \
	do {                                                                                \
		if (!ktest_check_eq(__FILE__, __LINE__, #a, #b, (uint64_t)(a), (uint64_t)(b), true)) \
			ktest_abort();                                                      \
	} while (0)
#define KT_EXPECT_STREQ(a, b) ((void)ktest_check_streq(__FILE__, __LINE__, #a, #b, (a), (b)))

/* Fails the test with a message and ends it. */
/*
 * Waits until cond holds or a second has passed, for a test that waits
 * for another thread to get somewhere: on several CPUs that thread runs
 * beside the test, at its own pace, so a count of yields means nothing.
 * Between looks the test sleeps a tenth of a millisecond rather than
 * spin: a spinning CPU takes the scheduler's lock over and over from the
 * others, and under emulation takes a host core from them.  Interrupts
 * are on meanwhile (a test's thread runs with them off).  The test then
 * checks cond (or what it implies) as usual.
 */
void ktest_nap(void);
#define KT_WAIT_FOR(cond)                                                       \
	do {                                                                    \
		bool kt_was_on_ = machine_interrupts_save_off();                \
		uint64_t kt_until_ = clock_ns() + 1000000000ull;                \
		machine_interrupts_on();                                        \
		while (!(cond) && clock_ns() < kt_until_)                       \
			ktest_nap();                                            \
		if (!kt_was_on_)                                                \
			machine_interrupts_off();                               \
	} while (0)

#define KT_FAIL(...)                                              \
	do {                                                      \
		ktest_fail_at(__FILE__, __LINE__, __VA_ARGS__);   \
		ktest_abort();                                    \
	} while (0)

/* Only when the hardware lacks a feature; the reason names it. */
#define KT_SKIP(reason) ktest_skip(reason)

#endif
