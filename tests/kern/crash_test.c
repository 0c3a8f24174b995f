/*
 * Tests that bring the kernel down on purpose, to prove a crash is loud:
 * a symbolized register dump, a backtrace, and a panic exit the runner
 * reports.  Only `test=SUITE` runs them (tests/run-all does, and checks
 * the report); plain `test` leaves them out.
 */
#include "kern/ktest.h"
#include "kern/lock.h"
#include "kern/string.h"

#define UNMAPPED_ADDR 0x00007fff00000000ull

KTEST_CRASH(crash_page_fault, deref_unmapped_address)
{
	volatile uint64_t *p = (volatile uint64_t *)UNMAPPED_ADDR;

	kprintf("    # reading %p, which no page table maps\n", (void *)p);
	(void)*p;
	KT_FAIL("reading an unmapped address did not bring the kernel down");
}

static void __attribute__((noipa)) crash_smash_stack(const char *src, size_t len)
{
	char buf[16];

	memcpy(buf, src, len);              /* len > sizeof(buf): the canary dies */
	__asm__ volatile("" : : "r"(buf) : "memory");
}

KTEST_CRASH(crash_stack_smash, overflow_a_stack_buffer)
{
	char big[64];

	memset(big, 'A', sizeof(big));
	crash_smash_stack(big, sizeof(big));
	KT_FAIL("the stack protector did not catch an overflow");
}

static volatile bool never;           /* keeps GCC from calling the recursion infinite */

static int __attribute__((noipa)) crash_recurse(int depth)
{
	volatile char frame[512];

	frame[0] = (char)depth;
	if (never)
		return 0;
	return crash_recurse(depth + 1) + frame[0];
}

KTEST_CRASH(crash_stack_overflow, recurse_forever)
{
	crash_recurse(0);
	KT_FAIL("unbounded recursion did not reach the stack guard page");
}

KTEST_CRASH(crash_lock_order, take_locks_out_of_order)
{
	static struct spinlock map_lock = SPINLOCK_INIT("test_map_lock", LOCK_RANK_MAP);
	static struct spinlock object_lock = SPINLOCK_INIT("test_object_lock", LOCK_RANK_OBJECT);

	spin_lock(&object_lock);
	spin_lock(&map_lock);              /* a map lock under an object lock: inverted */
	KT_FAIL("the lock-order checker let an inversion through");
}
