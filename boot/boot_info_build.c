/*
 * Building struct boot_info's memory map from a loader's raw regions.
 *
 * Loaders hand over regions as their firmware reports them (unsorted,
 * sometimes overlapping) plus the ranges they occupy themselves.  bib_finish
 * cuts the address space at every region boundary, gives each piece the
 * highest-ranked type that covers it, and merges equal neighbours.  With at
 * most BOOT_INFO_BUILD_MAX_RAW regions the quadratic passes cost nothing.
 */
#include "boot/boot_info_build.h"

static void copy_string(char *dst, unsigned long cap, const char *src, unsigned long len)
{
	unsigned long i;

	for (i = 0; i + 1 < cap && i < len && src[i] != '\0'; i++)
		dst[i] = src[i];
	dst[i] = '\0';
}

void bib_init(struct boot_info_builder *b, struct boot_info *bi, const char *loader)
{
	unsigned char *p = (unsigned char *)bi;

	for (unsigned long i = 0; i < sizeof(*bi); i++)
		p[i] = 0;
	bi->magic = BOOT_INFO_MAGIC;
	bi->version = BOOT_INFO_VERSION;
	bi->size = sizeof(*bi);
	copy_string(bi->loader_name, sizeof(bi->loader_name), loader, ~0ul);
	b->bi = bi;
	b->raw_count = 0;
	b->overflow = false;
}

void bib_set_loader_name(struct boot_info_builder *b, const char *s, unsigned long len)
{
	copy_string(b->bi->loader_name, sizeof(b->bi->loader_name), s, len);
}

void bib_set_cmdline(struct boot_info_builder *b, const char *s, unsigned long len)
{
	copy_string(b->bi->cmdline, sizeof(b->bi->cmdline), s, len);
}

void bib_add_region(struct boot_info_builder *b, uint64_t base, uint64_t length,
                    enum boot_mem_type type)
{
	if (length == 0)
		return;
	if (base + length < base)            /* wraps: stop at the last byte */
		length = ~base;
	if (b->raw_count == BOOT_INFO_BUILD_MAX_RAW) {
		b->overflow = true;
		return;
	}
	b->raw[b->raw_count++] = (struct boot_mmap_entry){
		.base = base, .length = length, .type = type,
	};
}

void bib_add_module(struct boot_info_builder *b, uint64_t start, uint64_t end,
                    const char *name, unsigned long name_len)
{
	struct boot_info *bi = b->bi;

	if (bi->module_count == BOOT_INFO_MAX_MODULES) {
		b->overflow = true;
		return;
	}
	struct boot_module *m = &bi->modules[bi->module_count++];
	m->start = start;
	m->end = end;
	copy_string(m->name, sizeof(m->name), name, name_len);
	bib_add_region(b, start, end - start, BOOT_MEM_MODULE);
}

/* Higher rank wins an overlap: usable memory is the weakest claim. */
static int type_rank(uint32_t type)
{
	switch (type) {
	case BOOT_MEM_USABLE:       return 0;
	case BOOT_MEM_ACPI_RECLAIM: return 1;
	case BOOT_MEM_ACPI_NVS:     return 2;
	case BOOT_MEM_RESERVED:     return 3;
	case BOOT_MEM_BAD:          return 4;
	case BOOT_MEM_LOADER:       return 5;
	case BOOT_MEM_MODULE:       return 6;
	case BOOT_MEM_KERNEL:       return 7;
	default:                    return 3;   /* unknown: treat as reserved */
	}
}

/* The type of the highest-ranked raw region covering [lo, hi), or 0 if none. */
static uint32_t covering_type(const struct boot_info_builder *b, uint64_t lo, uint64_t hi)
{
	uint32_t best = 0;

	for (unsigned i = 0; i < b->raw_count; i++) {
		const struct boot_mmap_entry *r = &b->raw[i];
		if (r->base <= lo && hi <= r->base + r->length &&
		    (best == 0 || type_rank(r->type) > type_rank(best)))
			best = r->type;
	}
	return best;
}

/* The smallest region boundary strictly above x, or x when there is none. */
static uint64_t next_boundary(const struct boot_info_builder *b, uint64_t x)
{
	uint64_t next = x;

	for (unsigned i = 0; i < b->raw_count; i++) {
		uint64_t edges[2] = { b->raw[i].base, b->raw[i].base + b->raw[i].length };
		for (int e = 0; e < 2; e++)
			if (edges[e] > x && (next == x || edges[e] < next))
				next = edges[e];
	}
	return next;
}

/* Appends [lo, hi) of this type, extending the last entry when they touch. */
static void emit(struct boot_info_builder *b, uint64_t lo, uint64_t hi, uint32_t type)
{
	struct boot_info *bi = b->bi;

	if (bi->mmap_count > 0) {
		struct boot_mmap_entry *last = &bi->mmap[bi->mmap_count - 1];
		if (last->type == type && last->base + last->length == lo) {
			last->length += hi - lo;
			return;
		}
	}
	if (bi->mmap_count == BOOT_INFO_MAX_MMAP) {
		b->overflow = true;
		return;
	}
	bi->mmap[bi->mmap_count++] = (struct boot_mmap_entry){
		.base = lo, .length = hi - lo, .type = type,
	};
}

bool bib_finish(struct boot_info_builder *b)
{
	uint64_t lo = 0, hi;

	b->bi->mmap_count = 0;
	for (; (hi = next_boundary(b, lo)) != lo; lo = hi) {
		uint32_t type = covering_type(b, lo, hi);
		if (type != 0)
			emit(b, lo, hi, type);
	}
	return !b->overflow;
}
