#include "kern/kalloc.h"
#include "kern/alloc_fail.h"
#include "kern/panic.h"
#include "lib/string.h"
#include "kern/zone.h"
#include "vm/pmap.h"
#include "vm/vm_page.h"

#define KALLOC_MIN_SHIFT 4            /* 16 bytes */
#define KALLOC_MAX_SHIFT 11           /* 2 KiB: larger requests take whole frames */
#define KALLOC_CLASSES (KALLOC_MAX_SHIFT - KALLOC_MIN_SHIFT + 1)

static struct zone kalloc_zones[KALLOC_CLASSES];
static const char *const kalloc_names[KALLOC_CLASSES] = {
	"kalloc.16", "kalloc.32", "kalloc.64", "kalloc.128",
	"kalloc.256", "kalloc.512", "kalloc.1024", "kalloc.2048",
};
static uint64_t large_in_use;

void kalloc_init(void)
{
	for (int i = 0; i < KALLOC_CLASSES; i++) {
		zone_init(&kalloc_zones[i], kalloc_names[i], 1ul << (KALLOC_MIN_SHIFT + i));
		kalloc_zones[i].alloc_kind = MICA_ALLOC_KALLOC;
	}
}

/*
 * The size class for size, or -1 when it takes whole frames: the power
 * of two at or above size, counted from the smallest class.
 */
static int size_class(size_t size)
{
	if (size <= (1ul << KALLOC_MIN_SHIFT))
		return 0;
	if (size > (1ul << KALLOC_MAX_SHIFT))
		return -1;
	return 64 - __builtin_clzl(size - 1) - KALLOC_MIN_SHIFT;
}

void *kalloc(size_t size)
{
	int c = size_class(size);

	if (c >= 0)
		return zalloc(&kalloc_zones[c]);
	if (alloc_fail_now(MICA_ALLOC_KALLOC))
		return NULL;
	struct vm_page *p = vm_page_alloc_contig(round_page(size) / PAGE_SIZE, VM_PAGE_KERNEL, 0);
	if (p == NULL)
		return NULL;
	__atomic_fetch_add(&large_in_use, 1, __ATOMIC_RELAXED);
	return pmap_phys_to_virt(vm_page_to_phys(p));
}

void *kzalloc(size_t size)
{
	void *p = kalloc(size);

	if (p)
		memset(p, 0, size);
	return p;
}

void kfree(void *p, size_t size)
{
	int c = size_class(size);

	if (p == NULL)
		return;
	if (c >= 0) {
		zfree(&kalloc_zones[c], p);
		return;
	}
	vm_page_free_contig(vm_page_from_phys(pmap_direct_to_phys(p)), round_page(size) / PAGE_SIZE);
	__atomic_fetch_sub(&large_in_use, 1, __ATOMIC_RELAXED);
}

uint64_t kalloc_in_use(void)
{
	uint64_t n = large_in_use;

	for (int i = 0; i < KALLOC_CLASSES; i++)
		n += zone_in_use(&kalloc_zones[i]);
	return n;
}

void kalloc_zone_in_use(uint64_t *counts, unsigned n, uint64_t *large)
{
	for (unsigned i = 0; i < n; i++)
		counts[i] = i < KALLOC_CLASSES ? zone_in_use(&kalloc_zones[i]) : 0;
	*large = large_in_use;
}
