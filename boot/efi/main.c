/*
 * efi_main: the GNU-EFI loader's boot sequence (loader.h lists the parts,
 * docs/boot.md describes the path).
 *
 * Everything that can fail happens while boot services are up, so each
 * failure is one "mica-efi: error: ..." line on the console, the claimed
 * pages go back, and an error status returns to the firmware, which goes
 * on to its next boot option.  Only when everything is in place does the
 * loader exit boot services, fill boot_info from the final memory map and
 * jump; from there on nothing can fail.
 */
#include "boot/efi/loader.h"

#define LOADER_NAME "gnu-efi"
#define STACK_PAGES 4

/* What the hand-over needs, all gathered while boot services are up. */
static struct {
	struct mica_cfg cfg;
	struct elf_image kernel;
	UINT64 kernel_phys_base;      /* where the image's first page lies */
	struct module_range modules[BOOT_INFO_MAX_MODULES];
	UINT64 cr3, stack_top, acpi_rsdp;
	struct boot_framebuffer framebuffer;
	struct boot_info *boot_info;
	struct efi_map map;
} h;
static struct boot_info_builder builder;

EFI_STATUS fail(EFI_STATUS status, const CHAR16 *fmt, ...)
{
	va_list args;

	Print(L"mica-efi: error: ");
	va_start(args, fmt);
	VPrint(fmt, args);
	va_end(args);
	Print(L"\n");
	return status;
}

/* Reads mica.elf, mica.cfg and the modules into place.  The kernel goes
 * first: it is the largest, and the least likely to fit once memory is cut up. */
static EFI_STATUS load_files(EFI_HANDLE image)
{
	EFI_FILE_HANDLE root;
	EFI_STATUS status = volume_open(image, &root);

	if (EFI_ERROR(status))
		return status;
	status = kernel_load(root, &h.kernel, &h.kernel_phys_base);
	if (!EFI_ERROR(status))
		status = config_load(root, &h.cfg);
	if (!EFI_ERROR(status))
		status = modules_load(root, &h.cfg, h.modules);
	root->Close(root);
	return status;
}

/* Claims and builds what the kernel stands on at entry: page tables, a stack, boot_info. */
static EFI_STATUS prepare_entry(void)
{
	UINT64 stack = 0, bi = 0;
	UINT64 bi_pages = (sizeof(struct boot_info) + EFI_PAGE_SIZE - 1) / EFI_PAGE_SIZE;
	EFI_STATUS status = map_read(&h.map);          /* for the extent of RAM */

	if (!EFI_ERROR(status))
		status = paging_build(&h.kernel, h.kernel_phys_base, map_identity_top(&h.map), &h.cr3);
	if (!EFI_ERROR(status))
		status = claim_low(&stack, STACK_PAGES, BOOT_MEM_LOADER, "the kernel's stack");
	if (!EFI_ERROR(status))
		status = claim_low(&bi, bi_pages, BOOT_MEM_LOADER, "boot_info");
	h.stack_top = stack + STACK_PAGES * EFI_PAGE_SIZE;
	h.boot_info = (struct boot_info *)bi;
	return status;
}

/*
 * Fills boot_info from what was gathered and from h.map.  Returns false
 * if the map did not fit, in which case boot_info lacks firmware regions
 * (never the loader's claims, which go in first).
 */
static bool fill_boot_info(void)
{
	struct boot_info *bi = h.boot_info;

	bib_init(&builder, bi, LOADER_NAME);
	bib_set_cmdline(&builder, h.cfg.cmdline, sizeof(h.cfg.cmdline));
	for (unsigned i = 0; i < h.cfg.module_count; i++)
		bib_add_module(&builder, h.modules[i].start, h.modules[i].end,
		               h.cfg.modules[i].name, sizeof(h.cfg.modules[i].name));
	map_to_boot_info(&h.map, &builder);
	bi->kernel_phys_start = h.kernel_phys_base;
	bi->kernel_phys_end = h.kernel_phys_base + (h.kernel.virt_end - h.kernel.virt_start);
	bi->kernel_virt_base = h.kernel.virt_start;
	bi->kernel_phys_base = h.kernel_phys_base;
	bi->acpi_rsdp = h.acpi_rsdp;
	bi->framebuffer = h.framebuffer;
	return bib_finish(&builder);
}

/*
 * Everything before ExitBootServices.  boot_info is filled once here from
 * the current map, to prove the map fits while an error can still be
 * printed; the final map differs from it by a descriptor or two at most.
 */
static EFI_STATUS prepare(EFI_HANDLE image)
{
	EFI_STATUS status = load_files(image);

	if (!EFI_ERROR(status))
		status = prepare_entry();
	if (EFI_ERROR(status))
		return status;
	h.acpi_rsdp = acpi_rsdp_find();
	framebuffer_find(&h.framebuffer);
	status = map_read(&h.map);
	if (!EFI_ERROR(status) && !fill_boot_info())
		status = fail(EFI_BUFFER_TOO_SMALL, L"the memory map has more regions than boot_info holds");
	return status;
}

/*
 * Declared without EFIAPI: Debian's crt0-efi-x86_64.o relocates the image
 * and then calls efi_main with the System V convention (see efi.mk).
 */
EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *system_table)
{
	EFI_STATUS status;

	InitializeLib(image, system_table);
	status = prepare(image);
	if (EFI_ERROR(status)) {
		claims_release();
		map_free(&h.map);
		return status;
	}
	status = map_exit_boot_services(image, &h.map);
	if (EFI_ERROR(status))
		return status;             /* boot services may be half gone: nothing more to do */
	fill_boot_info();
	enter_kernel(h.cr3, h.stack_top, h.kernel.entry, (UINT64)h.boot_info);
}
