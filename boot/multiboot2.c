/*
 * The multiboot2 path's early step: translate GRUB's information tags into
 * struct boot_info, so the kernel proper never sees multiboot2.
 *
 * Called once from boot/multiboot2_entry.asm in 64-bit mode, with the boot
 * page tables (first 4 GiB identity-mapped) and the boot stack.  GRUB's
 * information lies in memory it reports as usable, so everything the kernel
 * needs later is copied into this file's static storage, which is part of
 * the kernel image and hence reserved.
 */
#include <stddef.h>
#include "boot/boot_info_build.h"

/* Multiboot2 information tags (Multiboot2 specification, section 3.6). */
enum {
	MB2_TAG_END = 0,
	MB2_TAG_CMDLINE = 1,
	MB2_TAG_LOADER_NAME = 2,
	MB2_TAG_MODULE = 3,
	MB2_TAG_MMAP = 6,
	MB2_TAG_FRAMEBUFFER = 8,
	MB2_TAG_ACPI_OLD = 14,
	MB2_TAG_ACPI_NEW = 15,
};

enum { MB2_MEM_AVAILABLE = 1, MB2_MEM_ACPI = 3, MB2_MEM_NVS = 4, MB2_MEM_BAD = 5 };
enum { MB2_FB_RGB = 1 };

struct mb2_tag {
	uint32_t type;
	uint32_t size;             /* including this header */
};

struct mb2_tag_module {
	struct mb2_tag tag;
	uint32_t mod_start, mod_end;
	char name[];
};

struct mb2_tag_mmap {
	struct mb2_tag tag;
	uint32_t entry_size, entry_version;
	/* entries: base, length, type, reserved */
};

struct mb2_mmap_entry {
	uint64_t base, length;
	uint32_t type, reserved;
};

struct mb2_tag_framebuffer {
	struct mb2_tag tag;
	uint64_t addr;
	uint32_t pitch, width, height;
	uint8_t bpp, fb_type;
	uint16_t reserved;
	uint8_t red_pos, red_size, green_pos, green_size, blue_pos, blue_size;
};

extern char _kernel_phys_start[], _kernel_phys_end[], _kernel_start[];   /* linker.ld */
/* linker.ld's KERNEL_VMA, the image's virtual minus physical address: a number, as a symbol. */
extern char KERNEL_VMA[];

static struct boot_info mb2_boot_info;
static struct boot_info_builder builder;
static uint8_t rsdp_copy[64] __attribute__((aligned(16)));

/*
 * GRUB loads every segment at its physical address, so here, before the
 * kernel has read boot_info, the image lies exactly where linker.ld put it.
 */
static uint64_t linked_phys(const void *p)
{
	return (uint64_t)(uintptr_t)p - (uint64_t)(uintptr_t)KERNEL_VMA;
}

static enum boot_mem_type mb2_mem_type(uint32_t type)
{
	switch (type) {
	case MB2_MEM_AVAILABLE: return BOOT_MEM_USABLE;
	case MB2_MEM_ACPI:      return BOOT_MEM_ACPI_RECLAIM;
	case MB2_MEM_NVS:       return BOOT_MEM_ACPI_NVS;
	case MB2_MEM_BAD:       return BOOT_MEM_BAD;
	default:                return BOOT_MEM_RESERVED;
	}
}

static void add_mmap(const struct mb2_tag_mmap *t)
{
	const uint8_t *p = (const uint8_t *)(t + 1);
	const uint8_t *end = (const uint8_t *)t + t->tag.size;

	for (; p + sizeof(struct mb2_mmap_entry) <= end; p += t->entry_size) {
		const struct mb2_mmap_entry *e = (const void *)p;
		bib_add_region(&builder, e->base, e->length, mb2_mem_type(e->type));
	}
}

static void add_framebuffer(const struct mb2_tag_framebuffer *t)
{
	struct boot_framebuffer *fb = &mb2_boot_info.framebuffer;

	if (t->fb_type != MB2_FB_RGB)    /* EGA text mode is no framebuffer */
		return;
	*fb = (struct boot_framebuffer){
		.addr = t->addr, .pitch = t->pitch, .width = t->width, .height = t->height,
		.bpp = t->bpp, .red_shift = t->red_pos, .red_size = t->red_size,
		.green_shift = t->green_pos, .green_size = t->green_size,
		.blue_shift = t->blue_pos, .blue_size = t->blue_size,
	};
}

/* Multiboot2 gives a copy of the RSDP, not its address: keep our own copy. */
static void copy_rsdp(const struct mb2_tag *t)
{
	uint32_t len = t->size - sizeof(*t);
	const uint8_t *src = (const uint8_t *)(t + 1);

	if (len > sizeof(rsdp_copy))
		len = sizeof(rsdp_copy);
	for (uint32_t i = 0; i < len; i++)
		rsdp_copy[i] = src[i];
	mb2_boot_info.acpi_rsdp = linked_phys(rsdp_copy);
}

static void take_tag(const struct mb2_tag *t)
{
	const char *payload = (const char *)(t + 1);
	uint32_t payload_len = t->size - sizeof(*t);

	switch (t->type) {
	case MB2_TAG_CMDLINE:
		bib_set_cmdline(&builder, payload, payload_len);
		break;
	case MB2_TAG_LOADER_NAME:
		bib_set_loader_name(&builder, payload, payload_len);
		break;
	case MB2_TAG_MODULE: {
		const struct mb2_tag_module *m = (const void *)t;
		bib_add_module(&builder, m->mod_start, m->mod_end, m->name,
		               t->size - sizeof(*m));
		break;
	}
	case MB2_TAG_MMAP:
		add_mmap((const void *)t);
		break;
	case MB2_TAG_FRAMEBUFFER:
		add_framebuffer((const void *)t);
		break;
	case MB2_TAG_ACPI_OLD:
		if (mb2_boot_info.acpi_rsdp == 0)   /* the new one wins */
			copy_rsdp(t);
		break;
	case MB2_TAG_ACPI_NEW:
		copy_rsdp(t);
		break;
	}
}

/*
 * Fills the static boot_info from the multiboot2 information at mbi_phys
 * and returns boot_info's physical address, as kernel_entry expects in RDI.
 */
uint64_t multiboot2_to_boot_info(uint64_t mbi_phys)
{
	const uint8_t *mbi = (const uint8_t *)(uintptr_t)mbi_phys;
	uint32_t total = *(const uint32_t *)mbi;
	uint64_t kstart = (uint64_t)(uintptr_t)_kernel_phys_start;
	uint64_t kend = (uint64_t)(uintptr_t)_kernel_phys_end;

	bib_init(&builder, &mb2_boot_info, "multiboot2");
	for (uint32_t off = 8; off + sizeof(struct mb2_tag) <= total;) {
		const struct mb2_tag *t = (const void *)(mbi + off);
		if (t->type == MB2_TAG_END || t->size < sizeof(*t))
			break;
		take_tag(t);
		off += (t->size + 7) & ~7u;
	}
	mb2_boot_info.kernel_phys_start = kstart;
	mb2_boot_info.kernel_phys_end = kend;
	mb2_boot_info.kernel_virt_base = (uint64_t)(uintptr_t)_kernel_start;
	mb2_boot_info.kernel_phys_base = linked_phys(_kernel_start);
	bib_add_region(&builder, kstart, kend - kstart, BOOT_MEM_KERNEL);
	bib_finish(&builder);
	return linked_phys(&mb2_boot_info);
}
