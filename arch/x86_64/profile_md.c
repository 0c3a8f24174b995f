/*
 * The profiler's clock (debug/profile.h): the PIT's channel 0 ticking at
 * the sampling rate, its interrupt routed by the I/O APIC as an NMI.  An
 * NMI, because Mica runs system calls and every locked section with
 * interrupts off, and a sampler that could not see them would see little
 * of the kernel.  The local APIC's timer cannot raise one (its LVT entry
 * has no delivery mode); an I/O APIC redirection entry can.
 *
 * The I/O APIC is taken at its architectural address, 0xfec00000, as on
 * every PC Mica boots in (QEMU's pc and q35 included), and checked by its
 * version register; the PIT's output reaches it on pin 2 (the ACPI MADT's
 * usual override of ISA IRQ 0).  A machine where that check fails has no
 * profiler, and says so.
 */
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/pmap_cpu.h"
#include "kern/clock.h"
#include "kern/machine.h"
#include "vm/vm_kern.h"

#define IOAPIC_PHYS        0xfec00000ul
#define IOAPIC_REGSEL      0               /* 32-bit word indexes into the window */
#define IOAPIC_WINDOW      4
#define IOAPIC_VERSION     0x01
#define IOAPIC_REDIR(pin)  (0x10 + 2 * (pin))
#define REDIR_NMI          (4u << 8)       /* delivery mode NMI (the vector is ignored) */
#define REDIR_MASKED       (1u << 16)
#define PIT_PIN            2

#define PIT_HZ             1193182u
#define PIT_CH0_DATA       0x40
#define PIT_COMMAND        0x43
#define PIT_CH0_RATE       0x34            /* channel 0, low then high byte, mode 2 (rate), binary */

static volatile uint32_t *ioapic;          /* NULL until mapped, or when there is none */
static uint64_t period_ns;                 /* between samples, on average */
static uint64_t due_ns;                    /* when the next sample is due (clock_ns) */

static uint32_t ioapic_read(unsigned reg)
{
	ioapic[IOAPIC_REGSEL] = reg;
	return ioapic[IOAPIC_WINDOW];
}

static void ioapic_write(unsigned reg, uint32_t value)
{
	ioapic[IOAPIC_REGSEL] = reg;
	ioapic[IOAPIC_WINDOW] = value;
}

/* Maps the I/O APIC once; false when none answers there. */
static bool ioapic_find(void)
{
	static bool looked;
	vm_offset_t va;

	if (looked)
		return ioapic != NULL;
	looked = true;
	if (kmem_map_device(IOAPIC_PHYS, PAGE_SIZE, &va) != KERN_SUCCESS)
		return false;
	ioapic = (volatile uint32_t *)va;
	uint32_t version = ioapic_read(IOAPIC_VERSION);
	unsigned pins = ((version >> 16) & 0xff) + 1;
	if ((version & 0xff) < 0x10 || (version & 0xff) > 0x2f || pins <= PIT_PIN)
		ioapic = NULL;                     /* 0xffffffff: nothing there */
	return ioapic != NULL;
}

bool machine_profile_start(unsigned hz)
{
	uint32_t divisor = PIT_HZ / hz;

	if (!ioapic_find() || divisor < 2 || divisor > 0xffff)
		return false;
	period_ns = 1000000000ul / hz;
	due_ns = clock_ns() + period_ns;
	outb(PIT_COMMAND, PIT_CH0_RATE);
	outb(PIT_CH0_DATA, divisor & 0xff);
	outb(PIT_CH0_DATA, divisor >> 8);
	/* to the boot CPU alone, whose APIC ID need not be 0: what it runs is sampled */
	ioapic_write(IOAPIC_REDIR(PIT_PIN) + 1, cpus[0].apic_id << 24);
	ioapic_write(IOAPIC_REDIR(PIT_PIN), REDIR_NMI);   /* edge-triggered, unmasked */
	return true;
}

/*
 * Sets when the next sample comes: a pseudo-random quarter of the period
 * either way of the last one's due time.  A fixed period can fall into
 * step with a loop whose turn divides it, and then samples the same few
 * instructions every time.  Called from the NMI.
 *
 * The count is reckoned from the due time, not from now, because QEMU's
 * PIT starts a count when it is written (hardware takes it at the next
 * reload): reckoned from now, every microsecond the NMI spent reaching
 * the CPU would lengthen a period, and a busy host thinned the samples
 * by a tenth and more.  A sample later than half a period is not made
 * up for; the next is reckoned from now.
 */
void machine_profile_rearm(void)
{
	static uint32_t lfsr = 0xace1u;
	uint64_t now = clock_ns();

	lfsr = (lfsr >> 1) ^ (-(lfsr & 1u) & 0xb400u);     /* a 16-bit Galois LFSR */
	uint64_t gap = period_ns - period_ns / 4 + (period_ns / 2) * lfsr / 0x10000;
	due_ns = due_ns + period_ns / 2 < now ? now + gap : due_ns + gap;
	uint64_t divisor = (due_ns - now) * PIT_HZ / 1000000000ul;
	if (divisor < 2)
		divisor = 2;
	outb(PIT_CH0_DATA, divisor & 0xff);
	outb(PIT_CH0_DATA, divisor >> 8);
}

/*
 * An NMI the I/O APIC sent just before the mask may still be on its way
 * to CPU 0 when this runs on another CPU (under TCG, for as long as the
 * host holds CPU 0's thread): an interrupt sent after the mask, and
 * answered, comes after it, as an NMI is taken before any interrupt.
 */
void machine_profile_stop(void)
{
	if (ioapic == NULL)
		return;
	ioapic_write(IOAPIC_REDIR(PIT_PIN), REDIR_NMI | REDIR_MASKED);
	pmap_tlb_round_trip(0);
}
