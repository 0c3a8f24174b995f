/* The embedded symbol table and frame-pointer backtraces name real functions. */
#include "arch/x86_64/backtrace.h"
#include "kern/ksym.h"
#include "tests/harness/ktest.h"
#include "lib/string.h"

void kernel_main(uint64_t boot_info_phys);
extern char _text_start[], _text_end[];

KTEST(symbols, table_is_sorted_and_in_text)
{
	KT_ASSERT(ksym_count > 100);
	for (uint32_t i = 1; i < ksym_count; i++)
		KT_EXPECT(ksym_table[i - 1].addr <= ksym_table[i].addr);
	KT_EXPECT(ksym_table[0].addr >= (uint64_t)_text_start || ksym_table[0].addr < (1ull << 32));
}

KTEST(symbols, lookup_names_function_and_offset)
{
	uint64_t off = ~0ull;
	const char *name = ksym_lookup((uint64_t)kernel_main, &off);

	KT_EXPECT_STREQ(name, "kernel_main");
	KT_EXPECT_EQ(off, 0);
	name = ksym_lookup((uint64_t)kernel_main + 5, &off);
	KT_EXPECT_STREQ(name, "kernel_main");
	KT_EXPECT_EQ(off, 5);
}

KTEST(symbols, lookup_by_name_round_trips)
{
	KT_EXPECT_EQ(ksym_address("kernel_main"), (uint64_t)kernel_main);
	KT_EXPECT_EQ(ksym_address("no_such_function_anywhere"), 0);
}

KTEST(symbols, addresses_outside_code_have_no_name)
{
	uint64_t off;

	KT_EXPECT(ksym_lookup(0, &off) == NULL);
	KT_EXPECT(ksym_lookup((uint64_t)_text_end + (1ull << 20), &off) == NULL);
}

static int __attribute__((noinline)) collect_inner(uint64_t *pcs, int max)
{
	int n = backtrace_collect((uint64_t)__builtin_frame_address(0), pcs, max);
	__asm__ volatile("" ::: "memory");   /* not a tail call: keep this frame */
	return n;
}

static int __attribute__((noinline)) collect_outer(uint64_t *pcs, int max)
{
	int n = collect_inner(pcs, max);
	__asm__ volatile("" ::: "memory");
	return n;
}

static bool trace_names(const uint64_t *pcs, int n, const char *want)
{
	for (int i = 0; i < n; i++) {
		uint64_t off;
		const char *name = ksym_lookup(pcs[i] - 1, &off);
		size_t len = strlen(want);
		/* GCC may clone a function as NAME.constprop.0 and the like */
		if (name && strncmp(name, want, len) == 0 && (name[len] == '\0' || name[len] == '.'))
			return true;
	}
	return false;
}

KTEST(symbols, backtrace_walks_to_callers)
{
	uint64_t pcs[BACKTRACE_MAX];
	int n = collect_outer(pcs, BACKTRACE_MAX);

	KT_ASSERT(n >= 3);
	KT_EXPECT(trace_names(pcs, n, "collect_outer"));
	KT_EXPECT(trace_names(pcs, n, "ktest_run"));
	KT_EXPECT(trace_names(pcs, n, "kernel_main"));
}

KTEST(symbols, backtrace_stops_at_a_bad_frame_pointer)
{
	uint64_t pcs[4];

	KT_EXPECT_EQ(backtrace_collect(0, pcs, 4), 0);
	KT_EXPECT_EQ(backtrace_collect(0x1000, pcs, 4), 0);          /* outside the kernel */
	KT_EXPECT_EQ(backtrace_collect((uint64_t)pcs + 1, pcs, 4), 0); /* misaligned */
}
