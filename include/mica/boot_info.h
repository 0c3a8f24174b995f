/*
 * struct boot_info: the one thing a loader hands the kernel.
 *
 * Every loader (boot/multiboot2.c behind GRUB, boot/efi/) fills this
 * structure and enters the kernel at kernel_entry with RDI = its physical
 * address; the kernel reads nothing else the loader made (kern/bootinfo.c
 * takes its copy).  docs/boot.md describes the fields and the entry
 * contract.
 *
 * The layout is an ABI between separately built programs, so every field has
 * an explicit width, pointers are physical addresses (uint64_t), and the
 * structure and its arrays live in memory the memory map marks as
 * BOOT_MEM_KERNEL or BOOT_MEM_LOADER, never as usable.
 */
#ifndef MICA_BOOT_INFO_H
#define MICA_BOOT_INFO_H

#include <stdint.h>

#define BOOT_INFO_MAGIC   0x4143494d424f4f54ull  /* "TOOBMICA" little-endian */
#define BOOT_INFO_VERSION 2

#define BOOT_INFO_MAX_MMAP    128
#define BOOT_INFO_MAX_MODULES 16
#define BOOT_INFO_CMDLINE_MAX 512
#define BOOT_INFO_NAME_MAX    64

/* Mica's own memory types: loaders translate theirs into these. */
enum boot_mem_type {
	BOOT_MEM_USABLE = 1,       /* free RAM the kernel may allocate */
	BOOT_MEM_RESERVED = 2,     /* firmware, MMIO holes, anything unknown */
	BOOT_MEM_ACPI_RECLAIM = 3, /* ACPI tables; usable once parsed */
	BOOT_MEM_ACPI_NVS = 4,     /* ACPI non-volatile storage: never touch */
	BOOT_MEM_BAD = 5,          /* defective RAM */
	BOOT_MEM_KERNEL = 6,       /* the kernel image, loaded segments and bss */
	BOOT_MEM_MODULE = 7,       /* boot modules */
	BOOT_MEM_LOADER = 8,       /* boot_info, loader page tables: reclaimable */
};

struct boot_mmap_entry {
	uint64_t base;
	uint64_t length;
	uint32_t type;             /* enum boot_mem_type */
	uint32_t reserved;
};

struct boot_module {
	uint64_t start;            /* physical, first byte */
	uint64_t end;              /* physical, one past the last byte */
	char name[BOOT_INFO_NAME_MAX];
};

struct boot_framebuffer {
	uint64_t addr;             /* physical; 0 when there is none */
	uint32_t pitch;            /* bytes per scan line */
	uint32_t width, height;
	uint8_t bpp;
	uint8_t red_shift, green_shift, blue_shift;
	uint8_t red_size, green_size, blue_size;
	uint8_t reserved;
};

/*
 * Sorted by base, non-overlapping, adjacent entries of one type merged.
 * Fixed-size arrays keep the structure one self-contained block that a
 * loader can place anywhere and the kernel can copy with one memcpy.
 */
struct boot_info {
	uint64_t magic;            /* BOOT_INFO_MAGIC */
	uint32_t version;          /* BOOT_INFO_VERSION */
	uint32_t size;             /* sizeof(struct boot_info) */
	char loader_name[BOOT_INFO_NAME_MAX];
	char cmdline[BOOT_INFO_CMDLINE_MAX];
	uint64_t kernel_phys_start, kernel_phys_end;  /* every frame the image occupies */
	/*
	 * Where the image's upper half landed.  Loaders may put it anywhere in
	 * RAM, but always in one piece, as linked: the byte linked at virtual
	 * address v lies at physical v - kernel_virt_base + kernel_phys_base.
	 */
	uint64_t kernel_virt_base, kernel_phys_base;
	uint64_t acpi_rsdp;        /* physical address of the RSDP; 0 if unknown */
	struct boot_framebuffer framebuffer;
	uint32_t mmap_count;
	uint32_t module_count;
	struct boot_mmap_entry mmap[BOOT_INFO_MAX_MMAP];
	struct boot_module modules[BOOT_INFO_MAX_MODULES];
};

#endif
