/*
 * Memory: what the loader claims for the kernel, and the firmware's map of
 * everything else.
 *
 * Every page the kernel must not reuse at once (its segments, the modules,
 * the page tables, the stack and boot_info) is claimed here with the
 * boot_info type it will carry.  The firmware's map only says "loader
 * data" for all of them, so map_to_boot_info() adds the claims on top and
 * boot_info_build lets the more specific type win.
 *
 * The map handed to the kernel must be the one ExitBootServices accepted:
 * any allocation after reading it changes the map and voids its key.  So
 * everything is allocated first, the map buffer has room to spare, and
 * after the exit only this loader's own memory is touched.
 */
#include "boot/efi/loader.h"

#define MAX_CLAIMS  64
#define MAP_SLACK   16     /* spare descriptors: allocating the buffer itself adds some */
#define EXIT_TRIES  4      /* ExitBootServices attempts; a stale key costs one */
#define GIB         (1ull << 30)

struct claim {
	UINT64 base, pages;
	enum boot_mem_type type;
};

static struct claim claims[MAX_CLAIMS];
static unsigned claim_count;

/* Allocates pages as the firmware is asked (how, at or below *base) and records the claim. */
static EFI_STATUS claim(EFI_ALLOCATE_TYPE how, UINT64 *base, UINT64 pages,
                        enum boot_mem_type type)
{
	EFI_STATUS status;

	if (claim_count == MAX_CLAIMS)
		return EFI_OUT_OF_RESOURCES;
	status = BS->AllocatePages(how, EfiLoaderData, pages, base);
	if (!EFI_ERROR(status))
		claims[claim_count++] = (struct claim){ *base, pages, type };
	return status;
}

/* Claims pages anywhere in RAM and returns their address in *base. */
EFI_STATUS claim_any(UINT64 *base, UINT64 pages, enum boot_mem_type type, const char *what)
{
	EFI_STATUS status = claim(AllocateAnyPages, base, pages, type);

	if (EFI_ERROR(status))
		return fail(status, L"cannot allocate %lu pages for %a: %r", pages, what, status);
	return EFI_SUCCESS;
}

/* Claims pages anywhere below 4 GiB and returns their address in *base. */
EFI_STATUS claim_low(UINT64 *base, UINT64 pages, enum boot_mem_type type, const char *what)
{
	EFI_STATUS status;

	*base = LOW_LIMIT;
	status = claim(AllocateMaxAddress, base, pages, type);
	if (EFI_ERROR(status))
		return fail(status, L"cannot allocate %lu pages below 4 GiB for %a: %r", pages, what,
		            status);
	return EFI_SUCCESS;
}

/* Gives every claimed page back, so a failed boot leaves the firmware as it was. */
void claims_release(void)
{
	while (claim_count > 0) {
		struct claim *c = &claims[--claim_count];
		BS->FreePages(c->base, c->pages);
	}
}

/* Frees the map buffer (after a failure: a booting loader never gives it back). */
void map_free(struct efi_map *m)
{
	if (m->desc)
		BS->FreePool(m->desc);
	m->desc = NULL;
	m->capacity = 0;
}

/*
 * Reads the current map into m->desc, first (re)allocating the buffer
 * with MAP_SLACK spare descriptors whenever it is too small.  Boot
 * services must still be up.
 */
EFI_STATUS map_read(struct efi_map *m)
{
	for (;;) {
		EFI_STATUS status;

		m->size = m->capacity;
		status = BS->GetMemoryMap(&m->size, m->desc, &m->key, &m->desc_size,
		                          &m->desc_version);
		if (status != EFI_BUFFER_TOO_SMALL)
			return EFI_ERROR(status) ? fail(status, L"cannot read the memory map: %r", status)
			                         : EFI_SUCCESS;
		UINTN capacity = m->size + MAP_SLACK * m->desc_size;
		map_free(m);
		status = BS->AllocatePool(EfiLoaderData, capacity, (void **)&m->desc);
		if (EFI_ERROR(status)) {
			m->desc = NULL;
			return fail(status, L"cannot allocate the memory map buffer: %r", status);
		}
		m->capacity = capacity;
	}
}

static const EFI_MEMORY_DESCRIPTOR *map_entry(const struct efi_map *m, UINTN i)
{
	return (const EFI_MEMORY_DESCRIPTOR *)((const UINT8 *)m->desc + i * m->desc_size);
}

static UINTN map_count(const struct efi_map *m)
{
	return m->size / m->desc_size;
}

/* Is this firmware memory type RAM (rather than MMIO, or a hole the firmware reserves)? */
static bool is_ram(UINT32 type)
{
	return type != EfiReservedMemoryType && type != EfiMemoryMappedIO &&
	       type != EfiMemoryMappedIOPortSpace && type != EfiPalCode;
}

/*
 * How far the identity map must reach: 4 GiB, or the end of RAM rounded
 * up to a GiB when RAM goes higher.  MMIO above RAM is left out: mapping
 * a 64-bit PCI window could cost gigabytes of page tables.
 */
UINT64 map_identity_top(const struct efi_map *m)
{
	UINT64 top = 4 * GIB;

	for (UINTN i = 0; i < map_count(m); i++) {
		const EFI_MEMORY_DESCRIPTOR *d = map_entry(m, i);
		UINT64 end = d->PhysicalStart + d->NumberOfPages * EFI_PAGE_SIZE;
		if (is_ram(d->Type) && end > top)
			top = (end + GIB - 1) & ~(GIB - 1);
	}
	return top;
}

/*
 * Exits boot services with the current map, re-reading it and retrying
 * while the firmware says the key is stale (UEFI spec, ExitBootServices).
 * After the first attempt only GetMemoryMap may be called, into the
 * buffer there is, and nothing may be printed: failures come back quietly.
 * On success m holds the final map.
 */
EFI_STATUS map_exit_boot_services(EFI_HANDLE image, struct efi_map *m)
{
	EFI_STATUS status = map_read(m);

	for (int tries = 1; !EFI_ERROR(status); tries++) {
		status = BS->ExitBootServices(image, m->key);
		if (status != EFI_INVALID_PARAMETER || tries == EXIT_TRIES)
			return status;
		m->size = m->capacity;
		status = BS->GetMemoryMap(&m->size, m->desc, &m->key, &m->desc_size,
		                          &m->desc_version);
	}
	return status;
}

/* Mica's type for a firmware memory type, before the loader's claims are laid over it. */
static enum boot_mem_type boot_type(UINT32 efi_type)
{
	switch (efi_type) {
	case EfiConventionalMemory:
	case EfiBootServicesCode:
	case EfiBootServicesData:
	case EfiLoaderCode:
	case EfiLoaderData:
		return BOOT_MEM_USABLE;
	case EfiACPIReclaimMemory:
		return BOOT_MEM_ACPI_RECLAIM;
	case EfiACPIMemoryNVS:
		return BOOT_MEM_ACPI_NVS;
	case EfiUnusableMemory:
		return BOOT_MEM_BAD;
	default:
		return BOOT_MEM_RESERVED;
	}
}

/*
 * Adds the claims, then the firmware's map to the builder.  Neighbouring
 * descriptors of one Mica type are joined first, which keeps the builder
 * far from its limit; and the claims go first, so that if something must
 * be dropped it is firmware memory, never the kernel's.
 */
void map_to_boot_info(const struct efi_map *m, struct boot_info_builder *b)
{
	struct boot_mmap_entry run = { 0, 0, 0, 0 };

	for (unsigned i = 0; i < claim_count; i++)
		bib_add_region(b, claims[i].base, claims[i].pages * EFI_PAGE_SIZE, claims[i].type);
	for (UINTN i = 0; i < map_count(m); i++) {
		const EFI_MEMORY_DESCRIPTOR *d = map_entry(m, i);
		UINT64 length = d->NumberOfPages * EFI_PAGE_SIZE;
		enum boot_mem_type type = boot_type(d->Type);
		if (run.length > 0 && run.type == type && run.base + run.length == d->PhysicalStart) {
			run.length += length;
			continue;
		}
		bib_add_region(b, run.base, run.length, run.type);
		run = (struct boot_mmap_entry){ .base = d->PhysicalStart, .length = length, .type = type };
	}
	bib_add_region(b, run.base, run.length, run.type);
}
