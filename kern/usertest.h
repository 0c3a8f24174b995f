/*
 * The `user` suite (docs/testing.md, "the tests/user/ contract"): every
 * carried test program runs in its own task; its KTAP output is indented
 * as a subtest, and its parent line is `ok` only when every case passed,
 * the plan matched and main returned 0.
 */
#ifndef MICA_KERN_USERTEST_H
#define MICA_KERN_USERTEST_H

#include <stdbool.h>

/* How many test programs are carried. */
unsigned usertest_count(void);

/* Runs test program i as KTAP case `number` of the user suite; true when it passed. */
bool usertest_run(unsigned i, unsigned number);

#endif
