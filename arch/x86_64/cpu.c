/*
 * Per-CPU tables: GDT with a TSS (and its IST stacks), the IDT, the GS base,
 * and the CPU features Mica reports.
 */
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/trap.h"
#include "kern/machine.h"
#include "kern/panic.h"
#include "lib/string.h"
#include "vm/vm_kern.h"

struct cpu cpus[MAX_CPUS];
struct cpu_features cpu_features;

/* Gate descriptor of the IDT, in the layout the CPU reads. */
struct idt_gate {
	uint16_t offset_lo;
	uint16_t selector;
	uint8_t ist;
	uint8_t type_attr;
	uint16_t offset_mid;
	uint32_t offset_hi;
	uint32_t reserved;
} __attribute__((packed));

struct descriptor_ptr {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

#define GATE_INTERRUPT 0x8e      /* present, DPL 0, 64-bit interrupt gate */

static struct idt_gate idt[256] __attribute__((aligned(16)));

extern const uint64_t trap_stubs[256];       /* trap_entry.asm */
extern void gdt_load_segments(const struct descriptor_ptr *gdtr);  /* trap_entry.asm */

/*
 * Code and data descriptors are flat in long mode: only type, DPL and L
 * count.  Ring 3 gets 64-bit code only.  With a 32-bit code segment a
 * program could far-jump into compatibility mode, where SYSCALL enters
 * ring 0 through MSR_CSTAR with the user's stack and GS: a door Mica keeps
 * shut by having no such segment, not by guarding it.
 */
static void gdt_fill(struct cpu *c)
{
	uint64_t tss = (uint64_t)&c->tss;
	uint64_t limit = sizeof(c->tss) - 1;

	c->gdt[0] = 0;
	c->gdt[SEL_KCODE >> 3] = 0x00209a0000000000ull;   /* ring 0 code, L */
	c->gdt[SEL_KDATA >> 3] = 0x0000920000000000ull;   /* ring 0 data */
	c->gdt[SEL_SYSRET_BASE >> 3] = 0;                 /* no 32-bit user code: see below */
	c->gdt[SEL_UDATA >> 3] = 0x0000f20000000000ull;   /* ring 3 data */
	c->gdt[SEL_UCODE >> 3] = 0x0020fa0000000000ull;   /* ring 3 code, L */
	c->gdt[SEL_TSS >> 3] = (limit & 0xffff) | ((tss & 0xffffff) << 16) |
	                       (0x89ull << 40) | (((tss >> 24) & 0xff) << 56);
	c->gdt[(SEL_TSS >> 3) + 1] = tss >> 32;
}

_Static_assert(sizeof(struct tss) == 104, "the TSS layout is fixed by the CPU");

static void tss_fill(struct cpu *c)
{
	memset(&c->tss, 0, sizeof(c->tss));
	c->tss.iomap_base = sizeof(c->tss);   /* no I/O permission bitmap */
}

static void idt_set(int vector, uint64_t handler, int ist)
{
	idt[vector] = (struct idt_gate){
		.offset_lo = handler & 0xffff,
		.selector = SEL_KCODE,
		.ist = ist,
		.type_attr = GATE_INTERRUPT,
		.offset_mid = (handler >> 16) & 0xffff,
		.offset_hi = handler >> 32,
	};
}

/* Every vector gets a stub, on the current stack until cpu_init_ist. */
static void idt_fill(void)
{
	for (int v = 0; v < 256; v++)
		idt_set(v, trap_stubs[v], 0);
}

static const int ist_vectors[IST_COUNT + 1] = {
	[IST_DOUBLE_FAULT] = T_DOUBLE_FAULT, [IST_NMI] = T_NMI,
	[IST_MACHINE_CHECK] = T_MACHINE_CHECK,
};

/*
 * Gives c's TSS its interrupt stacks, guard pages included; false, with
 * nothing kept, when memory is short.  Needs kernel stacks: after kmem_init.
 */
static bool ist_alloc(struct cpu *c)
{
	for (int i = 1; i <= IST_COUNT; i++) {
		vm_offset_t stack = kmem_stack_alloc();
		if (stack == 0) {
			cpu_release(c);
			return false;
		}
		c->tss.ist[i - 1] = stack + KSTACK_SIZE;
	}
	return true;
}

void cpu_release(struct cpu *c)
{
	for (int i = 1; i <= IST_COUNT; i++) {
		if (c->tss.ist[i - 1] != 0)
			kmem_stack_free(c->tss.ist[i - 1] - KSTACK_SIZE);
		c->tss.ist[i - 1] = 0;
	}
}

/*
 * The three exceptions that may strike on a broken stack (a double fault
 * after a kernel stack overflow, NMI, machine check) get stacks of their
 * own.  The IDT is shared, so its gates name slots; each CPU's TSS says
 * where that CPU's slot is.
 */
void cpu_init_ist(void)
{
	if (!ist_alloc(curcpu()))
		panic("cpu_init_ist: no memory for an interrupt stack");
	for (int i = 1; i <= IST_COUNT; i++)
		idt_set(ist_vectors[i], trap_stubs[ist_vectors[i]], i);
}

/* The legacy 8259 PICs: move them off the exception vectors and mask them. */
static void pic_disable(void)
{
	static const uint8_t init[2][4] = {
		{ 0x11, T_IRQ_BASE, 0x04, 0x01 },      /* master: ICW1..ICW4 */
		{ 0x11, T_IRQ_BASE + 8, 0x02, 0x01 },  /* slave */
	};
	for (int i = 0; i < 4; i++) {
		outb(i == 0 ? 0x20 : 0x21, init[0][i]);
		outb(i == 0 ? 0xa0 : 0xa1, init[1][i]);
	}
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
}

extern void syscall_entry(void);   /* syscall_entry.asm */

#define MSR_STAR   0xc0000081
#define MSR_LSTAR  0xc0000082
#define MSR_SFMASK 0xc0000084

/*
 * SYSCALL/SYSRET: SYSRET takes ring 3's selectors from STAR[63:48] (+16 for
 * CS, +8 for SS), which is why the GDT puts user data before user code.
 * Entry clears IF, TF, DF, AC and NT: the kernel starts from a known state.
 */
static void syscall_init(void)
{
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
	wrmsr(MSR_STAR, ((uint64_t)SEL_KCODE << 32) | ((uint64_t)SEL_SYSRET_BASE << 48));
	wrmsr(MSR_LSTAR, (uint64_t)syscall_entry);
	wrmsr(MSR_SFMASK, RFLAGS_IF | (1 << 8) | (1 << 10) | RFLAGS_AC | (1 << 14));
}

/* SSE for user threads (the kernel never uses it): FXSAVE/FXRSTOR on, no emulation. */
static void fpu_init(void)
{
	write_cr0((read_cr0() & ~(CR0_EM | CR0_TS)) | CR0_MP | CR0_NE);
	write_cr4(read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT);
	__asm__ volatile("fninit");
}

/* Fills c's descriptors: its GDT with its own TSS, which has no stacks yet. */
static void cpu_fill(struct cpu *c, unsigned id)
{
	c->self = c;
	c->id = id;
	c->locks.tag = (uint16_t)(id + 1);
	gdt_fill(c);
	tss_fill(c);
}

/*
 * Makes c this CPU's: its GDT and segments, its TSS, GS base at c (so
 * curcpu() is c from here on) and the IDT every CPU shares.  FS base 0,
 * as c->fs_base says, so that machine_switch's comparison holds from the
 * first user thread on.  TSC_AUX is c's number: RDTSCP hands it to user
 * code, which then knows where it runs without a system call.
 */
static void cpu_load(struct cpu *c)
{
	struct descriptor_ptr gdtr = { sizeof(c->gdt) - 1, (uint64_t)c->gdt };
	struct descriptor_ptr idtr = { sizeof(idt) - 1, (uint64_t)idt };

	gdt_load_segments(&gdtr);
	__asm__ volatile("ltr %w0" : : "r"(SEL_TSS));
	wrmsr(MSR_GS_BASE, (uint64_t)c);
	wrmsr(MSR_KERNEL_GS, 0);
	wrmsr(MSR_FS_BASE, 0);
	c->fs_base = 0;
	if (cpu_features.rdtscp) {
		wrmsr(MSR_TSC_AUX, c->id);
		c->seen.tsc_aux = (uint32_t)rdmsr(MSR_TSC_AUX);
	}
	__asm__ volatile("lidt %0" : : "m"(idtr));
}

/* The boot processor's APIC ID as CPUID reports it, before its local APIC is mapped. */
static uint32_t cpuid_apic_id(void)
{
	uint32_t r[4];

	cpuid(1, 0, r);
	return r[1] >> 24;
}

void cpu_init_early(void)
{
	cpus[0].self = &cpus[0];
	cpus[0].id = 0;
	cpus[0].locks.tag = 1;
	cpus[0].locks.interrupts_off.timed = cpus[0].locks.preempt_off.timed = true;
	wrmsr(MSR_GS_BASE, (uint64_t)&cpus[0]);
}

void cpu_init(void)
{
	struct cpu *c = &cpus[0];

	cpu_fill(c, 0);
	c->apic_id = cpuid_apic_id();
	idt_fill();
	cpu_load(c);
	pic_disable();
	syscall_init();
	fpu_init();
}

bool cpu_prepare(struct cpu *c, unsigned id, uint32_t apic_id)
{
	cpu_fill(c, id);
	c->apic_id = apic_id;
	c->online = false;
	return ist_alloc(c);
}

void cpu_init_ap(struct cpu *c)
{
	cpu_load(c);
	syscall_init();
	fpu_init();
}

static void cpuid_string(uint32_t leaf, char *out)
{
	uint32_t r[4];

	cpuid(leaf, 0, r);
	memcpy(out, r, 16);
}

void cpu_features_detect(void)
{
	struct cpu_features *f = &cpu_features;
	uint32_t r[4], max, max_ext;

	cpuid(0, 0, r);
	max = r[0];
	memcpy(f->vendor, &r[1], 4);
	memcpy(f->vendor + 4, &r[3], 4);
	memcpy(f->vendor + 8, &r[2], 4);
	cpuid(1, 0, r);
	f->pcid = r[2] & (1u << 17);
	f->x2apic = r[2] & (1u << 21);
	f->rdrand = r[2] & (1u << 30);
	if (max >= 7) {
		cpuid(7, 0, r);
		f->smep = r[1] & (1u << 7);
		f->invpcid = r[1] & (1u << 10);
		f->smap = r[1] & (1u << 20);
		f->umip = r[2] & (1u << 2);
		f->pku = r[2] & (1u << 3);
	}
	cpuid(0x80000000, 0, r);
	max_ext = r[0];
	if (max_ext >= 0x80000001) {
		cpuid(0x80000001, 0, r);
		f->nx = r[3] & (1u << 20);
		f->page1g = r[3] & (1u << 26);
		f->rdtscp = r[3] & (1u << 27);
	}
	if (max_ext >= 0x80000004) {
		for (int i = 0; i < 3; i++)
			cpuid_string(0x80000002 + i, f->brand + 16 * i);
	}
}

extern const uint64_t _smap_sites_start[], _smap_sites_end[];

/* 0f 1f 00 is `nop dword [rax]`: three bytes, as stac and clac are. */
void cpu_patch_out_smap(void)
{
	static const uint8_t nop3[3] = { 0x0f, 0x1f, 0x00 };
	uint64_t cr0 = write_protect_off();

	for (const uint64_t *site = _smap_sites_start; site < _smap_sites_end; site++)
		memcpy((void *)*site, nop3, sizeof(nop3));
	write_cr0(cr0);
}

struct cpu_locks *machine_cpu_locks_of(unsigned n)
{
	if (n >= MAX_CPUS || (n > 0 && !__atomic_load_n(&cpus[n].online, __ATOMIC_ACQUIRE)))
		return NULL;
	return &cpus[n].locks;
}
