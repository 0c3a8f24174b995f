/*
 * copyin, copyout and copyinstr: bad user addresses of every kind give
 * KERN_INVALID_ADDRESS, never a panic, and good ones copy.
 */
#include "kern/copy.h"
#include "lib/string.h"
#include "tests/kern/vm_test.h"

static pmap_t space;
static struct vm_page *page;

/* A user address space with one RW page at TEST_UVA; the page after it is unmapped. */
static void enter_user_space(void)
{
	page = vm_page_alloc(VM_PAGE_KERNEL, VM_PAGE_ZERO);
	space = pmap_create();
	if (!page || !space || pmap_enter(space, TEST_UVA, page, VM_PROT_READ | VM_PROT_WRITE, 0))
		KT_FAIL("no memory for a user address space");
	pmap_activate(space);
}

static void leave_user_space(void)
{
	pmap_activate(kernel_pmap);
	pmap_destroy(space);
	vm_page_free(page);
}

KTEST(copy, round_trip_through_a_user_page)
{
	char out[64] = "through user space and back", in[64] = { 0 };

	enter_user_space();
	KT_EXPECT_EQ(copyout(out, (void *)(TEST_UVA + 100), sizeof(out)), KERN_SUCCESS);
	KT_EXPECT_EQ(copyin((void *)(TEST_UVA + 100), in, sizeof(in)), KERN_SUCCESS);
	KT_EXPECT_STREQ(in, out);
	KT_EXPECT(memcmp((char *)pmap_phys_to_virt(vm_page_to_phys(page)) + 100, out, 64) == 0);
	leave_user_space();
}

KTEST(copy, bad_addresses_are_refused)
{
	char buf[16] = "unchanged";
	static const uintptr_t bad[] = {
		0xffffffff80200000ul,          /* kernel */
		0xffff800000001000ul,          /* kernel direct map */
		0x0000800000000000ul,          /* first non-canonical */
		0x00007ffffffffff8ul,          /* ends past user space */
		0xfffffffffffffff8ul,          /* wraps */
	};

	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		KT_EXPECT_EQ(copyin((void *)bad[i], buf, sizeof(buf)), KERN_INVALID_ADDRESS);
		KT_EXPECT_EQ(copyout(buf, (void *)bad[i], sizeof(buf)), KERN_INVALID_ADDRESS);
	}
	KT_EXPECT_STREQ(buf, "unchanged");
}

KTEST(copy, unmapped_user_pages_fault_into_an_error)
{
	char buf[32] = { 0 };

	enter_user_space();
	/* wholly unmapped, and starting mapped but running into the unmapped page */
	KT_EXPECT_EQ(copyin((void *)(TEST_UVA + 2 * PAGE_SIZE), buf, 8), KERN_INVALID_ADDRESS);
	KT_EXPECT_EQ(copyout(buf, (void *)(TEST_UVA + PAGE_SIZE - 8), 32), KERN_INVALID_ADDRESS);
	KT_EXPECT_EQ(copyin((void *)0x1000, buf, 8), KERN_INVALID_ADDRESS);
	/* SMAP is closed again after a faulting copy */
	KT_EXPECT_EQ(read_rflags() & RFLAGS_AC, 0);
	leave_user_space();
}

KTEST(copy, strings_stop_at_nul_length_or_a_hole)
{
	char *user;
	char buf[16];
	size_t done = 0;

	enter_user_space();
	user = pmap_phys_to_virt(vm_page_to_phys(page));
	memcpy(user, "mica", 5);
	KT_EXPECT_EQ(copyinstr((void *)TEST_UVA, buf, sizeof(buf), &done), KERN_SUCCESS);
	KT_EXPECT_EQ(done, 5);
	KT_EXPECT_STREQ(buf, "mica");
	KT_EXPECT_EQ(copyinstr((void *)TEST_UVA, buf, 3, &done), KERN_NO_SPACE);
	KT_EXPECT_EQ(done, 3);
	/* no NUL before the end of the page: the next, unmapped page faults */
	memset(user + PAGE_SIZE - 4, 'x', 4);
	KT_EXPECT_EQ(copyinstr((void *)(TEST_UVA + PAGE_SIZE - 4), buf, sizeof(buf), &done),
	             KERN_INVALID_ADDRESS);
	KT_EXPECT_EQ(copyinstr((void *)0x0000800000000000ul, buf, sizeof(buf), &done),
	             KERN_INVALID_ADDRESS);
	leave_user_space();
}
