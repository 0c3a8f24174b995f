/*
 * SSE state is per thread: values kept in XMM registers across system
 * calls and switches to other tasks come back unchanged.  The kernel runs
 * two copies of this program at once (tests/kern/task_test.c), so each
 * one's registers are really at risk from the other's.
 */
#include <ktap.h>
#include <mica/mica.h>

#define STEPS 400

/* A recurrence computed in XMM registers; yield says whether to give up the CPU each step. */
static double __attribute__((noinline)) run(double a, double b, bool yield)
{
	for (int i = 0; i < STEPS; i++) {
		a = a * 1.0000001 + b;
		b = b * 0.9999999 - a * 1e-9;
		if (yield)            /* inline: a call would spill XMM, SYSCALL does not */
			mica_syscall(SYS_yield, 0, 0, 0, 0);
	}
	return a + b;
}

static void xmm_registers_survive_switches(void)
{
	unsigned lo, hi;

	/* seeds from the cycle counter: the two copies hold different values */
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	volatile double seed_a = 1.5 + (lo & 0xffff), seed_b = 0.25 + (hi & 0xff);
	double expected = run(seed_a, seed_b, false);
	double got = run(seed_a, seed_b, true);

	KT_EXPECT(got == expected);
}

static void mxcsr_rounding_mode_is_private(void)
{
	unsigned before, after;

	__asm__ volatile("stmxcsr %0" : "=m"(before));
	unsigned toward_zero = (before & ~0x6000u) | 0x6000u;
	__asm__ volatile("ldmxcsr %0" : : "m"(toward_zero));
	for (int i = 0; i < 50; i++)
		mica_yield();
	__asm__ volatile("stmxcsr %0" : "=m"(after));
	__asm__ volatile("ldmxcsr %0" : : "m"(before));
	KT_EXPECT_EQ(after, toward_zero);
}

int main(void)
{
	static const struct ktap_case cases[] = {
		KTAP_CASE(xmm_registers_survive_switches),
		KTAP_CASE(mxcsr_rounding_mode_is_private),
	};
	return ktap_run(cases, sizeof cases / sizeof cases[0]);
}
