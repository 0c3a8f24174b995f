/*
 * make stress: tests/user/stress.c with many more rounds, a program of
 * its own so that make test keeps the short one.
 */
#define STRESS_ROUNDS 600
#include "tests/user/stress.c"
