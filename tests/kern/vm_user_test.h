/*
 * Helpers for the tests of the Mach VM calls: throwaway user maps, data
 * sources for vm_write through each path, and reading a map back.
 */
#ifndef MICA_TESTS_KERN_VM_USER_TEST_H
#define MICA_TESTS_KERN_VM_USER_TEST_H

#include "arch/x86_64/pmap_md.h"
#include "kern/kalloc.h"
#include "lib/string.h"
#include "kern/zone.h"
#include "tests/kern/vm_test.h"
#include "vm/vm_map_copy.h"
#include "vm/vm_object.h"
#include "vm/vm_user.h"

#define MAP_MIN 0x10000ul            /* the null guard: nothing maps below */

static inline vm_map_t test_map(void)
{
	pmap_t pm = pmap_create();
	vm_map_t map = pm ? vm_map_create(pm, MAP_MIN, USER_MAX) : NULL;

	if (map == NULL)
		KT_FAIL("no memory for a test map");
	return map;
}

/* vm_allocate at a fixed address, failing the test if it cannot. */
static inline void test_alloc_at(vm_map_t map, vm_address_t addr, vm_size_t size)
{
	KT_ASSERT_EQ(vm_allocate(map, &addr, size, VM_FLAGS_FIXED), KERN_SUCCESS);
}

#define TEST_CHUNK (64ul << 10)

static inline uint8_t test_byte(vm_size_t i, uint8_t seed)
{
	return (uint8_t)(seed + i * 7 + (i >> 12));
}

/* Fills [addr, addr+len) of map with bytes derived from seed, through vm_write. */
static inline void test_fill(vm_map_t map, vm_address_t addr, vm_size_t len, uint8_t seed)
{
	uint8_t *buf = kalloc(TEST_CHUNK);
	vm_map_copy_t copy;

	KT_ASSERT(buf != NULL);
	for (vm_size_t done = 0; done < len; done += TEST_CHUNK) {
		vm_size_t n = len - done < TEST_CHUNK ? len - done : TEST_CHUNK;
		for (vm_size_t i = 0; i < n; i++)
			buf[i] = test_byte(done + i, seed);
		KT_ASSERT_EQ(vm_map_copy_from_kernel(buf, n, &copy), KERN_SUCCESS);
		KT_ASSERT_EQ(vm_write(map, addr + done, copy, n), KERN_SUCCESS);
	}
	kfree(buf, TEST_CHUNK);
}

/* Does [addr, addr+len) of map hold the bytes of test_fill(seed), or zeroes when zero? */
static inline bool test_check(vm_map_t map, vm_address_t addr, vm_size_t len, uint8_t seed,
                              bool zero)
{
	uint8_t *buf = kalloc(TEST_CHUNK);
	bool same = buf != NULL;

	for (vm_size_t done = 0; same && done < len; done += TEST_CHUNK) {
		vm_size_t n = len - done < TEST_CHUNK ? len - done : TEST_CHUNK;
		same = vm_map_read(map, addr + done, buf, n) == KERN_SUCCESS;
		for (vm_size_t i = 0; same && i < n; i++)
			same = buf[i] == (zero ? 0 : test_byte(done + i, seed));
	}
	kfree(buf, TEST_CHUNK);
	return same;
}

static inline bool test_holds(vm_map_t map, vm_address_t addr, vm_size_t len, uint8_t seed)
{
	return test_check(map, addr, len, seed, false);
}

static inline bool test_zero(vm_map_t map, vm_address_t addr, vm_size_t len)
{
	return test_check(map, addr, len, 0, true);
}

/* The rights vm_region reports at addr. */
static inline struct vm_region_basic_info_64 test_region(vm_map_t map, vm_address_t addr)
{
	struct vm_region_basic_info_64 info = { 0 };
	mach_msg_type_number_t count = VM_REGION_BASIC_INFO_COUNT_64;
	vm_size_t size;

	if (vm_region(map, &addr, &size, VM_REGION_BASIC_INFO_64, (vm_region_info_t)&info, &count))
		info.protection = -1;
	return info;
}

/*
 * Counts that must come back after a test cleans up.  Frames count free
 * ones and those the zones hold: a zone may keep a few empty frames, or
 * give back some it held before.
 */
struct leak_counts {
	uint64_t free_frames, objects, kalloc, pv;
};

static inline struct leak_counts test_leak_counts(void)
{
	struct zone_totals zones;

	zone_get_totals(&zones);
	return (struct leak_counts){ vm_page_free_count() + zones.frames, vm_object_count(),
	                             kalloc_in_use(), pmap_pv_entries() };
}

static inline bool test_leak_counts_equal(struct leak_counts a, struct leak_counts b)
{
	return a.free_frames == b.free_frames && a.objects == b.objects && a.kalloc == b.kalloc &&
	       a.pv == b.pv;
}

/*
 * The reaper frees a thread that ended itself, and what its end left,
 * beside the test on another CPU: the counts are given time to settle.
 */
#define KT_EXPECT_NO_LEAK(before)                                               \
	do {                                                                    \
		KT_WAIT_FOR(test_leak_counts_equal(test_leak_counts(), (before))); \
		struct leak_counts after_ = test_leak_counts();                 \
		KT_EXPECT_EQ(after_.free_frames, (before).free_frames);         \
		KT_EXPECT_EQ(after_.objects, (before).objects);                 \
		KT_EXPECT_EQ(after_.kalloc, (before).kalloc);                   \
		KT_EXPECT_EQ(after_.pv, (before).pv);                           \
	} while (0)

#endif
