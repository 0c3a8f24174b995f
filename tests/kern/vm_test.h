/*
 * Helpers shared by the VM and protection tests: scratch addresses, a
 * throwaway user address space, and one-line expected-trap checks.
 */
#ifndef MICA_TESTS_KERN_VM_TEST_H
#define MICA_TESTS_KERN_VM_TEST_H

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/layout.h"
#include "arch/x86_64/trap.h"
#include "tests/harness/ktest.h"
#include "vm/pmap.h"
#include "vm/vm_page.h"

/* Kernel VA no one else uses (kernel stacks sit at the start of kernel VM). */
#define TEST_KVA (KVA_BASE + (1ul << 30))
/* A user address for test mappings, above the null guard. */
#define TEST_UVA 0x0000000040000000ul

/* A page holding a single `ret` instruction, for execution tests. */
static inline struct vm_page *test_ret_page(void)
{
	struct vm_page *p = vm_page_alloc(VM_PAGE_KERNEL, VM_PAGE_ZERO);

	if (p)
		*(volatile uint8_t *)pmap_phys_to_virt(vm_page_to_phys(p)) = 0xc3;
	return p;
}

/*
 * Runs access(arg) with a trap catch armed; returns the vector that
 * trapped (and the error code in *error), or -1 when nothing trapped.
 */
static inline long test_trap(void (*access)(uintptr_t), uintptr_t arg, uint64_t *error)
{
	static struct trap_catch tc;

	if (TRAP_CATCH(&tc) == 0) {
		access(arg);
		trap_catch_disarm(&tc);
		return -1;
	}
	if (error)
		*error = tc.error;
	return (long)tc.vector;
}

static inline void test_read(uintptr_t va) { (void)*(volatile uint64_t *)va; }
static inline void test_write(uintptr_t va) { *(volatile uint64_t *)va = 0x1234; }
static inline void test_call(uintptr_t va) { ((void (*)(void))va)(); }

/* The same accesses with SMAP opened, for user pages. */
static inline void test_user_read(uintptr_t va) { stac(); test_read(va); clac(); }
static inline void test_user_write(uintptr_t va) { stac(); test_write(va); clac(); }

/* Expects access(arg) to page-fault with exactly these error-code bits (P, W, U, I). */
#define KT_EXPECT_PAGE_FAULT(access, arg, bits)                                        \
	do {                                                                           \
		uint64_t err_ = 0;                                                     \
		long v_ = test_trap(access, (uintptr_t)(arg), &err_);                  \
		KT_EXPECT_EQ(v_, T_PAGE_FAULT);                                        \
		KT_EXPECT_EQ(err_ & (PF_P | PF_W | PF_U | PF_I), (bits));              \
	} while (0)

#define KT_EXPECT_NO_TRAP(access, arg) KT_EXPECT_EQ(test_trap(access, (uintptr_t)(arg), NULL), -1)

#endif
