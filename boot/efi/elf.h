/*
 * Checking mica.elf before any of it is loaded.  The GNU-EFI loader trusts
 * no byte of the file until elf_check() has accepted it, so a truncated,
 * foreign or malformed image ends in an error message, never in a jump.
 *
 * Plain C on a byte buffer, with no firmware calls, so that host tests
 * (tests/host/test_efi_elf.c) can feed it every kind of broken image.
 * docs/boot.md lists the rules.
 */
#ifndef MICA_BOOT_EFI_ELF_H
#define MICA_BOOT_EFI_ELF_H

#include <stdbool.h>
#include <stdint.h>

#define ELF_MAX_SEGMENTS 16
#define ELF_HEAD_MAX     65536ull      /* the headers must lie in the file's first 64 KiB */
#define ELF_PAGE_SIZE    4096ull
#define ELF_UPPER_HALF   0xffff800000000000ull  /* lowest canonical upper-half address */

/* One upper-half PT_LOAD segment, which the loader places. */
struct elf_segment {
	uint64_t offset;                   /* of its bytes in the file */
	uint64_t filesz, memsz;            /* memsz - filesz bytes of bss follow the data */
	uint64_t vaddr;                    /* its link address; its physical one is ignored */
	bool writable, executable;
};

/*
 * What a valid image asks of the loader: its upper-half segments, to be
 * placed in one block of virt_end - virt_start bytes, anywhere in RAM,
 * each at its link address's distance from virt_start.
 */
struct elf_image {
	uint64_t entry;                    /* virtual, inside an executable segment */
	uint64_t virt_start, virt_end;     /* page-aligned bounds of the segments' link addresses */
	unsigned count;
	struct elf_segment seg[ELF_MAX_SEGMENTS];
};

/*
 * Returns NULL and fills *img if the file of size bytes whose first
 * min(size, ELF_HEAD_MAX) bytes are at head is an image the loader can
 * place (the rest of the file is never read here, so the loader need not
 * hold it twice): ELF64, little-endian, x86-64, ET_EXEC, with every
 * program header inside those first bytes and every segment's data inside
 * the file, no segment
 * larger in the file than in memory or sharing a page with another, each
 * linked in the upper half or else at its physical address (those are for
 * loaders that run the image's own 32-bit entry, such as GRUB, and are
 * skipped), and the entry point in an executable upper-half segment.
 * Otherwise returns a short reason ("not an ELF file") and *img is
 * meaningless.
 */
const char *elf_check(const void *head, uint64_t size, struct elf_image *img);

#endif
