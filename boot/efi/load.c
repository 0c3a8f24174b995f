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
 * and reads each segment from the file straight into it, at its link
 * address's distance from the image's start; the rest (bss, and the gaps
 * between segments) is zeroed.  Keeping the image in one piece, as
 * linked, lets the kernel find any of its bytes' frames with one
 * subtraction; reading it in place means it needs its own size in RAM,
 * not twice that.
 */
static EFI_STATUS place_segments(struct efi_file *f, const struct elf_image *img,
                                 UINT64 *phys_base)
{
	UINT64 bytes = img->virt_end - img->virt_start;
	EFI_STATUS status = claim_any(phys_base, pages_for(bytes), BOOT_MEM_KERNEL, KERNEL_PATH);

	if (EFI_ERROR(status))
		return status;
	ZeroMem((void *)*phys_base, bytes);
	for (unsigned i = 0; i < img->count && !EFI_ERROR(status); i++) {
		const struct elf_segment *s = &img->seg[i];
		status = file_read_at(f, s->offset, s->filesz,
		                      (void *)(*phys_base + s->vaddr - img->virt_start));
	}
	return status;
}

/* Reads mica.elf's headers and checks them (elf.c): *img then describes the image. */
static EFI_STATUS kernel_check(struct efi_file *f, struct elf_image *img)
{
	UINT64 head_len = f->size < ELF_HEAD_MAX ? f->size : ELF_HEAD_MAX;
	void *head;
	const char *why;
	EFI_STATUS status = BS->AllocatePool(EfiLoaderData, head_len + 1, &head);

	if (EFI_ERROR(status))
		return fail(status, L"cannot allocate %lu bytes to read %a: %r", head_len + 1,
		            KERNEL_PATH, status);
	status = file_read_at(f, 0, head_len, head);
	if (!EFI_ERROR(status) && (why = elf_check(head, f->size, img)) != NULL)
		status = fail(EFI_LOAD_ERROR, L"%a: %a", KERNEL_PATH, why);
	BS->FreePool(head);
	return status;
}

/* Checks and places mica.elf; *img then describes it, *phys_base says where it lies. */
EFI_STATUS kernel_load(EFI_FILE_HANDLE root, struct elf_image *img, UINT64 *phys_base)
{
	struct efi_file f;
	EFI_STATUS status = file_open(root, KERNEL_PATH, false, &f);

	if (EFI_ERROR(status))
		return status;
	status = kernel_check(&f, img);
	if (!EFI_ERROR(status))
		status = place_segments(&f, img, phys_base);
	file_close(&f);
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
