/*
 * The parts of the ELF64 format Mica reads (System V gABI): the file
 * header and program headers.  Shared by the kernel's program loader
 * (kern/exec.c) and the GNU-EFI loader (boot/efi/elf.c).
 */
#ifndef MICA_ELF64_H
#define MICA_ELF64_H

#include <stdint.h>

struct elf64_ehdr {
	uint8_t ident[16];
	uint16_t type, machine;
	uint32_t version;
	uint64_t entry, phoff, shoff;
	uint32_t flags;
	uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};

struct elf64_phdr {
	uint32_t type, flags;
	uint64_t offset, vaddr, paddr, filesz, memsz, align;
};

enum {
	EI_CLASS = 4, EI_DATA = 5,
	ELFCLASS64 = 2, ELFDATA2LSB = 1,
	ET_EXEC = 2, EM_X86_64 = 62,
	PT_LOAD = 1, ELF_PF_X = 1, ELF_PF_W = 2, ELF_PF_R = 4,   /* segment flags */
};

#endif
