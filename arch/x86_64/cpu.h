/*
 * x86-64 instructions as inline functions, and the per-CPU structure.
 * Only arch/ includes this file; kern/ sees the interrupt-flag part
 * through arch/x86_64/machine_md.h's inline wrappers.
 */
#ifndef MICA_ARCH_CPU_H
#define MICA_ARCH_CPU_H

#include <stdbool.h>
#include <stdint.h>

#define RFLAGS_IF       (1ull << 9)
#define RFLAGS_AC       (1ull << 18)

#define CR0_PE          (1ull << 0)
#define CR0_MP          (1ull << 1)
#define CR0_EM          (1ull << 2)
#define CR0_TS          (1ull << 3)
#define CR0_NE          (1ull << 5)
#define CR0_WP          (1ull << 16)
#define CR0_PG          (1ull << 31)
#define CR4_OSFXSR      (1ull << 9)
#define CR4_OSXMMEXCPT  (1ull << 10)
#define CR4_PAE         (1ull << 5)
#define CR4_PGE         (1ull << 7)
#define CR4_UMIP        (1ull << 11)
#define CR4_PCIDE       (1ull << 17)
#define CR4_SMEP        (1ull << 20)
#define CR4_SMAP        (1ull << 21)
#define EFER_SCE        (1ull << 0)
#define EFER_LME        (1ull << 8)
#define EFER_LMA        (1ull << 10)
#define EFER_NXE        (1ull << 11)

#define MSR_EFER        0xc0000080
#define MSR_GS_BASE     0xc0000101
#define MSR_KERNEL_GS   0xc0000102
#define MSR_FS_BASE     0xc0000100
#define MSR_TSC_AUX     0xc0000103
#define MSR_PAT         0x277

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

static inline void cpuid(uint32_t leaf, uint32_t subleaf, uint32_t r[4])
{
	__asm__ volatile("cpuid"
	                 : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
	                 : "a"(leaf), "c"(subleaf));
}

static inline uint64_t read_cr0(void) { uint64_t v; __asm__ volatile("mov %%cr0, %0" : "=r"(v)); return v; }
static inline uint64_t read_cr2(void) { uint64_t v; __asm__ volatile("mov %%cr2, %0" : "=r"(v)); return v; }
static inline uint64_t read_cr3(void) { uint64_t v; __asm__ volatile("mov %%cr3, %0" : "=r"(v)); return v; }
static inline uint64_t read_cr4(void) { uint64_t v; __asm__ volatile("mov %%cr4, %0" : "=r"(v)); return v; }

static inline void write_cr0(uint64_t v) { __asm__ volatile("mov %0, %%cr0" : : "r"(v) : "memory"); }
static inline void write_cr3(uint64_t v) { __asm__ volatile("mov %0, %%cr3" : : "r"(v) : "memory"); }
static inline void write_cr4(uint64_t v) { __asm__ volatile("mov %0, %%cr4" : : "r"(v) : "memory"); }

static inline void invlpg(uint64_t va)
{
	__asm__ volatile("invlpg (%0)" : : "r"(va) : "memory");
}

/* Flushes the whole TLB, global entries too (toggling CR4.PGE does). */
static inline void tlb_flush_all_with_globals(void)
{
	uint64_t cr4 = read_cr4();

	write_cr4(cr4 & ~CR4_PGE);
	write_cr4(cr4);
}

/*
 * Clears CR0.WP, so that kernel writes ignore read-only mappings (to patch
 * kernel text, with interrupts off); returns the CR0 to put back after.
 */
static inline uint64_t write_protect_off(void)
{
	uint64_t cr0 = read_cr0();

	write_cr0(cr0 & ~CR0_WP);
	return cr0;
}

static inline uint64_t read_rflags(void)
{
	uint64_t v;
	__asm__ volatile("pushfq; popq %0" : "=r"(v));
	return v;
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static inline void cli(void) { __asm__ volatile("cli" ::: "memory"); }
static inline void sti(void) { __asm__ volatile("sti" ::: "memory"); }
static inline void hlt(void) { __asm__ volatile("hlt"); }

/* CPU features Mica reports or depends on, read once from CPUID. */
struct cpu_features {
	bool nx, smep, smap, umip, pcid, invpcid, page1g, x2apic, rdrand, pku, rdtscp;
	char vendor[13];
	char brand[49];
};

extern struct cpu_features cpu_features;

void cpu_features_detect(void);

/*
 * SMAP: let the kernel touch user pages (stac) and forbid it again (clac).
 * Both are invalid opcodes on a CPU without SMAP, which needs neither.
 */
static inline void stac(void) { if (cpu_features.smap) __asm__ volatile("stac" ::: "memory"); }
static inline void clac(void) { if (cpu_features.smap) __asm__ volatile("clac" ::: "memory"); }

/* Turns copy.asm's stac and clac into NOPs: for a CPU without SMAP, once, at boot. */
void cpu_patch_out_smap(void);
/*
 * The boot processor's per-CPU base (GS at cpus[0]), first thing: every
 * spin lock finds its CPU's lock state through it.
 */
void cpu_init_early(void);
/* The boot processor's GDT, TSS, IDT and per-CPU base (cpus[0]), the PICs masked. */
void cpu_init(void);
/* The boot processor's interrupt stacks, once kernel stacks exist; panics without memory. */
void cpu_init_ist(void);

struct cpu;

/*
 * On the boot processor, for another CPU that is to start: c's tables,
 * id and APIC ID, and its interrupt stacks; false, with nothing
 * allocated, when memory is short.
 */
bool cpu_prepare(struct cpu *c, unsigned id, uint32_t apic_id);
/* Gives back what cpu_prepare allocated, for a CPU that did not start. */
void cpu_release(struct cpu *c);
/* On the CPU itself, once it runs in long mode: loads c's tables, as cpu_init does for CPU 0. */
void cpu_init_ap(struct cpu *c);

#endif
