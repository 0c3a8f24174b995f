#include "kern/bootinfo.h"
#include "kern/console.h"
#include "kern/panic.h"
#include "lib/string.h"

struct boot_info boot_info;

void boot_info_take(uint64_t phys)
{
	const struct boot_info *src = (const struct boot_info *)(uintptr_t)phys;

	if (phys == 0 || src->magic != BOOT_INFO_MAGIC)
		panic("boot_info_take: no boot_info at %#lx (bad magic): loader and kernel disagree",
		      phys);
	if (src->version != BOOT_INFO_VERSION || src->size != sizeof(boot_info))
		panic("boot_info_take: boot_info version %u size %u, kernel expects %u size %zu",
		      src->version, src->size, BOOT_INFO_VERSION, sizeof(boot_info));
	memcpy(&boot_info, src, sizeof(boot_info));
	boot_info.cmdline[sizeof(boot_info.cmdline) - 1] = '\0';
	boot_info.loader_name[sizeof(boot_info.loader_name) - 1] = '\0';
	if (boot_info.mmap_count > BOOT_INFO_MAX_MMAP)
		boot_info.mmap_count = BOOT_INFO_MAX_MMAP;
	if (boot_info.module_count > BOOT_INFO_MAX_MODULES)
		boot_info.module_count = BOOT_INFO_MAX_MODULES;
}

const char *boot_mem_type_name(uint32_t type)
{
	static const char *const names[] = {
		[BOOT_MEM_USABLE] = "usable", [BOOT_MEM_RESERVED] = "reserved",
		[BOOT_MEM_ACPI_RECLAIM] = "ACPI tables", [BOOT_MEM_ACPI_NVS] = "ACPI NVS",
		[BOOT_MEM_BAD] = "bad", [BOOT_MEM_KERNEL] = "kernel",
		[BOOT_MEM_MODULE] = "module", [BOOT_MEM_LOADER] = "loader",
	};
	if (type < sizeof(names) / sizeof(names[0]) && names[type])
		return names[type];
	return "unknown";
}

uint64_t boot_info_usable_bytes(const struct boot_info *bi)
{
	uint64_t total = 0;

	for (uint32_t i = 0; i < bi->mmap_count; i++)
		if (bi->mmap[i].type == BOOT_MEM_USABLE)
			total += bi->mmap[i].length;
	return total;
}

void boot_info_print(const struct boot_info *bi)
{
	klog("memory map (%u regions):\n", bi->mmap_count);
	for (uint32_t i = 0; i < bi->mmap_count; i++) {
		const struct boot_mmap_entry *e = &bi->mmap[i];
		klog("  0x%012lx-0x%012lx %10lu KiB  %s\n", e->base, e->base + e->length - 1,
		     e->length >> 10, boot_mem_type_name(e->type));
	}
	klog("usable memory: %lu MiB; kernel image %#lx-%#lx; ACPI RSDP at %#lx\n",
	     boot_info_usable_bytes(bi) >> 20, bi->kernel_phys_start, bi->kernel_phys_end,
	     bi->acpi_rsdp);
	for (uint32_t i = 0; i < bi->module_count; i++)
		klog("module %s: %#lx-%#lx\n", bi->modules[i].name, bi->modules[i].start,
		     bi->modules[i].end);
}
