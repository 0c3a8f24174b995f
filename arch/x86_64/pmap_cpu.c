/*
 * The x86-64 pmap's CPU half (arch/x86_64/pmap_cpu.h): all the pmap asks
 * of the processor itself.  It flushes the TLB (INVLPG, CR3), loads CR3
 * with its PCID on a switch, turns on the protection features in CR0 and
 * CR4, and at boot maps RAM and the kernel image and moves onto the
 * kernel's tables.  The page tables themselves are arch/x86_64/pmap.c's,
 * which the host tests build too; this file is what they replace
 * (tests/host/fake_kernel.c).
 */
#include "arch/x86_64/pmap_cpu.h"
#include "arch/x86_64/apic.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/layout.h"
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/trap.h"
#include "kern/console.h"
#include "kern/machine.h"
#include "kern/panic.h"

static bool pcid_enabled;
static uint16_t next_pcid = 1;

extern char _text_start[], _text_end[], _rodata_start[], _rodata_end[];
extern char _data_start[], _data_end[], _kernel_start[], _kernel_end[];
extern char boot_stack_guard[];

/* ------------------------------------------------------- the TLB */

/*
 * TLB shootdown.  A CPU that removes or narrows a mapping of a pmap drops
 * its own stale translations, then asks every other CPU on which the
 * pmap is active (its bit in pmap->active; all of them for the kernel's)
 * to drop theirs, through a request and an interrupt, and waits until
 * each has: so when pmap_tlb_invalidate returns, no TLB anywhere holds
 * the old translation.  The protocol (docs/vm_write.md, "Many CPUs"):
 *
 *   - A CPU sets its bit in a pmap before loading it into CR3 and clears
 *     its bit in the pmap it leaves after: a CPU without its bit caches
 *     nothing of that pmap.  The initiator changes the entries first and
 *     reads the bits after a full barrier, so a CPU that loads the pmap
 *     after the read walks the new entries, and one that had it loaded
 *     before is asked.
 *   - Each CPU has one request slot of its own, as it makes one request
 *     at a time (interrupts off throughout), so CPUs shoot down side by
 *     side: a target finds which slots ask it in its own mask of askers.
 *   - The targets may be spinning with interrupts off, for a lock the
 *     initiator holds (the pmap's), and two initiators may target each
 *     other: every CPU that spins, or waits for its own answers, answers
 *     the requests meant for it at every turn (machine_spin_pause), so
 *     every wait ends.
 *   - Past TLB_INVLPG_MAX pages a CPU flushes everything instead, as
 *     the initiator does for itself.
 */
static struct shootdown_request {
	struct pmap *pmap;                 /* (o) its CPU's, while pending is 0 */
	vm_offset_t start, end;            /* (o) */
	uint32_t pending;                  /* (a) CPUs yet to drop them */
} requests[MAX_CPUS];
static uint32_t asked_by[MAX_CPUS];    /* (a) per target, a bit per CPU whose request is for it */

/* Drops this CPU's translations of [start, end) of pmap, if it may hold any. */
static void tlb_drop_here(struct pmap *pmap, vm_offset_t start, vm_offset_t end)
{
	if (pmap != kernel_pmap && pmap != curcpu()->pmap)
		return;
	if ((end - start) / PAGE_SIZE <= TLB_INVLPG_MAX) {
		for (vm_offset_t va = start; va < end; va += PAGE_SIZE)
			invlpg(va);
	} else if (pmap == kernel_pmap) {
		tlb_flush_all_with_globals();
	} else {
		write_cr3(read_cr3());
	}
}

void pmap_tlb_service(void)
{
	unsigned id = curcpu()->id;

	if (__atomic_load_n(&asked_by[id], __ATOMIC_RELAXED) == 0)
		return;
	uint32_t askers = __atomic_exchange_n(&asked_by[id], 0, __ATOMIC_ACQUIRE);
	for (; askers != 0; askers &= askers - 1) {
		struct shootdown_request *r = &requests[__builtin_ctz(askers)];
		tlb_drop_here(r->pmap, r->start, r->end);
		__atomic_fetch_and(&r->pending, ~(1u << id), __ATOMIC_RELEASE);
	}
}

/* The other CPUs that may cache pmap's translations.  => after the entries changed */
static uint32_t tlb_holders_elsewhere(struct pmap *pmap)
{
	uint32_t all = (uint32_t)((1ull << machine_cpu_count()) - 1);

	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	uint32_t holders = pmap == kernel_pmap ? all : __atomic_load_n(&pmap->active, __ATOMIC_RELAXED);
	return holders & ~(1u << curcpu()->id);
}

/*
 * Asks the CPUs in targets to drop [start, end) of pmap, and waits until
 * each has, answering meanwhile whoever asks this CPU.  => interrupts off
 */
static void tlb_shootdown(uint32_t targets, struct pmap *pmap, vm_offset_t start, vm_offset_t end)
{
	unsigned id = curcpu()->id;
	struct shootdown_request *r = &requests[id];

	r->pmap = pmap;
	r->start = start;
	r->end = end;
	__atomic_store_n(&r->pending, targets, __ATOMIC_RELEASE);
	for (uint32_t left = targets; left != 0; left &= left - 1) {
		unsigned n = (unsigned)__builtin_ctz(left);
		__atomic_fetch_or(&asked_by[n], 1u << id, __ATOMIC_RELEASE);
		apic_send_ipi(cpus[n].apic_id, T_SHOOTDOWN);
	}
	while (__atomic_load_n(&r->pending, __ATOMIC_ACQUIRE) != 0)
		machine_spin_pause();
}

void pmap_tlb_round_trip(unsigned n)
{
	bool was_on = machine_interrupts_save_off();

	if (n != curcpu()->id)             /* on CPU n itself, all that reached it is taken */
		tlb_shootdown(1u << n, kernel_pmap, 0, 0);
	if (was_on)
		machine_interrupts_on();
}

void pmap_tlb_invalidate(struct pmap *pmap, vm_offset_t start, vm_offset_t end)
{
	bool was_on = machine_interrupts_save_off();     /* this CPU's bit stays this CPU's */
	uint32_t targets;

	tlb_drop_here(pmap, start, end);
	targets = tlb_holders_elsewhere(pmap);
	if (targets != 0)
		tlb_shootdown(targets, pmap, start, end);
	if (was_on)
		machine_interrupts_on();
}

/*
 * PCIDs go round 1..4095.  One comes back into use while its old
 * address space may still have entries tagged with it; that is safe
 * because pmap_activate loads CR3 with bit 63 clear, which drops them.
 */
uint16_t pmap_pcid_new(void)
{
	uint16_t pcid = pcid_enabled ? next_pcid : 0;

	if (pcid_enabled)
		next_pcid = next_pcid == 4095 ? 1 : next_pcid + 1;
	return pcid;
}

/* Bits as the shootdown protocol above has them.  => interrupts off, or preemption */
void pmap_activate(pmap_t pmap)
{
	struct cpu *c = curcpu();
	struct pmap *old = c->pmap;
	uint32_t me = 1u << c->id;

	__atomic_fetch_or(&pmap->active, me, __ATOMIC_SEQ_CST);
	c->pmap = pmap;
	write_cr3(pmap->pml4_pa | pmap->pcid);
	if (old && old != pmap)
		__atomic_fetch_and(&old->active, ~me, __ATOMIC_SEQ_CST);
}

uint16_t pmap_pcid(pmap_t pmap)
{
	return pmap->pcid;
}

pmap_t pmap_current(void)
{
	return curcpu()->pmap;
}

/* ------------------------------------------------------- bootstrap */

/* Memory the direct map covers: RAM of any kind, not holes or firmware. */
static bool is_ram(uint32_t type)
{
	return type != BOOT_MEM_RESERVED && type != BOOT_MEM_BAD;
}

/* The end of the last RAM region: the direct map lies within [0, that). */
static paddr_t ram_top(const struct boot_info *bi)
{
	paddr_t top = 0;

	for (uint32_t i = 0; i < bi->mmap_count; i++)
		if (is_ram(bi->mmap[i].type))
			top = bi->mmap[i].base + bi->mmap[i].length;
	return round_page(top);
}

/*
 * The direct map: every RAM region at DMAP_BASE + its address, RW- and
 * NX, except the kernel image, which is R-- there so that no frame of it
 * is both writable through one mapping and executable through another.
 * Holes (device memory, firmware) stay unmapped: mapping them cacheable
 * would clash with the uncached mappings devices need.
 */
static void map_direct(const struct boot_info *bi)
{
	uint64_t rw = PTE_P | PTE_RW | PTE_NX | PTE_G, ro = PTE_P | PTE_NX | PTE_G;

	for (uint32_t i = 0; i < bi->mmap_count; i++) {
		const struct boot_mmap_entry *e = &bi->mmap[i];
		paddr_t lo = trunc_page(e->base), hi = round_page(e->base + e->length);
		if (!is_ram(e->type) || lo >= DMAP_MAX_SIZE)
			continue;
		if (hi > DMAP_MAX_SIZE)
			hi = DMAP_MAX_SIZE;
		pmap_boot_map(DMAP_BASE + lo, lo, hi - lo, e->type == BOOT_MEM_KERNEL ? ro : rw,
		              cpu_features.page1g ? 3 : 2);
	}
}

static void map_kernel_range(char *start, char *end, vm_prot_t prot)
{
	vm_offset_t va = (vm_offset_t)start;

	pmap_boot_map(va, kernel_image_phys(start), round_page((vm_offset_t)end) - va,
	              pmap_prot_bits(prot, false), 1);
}

/* The kernel image, section by section; the page below the boot stack stays unmapped. */
static void map_kernel_image(void)
{
	char *guard_end = boot_stack_guard + PAGE_SIZE;

	map_kernel_range(_text_start, _text_end, VM_PROT_READ | VM_PROT_EXECUTE);
	map_kernel_range(_rodata_start, _rodata_end, VM_PROT_READ);
	map_kernel_range(_data_start, boot_stack_guard, VM_PROT_READ | VM_PROT_WRITE);
	map_kernel_range(guard_end, _data_end, VM_PROT_READ | VM_PROT_WRITE);
	map_kernel_range((char *)round_page((vm_offset_t)_data_end), _kernel_end, VM_PROT_READ);
}

/* Control-register features: globals, and SMEP/SMAP/UMIP/PCID where the CPU has them. */
static void enable_protection_features(void)
{
	uint64_t cr4 = read_cr4() | CR4_PGE;

	if (cpu_features.smep)
		cr4 |= CR4_SMEP;
	if (cpu_features.smap)
		cr4 |= CR4_SMAP;
	else
		cpu_patch_out_smap();  /* copy.asm's stac and clac would be invalid opcodes */
	if (cpu_features.umip)
		cr4 |= CR4_UMIP;
	if (cpu_features.pcid) {
		cr4 |= CR4_PCIDE;      /* needs CR3[11:0] = 0: we run on PCID 0 here */
		pcid_enabled = true;
	}
	write_cr4(cr4);
	write_cr0(read_cr0() | CR0_WP);
	KASSERT(rdmsr(MSR_EFER) & EFER_NXE, "pmap_bootstrap: EFER.NXE is off");
}

uint64_t kernel_image_offset;

/*
 * Learns where the loader put the image, and refuses a boot_info whose
 * placement would map the image onto frames it does not say are the image's.
 */
static void kernel_image_locate(const struct boot_info *bi)
{
	paddr_t start, end;

	kernel_image_offset = bi->kernel_virt_base - bi->kernel_phys_base;
	start = kernel_image_phys(_kernel_start);
	end = kernel_image_phys(_kernel_end);
	if ((kernel_image_offset & PAGE_MASK) != 0 || start < bi->kernel_phys_start ||
	    end > bi->kernel_phys_end || end < start)
		panic("pmap_bootstrap: boot_info places the image at %#lx-%#lx, outside its frames "
		      "%#lx-%#lx", start, end, bi->kernel_phys_start, bi->kernel_phys_end);
}

/* => the loader's identity map is in force, and nothing but this CPU runs */
void pmap_bootstrap(const struct boot_info *bi)
{
	kernel_image_locate(bi);
	pmap_tables_bootstrap(bi);
	map_direct(bi);
	map_kernel_image();

	write_cr3(kernel_pmap->pml4_pa);
	pmap_direct_base = DMAP_BASE;
	kernel_pmap->pml4 = pmap_phys_to_virt(kernel_pmap->pml4_pa);
	curcpu()->pmap = kernel_pmap;
	enable_protection_features();
}

/* ------------------------------------------------------- the layout, as the tables say */

static void prot_string(vm_prot_t prot, char out[4])
{
	out[0] = (prot & VM_PROT_READ) ? 'R' : '-';
	out[1] = (prot & VM_PROT_WRITE) ? 'W' : '-';
	out[2] = (prot & VM_PROT_EXECUTE) ? 'X' : '-';
	out[3] = '\0';
}

/* One line of the layout; the rights shown are read back from the page tables at start. */
static void layout_line(const char *what, vm_offset_t start, vm_offset_t end)
{
	char prot[4];

	prot_string(pmap_access(kernel_pmap, start), prot);
	klog("  %-13s 0x%016lx-0x%016lx %8lu KiB  %s\n", what, start, end - 1, (end - start) >> 10,
	     prot);
}

void pmap_print_kernel_layout(const struct boot_info *bi)
{
	vm_offset_t data_end = round_page((vm_offset_t)_data_end);

	klog("kernel address space (rights read from the page tables):\n");
	klog("  %-13s 0x%016lx-0x%016lx  user space, one per task\n", "user", 0ul, USER_MAX - 1);
	layout_line("direct map", DMAP_BASE, DMAP_BASE + ram_top(bi));
	layout_line("  (kernel)", DMAP_BASE + bi->kernel_phys_start, DMAP_BASE + bi->kernel_phys_end);
	klog("  %-13s 0x%016lx-0x%016lx  stacks, each with an unmapped guard page\n", "kernel VM",
	     KVA_BASE, KVA_BASE + KVA_SIZE - 1);
	layout_line("kernel text", (vm_offset_t)_text_start, round_page((vm_offset_t)_text_end));
	layout_line("kernel rodata", (vm_offset_t)_rodata_start, round_page((vm_offset_t)_rodata_end));
	layout_line("kernel data", (vm_offset_t)_data_start, data_end);
	layout_line("stack guard", (vm_offset_t)boot_stack_guard,
	            (vm_offset_t)boot_stack_guard + PAGE_SIZE);
	layout_line("symbols", data_end, (vm_offset_t)_kernel_end);
}

static const char *on_off(bool on)
{
	return on ? "on" : "off";
}

void pmap_print_protection(void)
{
	uint64_t cr4 = read_cr4();

	klog("protection: CR0.WP %s, EFER.NXE %s, SMEP %s, SMAP %s, UMIP %s, global pages %s, "
	     "PCID %s\n", on_off(read_cr0() & CR0_WP), on_off(rdmsr(MSR_EFER) & EFER_NXE),
	     on_off(cr4 & CR4_SMEP), on_off(cr4 & CR4_SMAP), on_off(cr4 & CR4_UMIP),
	     on_off(cr4 & CR4_PGE), on_off(cr4 & CR4_PCIDE));
}
