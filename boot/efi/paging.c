/*
 * The page tables the entry contract asks for (docs/boot.md), built while
 * the firmware's own identity-mapped tables are still live, so every table
 * is simply written through its physical address.
 *
 *   - physical memory from 0 to identity_top mapped to itself in 2 MiB
 *     pages, writable and executable: the loader is still running from
 *     there when it switches to these tables;
 *   - each upper-half segment of mica.elf at its link address, onto the
 *     block load.c placed it in, in 4 KiB pages, writable only if PF_W,
 *     executable only if PF_X.
 *
 * Upper-half addresses never meet the identity map, so no 2 MiB page ever
 * needs splitting.
 */
#include "boot/efi/loader.h"

#define PTE_PRESENT  (1ull << 0)
#define PTE_WRITE    (1ull << 1)
#define PTE_HUGE     (1ull << 7)      /* in a page directory: a 2 MiB page */
#define PTE_NX       (1ull << 63)
#define PTE_ADDR     0x000ffffffffff000ull
#define SHIFT_4K     12
#define SHIFT_2M     21
#define SHIFT_PML4   39
#define CHUNK_PAGES  16               /* tables are claimed this many at a time */

static UINT64 *chunk;                 /* the next free table in the current chunk */
static unsigned chunk_left;

/* A zeroed table, from a chunk of pages claimed as loader memory. */
static EFI_STATUS table_alloc(UINT64 **table)
{
	if (chunk_left == 0) {
		UINT64 base;
		EFI_STATUS status = claim_low(&base, CHUNK_PAGES, BOOT_MEM_LOADER, "page tables");
		if (EFI_ERROR(status))
			return status;
		ZeroMem((void *)base, CHUNK_PAGES * EFI_PAGE_SIZE);
		chunk = (UINT64 *)base;
		chunk_left = CHUNK_PAGES;
	}
	*table = chunk;
	chunk += EFI_PAGE_SIZE / sizeof(*chunk);
	chunk_left--;
	return EFI_SUCCESS;
}

/*
 * Maps the page of 1 << leaf_shift bytes at va to pa with flags, creating
 * the tables on the way.  Upper levels allow everything; the leaf decides.
 */
static EFI_STATUS map_page(UINT64 *pml4, UINT64 va, UINT64 pa, unsigned leaf_shift,
                           UINT64 flags)
{
	UINT64 *table = pml4;

	for (unsigned shift = SHIFT_PML4; shift > leaf_shift; shift -= 9) {
		UINT64 *entry = &table[(va >> shift) & 511];
		if (!(*entry & PTE_PRESENT)) {
			UINT64 *next;
			EFI_STATUS status = table_alloc(&next);
			if (EFI_ERROR(status))
				return status;
			*entry = (UINT64)next | PTE_PRESENT | PTE_WRITE;
		}
		table = (UINT64 *)(*entry & PTE_ADDR);
	}
	table[(va >> leaf_shift) & 511] = pa | flags | PTE_PRESENT;
	return EFI_SUCCESS;
}

static EFI_STATUS map_identity(UINT64 *pml4, UINT64 top)
{
	for (UINT64 pa = 0; pa < top; pa += 1ull << SHIFT_2M) {
		EFI_STATUS status = map_page(pml4, pa, pa, SHIFT_2M, PTE_HUGE | PTE_WRITE);
		if (EFI_ERROR(status))
			return status;
	}
	return EFI_SUCCESS;
}

/* Maps segment s, which lies phys_offset below its link address. */
static EFI_STATUS map_segment(UINT64 *pml4, const struct elf_segment *s, UINT64 phys_offset)
{
	UINT64 flags = (s->writable ? PTE_WRITE : 0) | (s->executable ? 0 : PTE_NX);
	UINT64 va = s->vaddr & ~(EFI_PAGE_SIZE - 1);

	for (; va < s->vaddr + s->memsz; va += EFI_PAGE_SIZE) {
		EFI_STATUS status = map_page(pml4, va, va - phys_offset, SHIFT_4K, flags);
		if (EFI_ERROR(status))
			return status;
	}
	return EFI_SUCCESS;
}

/*
 * Builds the tables described above for the image placed at phys_base and
 * returns the PML4's physical address in *cr3.
 */
EFI_STATUS paging_build(const struct elf_image *img, UINT64 phys_base, UINT64 identity_top,
                        UINT64 *cr3)
{
	UINT64 *pml4;
	EFI_STATUS status = table_alloc(&pml4);

	if (!EFI_ERROR(status))
		status = map_identity(pml4, identity_top);
	for (unsigned i = 0; i < img->count && !EFI_ERROR(status); i++)
		status = map_segment(pml4, &img->seg[i], img->virt_start - phys_base);
	*cr3 = (UINT64)pml4;
	return status;
}
