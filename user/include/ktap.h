/*
 * KTAP output for test programs (tests/user/, docs/testing.md).
 *
 * A test program prints KTAP version 1, unindented; the kernel runs it
 * under the `user` suite, indents its output as a subtest and reports
 * `ok` for it only when every case passed, the plan matched and main
 * returned 0.  The usual shape is a table of cases, each a void function
 * checking with the same KT_* macros the in-kernel tests use:
 *
 *	static void adds(void)
 *	{
 *		KT_EXPECT_EQ(1 + 1, 2);
 *	}
 *
 *	int main(void)
 *	{
 *		static const struct ktap_case cases[] = { KTAP_CASE(adds) };
 *		return ktap_run(cases, sizeof cases / sizeof cases[0]);
 *	}
 *
 * which prints
 *
 *	KTAP version 1
 *	1..1
 *	ok 1 adds
 *	# 1 passed, 0 failed
 *
 * A failed check prints "# file:line: expected ..." before the case's
 * "not ok" line.  KT_EXPECT_* let the case go on; KT_ASSERT_* end it by
 * returning, so they belong in the case function itself.  ktap_plan,
 * ktap_result and ktap_done are the pieces ktap_run is made of, for a
 * program that prints its results some other way.
 */
#ifndef MICA_USER_KTAP_H
#define MICA_USER_KTAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ktap_case {
	const char *name;
	void (*fn)(void);
};

/* A case named after its function. */
#define KTAP_CASE(fn) { #fn, fn }

/* Runs the cases in order and prints them as one KTAP stream; returns main's result. */
int ktap_run(const struct ktap_case *cases, unsigned count);

/* Prints the version line and the plan: count results will follow. */
void ktap_plan(unsigned count);

/* Prints the next result line, "ok N desc" or "not ok N desc". */
void ktap_result(bool ok, const char *desc);

/* Prints the summary; returns 0 when every planned result came and passed, else 1. */
int ktap_done(void);

/* Prints "# file:line: " and the message, and marks the running case failed. */
void ktap_fail_at(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The checks behind the macros: true when they pass, else they report a failure. */
bool ktap_check_eq(const char *file, int line, const char *a_src, const char *b_src,
		   uint64_t a, uint64_t b, bool want_equal);
bool ktap_check_streq(const char *file, int line, const char *a_src, const char *b_src,
		      const char *a, const char *b);

struct mica_vm_stats;

/* Every count of two host_vm_stats snapshots is the same (the leak check); each difference is reported. */
bool ktap_check_vm_stats(const char *file, int line, const struct mica_vm_stats *before,
			 const struct mica_vm_stats *after);

/*
 * How long a test waits for another thread or task to do what it must
 * before counting it a failure: long enough for a slow emulator, well
 * short of the 120 s a whole program has.
 */
#define KTAP_WAIT_MS 10000

/*
 * Waits, giving the CPU away, until the task port `task` (a name in this
 * task's space) reads as a dead name: the task has ended.  false if that
 * does not happen within KTAP_WAIT_MS.
 */
bool ktap_wait_task_ended(unsigned task);

/*
 * Fills n bytes at p with a pattern that depends on seed and on each
 * byte's offset, so that a byte in the wrong place, or from another
 * block, or left over from before, shows.
 */
void ktap_fill(void *p, size_t n, unsigned seed);

/* How many of the n bytes at p differ from what ktap_fill(p, n, seed) wrote. */
size_t ktap_count_wrong(const void *p, size_t n, unsigned seed);

/*
 * Makes GCC assume the memory at p was read and changed here, so that
 * what a test wrote is really read back from memory afterwards.
 */
static inline void ktap_opaque(const void *p)
{
	__asm__ volatile("" : : "r"(p) : "memory");
}

#define KT_EXPECT(cond)                                                          \
	do {                                                                     \
		if (!(cond))                                                     \
			ktap_fail_at(__FILE__, __LINE__, "expected %s", #cond);  \
	} while (0)
#define KT_ASSERT(cond)                                                          \
	do {                                                                     \
		if (!(cond)) {                                                   \
			ktap_fail_at(__FILE__, __LINE__, "expected %s", #cond);  \
			return;                                                  \
		}                                                                \
	} while (0)

#define KT_EXPECT_EQ(a, b) \
	((void)ktap_check_eq(__FILE__, __LINE__, #a, #b, (uint64_t)(a), (uint64_t)(b), true))
#define KT_EXPECT_NE(a, b) \
	((void)ktap_check_eq(__FILE__, __LINE__, #a, #b, (uint64_t)(a), (uint64_t)(b), false))
#define KT_ASSERT_EQ(a, b)                                                                 \
	do {                                                                               \
		if (!ktap_check_eq(__FILE__, __LINE__, #a, #b, (uint64_t)(a), (uint64_t)(b), \
				   true))                                                  \
			return;                                                            \
	} while (0)
#define KT_EXPECT_STREQ(a, b) ((void)ktap_check_streq(__FILE__, __LINE__, #a, #b, (a), (b)))
#define KT_EXPECT_SAME_VM_STATS(before, after) \
	((void)ktap_check_vm_stats(__FILE__, __LINE__, &(before), &(after)))

#endif
