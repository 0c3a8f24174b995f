/*
 * Hardware protection is real: each bit is proven by an access that must
 * trap, not by reading the bit back.
 */
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/pmap_md.h"
#include "kern/bootinfo.h"
#include "tests/kern/vm_test.h"

static const uint64_t read_only_word = 0x5eed;
extern char _text_start[], boot_stack_guard[];

KTEST(protection, trap_write_readonly)
{
	/* kernel rodata, kernel text, and the direct-map alias of the kernel image */
	KT_EXPECT_PAGE_FAULT(test_write, &read_only_word, PF_P | PF_W);
	KT_EXPECT_PAGE_FAULT(test_write, _text_start, PF_P | PF_W);
	KT_EXPECT_PAGE_FAULT(test_write, pmap_phys_to_virt(boot_info.kernel_phys_start + PAGE_SIZE),
	                     PF_P | PF_W);
	KT_EXPECT_EQ(read_only_word, 0x5eed);
}

KTEST(protection, trap_exec_nx)
{
	struct vm_page *p = test_ret_page();

	KT_ASSERT(p != NULL);
	/* the direct map is NX, and so is a kernel mapping made without EXECUTE */
	KT_EXPECT_PAGE_FAULT(test_call, pmap_phys_to_virt(vm_page_to_phys(p)), PF_P | PF_I);
	KT_ASSERT_EQ(pmap_kenter(TEST_KVA, vm_page_to_phys(p), VM_PROT_READ | VM_PROT_WRITE),
	             KERN_SUCCESS);
	KT_EXPECT_PAGE_FAULT(test_call, TEST_KVA, PF_P | PF_I);
	pmap_kremove(TEST_KVA);
	/* the same page mapped executable runs: the trap was the NX bit */
	KT_ASSERT_EQ(pmap_kenter(TEST_KVA, vm_page_to_phys(p), VM_PROT_READ | VM_PROT_EXECUTE),
	             KERN_SUCCESS);
	KT_EXPECT_NO_TRAP(test_call, TEST_KVA);
	pmap_kremove(TEST_KVA);
	vm_page_free(p);
}

/* A throwaway address space with p mapped at TEST_UVA; the caller destroys it. */
static pmap_t user_space_with(struct vm_page *p, vm_prot_t prot)
{
	pmap_t pm = pmap_create();

	if (pm == NULL || pmap_enter(pm, TEST_UVA, p, prot, 0) != KERN_SUCCESS)
		KT_FAIL("no memory for a test address space");
	pmap_activate(pm);
	return pm;
}

static void leave_user_space(pmap_t pm)
{
	pmap_activate(kernel_pmap);
	pmap_destroy(pm);
}

KTEST(protection, trap_smap)
{
	if (!cpu_features.smap)
		KT_SKIP("CPU lacks SMAP");
	struct vm_page *p = vm_page_alloc(VM_PAGE_KERNEL, VM_PAGE_ZERO);
	KT_ASSERT(p != NULL);
	pmap_t pm = user_space_with(p, VM_PROT_READ | VM_PROT_WRITE);

	/* a plain kernel access to a user page faults; with STAC it is allowed */
	KT_EXPECT_PAGE_FAULT(test_read, TEST_UVA, PF_P);
	KT_EXPECT_PAGE_FAULT(test_write, TEST_UVA, PF_P | PF_W);
	KT_EXPECT_NO_TRAP(test_user_write, TEST_UVA);
	KT_EXPECT_EQ(*(uint64_t *)pmap_phys_to_virt(vm_page_to_phys(p)), 0x1234);
	leave_user_space(pm);
	vm_page_free(p);
}

KTEST(protection, trap_smep)
{
	if (!cpu_features.smep)
		KT_SKIP("CPU lacks SMEP");
	struct vm_page *p = test_ret_page();
	KT_ASSERT(p != NULL);
	pmap_t pm = user_space_with(p, VM_PROT_READ | VM_PROT_EXECUTE);

	KT_EXPECT_PAGE_FAULT(test_call, TEST_UVA, PF_P | PF_I);
	leave_user_space(pm);
	vm_page_free(p);
}

KTEST(protection, stack_guard_page_is_unmapped)
{
	KT_EXPECT_PAGE_FAULT(test_read, boot_stack_guard, 0);
	KT_EXPECT_PAGE_FAULT(test_read, boot_stack_guard + PAGE_SIZE - 8, 0);
}

KTEST(protection, page_zero_is_unmapped)
{
	KT_EXPECT_PAGE_FAULT(test_read, 0, 0);
	KT_EXPECT_PAGE_FAULT(test_write, 8, PF_W);
}

KTEST(protection, control_registers_enforce_protection)
{
	KT_EXPECT(read_cr0() & CR0_WP);
	KT_EXPECT(rdmsr(MSR_EFER) & EFER_NXE);
	KT_EXPECT(!cpu_features.smep || (read_cr4() & CR4_SMEP));
	KT_EXPECT(!cpu_features.smap || (read_cr4() & CR4_SMAP));
	KT_EXPECT(!cpu_features.umip || (read_cr4() & CR4_UMIP));
}

KTEST(protection, audit_finds_nothing_after_boot)
{
	struct pmap_audit a;

	pmap_audit(kernel_pmap, &a);
	KT_EXPECT(a.leaves > 100);
	KT_EXPECT_EQ(a.writable_and_executable, 0);
	KT_EXPECT_EQ(a.aliased_write_execute, 0);
	KT_EXPECT_EQ(a.user_kernel_pages, 0);
}

KTEST(protection, audit_finds_planted_violations)
{
	struct vm_page *p = vm_page_alloc(VM_PAGE_KERNEL, 0);
	struct pmap_audit a;

	KT_ASSERT(p != NULL);
	/* writable and executable at once (and, through the direct map, an alias) */
	KT_ASSERT_EQ(pmap_kenter(TEST_KVA, vm_page_to_phys(p), VM_PROT_ALL), KERN_SUCCESS);
	pmap_audit(kernel_pmap, &a);
	KT_EXPECT_EQ(a.writable_and_executable, 1);
	KT_EXPECT_EQ(a.aliased_write_execute, 1);
	pmap_kremove(TEST_KVA);
	/* executable only, but the direct map still writes the same frame */
	KT_ASSERT_EQ(pmap_kenter(TEST_KVA, vm_page_to_phys(p), VM_PROT_READ | VM_PROT_EXECUTE),
	             KERN_SUCCESS);
	pmap_audit(kernel_pmap, &a);
	KT_EXPECT_EQ(a.writable_and_executable, 0);
	KT_EXPECT_EQ(a.aliased_write_execute, 1);
	pmap_kremove(TEST_KVA);
	pmap_audit(kernel_pmap, &a);
	KT_EXPECT_EQ(a.aliased_write_execute, 0);
	vm_page_free(p);
}
