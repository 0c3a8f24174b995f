/*
 * Where the kernel image lives.  linker.ld, the NASM entry code and the C
 * code all take these numbers from here (NASM through the Makefile's -D
 * flags, which repeat them; a build check compares the two).
 *
 * The image is linked at KERNEL_VMA_BASE + KERNEL_PHYS_BASE and loaded at
 * KERNEL_PHYS_BASE, so for every byte of it  virt = phys + KERNEL_VMA_BASE.
 */
#ifndef MICA_ARCH_LAYOUT_H
#define MICA_ARCH_LAYOUT_H

#define KERNEL_VMA_BASE  0xffffffff80000000ull /* top 2 GiB: -mcmodel=kernel */
#define KERNEL_PHYS_BASE 0x200000ull           /* 2 MiB: clear of firmware data */
#define PAGE_SIZE        4096ull

#ifndef __ASSEMBLER__
#include <stdint.h>

/* Physical address of a byte of the kernel image (not of other memory). */
static inline uint64_t kernel_image_phys(const void *p)
{
	return (uint64_t)(uintptr_t)p - KERNEL_VMA_BASE;
}
#endif

#endif
