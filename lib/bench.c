/*
 * The measuring behind make bench (lib/bench.h).  Cycles become
 * picoseconds through a 44.20 fixed-point factor, so that nothing needs
 * 128-bit division (freestanding code has no libgcc to do it).
 */
#include "lib/bench.h"
#include "lib/printf.h"

#define PS_PER_SEC 1000000000000ull
#define MAX_GROWTH 100

/* Picoseconds per operation for a round of iters operations that took cycles. */
static uint64_t ps_per_op(uint64_t cycles, uint64_t cycle_hz, uint64_t iters)
{
	uint64_t ps_per_cycle_q20 = (PS_PER_SEC << 20) / cycle_hz;
	unsigned __int128 ps = ((unsigned __int128)cycles * ps_per_cycle_q20) >> 20;

	return (uint64_t)ps / iters;
}

/*
 * The smallest count found, by growing it, whose round lasts at least
 * BENCH_ROUND_NS (with a quarter to spare, so that the rounds that follow
 * do too).  These rounds also warm the caches and the allocators up.
 */
static uint64_t pick_iterations(const struct bench_case *c, uint64_t cycle_hz)
{
	uint64_t target = cycle_hz / (1000000000ull / BENCH_ROUND_NS);
	uint64_t iters = 1;

	for (;;) {
		uint64_t cycles = c->run(c, iters);
		if (cycles >= target)
			return iters;
		uint64_t growth = cycles ? (target + target / 4) / cycles + 1 : MAX_GROWTH;
		if (growth > MAX_GROWTH)
			growth = MAX_GROWTH;
		iters *= growth < 2 ? 2 : growth;
	}
}

const struct bench_profiler *bench_profiler;

/* One timed round of c (slot in its group), in picoseconds per operation. */
static uint64_t timed_round(const struct bench_case *c, int slot, uint64_t iters,
                            uint64_t cycle_hz)
{
	if (bench_profiler)
		bench_profiler->fill(slot);
	uint64_t cycles = c->run(c, iters);
	if (bench_profiler)
		bench_profiler->fill(-1);
	return ps_per_op(cycles, cycle_hz, iters);
}

/* Puts v among the first n values of sorted[], keeping them sorted. */
static void insert_sorted(uint64_t *sorted, int n, uint64_t v)
{
	int j = n;

	for (; j > 0 && sorted[j - 1] > v; j--)
		sorted[j] = sorted[j - 1];
	sorted[j] = v;
}

void bench_add_round(struct bench_result *r, int i, uint64_t round_ps)
{
	insert_sorted(r->rounds_ps, i, round_ps);
	r->min_ps = r->rounds_ps[0];
	r->median_ps = r->rounds_ps[(i + 1) / 2];
}

void bench_measure(const struct bench_case *cases, struct bench_result *r, size_t n,
                   uint64_t cycle_hz)
{
	for (size_t c = 0; c < n; c++)
		r[c].iters = pick_iterations(&cases[c], cycle_hz);
	for (int i = 0; i < BENCH_ROUNDS; i++)
		for (size_t c = 0; c < n; c++)
			bench_add_round(&r[c], i,
			                timed_round(&cases[c], (int)c, r[c].iters, cycle_hz));
}

void bench_run_cases(const struct bench_case *cases, struct bench_result *r, size_t n,
                     uint64_t cycle_hz, int (*print)(const char *fmt, ...))
{
	char line[192];

	bench_measure(cases, r, n, cycle_hz);
	for (size_t c = 0; c < n; c++) {
		bench_format(&cases[c], &r[c], line, sizeof(line));
		print("%s\n", line);
	}
	for (size_t c = 0; c < n && bench_profiler; c++)
		bench_profiler->report((int)c, &cases[c]);
}

int bench_format(const struct bench_case *c, const struct bench_result *r, char *buf, size_t len)
{
	/* bytes / ps is 10^12 bytes a second; in thousandths of 10^9, times 10^6 */
	uint64_t mgbps = c->bytes_per_op && r->min_ps ? c->bytes_per_op * 1000000 / r->min_ps : 0;

	return ksnprintf(buf, len, "BENCH name=%s size=%lu iters=%lu ns_per_op=%lu.%03lu "
	                 "median_ns=%lu.%03lu gbps=%lu.%03lu", c->name, c->size, r->iters,
	                 r->min_ps / 1000, r->min_ps % 1000, r->median_ps / 1000,
	                 r->median_ps % 1000, mgbps / 1000, mgbps % 1000);
}
