/*
 * The GNU-EFI loader: Mica as its own UEFI application (docs/boot.md,
 * "The GNU-EFI path").  Its parts, one job each:
 *
 *   main.c      the boot sequence, and the one way errors are reported
 *   file.c      reading files from the volume the loader came from
 *   load.c      mica.cfg, mica.elf's segments and the modules, into memory
 *   paging.c    the page tables the entry contract asks for
 *   memmap.c    claimed memory, the firmware's memory map, ExitBootServices
 *   firmware.c  what only the firmware knows: the ACPI RSDP, the framebuffer
 *   enter.S     the jump into the kernel
 *
 * config.c and elf.c, the parsers, make no firmware calls and have their
 * own headers, so host tests can use them.
 *
 * Every function that can fail returns an EFI_STATUS and has printed its
 * one error line (fail()) by the time it returns a failure, so callers
 * only pass the status on.
 */
#ifndef MICA_BOOT_EFI_LOADER_H
#define MICA_BOOT_EFI_LOADER_H

#include <efi.h>
#include <efilib.h>
#include <stdbool.h>

#include "boot/boot_info_build.h"
#include "boot/efi/config.h"
#include "boot/efi/elf.h"

#define KERNEL_PATH "\\mica.elf"
#define CONFIG_PATH "\\mica.cfg"
#define LOW_LIMIT   0xffffffffull     /* loader data goes below 4 GiB, inside the identity map */

/* main.c: prints "mica-efi: error: <fmt...>" as one line on ConOut and returns status. */
EFI_STATUS fail(EFI_STATUS status, const CHAR16 *fmt, ...);

/* file.c: an open file, its size and its path as the firmware spells it. */
struct efi_file {
	EFI_FILE_HANDLE handle;
	UINT64 size;
	CHAR16 path[CFG_PATH_MAX];
};

EFI_STATUS volume_open(EFI_HANDLE image, EFI_FILE_HANDLE *root);
EFI_STATUS file_open(EFI_FILE_HANDLE root, const char *path, bool may_be_missing,
                     struct efi_file *f);
EFI_STATUS file_read(struct efi_file *f, void *buf);
EFI_STATUS file_read_at(struct efi_file *f, UINT64 offset, UINT64 len, void *buf);
void file_close(struct efi_file *f);
EFI_STATUS file_load(EFI_FILE_HANDLE root, const char *path, bool may_be_missing,
                     UINT64 max_size, void **data, UINT64 *size);

/* load.c */
struct module_range {
	UINT64 start, end;            /* physical; end is one past the last byte */
};

EFI_STATUS config_load(EFI_FILE_HANDLE root, struct mica_cfg *cfg);
EFI_STATUS kernel_load(EFI_FILE_HANDLE root, struct elf_image *img, UINT64 *phys_base);
EFI_STATUS modules_load(EFI_FILE_HANDLE root, const struct mica_cfg *cfg,
                        struct module_range *ranges);

/* paging.c */
EFI_STATUS paging_build(const struct elf_image *img, UINT64 phys_base, UINT64 identity_top,
                        UINT64 *cr3);

/* memmap.c: memory the loader claims, and the firmware's map of the rest. */
EFI_STATUS claim_any(UINT64 *base, UINT64 pages, enum boot_mem_type type, const char *what);
EFI_STATUS claim_low(UINT64 *base, UINT64 pages, enum boot_mem_type type, const char *what);
void claims_release(void);

struct efi_map {
	EFI_MEMORY_DESCRIPTOR *desc;  /* pool buffer of capacity bytes, size of them used */
	UINTN capacity, size, key, desc_size;
	UINT32 desc_version;
};

EFI_STATUS map_read(struct efi_map *m);
void map_free(struct efi_map *m);
UINT64 map_identity_top(const struct efi_map *m);
EFI_STATUS map_exit_boot_services(EFI_HANDLE image, struct efi_map *m);
void map_to_boot_info(const struct efi_map *m, struct boot_info_builder *b);

/* firmware.c */
UINT64 acpi_rsdp_find(void);
void framebuffer_find(struct boot_framebuffer *fb);

/* enter.S: loads cr3, takes stack_top and jumps to entry with RDI = boot_info. */
void enter_kernel(UINT64 cr3, UINT64 stack_top, UINT64 entry, UINT64 boot_info)
	__attribute__((noreturn));

#endif
