/* make bench's kernel part (bench/bench_kernel.c). */
#ifndef MICA_BENCH_BENCH_KERNEL_H
#define MICA_BENCH_BENCH_KERNEL_H

#include <stdbool.h>

/*
 * The kernel's cases, then user/bin/bench's; with profile, each case's
 * samples are reported after its BENCH line.
 */
void bench_run(bool profile);

#endif
