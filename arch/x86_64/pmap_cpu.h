/*
 * The two halves of the x86-64 pmap, and what each gives the other.
 *
 * arch/x86_64/pmap.c is the page tables and the reverse maps: plain C
 * over memory it reaches through pmap_phys_to_virt, which asks the CPU
 * for nothing but a TLB flush (pmap_tlb_invalidate).  The CPU half is
 * the rest: arch/x86_64/pmap_cpu.c in the kernel (CR3, CR4, INVLPG,
 * PCIDs, the boot mappings of RAM and of the image), and
 * tests/host/fake_kernel.c in the host tests, which build pmap.c as it
 * is over page tables in malloc'd memory.  Only the pmap's own files
 * include this header: vm/ sees vm/pmap.h alone.
 */
#ifndef MICA_ARCH_PMAP_CPU_H
#define MICA_ARCH_PMAP_CPU_H

#include "arch/x86_64/pmap_md.h"
#include "kern/lock.h"

/*
 * Locks:
 *   (p) pmap->lock: also every entry of its page tables, but the A and D
 *       bits, which the CPU sets at will and which the A/D calls read and
 *       clear under pv_lock alone
 *   (c) constant after creation (bootstrap for the kernel's)
 */
struct pmap {
	uint64_t *pml4;                /* (c) through the direct map */
	paddr_t pml4_pa;               /* (c) */
	uint16_t pcid;                 /* (c) 0 when PCID is off, and for the kernel */
	uint32_t active;               /* (a) a bit per CPU whose CR3 holds it: the TLBs that may
	                                  cache its translations (the kernel's: every CPU) */
	struct spinlock lock;
	uint64_t resident;             /* (p) leaf 4 KiB mappings */
};

/* => pmap->lock held */
#define PMAP_ASSERT_LOCKED(pmap) LOCK_ASSERT_HELD(&(pmap)->lock)

/* The leaf entry bits that grant prot, for a kernel or user address. */
static inline uint64_t pmap_prot_bits(vm_prot_t prot, bool user)
{
	uint64_t bits = PTE_P;

	if (prot & VM_PROT_WRITE)
		bits |= PTE_RW;
	if (!(prot & VM_PROT_EXECUTE))
		bits |= PTE_NX;
	bits |= user ? PTE_US : PTE_G;
	return bits;
}

/* ---- the page-table half (arch/x86_64/pmap.c) ---- */

/*
 * Takes the bootstrap memory from bi and makes the kernel pmap: its
 * top-level table and the kernel-VM table under it that every pmap
 * shares.  => pmap_direct_base reaches RAM
 */
void pmap_tables_bootstrap(const struct boot_info *bi);

/*
 * Maps [va, va + size) to [pa, ...) with bits in the kernel pmap, in the
 * largest pages that fit up to level max_level (1: 4 KiB pages only,
 * 2: 2 MiB, 3: 1 GiB).  Bootstrap only: nothing is flushed.
 */
void pmap_boot_map(vm_offset_t va, paddr_t pa, uint64_t size, uint64_t bits, int max_level);

/*
 * The 4 KiB leaf entry for va, or NULL when no page table covers it: for
 * a CPU half that plays the processor's part in an access (A and D).
 */
uint64_t *pmap_pte(struct pmap *pmap, vm_offset_t va);

/* ---- the CPU half ---- */

/*
 * Drops stale translations of [start, end) of pmap from every TLB that
 * may hold them, before it returns.
 */
void pmap_tlb_invalidate(struct pmap *pmap, vm_offset_t start, vm_offset_t end);

/*
 * From the shootdown interrupt, or a CPU spinning with interrupts off
 * (machine_spin_pause): drops the translations another CPU's
 * pmap_tlb_invalidate asks this CPU to drop, and says it has.
 */
void pmap_tlb_service(void);

/*
 * Interrupts CPU n (if not this one) with a shootdown request for nothing,
 * and returns once it has answered: whatever reached it before has been
 * taken.
 */
void pmap_tlb_round_trip(unsigned n);

/* The PCID that tags a new address space's TLB entries; 0 when there are none. */
uint16_t pmap_pcid_new(void);

#endif
