/*
 * Reading what the kernel needs into the memory it will have: mica.cfg,
 * mica.elf's segments wherever the firmware has room, and the modules.
 * Every page placed here is claimed (memmap.c) with the boot_info type it
 * will carry, so the memory map the kernel gets marks it correctly.
 */
#include "boot/efi/loader.h"

static UINT64 pages_for(UINT64 bytes)
{
	return (bytes + EFI_PAGE_SIZE - 1) / EFI_PAGE_SIZE;
}

/* Fills *cfg from mica.cfg; a missing file is a valid, empty configuration. */
EFI_STATUS config_load(EFI_FILE_HANDLE root, struct mica_cfg *cfg)
{
	const char *why;
	unsigned line;
	void *text;
	UINT64 size;
	EFI_STATUS status = file_load(root, CONFIG_PATH, true, CFG_FILE_MAX, &text, &size);

	if (status == EFI_NOT_FOUND) {
		cfg_parse("", 0, cfg, &line);
		return EFI_SUCCESS;
	}
	if (EFI_ERROR(status))
		return status;
	why = cfg_parse(text, size, cfg, &line);
	BS->FreePool(text);
	if (why)
		return fail(EFI_LOAD_ERROR, L"%a line %u: %a", CONFIG_PATH, line, why);
	return EFI_SUCCESS;
}

/*
 * Claims one block for the whole image, anywhere the firmware has room,
 * and copies each segment into it at its link address's distance from the
 * image's start, zeroing the rest (bss, and the gaps between segments).
 * Keeping the image in one piece, as linked, lets the kernel find any of
 * its bytes' frames with one subtraction.
 */
static EFI_STATUS place_segments(const UINT8 *file, const struct elf_image *img,
                                 UINT64 *phys_base)
{
	UINT64 bytes = img->virt_end - img->virt_start;
	EFI_STATUS status = claim_any(phys_base, pages_for(bytes), BOOT_MEM_KERNEL, KERNEL_PATH);

	if (EFI_ERROR(status))
		return status;
	ZeroMem((void *)*phys_base, bytes);
	for (unsigned i = 0; i < img->count; i++) {
		const struct elf_segment *s = &img->seg[i];
		CopyMem((void *)(*phys_base + s->vaddr - img->virt_start), file + s->offset, s->filesz);
	}
	return EFI_SUCCESS;
}

/* Reads mica.elf, checks it (elf.c) and places it; *img then describes it, *phys_base where it lies. */
EFI_STATUS kernel_load(EFI_FILE_HANDLE root, struct elf_image *img, UINT64 *phys_base)
{
	const char *why;
	void *file;
	UINT64 size;
	EFI_STATUS status = file_load(root, KERNEL_PATH, false, ~0ull, &file, &size);

	if (EFI_ERROR(status))
		return status;
	why = elf_check(file, size, img);
	if (why)
		status = fail(EFI_LOAD_ERROR, L"%a: %a", KERNEL_PATH, why);
	else
		status = place_segments(file, img, phys_base);
	BS->FreePool(file);
	return status;
}

/* Reads each module mica.cfg names into its own claimed pages, recording where. */
EFI_STATUS modules_load(EFI_FILE_HANDLE root, const struct mica_cfg *cfg,
                        struct module_range *ranges)
{
	for (unsigned i = 0; i < cfg->module_count; i++) {
		const char *path = cfg->modules[i].path;
		struct efi_file f;
		UINT64 base;
		EFI_STATUS status = file_open(root, path, false, &f);

		if (EFI_ERROR(status))
			return status;
		/* an empty module still gets a page, so that it has an address */
		status = claim_low(&base, f.size ? pages_for(f.size) : 1, BOOT_MEM_MODULE, path);
		if (EFI_ERROR(status)) {
			file_close(&f);
			return status;
		}
		ranges[i] = (struct module_range){ .start = base, .end = base + f.size };
		status = file_read(&f, (void *)base);
		if (EFI_ERROR(status))
			return status;
	}
	return EFI_SUCCESS;
}
