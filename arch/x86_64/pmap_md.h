/*
 * The machine-dependent side of the pmap that arch/ and the pmap tests
 * see: page-table entry bits and the W^X audit.  vm/ never includes this.
 */
#ifndef MICA_ARCH_PMAP_MD_H
#define MICA_ARCH_PMAP_MD_H

#include <stdbool.h>
#include <stdint.h>
#include "vm/pmap.h"

/* Page-table entry bits (Intel SDM vol. 3, 4.5). */
#define PTE_P    (1ull << 0)       /* present */
#define PTE_RW   (1ull << 1)       /* writable */
#define PTE_US   (1ull << 2)       /* user-accessible */
#define PTE_PWT  (1ull << 3)
#define PTE_PCD  (1ull << 4)       /* cache disable */
#define PTE_A    (1ull << 5)       /* accessed (referenced) */
#define PTE_D    (1ull << 6)       /* dirty (modified) */
#define PTE_PS   (1ull << 7)       /* large page, in a PDPT or PD entry */
#define PTE_G    (1ull << 8)       /* global: kept across CR3 loads */
#define PTE_MANAGED (1ull << 9)    /* software: made by pmap_enter, has a pv entry */
#define PTE_NX   (1ull << 63)      /* no execute */
#define PTE_ADDR 0x000ffffffffff000ull

/* Above this many pages, a range flush reloads CR3 instead of INVLPG each page. */
#define TLB_INVLPG_MAX 32

/*
 * The leaf entry that maps va, in *pte, and its level (1: 4 KiB page,
 * 2: 2 MiB, 3: 1 GiB).  False when va is unmapped.
 */
bool pmap_leaf_entry(pmap_t pmap, vm_offset_t va, uint64_t *pte, int *level);

/* Reverse-map entries in use, over all pages: a leak check for tests. */
uint64_t pmap_pv_entries(void);

/* The PCID a pmap's TLB entries carry (0 without PCID). */
uint16_t pmap_pcid(pmap_t pmap);

struct pmap_audit {
	uint64_t writable_and_executable;   /* leaves with RW and without NX */
	uint64_t aliased_write_execute;     /* frames writable in one mapping, executable in another */
	uint64_t user_kernel_pages;         /* kernel-half leaves with US */
	uint64_t leaves;                    /* leaf entries examined */
};

/*
 * Walks both halves of pmap's tables and counts W^X violations; prints the
 * first few.  Every count but leaves must be zero.
 */
void pmap_audit(pmap_t pmap, struct pmap_audit *out);

/* Prints the kernel's address space and the rights each part has. */
void pmap_print_kernel_layout(const struct boot_info *bi);

/* Prints which hardware protection features are on. */
void pmap_print_protection(void);

#endif
