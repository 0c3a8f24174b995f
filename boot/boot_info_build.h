/*
 * Helpers every loader uses to fill struct boot_info, so that each loader
 * only translates its own firmware's view and the rules (sorted memory map,
 * no overlaps, the kernel and modules never usable) live in one place.
 *
 * Freestanding: no libc, no allocation; the builder carries its scratch
 * space.  Compiled into the kernel image (multiboot2 path), into the GNU-EFI
 * loader, and into host tests.
 */
#ifndef MICA_BOOT_INFO_BUILD_H
#define MICA_BOOT_INFO_BUILD_H

#include <stdbool.h>
#include <mica/boot_info.h>

#define BOOT_INFO_BUILD_MAX_RAW 256

struct boot_info_builder {
	struct boot_info *bi;
	struct boot_mmap_entry raw[BOOT_INFO_BUILD_MAX_RAW];
	unsigned raw_count;
	bool overflow;             /* a region or module did not fit */
};

/* Zeroes *bi and starts it with the magic, version, size and loader name. */
void bib_init(struct boot_info_builder *b, struct boot_info *bi, const char *loader);

/* Replaces the loader name given to bib_init (at most len bytes of s). */
void bib_set_loader_name(struct boot_info_builder *b, const char *s, unsigned long len);

/* Copies s (at most len bytes, stopping at NUL) as the command line, truncated to fit. */
void bib_set_cmdline(struct boot_info_builder *b, const char *s, unsigned long len);

/*
 * Records that [base, base+length) has this type.  Regions may overlap and
 * arrive in any order: where they overlap, bib_finish() keeps the type that
 * is more specific (anything beats usable; the kernel, modules and loader
 * data beat everything), so loaders may simply add the firmware's map and
 * then the ranges they themselves occupy.
 */
void bib_add_region(struct boot_info_builder *b, uint64_t base, uint64_t length,
                    enum boot_mem_type type);

/* Adds a module and marks its memory BOOT_MEM_MODULE. */
void bib_add_module(struct boot_info_builder *b, uint64_t start, uint64_t end,
                    const char *name, unsigned long name_len);

/*
 * Resolves overlaps, sorts by base and merges neighbours of one type into
 * bi->mmap.  Returns false when something did not fit (too many regions or
 * modules); bi is still consistent then, with the excess dropped.
 */
bool bib_finish(struct boot_info_builder *b);

#endif
