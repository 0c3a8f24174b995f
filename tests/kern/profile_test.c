/*
 * make bench PROFILE=1's sampler (debug/profile.h): its NMIs reach code
 * that runs with interrupts off, at about the rate asked for, and a report
 * names the function the time went to.  Speed is the benchmarks' business.
 */
#include "kern/clock.h"
#include "tests/harness/ktest.h"
#include "kern/machine.h"
#include "lib/printf.h"
#include "debug/profile.h"
#include "lib/string.h"

#define SPIN_NS 100000000ul            /* 0.1 s: about 400 samples at PROFILE_HZ */

/*
 * What a spin saw of its own running.  Under an emulator or a hypervisor
 * the CPU can stop for milliseconds while the clock goes on (the host
 * deschedules QEMU's vCPU thread, or the hypervisor steals the host's
 * CPU); no sampler can see those stretches, and only one NMI stays
 * pending across each.  A step of the clock longer than a sample period
 * between two turns of the loop is such a stall.
 */
struct spin_run {
	uint64_t ran_ns;               /* the spin's time outside stalls */
	unsigned stalls;
};

/* Runs for SPIN_NS with interrupts off, so that only an NMI can sample it. */
static __attribute__((noinline)) struct spin_run profile_test_spin(void)
{
	bool was_on = machine_interrupts_save_off();
	struct spin_run run = { 0, 0 };
	uint64_t now = clock_ns(), end = now + SPIN_NS;

	while (now < end) {
		__asm__ volatile("pause");
		uint64_t next = clock_ns(), step = next - now;
		if (step > PROFILE_PERIOD_NS)
			run.stalls++;
		else
			run.ran_ns += step;
		now = next;
	}
	if (was_on)
		machine_interrupts_on();
	return run;
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
static unsigned sample_one_spin(struct spin_run *run)
{
	profile_fill(0);
	*run = profile_test_spin();
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
 * The samples come at PROFILE_HZ, give or take 4x for the emulator's pace,
 * while the CPU runs: the spin's time outside stalls sets how many are
 * due, and each stall may add the one NMI it kept pending.  A spin the
 * host let run for under a quarter of its time says little, so up to
 * three are tried for one that ran.
 */
KTEST(profile, samples_reach_code_with_interrupts_off)
{
	struct spin_run run;

	if (!profile_start())
		KT_SKIP("no I/O APIC to raise the profiler's NMI");
	sched_bind(0);                         /* the CPU the NMIs go to */
	for (int round = 1; round <= 3; round++) {
		unsigned got = sample_one_spin(&run);
		if (run.ran_ns < SPIN_NS / 4 && round < 3)
			continue;
		unsigned due = (unsigned)(run.ran_ns / PROFILE_PERIOD_NS);
		kprintf("    # spin %d ran %lu of %lu us (%u stalls): %u samples, %u due\n", round,
		        run.ran_ns / 1000, SPIN_NS / 1000, run.stalls, got, due);
		KT_EXPECT(got >= due / 4);
		KT_EXPECT(got <= due * 4 + run.stalls);
		break;
	}
	sched_bind(SCHED_ANY_CPU);
	profile_stop();
	KT_EXPECT(!profile_running());
}

KTEST(profile, samples_outside_a_filled_slot_are_not_kept)
{
	if (!profile_start())
		KT_SKIP("no I/O APIC to raise the profiler's NMI");
	(void)profile_test_spin();             /* no slot filled: nothing kept */
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
	for (unsigned i = 0; i < 400; i++) {
		if (!profile_start())
			KT_SKIP("no I/O APIC to raise the profiler's NMI");
		KT_ASSERT(profile_running());
		uint64_t end = clock_ns() + PROFILE_PERIOD_NS * (i % 3);   /* 0 to 2 periods */
		while (clock_ns() < end)
			continue;
		profile_stop();
		KT_ASSERT(!profile_running());
	}
}
