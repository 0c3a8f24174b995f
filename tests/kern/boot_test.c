/* The boot path's promises: boot_info is whole, sane, and agrees with the image. */
#include "arch/x86_64/layout.h"
#include "kern/bootinfo.h"
#include "tests/harness/ktest.h"
#include "kern/machine.h"
#include "lib/string.h"
#include "vm/pmap.h"

extern char _kernel_start[], _kernel_end[], boot_stack_guard[];

KTEST(boot, boot_info_header_is_current)
{
	KT_EXPECT_EQ(boot_info.magic, BOOT_INFO_MAGIC);
	KT_EXPECT_EQ(boot_info.version, BOOT_INFO_VERSION);
	KT_EXPECT_EQ(boot_info.size, sizeof(struct boot_info));
	KT_EXPECT(boot_info.loader_name[0] != '\0');
}

KTEST(boot, command_line_arrives_intact)
{
	/* make test boots with "test" or "test=SUITES" as the first option */
	KT_EXPECT(strncmp(boot_info.cmdline, "test", 4) == 0);
}

KTEST(boot, memory_map_sorted_disjoint_merged)
{
	const struct boot_mmap_entry *m = boot_info.mmap;

	KT_ASSERT(boot_info.mmap_count > 0);
	for (uint32_t i = 0; i < boot_info.mmap_count; i++) {
		KT_EXPECT(m[i].length > 0);
		if (i == 0)
			continue;
		KT_EXPECT(m[i - 1].base + m[i - 1].length <= m[i].base);
		/* neighbours of one type that touch would have been merged */
		KT_EXPECT(!(m[i - 1].type == m[i].type &&
		            m[i - 1].base + m[i - 1].length == m[i].base));
	}
}

KTEST(boot, kernel_image_is_reserved)
{
	uint64_t start = boot_info.kernel_phys_start, end = boot_info.kernel_phys_end;
	bool covered = false;

	for (uint32_t i = 0; i < boot_info.mmap_count; i++) {
		const struct boot_mmap_entry *e = &boot_info.mmap[i];
		bool overlaps = e->base < end && start < e->base + e->length;
		if (overlaps)
			KT_EXPECT_NE(e->type, BOOT_MEM_USABLE);
		covered |= e->type == BOOT_MEM_KERNEL && e->base <= start &&
		           end <= e->base + e->length;
	}
	KT_EXPECT(covered);
}

/*
 * The loader may put the image anywhere (docs/boot.md): every mapped page
 * of it must reach the frame boot_info's placement names, inside the
 * frames the map reserves for it.
 */
KTEST(boot, image_is_mapped_where_the_loader_put_it)
{
	uint64_t offset = boot_info.kernel_phys_base - boot_info.kernel_virt_base;
	unsigned wrong = 0, mapped = 0;

	KT_EXPECT((uint64_t)_kernel_start >= boot_info.kernel_virt_base);
	KT_EXPECT_EQ(kernel_image_phys(_kernel_start), (uint64_t)_kernel_start + offset);
	KT_EXPECT(kernel_image_phys(_kernel_start) >= boot_info.kernel_phys_start);
	KT_EXPECT(kernel_image_phys(_kernel_end) <= boot_info.kernel_phys_end);
	for (vm_offset_t va = (vm_offset_t)_kernel_start; va < (vm_offset_t)_kernel_end;
	     va += PAGE_SIZE) {
		paddr_t pa;
		if (va == (vm_offset_t)boot_stack_guard)
			continue;                       /* left unmapped on purpose */
		mapped++;
		wrong += !pmap_extract(kernel_pmap, va, &pa) || pa != va + offset;
	}
	KT_EXPECT_EQ(wrong, 0u);
	KT_EXPECT_EQ(mapped, (unsigned)(((vm_offset_t)_kernel_end - (vm_offset_t)_kernel_start) /
	                                PAGE_SIZE - 1));
}

/* Bytes the memory map gives each type. */
static uint64_t bytes_of_type(uint32_t type)
{
	uint64_t total = 0;

	for (uint32_t i = 0; i < boot_info.mmap_count; i++)
		if (boot_info.mmap[i].type == type)
			total += boot_info.mmap[i].length;
	return total;
}

/*
 * RAM is usable, or the image's, the modules' or the loader's: the image
 * is reserved exactly (not a frame more, so a large image hides nothing
 * else), and what firmware keeps is a small share, however large the image.
 */
KTEST(boot, ram_is_usable_or_the_images)
{
	uint64_t installed = machine_installed_ram(), usable = bytes_of_type(BOOT_MEM_USABLE);
	uint64_t image = boot_info.kernel_phys_end - boot_info.kernel_phys_start;
	uint64_t accounted = usable + image + bytes_of_type(BOOT_MEM_MODULE) +
	                     bytes_of_type(BOOT_MEM_LOADER);

	KT_EXPECT(installed >= (64ul << 20));
	KT_EXPECT_EQ(bytes_of_type(BOOT_MEM_KERNEL), image);
	KT_EXPECT(image >= (uint64_t)(_kernel_end - _kernel_start));
	KT_EXPECT(accounted <= installed);
	KT_EXPECT(accounted >= installed / 100 * 95);
}

static uint8_t byte_sum(const uint8_t *p, unsigned len)
{
	uint8_t sum = 0;

	while (len--)
		sum += *p++;
	return sum;
}

KTEST(boot, acpi_rsdp_checksums)
{
	const uint8_t *rsdp = pmap_phys_to_virt(boot_info.acpi_rsdp);

	KT_ASSERT(boot_info.acpi_rsdp != 0);
	KT_EXPECT(memcmp(rsdp, "RSD PTR ", 8) == 0);
	KT_EXPECT_EQ(byte_sum(rsdp, 20), 0);            /* ACPI 1.0 part */
	if (rsdp[15] >= 2) {                            /* revision 2+: extended part */
		uint32_t length = *(const uint32_t *)(rsdp + 20);
		KT_EXPECT_EQ(byte_sum(rsdp, length), 0);
	}
}
