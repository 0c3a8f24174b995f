/*
 * Exceptions really trap, and the expected-trap mechanism reports them
 * with the right vector, error code and faulting address, wherever the
 * faulting instruction is.
 */
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/trap.h"
#include "tests/harness/ktest.h"

#define UNMAPPED_ADDR     0x00007fff00000000ull   /* boot tables map only the low 4 GiB */
#define NON_CANONICAL_ADDR 0x0000800000000000ull

static struct trap_catch tc;

KTEST(traps, ud2_raises_invalid_opcode)
{
	if (TRAP_CATCH(&tc) == 0) {
		__asm__ volatile("ud2");
		trap_catch_disarm(&tc);
		KT_FAIL("ud2 did not trap");
	}
	KT_EXPECT_EQ(tc.vector, T_INVALID_OPCODE);
	KT_EXPECT_EQ(tc.error, 0);
}

KTEST(traps, divide_by_zero_raises_de)
{
	if (TRAP_CATCH(&tc) == 0) {
		__asm__ volatile("xor %%edx, %%edx; mov $1, %%eax; xor %%ecx, %%ecx; div %%ecx"
		                 ::: "rax", "rcx", "rdx");
		trap_catch_disarm(&tc);
		KT_FAIL("division by zero did not trap");
	}
	KT_EXPECT_EQ(tc.vector, T_DIVIDE);
}

KTEST(traps, non_canonical_access_raises_gp)
{
	if (TRAP_CATCH(&tc) == 0) {
		__asm__ volatile("mov (%0), %%rax" : : "r"(NON_CANONICAL_ADDR) : "rax", "memory");
		trap_catch_disarm(&tc);
		KT_FAIL("a non-canonical load did not trap");
	}
	KT_EXPECT_EQ(tc.vector, T_GENERAL_PROTECTION);
	KT_EXPECT_EQ(tc.error, 0);
}

static volatile uint64_t after_int3;

KTEST(traps, int3_raises_bp_after_the_instruction)
{
	if (TRAP_CATCH(&tc) == 0) {
		__asm__ volatile("lea 1f(%%rip), %%rax; mov %%rax, %0; int3; 1:"
		                 : "=m"(after_int3) : : "rax");
		trap_catch_disarm(&tc);
		KT_FAIL("int3 did not trap");
	}
	KT_EXPECT_EQ(tc.vector, T_BREAKPOINT);
	/* #BP is a trap: the saved RIP is the next instruction */
	KT_EXPECT_EQ(tc.rip, after_int3);
}

KTEST(traps, read_of_unmapped_page_raises_pf)
{
	if (TRAP_CATCH(&tc) == 0) {
		(void)*(volatile uint64_t *)UNMAPPED_ADDR;
		trap_catch_disarm(&tc);
		KT_FAIL("reading an unmapped page did not fault");
	}
	KT_EXPECT_EQ(tc.vector, T_PAGE_FAULT);
	KT_EXPECT_EQ(tc.cr2, UNMAPPED_ADDR);
	KT_EXPECT_EQ(tc.error & (PF_P | PF_W | PF_U | PF_I), 0);
}

KTEST(traps, write_to_unmapped_page_reports_write)
{
	if (TRAP_CATCH(&tc) == 0) {
		*(volatile uint64_t *)(UNMAPPED_ADDR + 8) = 1;
		trap_catch_disarm(&tc);
		KT_FAIL("writing an unmapped page did not fault");
	}
	KT_EXPECT_EQ(tc.vector, T_PAGE_FAULT);
	KT_EXPECT_EQ(tc.cr2, UNMAPPED_ADDR + 8);
	KT_EXPECT_EQ(tc.error & (PF_P | PF_W | PF_U), PF_W);
}

/* A fault several calls deep still lands at the catch point, stack intact. */
static int __attribute__((noinline)) fault_deep(int depth)
{
	if (depth == 0) {
		__asm__ volatile("ud2");
		return 0;
	}
	return fault_deep(depth - 1) + 1;
}

KTEST(traps, recovery_from_deep_call_restores_stack)
{
	volatile uint64_t canary = 0x5a5a5a5a12345678ull;
	uint64_t rsp_before, rsp_after;

	__asm__ volatile("mov %%rsp, %0" : "=r"(rsp_before));
	if (TRAP_CATCH(&tc) == 0) {
		fault_deep(20);
		trap_catch_disarm(&tc);
		KT_FAIL("ud2 in a deep call did not trap");
	}
	__asm__ volatile("mov %%rsp, %0" : "=r"(rsp_after));
	KT_EXPECT_EQ(tc.vector, T_INVALID_OPCODE);
	KT_EXPECT_EQ(rsp_after, rsp_before);
	KT_EXPECT_EQ(canary, 0x5a5a5a5a12345678ull);
}

KTEST(traps, catch_fires_once_then_disarms)
{
	volatile int trapped = 0;

	if (TRAP_CATCH(&tc) != 0)
		trapped++;
	if (trapped == 0)
		__asm__ volatile("ud2");
	/* the handler disarmed it: arming again is needed for another catch */
	KT_EXPECT_EQ(trapped, 1);
	KT_EXPECT(trap_catch_current() == NULL);
}

KTEST(traps, no_trap_means_no_report)
{
	if (TRAP_CATCH(&tc) == 0) {
		__asm__ volatile("nop");
		trap_catch_disarm(&tc);
	} else {
		KT_FAIL("a nop trapped with vector %lu", tc.vector);
	}
	KT_EXPECT_EQ(tc.vector, ~0ull);
	KT_EXPECT(trap_catch_current() == NULL);
}
