/*
 * Tests that bring the kernel down on purpose, to prove a crash is loud:
 * a symbolized register dump, a backtrace, and a panic exit the runner
 * reports.  Only `test=SUITE` runs them (tests/run-all does, and checks
 * the report); plain `test` leaves them out.
 */
#include "tests/harness/ktest.h"
#include "kern/lock.h"
#include "lib/string.h"
#include "vm/pmap.h"
#include "vm/vm_kern.h"
#include "vm/vm_map.h"

#define UNMAPPED_ADDR 0x00007fff00000000ull

/*
 * A device page whose mapping is lost must bring the kernel down, never be
 * filled with RAM: the local APIC's registers (kernel_map's first page),
 * mapped a second time, then unmapped behind the VM's back.
 */
KTEST_CRASH(crash_device_fault, read_a_device_page_whose_mapping_is_gone)
{
	vm_offset_t va;
	paddr_t apic;

	KT_ASSERT(pmap_extract(kernel_pmap, kernel_map->header.next->start, &apic));
	KT_ASSERT_EQ(kmem_map_device(apic, PAGE_SIZE, &va), KERN_SUCCESS);
	pmap_kremove(va);
	kprintf("    # reading %#lx, a device page whose mapping is gone\n", va);
	(void)*(volatile uint32_t *)va;
	KT_FAIL("a fault in a device page was resolved");
}

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

/* The same on another CPU than the boot CPU: each CPU keeps its own held locks. */
KTEST_CRASH(crash_lock_order_cpu1, take_locks_out_of_order_on_cpu_1)
{
	static struct spinlock map_lock = SPINLOCK_INIT("test_map_lock", LOCK_RANK_MAP);
	static struct spinlock object_lock = SPINLOCK_INIT("test_object_lock", LOCK_RANK_OBJECT);

	if (machine_cpu_count() < 2)
		KT_FAIL("this check needs a second CPU (--smp 2)");
	sched_bind(1);
	spin_lock(&object_lock);
	spin_lock(&map_lock);              /* inverted, on CPU 1 */
	KT_FAIL("the lock-order checker let an inversion through on CPU 1");
}

/* A function that expects a lock held, called without it, must say which lock (INVARIANTS). */
KTEST_CRASH(crash_lock_assert, look_up_an_entry_without_the_map_lock)
{
	kprintf("    # vm_map_lookup_entry on kernel_map, whose lock is not held\n");
	vm_map_lookup_entry(kernel_map, kernel_map->min);
	KT_FAIL("vm_map_lookup_entry ran without the map lock and did not assert it");
}
