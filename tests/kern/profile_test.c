/*
 * make bench PROFILE=1's sampler (kern/profile.h): its NMIs reach code
 * that runs with interrupts off, at about the rate asked for, and a report
 * names the function the time went to.  Speed is the benchmarks' business.
 */
#include "kern/clock.h"
#include "kern/ktest.h"
#include "kern/machine.h"
#include "kern/printf.h"
#include "kern/profile.h"
#include "kern/string.h"

#define SPIN_NS 100000000ull           /* 0.1 s: about 400 samples at PROFILE_HZ */

/* Runs for SPIN_NS with interrupts off, so that only an NMI can sample it. */
static __attribute__((noinline)) void profile_test_spin(void)
{
	bool was_on = machine_interrupts_save_off();
	uint64_t end = clock_ns() + SPIN_NS;

	while (clock_ns() < end)
		__asm__ volatile("pause");
	if (was_on)
		machine_interrupts_on();
}

static char report[1024];
static size_t report_len;

static int capture(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = kvsnprintf(report + report_len, sizeof(report) - report_len, fmt, ap);
	va_end(ap);
	if (n > 0 && report_len + (size_t)n < sizeof(report))
		report_len += (size_t)n;
	return n;
}

/*
 * One 0.1 s spin with interrupts off, sampled into slot 0: the report's
 * top line must be the spin.  Returns the samples it got.
 */
static unsigned sample_one_spin(void)
{
	profile_fill(0);
	profile_test_spin();
	profile_fill(-1);
	report_len = 0;
	profile_report(0, "spin", 7, capture);
	KT_EXPECT(strncmp(report, "PROFILE name=spin size=7 pct=", 29) == 0);
	const char *fn = strstr(report, " fn=");
	KT_ASSERT(fn != NULL);
	KT_EXPECT(strncmp(fn, " fn=profile_test_spin\n", 22) == 0);
	const char *samples = strstr(report, "samples=");
	KT_ASSERT(samples != NULL);
	unsigned n = 0;
	for (samples += 8; *samples >= '0' && *samples <= '9'; samples++)
		n = n * 10 + (unsigned)(*samples - '0');
	return n;
}

/*
 * 0.1 s at PROFILE_HZ is about 400 samples, give or take the emulator's
 * pace.  A host that stops QEMU's vCPU thread for most of a spin loses
 * NMIs (only one can be pending), so a round may come up short: the rate
 * is right when any of three rounds lands within 4x of it.
 */
KTEST(profile, samples_reach_code_with_interrupts_off)
{
	const unsigned want = PROFILE_HZ / 10;
	unsigned got[3];

	if (!profile_start())
		KT_SKIP("no I/O APIC to raise the profiler's NMI");
	for (int round = 0; round < 3; round++) {
		got[round] = sample_one_spin();
		if (got[round] >= want / 4 && got[round] <= want * 4) {
			profile_stop();
			KT_EXPECT(!profile_running());
			return;
		}
	}
	profile_stop();
	KT_FAIL("three 0.1 s spins got %u, %u and %u samples; want %u to %u",
	        got[0], got[1], got[2], want / 4, want * 4);
}

KTEST(profile, samples_outside_a_filled_slot_are_not_kept)
{
	if (!profile_start())
		KT_SKIP("no I/O APIC to raise the profiler's NMI");
	profile_test_spin();                   /* no slot filled: nothing kept */
	profile_stop();
	report_len = 0;
	report[0] = '\0';
	profile_report(1, "idle", 0, capture);
	KT_EXPECT_EQ(report_len, 0);
}

/*
 * Starting and stopping, again and again, with NMIs due at any moment:
 * one that lands inside profile_start or profile_stop is a sample, never
 * a stray NMI that brings the kernel down.  The race this guards against
 * needs the host to stall the CPU inside one of those calls, so it is
 * caught by chance (2 boots in 25 with 3,000 rounds on a loaded host).
 */
KTEST(profile, nmis_during_start_and_stop_are_samples)
{
	uint64_t period = 1000000000ull / PROFILE_HZ;

	for (unsigned i = 0; i < 400; i++) {
		if (!profile_start())
			KT_SKIP("no I/O APIC to raise the profiler's NMI");
		KT_ASSERT(profile_running());
		uint64_t end = clock_ns() + period * (i % 3);   /* 0 to 2 periods */
		while (clock_ns() < end)
			continue;
		profile_stop();
		KT_ASSERT(!profile_running());
	}
}
