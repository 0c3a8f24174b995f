/*
 * The `user` suite (docs/testing.md, "the tests/user/ contract"): every
 * carried test program runs in its own task; its KTAP output is indented
 * as a subtest, and its parent line is `ok` only when every case passed,
 * the plan matched and main returned 0.
 */
#ifndef MICA_HARNESS_USERTEST_H
#define MICA_HARNESS_USERTEST_H

#include <stdbool.h>

struct boot_options;

/*
 * How many programs the user suite runs: every tests/user program, then
 * the carried programs the usertest= option names (comma-separated), or
 * only those the userprograms= option names.
 */
unsigned usertest_count(const struct boot_options *o);

/* Runs the suite's program i as KTAP case `number`; true when it passed. */
bool usertest_run(const struct boot_options *o, unsigned i, unsigned number);

#endif
