/*
 * Mach's absolute time (mach_absolute_time, mach_timebase_info), the
 * null trap, which make bench measures everything by, and the waits
 * measured by that clock (mica_wait_until).
 */
#include <ktap.h>

#include <mach/mach.h>
#include <mach/mach_time.h>
#include <mica/mica.h>

/* The ratio is a counter's: 0.1 to 10 ns a tick (a 100 MHz to 10 GHz TSC), in lowest terms. */
static void timebase_is_a_plausible_ratio(void)
{
	mach_timebase_info_data_t tb = { 0, 0 };

	KT_ASSERT_EQ(mach_timebase_info(&tb), KERN_SUCCESS);
	KT_ASSERT(tb.numer != 0 && tb.denom != 0);
	uint64_t hz = (uint64_t)tb.denom * 1000000000ull / tb.numer;
	KT_EXPECT(hz >= 100000000ull && hz <= 10000000000ull);
	uint32_t a = tb.numer, b = tb.denom;
	while (b) {
		uint32_t t = a % b;
		a = b;
		b = t;
	}
	KT_EXPECT_EQ(a, 1);
}

/* A pointer the caller cannot write: KERN_INVALID_ADDRESS, nothing written. */
static void timebase_checks_its_pointer(void)
{
	mach_timebase_info_data_t tb = { 7, 7 };

	KT_EXPECT_EQ(mach_timebase_info(NULL), KERN_INVALID_ADDRESS);
	KT_EXPECT_EQ(mach_timebase_info((mach_timebase_info_t)0xffffffff80200000ul),
		     KERN_INVALID_ADDRESS);
	KT_EXPECT_EQ(mach_timebase_info((mach_timebase_info_t)0x800000000000ul), KERN_INVALID_ADDRESS);
	KT_EXPECT(tb.numer == 7 && tb.denom == 7);
}

/* The counter only goes up across null traps, which succeed. */
static void absolute_time_moves_forward(void)
{
	uint64_t before = mach_absolute_time(), last = before;

	for (int i = 0; i < 1000; i++) {
		uint64_t now = mach_absolute_time();
		KT_ASSERT(now >= last);
		last = now;
		KT_ASSERT_EQ(mica_null_trap(), KERN_SUCCESS);
	}
	KT_EXPECT(mach_absolute_time() > before);
}

static bool never(void *arg)
{
	(*(unsigned *)arg)++;
	return false;
}

static bool at_once(void *arg)
{
	(*(unsigned *)arg)++;
	return true;
}

/*
 * A wait whose condition never holds lasts its time by the clock, not a
 * number of turns, and asks all along; one that holds at once returns at
 * once, having asked once.
 */
static void a_wait_lasts_its_time(void)
{
	mach_timebase_info_data_t tb;
	unsigned asked = 0;
	uint64_t start, ticks, per_ms;

	KT_ASSERT_EQ(mach_timebase_info(&tb), KERN_SUCCESS);
	per_ms = 1000000ull * tb.denom / tb.numer;      /* in ticks; no product can overflow */
	start = mach_absolute_time();
	KT_EXPECT(!mica_wait_until(never, &asked, 200));
	ticks = mach_absolute_time() - start;
	KT_EXPECT(ticks >= 200 * per_ms && ticks < 5000 * per_ms);
	KT_EXPECT(asked > 1);
	asked = 0;
	KT_EXPECT(mica_wait_until(at_once, &asked, 200));
	KT_EXPECT_EQ(asked, 1);
}

int main(void)
{
	static const struct ktap_case cases[] = {
		KTAP_CASE(timebase_is_a_plausible_ratio),
		KTAP_CASE(timebase_checks_its_pointer),
		KTAP_CASE(absolute_time_moves_forward),
		KTAP_CASE(a_wait_lasts_its_time),
	};

	return ktap_run(cases, sizeof cases / sizeof cases[0]);
}
