/*
 * vm_write from user space into a child made with task_create, row by row
 * of docs/vm_write.md: every size the issue names (1, 4095, 4096, 4097, two
 * pages, 16 MiB) at aligned and unaligned addresses and data, each read
 * back with vm_read together with the bytes around it; every refusal with
 * its exact code and the target unchanged.
 *
 * The child's memory, from CHILD_BASE:
 *   R  read/write, R_SIZE      | P  read-only page | H  hole
 *   Q  read-only page          | S  read/write page | H2 hole
 *   M  read/write page whose maximum protection is read-only
 * R and S start out holding the pattern of `original` (at the same offsets).
 */
#include <ktap.h>
#include <string.h>

#include <mach/mach.h>

#define PAGE       4096ul
#define MIB        (1024ul * 1024)
#define CHILD_BASE 0x10000000ul
#define R_SIZE     (16 * MIB + 2 * PAGE)
#define P_ADDR     (CHILD_BASE + R_SIZE)
#define H_ADDR     (P_ADDR + PAGE)
#define Q_ADDR     (H_ADDR + PAGE)
#define S_ADDR     (Q_ADDR + PAGE)
#define H2_ADDR    (S_ADDR + PAGE)
#define M_ADDR     (H2_ADDR + PAGE)
#define USER_TOP   0x0000800000000000ul

static task_t child;
static vm_address_t original;      /* R's pattern, R_SIZE + PAGE bytes (S's page after it) */
static vm_address_t data;          /* what is written: another pattern, R_SIZE bytes */

/* Maps size bytes at the fixed address addr in the child, with protection prot (max: maxprot). */
static kern_return_t child_region(vm_address_t addr, vm_size_t size, vm_prot_t prot,
				  vm_prot_t maxprot)
{
	kern_return_t kr = vm_allocate(child, &addr, size, VM_FLAGS_FIXED);

	if (kr == KERN_SUCCESS && maxprot != VM_PROT_ALL)
		kr = vm_protect(child, addr, size, 1, maxprot);
	if (kr == KERN_SUCCESS && prot != VM_PROT_DEFAULT)
		kr = vm_protect(child, addr, size, 0, prot);
	return kr;
}

static void a_child_is_set_out(void)
{
	KT_ASSERT_EQ(task_create(mach_task_self(), 0, &child), KERN_SUCCESS);
	KT_ASSERT_EQ(vm_allocate(mach_task_self(), &original, R_SIZE + PAGE, VM_FLAGS_ANYWHERE),
		     KERN_SUCCESS);
	KT_ASSERT_EQ(vm_allocate(mach_task_self(), &data, R_SIZE, VM_FLAGS_ANYWHERE), KERN_SUCCESS);
	ktap_fill((void *)original, R_SIZE + PAGE, 1);
	ktap_fill((void *)data, R_SIZE, 2);
	KT_ASSERT_EQ(child_region(CHILD_BASE, R_SIZE, VM_PROT_DEFAULT, VM_PROT_ALL), KERN_SUCCESS);
	KT_ASSERT_EQ(child_region(P_ADDR, PAGE, VM_PROT_READ, VM_PROT_ALL), KERN_SUCCESS);
	KT_ASSERT_EQ(child_region(Q_ADDR, PAGE, VM_PROT_READ, VM_PROT_ALL), KERN_SUCCESS);
	KT_ASSERT_EQ(child_region(S_ADDR, PAGE, VM_PROT_DEFAULT, VM_PROT_ALL), KERN_SUCCESS);
	KT_ASSERT_EQ(child_region(M_ADDR, PAGE, VM_PROT_READ, VM_PROT_READ), KERN_SUCCESS);
	KT_ASSERT_EQ(vm_write(child, CHILD_BASE, original, R_SIZE), KERN_SUCCESS);
	KT_ASSERT_EQ(vm_write(child, S_ADDR, original + R_SIZE, PAGE), KERN_SUCCESS);
}

/* Does the child hold expect's len bytes at addr?  Read back with vm_read. */
static bool child_holds(vm_address_t addr, const void *expect, vm_size_t len)
{
	vm_offset_t got = 0;
	mach_msg_type_number_t count = 0;
	bool same;

	if (vm_read(child, addr, len, &got, &count) != KERN_SUCCESS || count != len)
		return false;
	same = memcmp((const void *)got, expect, len) == 0;
	vm_deallocate(mach_task_self(), got, count);
	return same;
}

/* Is R (and S) as it started, in the window [from, to) of offsets into R? */
static bool r_untouched(vm_size_t from, vm_size_t to)
{
	return child_holds(CHILD_BASE + from, (const void *)(original + from), to - from);
}

/*
 * Writes size bytes of data (from offset data_off) at offset off of R, and
 * checks the bytes landed and a page on each side did not change; then
 * puts the original bytes back.
 */
static unsigned write_and_check(vm_size_t off, vm_size_t size, vm_size_t data_off)
{
	vm_size_t before = off < PAGE ? 0 : off - PAGE;
	vm_size_t after = off + size + PAGE > R_SIZE ? R_SIZE : off + size + PAGE;
	unsigned wrong = 0;

	wrong += vm_write(child, CHILD_BASE + off, data + data_off, size) != KERN_SUCCESS;
	wrong += !child_holds(CHILD_BASE + off, (const void *)(data + data_off), size);
	wrong += !r_untouched(before, off);
	wrong += !r_untouched(off + size, after);
	wrong += vm_write(child, CHILD_BASE + off, original + off, size) != KERN_SUCCESS;
	return wrong;
}

/* Rows 2 and 12: every size the issue names, aligned and not, land exactly; the rights stay. */
static void every_size_and_alignment_lands_exactly(void)
{
	static const vm_size_t sizes[] = { 1, 4095, 4096, 4097, 2 * PAGE };
	static const struct { vm_size_t off, data_off; } at[] = {
		{ 0, 0 }, { 1, 0 }, { 0, 3 }, { 4093, 5 }, { 3 * PAGE, 2 * PAGE },
	};

	for (unsigned s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++)
		for (unsigned a = 0; a < sizeof(at) / sizeof(at[0]); a++)
			KT_EXPECT_EQ(write_and_check(at[a].off, sizes[s], at[a].data_off), 0);
}

static void sixteen_mib_aligned_and_not(void)
{
	KT_EXPECT_EQ(write_and_check(0, 16 * MIB, 0), 0);
	KT_EXPECT_EQ(write_and_check(PAGE + 7, 16 * MIB, 11), 0);
}

/* vm_region's protection, maximum and inheritance at addr in the child. */
static bool child_rights(vm_address_t addr, vm_prot_t *prot, vm_prot_t *max, vm_inherit_t *inh)
{
	struct vm_region_basic_info_64 info;
	mach_msg_type_number_t count = VM_REGION_BASIC_INFO_COUNT_64;
	vm_size_t size;
	mach_port_t object;

	if (vm_region(child, &addr, &size, VM_REGION_BASIC_INFO_64, (vm_region_info_t)&info,
		      &count, &object) != KERN_SUCCESS)
		return false;
	*prot = info.protection;
	*max = info.max_protection;
	*inh = info.inheritance;
	return true;
}

static void a_write_changes_no_rights(void)
{
	vm_prot_t p0, m0, p1, m1;
	vm_inherit_t i0, i1;

	KT_ASSERT(child_rights(CHILD_BASE, &p0, &m0, &i0));
	KT_EXPECT_EQ(write_and_check(PAGE, 3 * PAGE, 0), 0);
	KT_ASSERT(child_rights(CHILD_BASE, &p1, &m1, &i1));
	KT_EXPECT(p0 == p1 && m0 == m1 && i0 == i1);
	KT_EXPECT_EQ(p1, VM_PROT_DEFAULT);
}

/* Rows 1 and 4-8: each refusal's exact code, and nothing in the child changed. */
static void refusals_have_their_codes_and_change_nothing(void)
{
	vm_address_t d = data;

	KT_EXPECT_EQ(vm_write(child, H_ADDR, d, 0), KERN_SUCCESS);                   /* row 1 */
	KT_EXPECT_EQ(vm_write(child, 0, d, 0), KERN_SUCCESS);
	KT_EXPECT_EQ(vm_write(child, P_ADDR, d, 1), KERN_PROTECTION_FAILURE);        /* row 6 */
	KT_EXPECT_EQ(vm_write(child, M_ADDR + 9, d, 100), KERN_PROTECTION_FAILURE);
	KT_EXPECT_EQ(vm_write(child, H_ADDR, d, PAGE), KERN_INVALID_ADDRESS);        /* row 5 */
	KT_EXPECT_EQ(vm_write(child, 0x1000, d, 8), KERN_INVALID_ADDRESS);
	KT_EXPECT_EQ(vm_write(child, USER_TOP - PAGE, d, 2 * PAGE), KERN_INVALID_ADDRESS); /* row 4 */
	KT_EXPECT_EQ(vm_write(child, ~0ul - PAGE + 1, d, 2 * PAGE), KERN_INVALID_ADDRESS);
	/* row 7: the first problem in address order decides */
	KT_EXPECT_EQ(vm_write(child, P_ADDR - 10, d, 20), KERN_PROTECTION_FAILURE);  /* [RW][RO] */
	KT_EXPECT_EQ(vm_write(child, H_ADDR - 10, d, 20), KERN_PROTECTION_FAILURE);  /* [RO][hole] */
	KT_EXPECT_EQ(vm_write(child, Q_ADDR - 10, d, 20), KERN_INVALID_ADDRESS);     /* [hole][RO] */
	KT_EXPECT_EQ(vm_write(child, H2_ADDR - 10, d, 20), KERN_INVALID_ADDRESS);    /* [RW][hole] */
	KT_EXPECT_EQ(vm_write(child, R_SIZE - 3 * PAGE + CHILD_BASE, d, 4 * PAGE),
		     KERN_PROTECTION_FAILURE);   /* whole pages too: R's last three, then P */
	/* row 8: none of it landed */
	KT_EXPECT(r_untouched(R_SIZE - 4 * PAGE, R_SIZE));
	KT_EXPECT(child_holds(S_ADDR, (const void *)(original + R_SIZE), PAGE));
	KT_EXPECT(child_holds(P_ADDR, (const char[PAGE]){ 0 }, PAGE));
}

/* Rows 10 and 11: a copied page goes private on write, a shared one is written for all. */
static void copied_pages_go_private_shared_pages_do_not(void)
{
	vm_address_t copied = 0, shared = 0;
	task_t kid;

	KT_ASSERT_EQ(vm_allocate(mach_task_self(), &copied, PAGE, VM_FLAGS_ANYWHERE), KERN_SUCCESS);
	KT_ASSERT_EQ(vm_allocate(mach_task_self(), &shared, PAGE, VM_FLAGS_ANYWHERE), KERN_SUCCESS);
	strcpy((char *)copied, "the parent's copy");
	strcpy((char *)shared, "the parent's share");
	KT_ASSERT_EQ(vm_inherit(mach_task_self(), shared, PAGE, VM_INHERIT_SHARE), KERN_SUCCESS);
	KT_ASSERT_EQ(task_create(mach_task_self(), 1, &kid), KERN_SUCCESS);
	KT_EXPECT_EQ(vm_write(kid, copied, (pointer_t)"the child's", 12), KERN_SUCCESS);
	KT_EXPECT_EQ(vm_write(kid, shared, (pointer_t)"both see it", 12), KERN_SUCCESS);
	KT_EXPECT_STREQ((const char *)copied, "the parent's copy");
	KT_EXPECT_STREQ((const char *)shared, "both see it");
	KT_EXPECT_EQ(task_terminate(kid), KERN_SUCCESS);
	KT_EXPECT_EQ(mach_port_deallocate(mach_task_self(), kid), KERN_SUCCESS);
	KT_EXPECT_EQ(vm_deallocate(mach_task_self(), copied, PAGE), KERN_SUCCESS);
	KT_EXPECT_EQ(vm_deallocate(mach_task_self(), shared, PAGE), KERN_SUCCESS);
}

/* Writes of every kind into children, then their ends: nothing is left in the kernel. */
static void children_written_and_ended_leave_nothing(void)
{
	struct mica_vm_stats before, after;

	KT_EXPECT_EQ(task_terminate(child), KERN_SUCCESS);
	KT_EXPECT_EQ(mach_port_deallocate(mach_task_self(), child), KERN_SUCCESS);
	KT_ASSERT_EQ(host_vm_stats(mach_host_self(), &before), KERN_SUCCESS);
	for (int i = 0; i < 3; i++) {
		KT_ASSERT_EQ(task_create(mach_task_self(), 0, &child), KERN_SUCCESS);
		KT_ASSERT_EQ(child_region(CHILD_BASE, 4 * PAGE, VM_PROT_DEFAULT, VM_PROT_ALL),
			     KERN_SUCCESS);
		KT_EXPECT_EQ(vm_write(child, CHILD_BASE, data, 4 * PAGE), KERN_SUCCESS);
		KT_EXPECT_EQ(vm_write(child, CHILD_BASE + 5, data + 1, 5000), KERN_SUCCESS);
		KT_EXPECT_EQ(vm_write(child, CHILD_BASE + 3 * PAGE, data, 2 * PAGE),
			     KERN_INVALID_ADDRESS);
		KT_EXPECT_EQ(task_terminate(child), KERN_SUCCESS);
		KT_EXPECT_EQ(mach_port_deallocate(mach_task_self(), child), KERN_SUCCESS);
	}
	KT_ASSERT_EQ(host_vm_stats(mach_host_self(), &after), KERN_SUCCESS);
	KT_EXPECT_SAME_VM_STATS(before, after);
	KT_EXPECT_EQ(vm_deallocate(mach_task_self(), original, R_SIZE + PAGE), KERN_SUCCESS);
	KT_EXPECT_EQ(vm_deallocate(mach_task_self(), data, R_SIZE), KERN_SUCCESS);
}

int main(void)
{
	static const struct ktap_case cases[] = {
		KTAP_CASE(a_child_is_set_out),
		KTAP_CASE(every_size_and_alignment_lands_exactly),
		KTAP_CASE(sixteen_mib_aligned_and_not),
		KTAP_CASE(a_write_changes_no_rights),
		KTAP_CASE(refusals_have_their_codes_and_change_nothing),
		KTAP_CASE(copied_pages_go_private_shared_pages_do_not),
		KTAP_CASE(children_written_and_ended_leave_nothing),
	};

	return ktap_run(cases, sizeof cases / sizeof cases[0]);
}
