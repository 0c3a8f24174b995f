/*
 * Where things live in physical and virtual memory.
 *
 * linker.ld states KERNEL_VMA_BASE too (a linker script cannot include C).
 * The image's physical address is not a constant: linker.ld asks for 2 MiB,
 * which GRUB honours, but other loaders put it wherever RAM is free and say
 * where in boot_info (docs/boot.md).
 */
#ifndef MICA_ARCH_LAYOUT_H
#define MICA_ARCH_LAYOUT_H

#define KERNEL_VMA_BASE  0xffffffff80000000ul /* top 2 GiB: -mcmodel=kernel */

/*
 * The virtual address space, as the kernel's page tables lay it out:
 *
 *   0x0000000000000000  user space (128 TiB), different in every pmap
 *   0x0000800000000000  -- non-canonical hole --
 *   0xffff800000000000  direct map: all of RAM at DMAP_BASE + phys, RW- NX
 *   0xffffc00000000000  kernel virtual memory: stacks with guard pages, ...
 *   0xffffffff80000000  the kernel image (linker.ld)
 *
 * The kernel half's top-level entries are made once at boot and shared by
 * every pmap, so kernel mappings look the same in every address space.
 */
#define USER_MAX         0x0000800000000000ul /* first address above user space */
#define DMAP_BASE        0xffff800000000000ul
#define DMAP_MAX_SIZE    (64ul << 40)         /* 64 TiB of RAM at most */
#define KVA_BASE         0xffffc00000000000ul
#define KVA_SIZE         (512ul << 30)        /* one top-level entry */

#ifndef __ASSEMBLER__
#include <stdint.h>

/*
 * Virtual minus physical address for every byte of the kernel image, which
 * loaders place in one piece: pmap_bootstrap sets it from boot_info, and
 * nothing may ask for an image address's frame before that.
 */
extern uint64_t kernel_image_offset;

/* Physical address of a byte of the kernel image (not of other memory). */
static inline uint64_t kernel_image_phys(const void *p)
{
	return (uint64_t)(uintptr_t)p - kernel_image_offset;
}
#endif

#endif
