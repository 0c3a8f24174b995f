/*
 * Tests of boot/efi/elf.c: a small image shaped like mica.elf (an identity
 * segment, which the loader skips, then text and data+bss in the upper
 * half) is accepted, and each way of breaking it is refused for its own
 * reason.  The image is
 * built with the host's <elf.h>, so the loader's private ELF structures
 * are checked against the system's too.
 */
#include <elf.h>
#include <stddef.h>
#include <string.h>

#include "boot/efi/elf.h"
#include "tests/host/htest.h"

#define UPPER 0xffffffff80000000ull
#define NPHDR 20

static struct {
	Elf64_Ehdr eh;
	Elf64_Phdr ph[NPHDR];
	uint8_t data[3 * 4096];
} file;
static struct elf_image img;

static void set_segment(int i, uint32_t flags, uint64_t paddr, uint64_t vaddr,
                        uint64_t filesz, uint64_t memsz)
{
	file.ph[i] = (Elf64_Phdr){
		.p_type = PT_LOAD, .p_flags = flags,
		.p_offset = offsetof(typeof(file), data) + i * 4096ull,
		.p_paddr = paddr, .p_vaddr = vaddr, .p_filesz = filesz, .p_memsz = memsz,
	};
}

/* A valid image: three segments, a note and an empty PT_LOAD (both ignored). */
static void make_valid(void)
{
	memset(&file, 0, sizeof(file));
	memcpy(file.eh.e_ident, ELFMAG, SELFMAG);
	file.eh.e_ident[EI_CLASS] = ELFCLASS64;
	file.eh.e_ident[EI_DATA] = ELFDATA2LSB;
	file.eh.e_type = ET_EXEC;
	file.eh.e_machine = EM_X86_64;
	file.eh.e_entry = UPPER + 0x201010;
	file.eh.e_phoff = offsetof(typeof(file), ph);
	file.eh.e_phentsize = sizeof(Elf64_Phdr);
	file.eh.e_phnum = 5;
	set_segment(0, PF_R | PF_X, 0x200000, 0x200000, 0x100, 0x100);
	set_segment(1, PF_R | PF_X, 0x201000, UPPER + 0x201000, 0x200, 0x200);
	set_segment(2, PF_R | PF_W, 0x202000, UPPER + 0x202000, 0x10, 0x5000);
	file.ph[3] = (Elf64_Phdr){ .p_type = PT_NOTE, .p_offset = 1u << 30, .p_filesz = 8 };
	set_segment(4, PF_R, 0x900000, UPPER + 0x900000, 0, 0);
}

static const char *check(void)
{
	return elf_check(&file, sizeof(file), &img);
}

static void test_valid_image_is_described(void)
{
	make_valid();
	HT_EXPECT_STREQ(check(), NULL);
	HT_EXPECT_EQ(img.count, 2u);                /* the identity segment is GRUB's alone */
	HT_EXPECT_EQ(img.entry, UPPER + 0x201010);
	HT_EXPECT_EQ(img.virt_start, UPPER + 0x201000);
	HT_EXPECT_EQ(img.virt_end, UPPER + 0x207000);
	HT_EXPECT_EQ(img.seg[0].vaddr, UPPER + 0x201000);
	HT_EXPECT_EQ(img.seg[0].offset, (uint64_t)offsetof(typeof(file), data) + 4096);
	HT_EXPECT_TRUE(img.seg[0].executable && !img.seg[0].writable);
	HT_EXPECT_TRUE(img.seg[1].writable && !img.seg[1].executable);
	HT_EXPECT_EQ(img.seg[1].filesz, 0x10ull);
	HT_EXPECT_EQ(img.seg[1].memsz, 0x5000ull);
}

/* Physical addresses of upper-half segments are the linker's wish, not the loader's rule. */
static void test_physical_addresses_are_ignored(void)
{
	make_valid();
	file.ph[1].p_paddr = 5ull << 40;            /* far above any RAM, and unaligned */
	file.ph[2].p_paddr = 0x201123;              /* on segment 1's linked frame */
	HT_EXPECT_STREQ(check(), NULL);
	HT_EXPECT_EQ(img.virt_start, UPPER + 0x201000);
	HT_EXPECT_EQ(img.virt_end, UPPER + 0x207000);
}

static void test_foreign_files_are_refused(void)
{
	static const char text[] = "cmdline test\n";

	HT_EXPECT_STREQ(elf_check(text, sizeof(text) - 1, &img), "not an ELF file");
	make_valid();
	HT_EXPECT_STREQ(elf_check(&file, 3, &img), "not an ELF file");
	HT_EXPECT_STREQ(elf_check(&file, sizeof(file.eh) - 1, &img), "truncated inside the ELF header");
	file.eh.e_ident[EI_CLASS] = ELFCLASS32;
	HT_EXPECT_STREQ(check(), "not a 64-bit ELF file");
	make_valid();
	file.eh.e_ident[EI_DATA] = ELFDATA2MSB;
	HT_EXPECT_STREQ(check(), "not an x86-64 ELF file");
	make_valid();
	file.eh.e_machine = EM_AARCH64;
	HT_EXPECT_STREQ(check(), "not an x86-64 ELF file");
	make_valid();
	file.eh.e_type = ET_DYN;
	HT_EXPECT_STREQ(check(), "not an executable (ELF type is not ET_EXEC)");
}

static void test_program_headers_must_fit(void)
{
	make_valid();
	file.eh.e_phentsize = sizeof(Elf32_Phdr);
	HT_EXPECT_STREQ(check(), "unexpected program header size");
	make_valid();
	file.eh.e_phoff = sizeof(file) - 2 * sizeof(Elf64_Phdr);
	HT_EXPECT_STREQ(check(), "program headers lie outside the file");
	make_valid();
	file.eh.e_phoff = ~0ull - 8;
	HT_EXPECT_STREQ(check(), "program headers lie outside the file");
	/* the loader reads only the first 64 KiB before placing: the headers must be there */
	make_valid();
	file.eh.e_phoff = ELF_HEAD_MAX - sizeof(Elf64_Phdr);
	HT_EXPECT_STREQ(elf_check(&file, 1ull << 20, &img),
	                "program headers lie beyond the file's first 64 KiB");
}

static void test_segment_data_must_be_in_the_file(void)
{
	make_valid();
	HT_EXPECT_STREQ(elf_check(&file, sizeof(file) - 4096 + 0x0f, &img),
	                "a segment's data lies outside the file");
	file.ph[1].p_offset = ~0ull - 0x100;
	HT_EXPECT_STREQ(check(), "a segment's data lies outside the file");
	make_valid();
	file.ph[2].p_filesz = 0x5001;
	HT_EXPECT_STREQ(check(), "a segment's data lies outside the file");
	file.ph[2].p_filesz = 0x11;
	file.ph[2].p_memsz = 0x10;
	HT_EXPECT_STREQ(check(), "a segment is larger in the file than in memory");
}

static void test_addresses_must_be_sane(void)
{
	make_valid();
	file.ph[2].p_memsz = ~0ull - 0x1000;
	file.ph[2].p_filesz = 0;
	HT_EXPECT_STREQ(check(), "a segment wraps around the end of the address space");
	make_valid();
	file.ph[1].p_vaddr = ~0ull - 0xfff;
	file.ph[1].p_paddr = 0x1000;
	HT_EXPECT_STREQ(check(), "a segment wraps around the end of the address space");
	make_valid();
	file.ph[0].p_vaddr = file.ph[0].p_paddr = ~0ull - 0x7f;   /* an identity one, too */
	HT_EXPECT_STREQ(check(), "a segment wraps around the end of the address space");
	make_valid();
	file.ph[1].p_vaddr = 0x40201000;
	HT_EXPECT_STREQ(check(), "a segment is linked neither at its physical address nor in the upper half");
	make_valid();
	file.eh.e_entry = 0x200010;                 /* GRUB's 32-bit entry: never run here */
	HT_EXPECT_STREQ(check(), "the entry point lies outside every executable segment");
}

static void test_segments_must_not_overlap(void)
{
	make_valid();
	file.ph[2].p_vaddr = UPPER + 0x201000;
	HT_EXPECT_STREQ(check(), "two segments overlap (or share a page)");
	make_valid();
	file.ph[2].p_vaddr = UPPER + 0x201800;      /* same page as segment 1's end */
	HT_EXPECT_STREQ(check(), "two segments overlap (or share a page)");
}

static void test_segment_count_limits(void)
{
	make_valid();
	file.eh.e_phnum = NPHDR;
	for (int i = 0; i < NPHDR; i++) {
		set_segment(i, PF_R | PF_X, 0x200000 + i * 0x1000ull, UPPER + 0x200000 + i * 0x1000ull,
		            0, 8);
		file.ph[i].p_offset = 0;
	}
	file.eh.e_entry = UPPER + 0x200000;
	HT_EXPECT_STREQ(check(), "more than 16 loadable segments");
	file.eh.e_phnum = 16;
	HT_EXPECT_STREQ(check(), NULL);
	file.eh.e_phnum = 0;
	HT_EXPECT_STREQ(check(), "no loadable segment in the upper half");
	make_valid();
	file.eh.e_phnum = 1;                        /* only the identity segment */
	HT_EXPECT_STREQ(check(), "no loadable segment in the upper half");
}

static void test_entry_must_be_executable(void)
{
	make_valid();
	file.eh.e_entry = UPPER + 0x202000;         /* data segment */
	HT_EXPECT_STREQ(check(), "the entry point lies outside every executable segment");
	file.eh.e_entry = UPPER + 0x201200;         /* one past the text */
	HT_EXPECT_STREQ(check(), "the entry point lies outside every executable segment");
	file.eh.e_entry = UPPER + 0x2011ff;
	HT_EXPECT_STREQ(check(), NULL);
}

static const struct ht_case cases[] = {
	HT_CASE(test_valid_image_is_described),
	HT_CASE(test_physical_addresses_are_ignored),
	HT_CASE(test_foreign_files_are_refused),
	HT_CASE(test_program_headers_must_fit),
	HT_CASE(test_segment_data_must_be_in_the_file),
	HT_CASE(test_addresses_must_be_sane),
	HT_CASE(test_segments_must_not_overlap),
	HT_CASE(test_segment_count_limits),
	HT_CASE(test_entry_must_be_executable),
};
HT_MAIN("efi_elf", cases)
