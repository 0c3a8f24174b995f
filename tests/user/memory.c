/*
 * A task's memory through the system calls: vm_allocate, vm_deallocate
 * and vm_protect on the task's own map, malloc on top of them, and the
 * kernel's answers to bad arguments and bad pointers -- an error code,
 * never a crash.
 *
 * Whether a page is mapped is tested without touching it: console_write
 * from an unmapped page answers KERN_INVALID_ADDRESS where a load would
 * fault and end the task.
 */
#include <ktap.h>
#include <stdlib.h>
#include <string.h>

#include <mica/mica.h>

#define NULL_GUARD (64ul << 10)		/* VM_FLAGS_ANYWHERE never goes below it */
#define FIXED_ADDR 0x40000000ul		/* 1 GiB: far from the program, the heap and the stack */

/* Addresses no user pointer may reach (arch/x86_64/layout.h). */
#define KERNEL_IMAGE 0xffffffff80200000ul	/* the kernel's code */
#define DIRECT_MAP 0xffff800000001000ul		/* physical page 1, through the direct map */
#define NON_CANONICAL 0x0000800000000000ul	/* the first address above user space */
#define NON_CANONICAL_HIGH 0x8000000000000000ul

/* A line that may reach the console: a KTAP diagnostic, harmless in the output. */
static const char note[] = "# console_write from the test's memory\n";

/* True when console_write can read len bytes at addr: they are mapped and readable. */
static bool readable(vm_address_t addr, size_t len)
{
	return mica_console_write((const char *)addr, len) == KERN_SUCCESS;
}

static void allocate_anywhere(void)
{
	vm_address_t addr = 0;
	size_t size = 3 * PAGE_SIZE, nonzero = 0;

	KT_ASSERT_EQ(mica_vm_allocate(&addr, size, VM_FLAGS_ANYWHERE), KERN_SUCCESS);
	KT_EXPECT(addr >= NULL_GUARD);
	KT_EXPECT_EQ(addr % PAGE_SIZE, 0);

	/* fresh memory reads as zeros, then holds what is written */
	for (size_t i = 0; i < size; i++)
		nonzero += ((unsigned char *)addr)[i] != 0;
	KT_EXPECT_EQ(nonzero, 0);
	ktap_fill((void *)addr, size, 1);
	KT_EXPECT_EQ(ktap_count_wrong((void *)addr, size, 1), 0);
	KT_EXPECT_EQ(mica_vm_deallocate(addr, size), KERN_SUCCESS);
}

/* A size that is not a whole number of pages gets whole pages. */
static void allocate_rounds_up_to_pages(void)
{
	vm_address_t addr = 0;

	KT_ASSERT_EQ(mica_vm_allocate(&addr, PAGE_SIZE + 1, VM_FLAGS_ANYWHERE), KERN_SUCCESS);
	ktap_fill((void *)addr, 2 * PAGE_SIZE, 2);
	KT_EXPECT_EQ(ktap_count_wrong((void *)addr, 2 * PAGE_SIZE, 2), 0);
	KT_EXPECT_EQ(mica_vm_deallocate(addr, 2 * PAGE_SIZE), KERN_SUCCESS);
}

/* Many allocations at once, whatever *addr held before: none in the null guard. */
static void anywhere_stays_above_null_guard(void)
{
	vm_address_t addrs[64];
	unsigned low = 0;

	for (unsigned i = 0; i < 64; i++) {
		addrs[i] = i * PAGE_SIZE;	/* ANYWHERE ignores it */
		KT_ASSERT_EQ(mica_vm_allocate(&addrs[i], PAGE_SIZE, VM_FLAGS_ANYWHERE),
			     KERN_SUCCESS);
		low += addrs[i] < NULL_GUARD;
	}
	KT_EXPECT_EQ(low, 0);
	for (unsigned i = 0; i < 64; i++)
		KT_EXPECT_EQ(mica_vm_deallocate(addrs[i], PAGE_SIZE), KERN_SUCCESS);
}

static void allocate_fixed(void)
{
	vm_address_t addr = FIXED_ADDR;

	KT_ASSERT_EQ(mica_vm_allocate(&addr, 2 * PAGE_SIZE, VM_FLAGS_FIXED), KERN_SUCCESS);
	KT_EXPECT_EQ(addr, FIXED_ADDR);
	ktap_fill((void *)addr, 2 * PAGE_SIZE, 3);
	KT_EXPECT_EQ(ktap_count_wrong((void *)addr, 2 * PAGE_SIZE, 3), 0);

	/* the range is taken now, wholly or in part */
	addr = FIXED_ADDR;
	KT_EXPECT_EQ(mica_vm_allocate(&addr, PAGE_SIZE, VM_FLAGS_FIXED), KERN_NO_SPACE);
	addr = FIXED_ADDR - PAGE_SIZE;
	KT_EXPECT_EQ(mica_vm_allocate(&addr, 2 * PAGE_SIZE, VM_FLAGS_FIXED), KERN_NO_SPACE);
	KT_EXPECT_EQ(ktap_count_wrong((void *)FIXED_ADDR, 2 * PAGE_SIZE, 3), 0);

	/* and free again after vm_deallocate */
	KT_EXPECT_EQ(mica_vm_deallocate(FIXED_ADDR, 2 * PAGE_SIZE), KERN_SUCCESS);
	addr = FIXED_ADDR;
	KT_EXPECT_EQ(mica_vm_allocate(&addr, 2 * PAGE_SIZE, VM_FLAGS_FIXED), KERN_SUCCESS);
	KT_EXPECT_EQ(mica_vm_deallocate(FIXED_ADDR, 2 * PAGE_SIZE), KERN_SUCCESS);
}

/* FIXED in the null guard, or outside user space, is refused. */
static void fixed_outside_user_space(void)
{
	static const vm_address_t bad[] = {
		0, PAGE_SIZE, NULL_GUARD - PAGE_SIZE, NON_CANONICAL, KERNEL_IMAGE,
	};

	for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		vm_address_t addr = bad[i];

		KT_EXPECT_EQ(mica_vm_allocate(&addr, PAGE_SIZE, VM_FLAGS_FIXED),
			     KERN_INVALID_ADDRESS);
		KT_EXPECT_EQ(addr, bad[i]);
	}
	/* a range that starts below the guard and ends above it */
	vm_address_t addr = NULL_GUARD - PAGE_SIZE;
	KT_EXPECT_EQ(mica_vm_allocate(&addr, 2 * PAGE_SIZE, VM_FLAGS_FIXED), KERN_INVALID_ADDRESS);
}

static void deallocate_unmaps(void)
{
	vm_address_t addr = 0;

	KT_ASSERT_EQ(mica_vm_allocate(&addr, 3 * PAGE_SIZE, VM_FLAGS_ANYWHERE), KERN_SUCCESS);
	memcpy((void *)addr, note, sizeof note - 1);
	KT_EXPECT(readable(addr, sizeof note - 1));

	/* a hole in the middle: the pages on either side stay */
	ktap_fill((void *)(addr + 2 * PAGE_SIZE), PAGE_SIZE, 4);
	KT_EXPECT_EQ(mica_vm_deallocate(addr + PAGE_SIZE, PAGE_SIZE), KERN_SUCCESS);
	KT_EXPECT(!readable(addr + PAGE_SIZE, 1));
	KT_EXPECT_EQ(mica_vm_protect(addr + PAGE_SIZE, PAGE_SIZE, false, VM_PROT_READ),
		     KERN_INVALID_ADDRESS);
	KT_EXPECT(readable(addr, sizeof note - 1));
	KT_EXPECT_EQ(ktap_count_wrong((void *)(addr + 2 * PAGE_SIZE), PAGE_SIZE, 4), 0);

	/* the rest, hole included: deallocating what is not mapped is no error */
	KT_EXPECT_EQ(mica_vm_deallocate(addr, 3 * PAGE_SIZE), KERN_SUCCESS);
	KT_EXPECT(!readable(addr, 1));
	KT_EXPECT(!readable(addr + 2 * PAGE_SIZE, 1));

	/* the range is free for FIXED again */
	vm_address_t again = addr;
	KT_EXPECT_EQ(mica_vm_allocate(&again, 3 * PAGE_SIZE, VM_FLAGS_FIXED), KERN_SUCCESS);
	KT_EXPECT_EQ(mica_vm_deallocate(addr, 3 * PAGE_SIZE), KERN_SUCCESS);
}

/*
 * A read-only page still reads (and console_write reads it), but the
 * kernel will not store into it on the program's behalf either.
 */
static void protect_read_only(void)
{
	vm_address_t addr = 0;

	KT_ASSERT_EQ(mica_vm_allocate(&addr, 2 * PAGE_SIZE, VM_FLAGS_ANYWHERE), KERN_SUCCESS);
	memcpy((void *)addr, note, sizeof note - 1);
	ktap_fill((void *)(addr + PAGE_SIZE), PAGE_SIZE, 5);
	KT_ASSERT_EQ(mica_vm_protect(addr, 2 * PAGE_SIZE, false, VM_PROT_READ), KERN_SUCCESS);
	KT_EXPECT_EQ(memcmp((void *)addr, note, sizeof note - 1), 0);
	KT_EXPECT_EQ(ktap_count_wrong((void *)(addr + PAGE_SIZE), PAGE_SIZE, 5), 0);
	KT_EXPECT(readable(addr, sizeof note - 1));

	/* vm_allocate's result would go into the read-only page */
	vm_address_t *ro = (vm_address_t *)(addr + PAGE_SIZE);
	vm_address_t before = *ro;
	KT_EXPECT_EQ(mica_vm_allocate(ro, PAGE_SIZE, VM_FLAGS_ANYWHERE), KERN_INVALID_ADDRESS);
	KT_EXPECT_EQ(*ro, before);

	/* the maximum is still VM_PROT_ALL, so writing can come back */
	KT_ASSERT_EQ(mica_vm_protect(addr, 2 * PAGE_SIZE, false, VM_PROT_DEFAULT), KERN_SUCCESS);
	ktap_fill((void *)addr, PAGE_SIZE, 6);
	KT_EXPECT_EQ(ktap_count_wrong((void *)addr, PAGE_SIZE, 6), 0);
	KT_EXPECT_EQ(mica_vm_deallocate(addr, 2 * PAGE_SIZE), KERN_SUCCESS);
}

/*
 * Lowering the maximum is for good: neither the rights nor, as in Mach,
 * the maximum itself can be raised above it again.
 */
static void protect_maximum(void)
{
	vm_address_t addr = 0;

	KT_ASSERT_EQ(mica_vm_allocate(&addr, PAGE_SIZE, VM_FLAGS_ANYWHERE), KERN_SUCCESS);
	ktap_fill((void *)addr, PAGE_SIZE, 7);
	KT_EXPECT_EQ(mica_vm_protect(addr, PAGE_SIZE, true, VM_PROT_READ), KERN_SUCCESS);
	KT_EXPECT_EQ(mica_vm_protect(addr, PAGE_SIZE, false, VM_PROT_DEFAULT),
		     KERN_PROTECTION_FAILURE);
	KT_EXPECT_EQ(mica_vm_protect(addr, PAGE_SIZE, true, VM_PROT_DEFAULT),
		     KERN_PROTECTION_FAILURE);
	KT_EXPECT_EQ(mica_vm_protect(addr, PAGE_SIZE, false, VM_PROT_READ), KERN_SUCCESS);
	KT_EXPECT_EQ(ktap_count_wrong((void *)addr, PAGE_SIZE, 7), 0);
	KT_EXPECT_EQ(mica_vm_deallocate(addr, PAGE_SIZE), KERN_SUCCESS);
}

static void bad_arguments(void)
{
	vm_address_t addr = FIXED_ADDR;

	KT_EXPECT_EQ(mica_vm_allocate(&addr, PAGE_SIZE, 0x100), KERN_INVALID_ARGUMENT);
	KT_EXPECT_EQ(mica_vm_allocate(&addr, PAGE_SIZE, VM_FLAGS_ANYWHERE | 0x8),
		     KERN_INVALID_ARGUMENT);
	KT_EXPECT_EQ(mica_vm_allocate(&addr, 0, 0x100), KERN_INVALID_ARGUMENT);	/* even for nothing */
	KT_EXPECT_EQ(addr, FIXED_ADDR);
	/* ranges whose end wraps past the top of the address space */
	KT_EXPECT_EQ(mica_vm_allocate(&addr, -PAGE_SIZE, VM_FLAGS_FIXED), KERN_INVALID_ARGUMENT);
	KT_EXPECT_EQ(mica_vm_deallocate(FIXED_ADDR, -PAGE_SIZE), KERN_INVALID_ARGUMENT);
	KT_EXPECT_EQ(mica_vm_deallocate(-PAGE_SIZE, 2 * PAGE_SIZE), KERN_INVALID_ARGUMENT);
	KT_EXPECT_EQ(mica_vm_protect(FIXED_ADDR, -PAGE_SIZE, false, VM_PROT_READ),
		     KERN_INVALID_ARGUMENT);
	/* rights that do not exist */
	KT_EXPECT_EQ(mica_vm_protect(FIXED_ADDR, PAGE_SIZE, false, 0x10), KERN_INVALID_ARGUMENT);
	KT_EXPECT_EQ(mica_vm_protect(FIXED_ADDR, 0, false, 0x10), KERN_INVALID_ARGUMENT);
	/* no memory at all */
	addr = 0;
	KT_EXPECT_EQ(mica_vm_allocate(&addr, NON_CANONICAL, VM_FLAGS_ANYWHERE), KERN_NO_SPACE);
}

/*
 * Returns the end of a mapped page that has a hole after it, its last
 * bytes newlines: a range that starts there and runs on can only fault,
 * and should the kernel print the part it could read first, it prints
 * only blank lines.
 */
static vm_address_t hole_after_page(void)
{
	vm_address_t addr = 0;

	if (mica_vm_allocate(&addr, 2 * PAGE_SIZE, VM_FLAGS_ANYWHERE) != KERN_SUCCESS ||
	    mica_vm_deallocate(addr + PAGE_SIZE, PAGE_SIZE) != KERN_SUCCESS)
		return 0;
	memset((void *)(addr + PAGE_SIZE - 8), '\n', 8);
	return addr + PAGE_SIZE;
}

/*
 * Pointers the kernel must refuse without following: into the kernel,
 * into nothing, off the canonical addresses.
 */
static void bad_pointers(void)
{
	static const vm_address_t bad[] = {
		KERNEL_IMAGE, DIRECT_MAP, 0, PAGE_SIZE, NULL_GUARD - 8, FIXED_ADDR,
		NON_CANONICAL - 4, NON_CANONICAL, NON_CANONICAL_HIGH,
	};

	for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		KT_EXPECT_EQ(mica_console_write((const char *)bad[i], 8), KERN_INVALID_ADDRESS);
		KT_EXPECT_EQ(mica_vm_allocate((vm_address_t *)bad[i], PAGE_SIZE,
					      VM_FLAGS_ANYWHERE), KERN_INVALID_ADDRESS);
	}
}

/* Ranges that start in a mapped page and run into a hole, past user space, or wrap. */
static void bad_ranges(void)
{
	vm_address_t hole = hole_after_page();

	KT_ASSERT(hole != 0);
	KT_EXPECT_EQ(mica_console_write((const char *)(hole - 8), 16), KERN_INVALID_ADDRESS);
	KT_EXPECT_EQ(mica_console_write((const char *)(hole - 8), NON_CANONICAL),
		     KERN_INVALID_ADDRESS);
	KT_EXPECT_EQ(mica_console_write((const char *)(hole - 8), (size_t)-1),
		     KERN_INVALID_ADDRESS);
	KT_EXPECT_EQ(mica_vm_allocate((vm_address_t *)(hole - 4), PAGE_SIZE, VM_FLAGS_ANYWHERE),
		     KERN_INVALID_ADDRESS);
	KT_EXPECT_EQ(mica_vm_deallocate(hole - PAGE_SIZE, PAGE_SIZE), KERN_SUCCESS);
}

static void unknown_system_call(void)
{
	KT_EXPECT_EQ(mica_syscall(SYS_COUNT, 0, 0, 0, 0), KERN_INVALID_ARGUMENT);
	KT_EXPECT_EQ(mica_syscall(1000, 0, 0, 0, 0), KERN_INVALID_ARGUMENT);
	KT_EXPECT_EQ(mica_syscall(-1, 0, 0, 0, 0), KERN_INVALID_ARGUMENT);
}

/* Sizes around the allocator's edges: its alignment, a page, its arena. */
static const size_t sizes[] = {
	0, 1, 2, 7, 15, 16, 17, 31, 32, 33, 100, 255, 256, 1000, 4080, 4095, 4096, 4097,
	10000, 65535, 65536, 65537, 100000, 300000,
};
#define NSIZES (sizeof sizes / sizeof sizes[0])

/*
 * Allocates every size twice over and fills each block with its own
 * pattern; then, three times, replaces half the blocks with new ones.
 * Every block is checked after all are written, so an overlap shows.
 */
static void malloc_many_sizes(void)
{
	void *p[2 * NSIZES];
	unsigned seed[2 * NSIZES];
	unsigned misaligned = 0;
	size_t wrong = 0;

	for (unsigned round = 0; round < 4; round++) {
		for (unsigned i = 0; i < 2 * NSIZES; i++) {
			if (round > 0 && i % 2 != round % 2)
				continue;
			if (round > 0)
				free(p[i]);
			p[i] = malloc(sizes[i % NSIZES]);
			KT_ASSERT(p[i] != NULL);
			misaligned += (uintptr_t)p[i] % 16 != 0;
			seed[i] = round * 100 + i;
			ktap_fill(p[i], sizes[i % NSIZES], seed[i]);
		}
		for (unsigned i = 0; i < 2 * NSIZES; i++)
			wrong += ktap_count_wrong(p[i], sizes[i % NSIZES], seed[i]);
	}
	for (unsigned i = 0; i < 2 * NSIZES; i++)
		free(p[i]);
	KT_EXPECT_EQ(misaligned, 0);
	KT_EXPECT_EQ(wrong, 0);
}

static void calloc_zeroes(void)
{
	unsigned char *p = malloc(1000), *q;
	size_t nonzero = 0;

	KT_ASSERT(p != NULL);
	memset(p, 0xaa, 1000);
	free(p);
	/* likely the same block, holding 0xaa */
	q = calloc(10, 100);
	KT_ASSERT(q != NULL);
	for (size_t i = 0; i < 1000; i++)
		nonzero += q[i] != 0;
	KT_EXPECT_EQ(nonzero, 0);
	free(q);
}

static void malloc_refuses_impossible_sizes(void)
{
	KT_EXPECT(malloc((size_t)-1) == NULL);
	KT_EXPECT(calloc((size_t)-1 / 2, 3) == NULL);
	KT_EXPECT(calloc(3, (size_t)-1 / 2) == NULL);
	free(NULL);
}

int main(void)
{
	static const struct ktap_case cases[] = {
		KTAP_CASE(allocate_anywhere),
		KTAP_CASE(allocate_rounds_up_to_pages),
		KTAP_CASE(anywhere_stays_above_null_guard),
		KTAP_CASE(allocate_fixed),
		KTAP_CASE(fixed_outside_user_space),
		KTAP_CASE(deallocate_unmaps),
		KTAP_CASE(protect_read_only),
		KTAP_CASE(protect_maximum),
		KTAP_CASE(bad_arguments),
		KTAP_CASE(bad_pointers),
		KTAP_CASE(bad_ranges),
		KTAP_CASE(unknown_system_call),
		KTAP_CASE(malloc_many_sizes),
		KTAP_CASE(calloc_zeroes),
		KTAP_CASE(malloc_refuses_impossible_sizes),
	};

	return ktap_run(cases, sizeof cases / sizeof cases[0]);
}
