/*
 * ELF64 validation for the GNU-EFI loader (elf.h says what is accepted).
 *
 * Every offset and size in the file is attacker-controlled in the sense
 * that a truncated or patched file can hold anything, so every sum is
 * checked for overflow before it is compared, and nothing is read from
 * the file before the range it lies in has been checked.
 */
#include "boot/efi/elf.h"
#include <mica/elf64.h>

/* The messages below quote these limits. */
_Static_assert(ELF_MAX_SEGMENTS == 16 && ELF_HEAD_MAX == 64 << 10, "update the messages");

/* The highest page-aligned address: ranges ending below it round up without wrapping. */
#define ADDR_LIMIT (~0ull & ~(ELF_PAGE_SIZE - 1))

/* Does [off, off + len) lie inside [0, size)?  Written so nothing can wrap. */
static bool inside(uint64_t off, uint64_t len, uint64_t size)
{
	return off <= size && len <= size - off;
}

static uint64_t page_down(uint64_t a) { return a & ~(ELF_PAGE_SIZE - 1); }
static uint64_t page_up(uint64_t a)   { return page_down(a + ELF_PAGE_SIZE - 1); }

/* Do the pages of [a, a + alen) and [b, b + blen) meet?  Both are known not to wrap. */
static bool pages_meet(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return page_down(a) < page_up(b + blen) && page_down(b) < page_up(a + alen);
}

/* The identification bytes and the header fields that say what machine and kind of file. */
static const char *check_header(const struct elf64_ehdr *eh, uint64_t size)
{
	const uint8_t *id = eh->ident;

	if (size < 4 || id[0] != 0x7f || id[1] != 'E' || id[2] != 'L' || id[3] != 'F')
		return "not an ELF file";
	if (size < sizeof(*eh))
		return "truncated inside the ELF header";
	if (id[EI_CLASS] != ELFCLASS64)
		return "not a 64-bit ELF file";
	if (id[EI_DATA] != ELFDATA2LSB || eh->machine != EM_X86_64)
		return "not an x86-64 ELF file";
	if (eh->type != ET_EXEC)
		return "not an executable (ELF type is not ET_EXEC)";
	if (eh->phentsize != sizeof(struct elf64_phdr))
		return "unexpected program header size";
	if (!inside(eh->phoff, (uint64_t)eh->phnum * sizeof(struct elf64_phdr), size))
		return "program headers lie outside the file";
	if (!inside(eh->phoff, (uint64_t)eh->phnum * sizeof(struct elf64_phdr), ELF_HEAD_MAX))
		return "program headers lie beyond the file's first 64 KiB";
	return 0;
}

/* One PT_LOAD's own sanity, independent of the other segments. */
static const char *check_segment(const struct elf64_phdr *ph, uint64_t size)
{
	if (!inside(ph->offset, ph->filesz, size))
		return "a segment's data lies outside the file";
	if (ph->filesz > ph->memsz)
		return "a segment is larger in the file than in memory";
	if (!inside(ph->vaddr, ph->memsz, ADDR_LIMIT))
		return "a segment wraps around the end of the address space";
	if (ph->vaddr != ph->paddr && ph->vaddr < ELF_UPPER_HALF)
		return "a segment is linked neither at its physical address nor in the upper half";
	return 0;
}

/* Adds a checked upper-half segment to img unless it shares a page with one there. */
static const char *add_segment(struct elf_image *img, const struct elf64_phdr *ph)
{
	for (unsigned i = 0; i < img->count; i++) {
		const struct elf_segment *s = &img->seg[i];
		if (pages_meet(s->vaddr, s->memsz, ph->vaddr, ph->memsz))
			return "two segments overlap (or share a page)";
	}
	if (img->count == ELF_MAX_SEGMENTS)
		return "more than 16 loadable segments";
	img->seg[img->count++] = (struct elf_segment){
		.offset = ph->offset, .filesz = ph->filesz, .memsz = ph->memsz, .vaddr = ph->vaddr,
		.writable = ph->flags & ELF_PF_W, .executable = ph->flags & ELF_PF_X,
	};
	return 0;
}

/* The page-aligned bounds of the segments' link addresses, and whether the entry point can run. */
static const char *finish_image(struct elf_image *img)
{
	bool entry_ok = false;

	if (img->count == 0)
		return "no loadable segment in the upper half";
	img->virt_start = ~0ull;
	img->virt_end = 0;
	for (unsigned i = 0; i < img->count; i++) {
		const struct elf_segment *s = &img->seg[i];
		if (page_down(s->vaddr) < img->virt_start)
			img->virt_start = page_down(s->vaddr);
		if (page_up(s->vaddr + s->memsz) > img->virt_end)
			img->virt_end = page_up(s->vaddr + s->memsz);
		entry_ok |= s->executable && s->vaddr <= img->entry &&
		            img->entry - s->vaddr < s->memsz;
	}
	return entry_ok ? 0 : "the entry point lies outside every executable segment";
}

const char *elf_check(const void *head, uint64_t size, struct elf_image *img)
{
	const struct elf64_ehdr *eh = head;
	const char *why;

	if ((why = check_header(eh, size)) != 0)
		return why;
	img->entry = eh->entry;
	img->count = 0;
	for (unsigned i = 0; i < eh->phnum; i++) {
		const struct elf64_phdr *ph =
			(const void *)((const uint8_t *)head + eh->phoff + i * sizeof(*ph));
		if (ph->type != PT_LOAD || ph->memsz == 0)
			continue;
		if ((why = check_segment(ph, size)) != 0)
			return why;
		if (ph->vaddr >= ELF_UPPER_HALF && (why = add_segment(img, ph)) != 0)
			return why;
	}
	return finish_image(img);
}
