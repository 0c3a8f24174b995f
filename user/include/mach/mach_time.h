/*
 * Mach's absolute time, as in XNU's <mach/mach_time.h>: a counter that
 * only goes up (here the TSC, which user mode may read), and the ratio
 * that turns its ticks into nanoseconds: ns = ticks * numer / denom.
 */
#ifndef MICA_USER_MACH_TIME_H
#define MICA_USER_MACH_TIME_H

#include <stdint.h>
#include <mach/kern_return.h>

struct mach_timebase_info {
	uint32_t numer;
	uint32_t denom;
};
typedef struct mach_timebase_info *mach_timebase_info_t;
typedef struct mach_timebase_info mach_timebase_info_data_t;

kern_return_t mach_timebase_info(mach_timebase_info_t info);

static inline uint64_t mach_absolute_time(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

#endif
