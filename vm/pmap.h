/*
 * The pmap interface: the one machine-dependent layer of the VM.
 *
 * A pmap is a cache of vm_map state: the hardware page tables of one
 * address space.  vm/ says what should be mapped (a vm_page, at a virtual
 * address, with VM_PROT_* rights) and the pmap makes the page tables say
 * so.  A pmap may drop a mapping whenever it likes (vm_fault recreates
 * it), but must honour every removal and protection reduction it is asked
 * for, on every CPU, before the call returns.  arch/x86_64/pmap.c
 * implements it; nothing in vm/ knows what a page-table entry looks like.
 *
 * The calls follow Mach's and FreeBSD's.  Addresses are page-aligned;
 * ranges are [start, end).
 */
#ifndef MICA_VM_PMAP_H
#define MICA_VM_PMAP_H

#include <stdbool.h>
#include <mach/kern_return.h>
#include <mach/vm_prot.h>
#include <mach/vm_types.h>
#include <mica/boot_info.h>
#include "vm/vm_page.h"

typedef struct pmap *pmap_t;

extern struct pmap *const kernel_pmap;

/* pmap_enter flags */
#define PMAP_WIRED   0x1           /* the pmap must never drop this mapping on its own */

/* Builds the kernel's page tables from boot_info and switches to them. */
void pmap_bootstrap(const struct boot_info *bi);

/* The kernel virtual addresses left for the VM to manage: [*start, *end). */
void pmap_virtual_space(vm_offset_t *start, vm_offset_t *end);

/* Before vm_page_bootstrap: physically contiguous, zeroed, permanent kernel memory. */
void *pmap_steal_memory(size_t size);

/* Whether the frame at pa may join the free pool (not claimed at bootstrap). */
bool pmap_frame_available(paddr_t pa);

/* After vm_page_bootstrap: sets up pmap's own allocators. */
void pmap_init(void);

/* A new, empty user address space (sharing the kernel's half), or NULL. */
pmap_t pmap_create(void);

/* Removes every mapping left and frees every page-table page. */
void pmap_destroy(pmap_t pmap);

/*
 * Maps page at va with prot (VM_PROT_NONE is not allowed: use
 * pmap_remove), replacing any mapping there.  Fails only for lack of
 * memory for page tables or reverse-map entries
 * (KERN_RESOURCE_SHORTAGE), in which case nothing changed.
 */
kern_return_t pmap_enter(pmap_t pmap, vm_offset_t va, struct vm_page *page, vm_prot_t prot,
                         unsigned flags);

/*
 * Removes every mapping in [start, end), and frees the page tables that
 * then map nothing: what a task unmaps gives its tables back too.
 */
void pmap_remove(pmap_t pmap, vm_offset_t start, vm_offset_t end);

/* Lowers the rights of every mapping in [start, end) to prot (NONE removes them). */
void pmap_protect(pmap_t pmap, vm_offset_t start, vm_offset_t end, vm_prot_t prot);

/* Lowers every mapping of page, in every pmap, to prot (NONE removes them all). */
void pmap_page_protect(struct vm_page *page, vm_prot_t prot);

/* The physical address va maps to, in *pa; false when nothing is mapped there. */
bool pmap_extract(pmap_t pmap, vm_offset_t va, paddr_t *pa);

/*
 * For each of the n pages from va, the page mapped there if that mapping
 * grants every right in prot, else NULL: what an access the hardware
 * would allow without a fault reaches.  Returns how many are NULL.  The
 * pmap's lock is let go every few page tables, so each answer is as of
 * its own look: the caller holds the map, which keeps what it asks about.
 */
size_t pmap_extract_pages(pmap_t pmap, vm_offset_t va, size_t n, vm_prot_t prot,
                          struct vm_page **pages);

/* The rights the mapping at va grants, or VM_PROT_NONE when unmapped. */
vm_prot_t pmap_access(pmap_t pmap, vm_offset_t va);

/* Hardware referenced/modified bits, gathered over every mapping of page. */
bool pmap_is_modified(struct vm_page *page);
void pmap_clear_modify(struct vm_page *page);
bool pmap_is_referenced(struct vm_page *page);
void pmap_clear_reference(struct vm_page *page);

/* Makes pmap the address space of this CPU. */
void pmap_activate(pmap_t pmap);
pmap_t pmap_current(void);

void pmap_zero_page(struct vm_page *page);
void pmap_copy_page(struct vm_page *src, struct vm_page *dst);

/*
 * Where the kernel reaches physical memory: pa lies at pmap_direct_base +
 * pa (the direct map; 0 while pmap_bootstrap builds it).  The pmap sets it.
 */
extern uintptr_t pmap_direct_base;

/*
 * A kernel virtual address through which the kernel can reach pa.  Inline,
 * as FreeBSD's PHYS_TO_DMAP: the copy path converts two frames a page, and
 * under emulation a call costs more than the addition.
 */
static inline void *pmap_phys_to_virt(paddr_t pa)
{
	return (void *)(pmap_direct_base + pa);
}

/* The physical address behind va, an address of the direct map. */
static inline paddr_t pmap_direct_to_phys(const void *va)
{
	return (paddr_t)((uintptr_t)va - pmap_direct_base);
}

/* Wired kernel mappings without reverse-map entries (kernel_pmap only). */
kern_return_t pmap_kenter(vm_offset_t va, paddr_t pa, vm_prot_t prot);
void pmap_kremove(vm_offset_t va);
/*
 * pmap_kremove of every page of [va, va + size), each of which must be
 * mapped so, with one TLB flush for all: when it returns no CPU holds a
 * translation of any of them, so their frames may be reused.
 */
void pmap_kremove_range(vm_offset_t va, vm_size_t size);

/*
 * The same for a device's registers at pa (memory-mapped I/O, outside
 * the direct map): read/write, no-execute and uncached.  pmap_kremove
 * undoes it.  KERN_RESOURCE_SHORTAGE when no page table could be
 * allocated.
 */
kern_return_t pmap_kenter_device(vm_offset_t va, paddr_t pa);

#endif
