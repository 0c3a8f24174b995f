/*
 * make bench's measuring (lib/bench.c), shared by the kernel's cases
 * (bench/bench_kernel.c) and the user program's (user/bin/bench.c).
 *
 * A case runs `iters` operations and returns the cycles they took (it
 * may leave per-round setup out of its timing).  bench_measure picks an
 * iteration count that makes a round last at least BENCH_ROUND_NS, runs
 * BENCH_ROUNDS rounds of it and keeps the lowest and the median time per
 * operation.  Cases whose ratio matters are measured together, in
 * alternating rounds: the shared machines drift by tens of percent over
 * a run, and cases measured side by side drift alike.  No floating
 * point: the kernel is built without it, so times are integer
 * picoseconds.
 */
#ifndef MICA_LIB_BENCH_H
#define MICA_LIB_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BENCH_ROUNDS 5
#define BENCH_ROUND_NS 200000000ull    /* 0.2 s */
#define BENCH_GROUP_MAX 3              /* the most cases make bench measures together */

struct bench_case {
	const char *name;          /* name= in the BENCH line */
	uint64_t size;             /* size=: bytes, or entries for a lookup */
	uint64_t bytes_per_op;     /* bytes one operation moves, for gbps; 0: it moves none */
	uint64_t (*run)(const struct bench_case *c, uint64_t iters);   /* -> cycles */
	void *arg;
};

struct bench_result {
	uint64_t iters;            /* operations per round */
	uint64_t min_ps;           /* picoseconds per operation: the best round */
	uint64_t median_ps;        /* and the median round */
	uint64_t rounds_ps[BENCH_ROUNDS];   /* every round, sorted */
};

/*
 * make bench PROFILE=1: when bench_profiler is set, fill(c) runs before
 * each timed round of cases[c] and fill(-1) after it, so that a sampler
 * keeps each case's samples apart; report(c, &cases[c]) prints them once
 * the BENCH lines are out.
 */
struct bench_profiler {
	void (*fill)(int slot);
	void (*report)(int slot, const struct bench_case *c);
};
extern const struct bench_profiler *bench_profiler;

/*
 * Files round i's figure (rounds 0..i-1 are filed) among r's sorted
 * rounds; once every round is filed, min_ps and median_ps are the best
 * and the median.  For cases that time their rounds themselves.
 */
void bench_add_round(struct bench_result *r, int i, uint64_t round_ps);

/*
 * Measures the n cases into r[0..n-1] on a counter of cycle_hz cycles a
 * second, in alternating rounds: round 1 of each case, then round 2 of
 * each, and so on.
 */
void bench_measure(const struct bench_case *cases, struct bench_result *r, size_t n,
                   uint64_t cycle_hz);

/*
 * Writes c's machine-readable line, without a newline:
 * BENCH name=N size=S iters=I ns_per_op=F median_ns=F gbps=F
 * (gbps: 10^9 bytes a second at the best round; 0 for cases that move no bytes).
 */
int bench_format(const struct bench_case *c, const struct bench_result *r, char *buf, size_t len);

/*
 * Measures the n cases together into r (bench_measure), then prints each
 * one's BENCH line and a newline with print (kprintf, or printf in a task).
 */
void bench_run_cases(const struct bench_case *cases, struct bench_result *r, size_t n,
                     uint64_t cycle_hz, int (*print)(const char *fmt, ...));

#endif
