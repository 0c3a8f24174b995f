/*
 * The clock: its interrupts arrive where interrupts are on and only
 * there, each calls the tick handler with interrupts off, time from the
 * TSC only goes forward, and an interrupt leaves the code it interrupted
 * exactly as it was; timers fire in order, on time, and an idle CPU takes
 * interrupts only for deadlines; and the uncached mapping the APIC's
 * registers need.  Rates are checked for plausibility only: speed is for
 * benchmarks.
 */
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/pmap_md.h"
#include "arch/x86_64/trap.h"
#include "kern/clock.h"
#include "kern/sched.h"
#include "kern/timer.h"
#include "tests/harness/ktest.h"
#include "tests/kern/vm_test.h"

#define NSEC_PER_SEC 1000000000ull

/*
 * Lets interrupts in, one halt at a time, until at least n more have been
 * taken.  The running thread's quantum brings one at least every
 * SCHED_QUANTUM_NS.
 */
static void take_ticks(unsigned n)
{
	uint64_t start = clock_ticks();

	while (clock_ticks() - start < n)
		/* sti takes effect after the next instruction: no tick slips in before the hlt */
		__asm__ volatile("sti; hlt; cli" ::: "memory");
}

/* The local APIC's usual address: mapped, never touched, by the mapping test. */
#define DEVICE_PA 0xfee00000ul

KTEST(clock, device_mapping_is_uncached_writable_and_no_execute)
{
	uint64_t pte;
	int level;

	KT_ASSERT_EQ(pmap_kenter_device(TEST_KVA, DEVICE_PA), KERN_SUCCESS);
	KT_ASSERT(pmap_leaf_entry(kernel_pmap, TEST_KVA, &pte, &level));
	KT_EXPECT_EQ(level, 1);
	KT_EXPECT_EQ(pte & PTE_ADDR, DEVICE_PA);
	KT_EXPECT_EQ(pte & (PTE_P | PTE_RW | PTE_US | PTE_PWT | PTE_PCD | PTE_NX),
	             PTE_P | PTE_RW | PTE_PWT | PTE_PCD | PTE_NX);
	pmap_kremove(TEST_KVA);
	KT_EXPECT(!pmap_leaf_entry(kernel_pmap, TEST_KVA, &pte, &level));
}

KTEST(clock, tsc_frequency_is_plausible)
{
	KT_EXPECT(clock_tsc_hz() >= 100000000ull);       /* 100 MHz */
	KT_EXPECT(clock_tsc_hz() <= 20000000000ull);     /* 20 GHz */
}

KTEST(clock, no_tick_is_taken_while_interrupts_are_off)
{
	uint64_t before = clock_ticks();
	uint64_t until = clock_ns() + 3 * SCHED_QUANTUM_NS;     /* a quantum ends meanwhile */

	while (clock_ns() < until)
		__asm__ volatile("pause");
	KT_EXPECT_EQ(clock_ticks(), before);
	take_ticks(1);   /* the tick left pending meanwhile is harmless */
}

static volatile uint64_t handler_calls, handler_calls_with_interrupts_on;

static void count_tick(void)
{
	handler_calls++;
	if (read_rflags() & RFLAGS_IF)
		handler_calls_with_interrupts_on++;
}

KTEST(clock, tick_handler_runs_once_per_tick_with_interrupts_off)
{
	clock_tick_fn previous = clock_set_tick_handler(count_tick);
	uint64_t before = clock_ticks();

	handler_calls = handler_calls_with_interrupts_on = 0;
	take_ticks(3);
	clock_set_tick_handler(previous);
	KT_EXPECT_EQ(handler_calls, clock_ticks() - before);
	KT_EXPECT_EQ(handler_calls_with_interrupts_on, 0);
}

KTEST(clock, time_only_goes_forward)
{
	uint64_t prev = clock_ns();

	for (int i = 0; i < 100000; i++) {
		uint64_t now = clock_ns();
		if (now < prev)
			KT_FAIL("clock_ns went back from %lu to %lu", prev, now);
		prev = now;
	}
	for (int i = 0; i < 3; i++) {
		take_ticks(1);
		KT_EXPECT(clock_ns() > prev);
		prev = clock_ns();
	}
}

KTEST(clock, spurious_vector_is_ignored)
{
	uint64_t before = clock_ticks();

	__asm__ volatile("int %0" : : "i"(T_APIC_SPURIOUS));
	KT_EXPECT_EQ(clock_ticks(), before);
}

/* The general registers but RSP, in this order, before and after a tick. */
static const char *const register_names[15] = {
	"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "r8",
	"r9", "r10", "r11", "r12", "r13", "r14", "r15",
};
static const uint64_t before_tick[15] = {
	0x1111111111111111, 0x2222222222222222, 0x3333333333333333, 0x4444444444444444,
	0x5555555555555555, 0x6666666666666666, 0x7777777777777777, 0x8888888888888888,
	0x9999999999999999, 0xaaaaaaaaaaaaaaaa, 0xbbbbbbbbbbbbbbbb, 0xcccccccccccccccc,
	0xdddddddddddddddd, 0xeeeeeeeeeeeeeeee, 0xfedcba9876543210,
};
static uint64_t after_tick[15];

/*
 * Loads before_tick into the registers, halts with interrupts on until an
 * interrupt comes, and stores the registers into after_tick.  Both arrays
 * are static, reached RIP-relative, so no register is needed to find them;
 * RBP (the frame pointer) is saved on the stack around it all.
 */
static void registers_across_an_interrupt(void)
{
	__asm__ volatile(
		"push %%rbp\n\t"
		"mov 0+%[in], %%rax\n\t"   "mov 8+%[in], %%rbx\n\t"
		"mov 16+%[in], %%rcx\n\t"  "mov 24+%[in], %%rdx\n\t"
		"mov 32+%[in], %%rsi\n\t"  "mov 40+%[in], %%rdi\n\t"
		"mov 48+%[in], %%rbp\n\t"  "mov 56+%[in], %%r8\n\t"
		"mov 64+%[in], %%r9\n\t"   "mov 72+%[in], %%r10\n\t"
		"mov 80+%[in], %%r11\n\t"  "mov 88+%[in], %%r12\n\t"
		"mov 96+%[in], %%r13\n\t"  "mov 104+%[in], %%r14\n\t"
		"mov 112+%[in], %%r15\n\t"
		"sti; hlt; cli\n\t"
		"mov %%rax, 0+%[out]\n\t"  "mov %%rbx, 8+%[out]\n\t"
		"mov %%rcx, 16+%[out]\n\t" "mov %%rdx, 24+%[out]\n\t"
		"mov %%rsi, 32+%[out]\n\t" "mov %%rdi, 40+%[out]\n\t"
		"mov %%rbp, 48+%[out]\n\t" "mov %%r8, 56+%[out]\n\t"
		"mov %%r9, 64+%[out]\n\t"  "mov %%r10, 72+%[out]\n\t"
		"mov %%r11, 80+%[out]\n\t" "mov %%r12, 88+%[out]\n\t"
		"mov %%r13, 96+%[out]\n\t" "mov %%r14, 104+%[out]\n\t"
		"mov %%r15, 112+%[out]\n\t"
		"pop %%rbp"
		: [out] "=m"(after_tick)
		: [in] "m"(before_tick)
		: "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12",
		  "r13", "r14", "r15", "cc", "memory");
}

KTEST(clock, tick_leaves_interrupted_registers_and_stack_intact)
{
	volatile uint64_t locals[64];
	uint64_t before = clock_ticks();

	for (unsigned i = 0; i < 64; i++)
		locals[i] = ~(uint64_t)i * 0x0101010101010101;
	do {
		registers_across_an_interrupt();
	} while (clock_ticks() == before);   /* until it was a tick that woke the halt */
	for (unsigned i = 0; i < 15; i++)
		if (after_tick[i] != before_tick[i])
			ktest_fail_at(__FILE__, __LINE__, "%s was %#lx before a tick, %#lx after",
			              register_names[i], before_tick[i], after_tick[i]);
	for (unsigned i = 0; i < 64; i++)
		KT_EXPECT_EQ(locals[i], ~(uint64_t)i * 0x0101010101010101);
}

/* A timer with what the tests look at; the timer_call comes first, so fn finds the rest. */
struct test_timer {
	struct timer_call call;
	volatile uint64_t fired_at;        /* clock_ns() when fn ran; 0 until then */
	unsigned order;                    /* among one test's timers, 1 for the first to fire */
};

static unsigned timers_fired;

static void note_firing(struct timer_call *t)
{
	struct test_timer *tt = (struct test_timer *)t;

	tt->fired_at = clock_ns();
	tt->order = ++timers_fired;
}

/* Lets interrupts in, one halt at a time, until t has fired. */
static void wait_for(struct test_timer *t)
{
	while (t->fired_at == 0)
		__asm__ volatile("sti; hlt; cli" ::: "memory");
}

#define NSEC_PER_MSEC 1000000ull

/*
 * The clock is armed for the head of the timer queue, whatever its length:
 * read back from the timer, the interrupt comes by that deadline (or now,
 * if the head is already due), plus the time arming and reading took (the
 * timer counts from when it is written, the count from a reading of the
 * clock before), the timer's rounding up and the two clocks' disagreement
 * (parts in a million).  It may come earlier, for a cancelled timer, and
 * then arms again.  A timer that ran down while interrupts were off has
 * gone off: its interrupt waits, due now.  Host scheduling cannot fail
 * this: nothing here waits, and a stretch of it only widens the bound.
 */
KTEST(clock, the_timer_is_armed_for_the_nearest_deadline)
{
	static const unsigned ms[] = { 1, 5, 20 };
	struct test_timer gone_off = { 0 };

	timer_call_enter(&gone_off.call, clock_ns() + 20 * 1000, note_firing);
	for (uint64_t until = clock_ns() + 100 * 1000; clock_ns() < until;)
		;                                          /* interrupts off: it runs down */
	for (unsigned i = 0; i < 3; i++) {
		struct test_timer t = { 0 };
		uint64_t before = clock_ns();

		timer_call_enter(&t.call, before + ms[i] * NSEC_PER_MSEC, note_firing);
		uint64_t head = timer_next_deadline();
		uint64_t armed = clock_armed_for();
		uint64_t slack = clock_ns() - before + 1000 + ms[i] * 100;   /* 1 us, 100 ppm */
		uint64_t due = head > before ? head : before;
		KT_EXPECT(head <= t.call.deadline);
		if (armed == TIMER_NONE || armed > due + slack)
			ktest_fail_at(__FILE__, __LINE__, "armed for %ld us from the %u ms timer's deadline",
			              ((int64_t)armed - (int64_t)due) / 1000, ms[i]);
		KT_EXPECT(timer_call_cancel(&t.call));
	}
	wait_for(&gone_off);                           /* its interrupt was only waiting */
}

/*
 * A timer fires no earlier than its deadline, ever, and on an idle
 * machine within a millisecond after it.  Under an emulator the machine
 * is the host, which may run something else for a millisecond or more
 * between the interrupt and our seeing it; so each length has five tries
 * and one of them must be within the millisecond.  A kernel that is
 * late by its own doing (a timer served only at the next quantum, a
 * clock that counts slow) is late in all five.
 */
#define LATENESS_TRIES 5

static int64_t timer_lateness_ns(unsigned ms)
{
	struct test_timer t = { 0 };
	uint64_t deadline = clock_ns() + ms * NSEC_PER_MSEC;

	timer_call_enter(&t.call, deadline, note_firing);
	wait_for(&t);
	KT_EXPECT(!t.call.queued);
	return (int64_t)t.fired_at - (int64_t)deadline;
}

KTEST(clock, timers_fire_within_a_millisecond_of_their_deadlines)
{
	static const unsigned ms[] = { 1, 5, 20 };

	for (unsigned i = 0; i < 3; i++) {
		int64_t best = INT64_MAX;

		for (unsigned try = 0; try < LATENESS_TRIES && best > (int64_t)NSEC_PER_MSEC; try++) {
			int64_t late = timer_lateness_ns(ms[i]);
			if (late < 0)
				ktest_fail_at(__FILE__, __LINE__, "a %u ms timer fired %ld us early",
				              ms[i], -late / 1000);
			if (late < best)
				best = late;
		}
		if (best > (int64_t)NSEC_PER_MSEC)
			ktest_fail_at(__FILE__, __LINE__, "a %u ms timer fired %ld us late at best of %u",
			              ms[i], best / 1000, LATENESS_TRIES);
	}
}

/*
 * Timers fire in deadline order, whatever order they were entered in;
 * re-entering one moves it, and a cancelled one never fires.
 */
KTEST(clock, timers_fire_in_deadline_order_moved_and_cancelled)
{
	struct test_timer t[4] = { 0 };
	uint64_t now = clock_ns();

	timers_fired = 0;
	timer_call_enter(&t[0].call, now + 3 * NSEC_PER_MSEC, note_firing);
	timer_call_enter(&t[1].call, now + 1 * NSEC_PER_MSEC, note_firing);
	timer_call_enter(&t[2].call, now + 2 * NSEC_PER_MSEC, note_firing);
	timer_call_enter(&t[3].call, now + 2 * NSEC_PER_MSEC, note_firing);
	timer_call_enter(&t[1].call, now + 4 * NSEC_PER_MSEC, note_firing);   /* moved last */
	KT_EXPECT(timer_call_cancel(&t[3].call));
	KT_EXPECT(!timer_call_cancel(&t[3].call));
	wait_for(&t[1]);
	KT_EXPECT_EQ(t[2].order, 1);
	KT_EXPECT_EQ(t[0].order, 2);
	KT_EXPECT_EQ(t[1].order, 3);
	KT_EXPECT_EQ(t[3].fired_at, 0);
	KT_EXPECT(!timer_call_cancel(&t[1].call));         /* it has run */
}

/* A function may enter its own timer again: a periodic timer is one that does. */
static void fire_thrice(struct timer_call *t)
{
	struct test_timer *tt = (struct test_timer *)t;

	if (++tt->order < 3)
		timer_call_enter(t, clock_ns() + NSEC_PER_MSEC, fire_thrice);
	else
		tt->fired_at = clock_ns();
}

KTEST(clock, a_timer_function_may_enter_its_timer_again)
{
	struct test_timer t = { 0 };
	uint64_t start = clock_ns();

	timer_call_enter(&t.call, start + NSEC_PER_MSEC, fire_thrice);
	wait_for(&t);
	KT_EXPECT_EQ(t.order, 3);
	KT_EXPECT(t.fired_at >= start + 3 * NSEC_PER_MSEC);
	KT_EXPECT(!t.call.queued);
}

static void wake_sleeper(struct timer_call *t)
{
	((struct test_timer *)t)->fired_at = clock_ns();
	thread_wakeup(t);
}

/*
 * While this thread sleeps 50 ms, the CPU is idle: it takes the interrupt
 * for the timer that wakes it, and at most one the quantum had armed
 * before (a tick every 10 ms would be five).
 */
KTEST(clock, an_idle_cpu_takes_interrupts_only_for_deadlines)
{
	struct test_timer t = { 0 };
	uint64_t before = clock_ticks();

	timer_call_enter(&t.call, clock_ns() + 50 * NSEC_PER_MSEC, wake_sleeper);
	while (t.fired_at == 0) {
		/* the deadline only guards a wakeup that came before the wait */
		assert_wait_deadline(&t.call, "a test timer", clock_ns() + 100 * NSEC_PER_MSEC);
		thread_block();
	}
	KT_EXPECT(clock_ticks() - before <= 2);
}
