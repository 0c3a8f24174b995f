/*
 * The clock's hardware on x86-64 (kern/machine.h): the local APIC timer
 * interrupts once per deadline, armed one-shot, and the TSC counts cycles
 * for time.  Neither states its rate, so both are measured once at boot
 * against the PIT (the 8254), whose input clock is 1.193182 MHz on every
 * PC.
 *
 * The local APIC is programmed through its xAPIC MMIO page (Intel SDM
 * vol. 3A, the chapter "Advanced Programmable Interrupt Controller"):
 * QEMU's TCG has neither x2APIC nor the TSC-deadline timer, so the timer
 * runs in one-shot mode, its count converted from nanoseconds at the rate
 * measured at boot.  Every x86-64 CPU has a local APIC, so there is
 * no PIT-driven fallback, which no test could exercise: a machine without
 * one is refused with a panic that says so.
 */
#include "arch/x86_64/apic.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/trap.h"
#include "debug/gdbstub.h"
#include "kern/console.h"
#include "kern/machine.h"
#include "kern/panic.h"
#include "vm/vm_kern.h"

#define CPUID_1_EDX_APIC    (1u << 9)

#define MSR_APIC_BASE       0x1b
#define APIC_BASE_X2APIC    (1ull << 10)          /* registers are MSRs, not MMIO */
#define APIC_BASE_ADDR      0x000ffffffffff000ull /* the registers' physical page */

/* Local APIC registers: byte offsets into the MMIO page, 32 bits each, 16 bytes apart. */
enum {
	APIC_ID = 0x020,                   /* bits 31:24: this CPU's APIC ID */
	APIC_TPR = 0x080,                  /* task priority: classes at or below it wait */
	APIC_EOI = 0x0b0,
	APIC_SVR = 0x0f0,                  /* spurious vector and software enable */
	APIC_ICR_LOW = 0x300,              /* interrupt command: writing it sends */
	APIC_ICR_HIGH = 0x310,             /* bits 31:24: the destination's APIC ID */
	APIC_LVT_TIMER = 0x320,            /* timer: vector, mask, mode */
	APIC_TIMER_INITIAL = 0x380,        /* writing it (re)starts the countdown */
	APIC_TIMER_CURRENT = 0x390,
	APIC_TIMER_DIVIDE = 0x3e0,
};

#define SVR_ENABLE          (1u << 8)
#define ICR_PENDING         (1u << 12)     /* the last command is not yet accepted */
#define ICR_INIT_ASSERT     0xc500u        /* INIT, level-triggered, assert */
#define ICR_INIT_DEASSERT   0x8500u        /* INIT, level-triggered, de-assert */
#define ICR_STARTUP         0x4600u        /* start-up IPI; the vector is the page number */
#define ICR_FIXED_ASSERT    0x4000u        /* fixed delivery, edge, assert; | the vector */
#define ICR_NMI_ASSERT      0x4400u        /* NMI delivery, edge, assert (the vector is ignored) */
#define ICR_POLLS_MAX       (1u << 24)
#define LVT_MASKED          (1u << 16)
#define TIMER_DIVIDE_16     0x3            /* the timer counts the APIC's clock / 16 */

#define PIC_MASTER_DATA     0x21           /* the 8259s' interrupt mask registers */
#define PIC_SLAVE_DATA      0xa1

#define PIT_HZ              1193182u       /* the 8254's input clock */
#define PIT_CH2_DATA        0x42
#define PIT_COMMAND         0x43
#define PIT_CH2_COUNTDOWN   0xb0           /* channel 2, low then high byte, mode 0, binary */
#define PORT_B              0x61           /* system control port B */
#define PORT_B_CH2_GATE     (1u << 0)      /* channel 2 counts while this is set */
#define PORT_B_SPEAKER      (1u << 1)      /* channel 2 drives the speaker */
#define PORT_B_CH2_OUT      (1u << 5)      /* channel 2's output, read back */

#define CALIBRATION_MS      10             /* one measurement */
#define CALIBRATION_RUNS    5              /* odd, so the median is one of them */
#define CALIBRATION_COUNT   (PIT_HZ / 1000 * CALIBRATION_MS)   /* PIT periods */
/* Each poll is a port read, about a microsecond on hardware: this is over a minute. */
#define PIT_POLLS_MAX       (1u << 26)

#define NSEC_PER_SEC        1000000000ull
/* Under the gdb stub, which polls COM2 from the timer's interrupt, an idle CPU still looks. */
#define GDB_POLL_NS         (100ull * 1000 * 1000)

_Static_assert(CALIBRATION_COUNT <= 0xffff, "the PIT's counter has 16 bits");

static volatile uint32_t *apic_regs;      /* the MMIO page, mapped uncached */
static uint64_t timer_counts_per_ns;      /* 32.32 fixed point: the APIC timer's counts per ns */
static uint64_t timer_ns_per_count;       /* 32.32 fixed point: ns per count, the other way */

/* A register is read and written whole: one aligned 32-bit access, as the APIC requires. */
static uint32_t apic_read(unsigned reg)
{
	return apic_regs[reg / 4];
}

static void apic_write(unsigned reg, uint32_t value)
{
	apic_regs[reg / 4] = value;
}

void apic_eoi(void)
{
	apic_write(APIC_EOI, 0);
}

/*
 * The physical address of the local APIC's registers, once it is sure
 * they are there and reachable through MMIO.  (Firmware that disables
 * the APIC in IA32_APIC_BASE also clears its CPUID bit.)
 */
static paddr_t apic_find(void)
{
	uint32_t r[4];
	uint64_t base;

	cpuid(1, 0, r);
	if (!(r[3] & CPUID_1_EDX_APIC))
		panic("clock: no local APIC (CPUID.01H:EDX.APIC is clear); Mica's timer needs one");
	base = rdmsr(MSR_APIC_BASE);
	if (base & APIC_BASE_X2APIC)
		panic("clock: the firmware left the local APIC in x2APIC mode; Mica drives it "
		      "through its xAPIC MMIO page");
	return base & APIC_BASE_ADDR;
}

/*
 * Maps the registers at pa uncached, in a device entry of kernel_map, so
 * that no allocation lands on them and no fault can ever fill the page
 * with RAM.  (The direct map is no way in: it covers RAM, and caches it.)
 */
static void apic_map(paddr_t pa)
{
	vm_offset_t va;

	if (kmem_map_device(pa, PAGE_SIZE, &va) != KERN_SUCCESS)
		panic("clock: no kernel memory to map the local APIC at %#lx", pa);
	apic_regs = (volatile uint32_t *)va;
}

/* Switches this CPU's local APIC on: spurious interrupts to T_APIC_SPURIOUS, every vector let through. */
static void apic_enable(void)
{
	apic_write(APIC_TPR, 0);
	apic_write(APIC_SVR, SVR_ENABLE | T_APIC_SPURIOUS);
}

/*
 * Maps the local APIC and switches the boot processor's on.  The legacy
 * 8259 PICs are masked whatever the firmware left: Mica takes
 * interrupts through the APICs only, and once the profiler runs the PIT's
 * channel 0 at 4 kHz, an unmasked IRQ 0 would reach an unmasked ExtINT
 * LINT0 (as OVMF leaves it) on a vector Mica never gave it.  Every CPU
 * sees its own local APIC at the same address, so one mapping serves all.
 */
static void apic_init(void)
{
	outb(PIC_MASTER_DATA, 0xff);
	outb(PIC_SLAVE_DATA, 0xff);
	apic_map(apic_find());
	apic_enable();
}

uint32_t apic_id(void)
{
	return apic_read(APIC_ID) >> 24;
}

/*
 * Sends one interrupt command to the CPU with this APIC ID; false if the
 * local APIC never took it (the delivery-status bit stayed set).
 */
static bool apic_command(uint32_t dest, uint32_t command)
{
	uint32_t polls = 0;

	apic_write(APIC_ICR_HIGH, dest << 24);
	apic_write(APIC_ICR_LOW, command);
	while ((apic_read(APIC_ICR_LOW) & ICR_PENDING) && polls < ICR_POLLS_MAX)
		polls++;
	return polls < ICR_POLLS_MAX;
}

/*
 * An interrupt command is two register writes: an interrupt on this CPU
 * that sent one between them would change the destination of ours.
 */
void apic_send_ipi(uint32_t dest, uint8_t vector)
{
	bool was_on = machine_interrupts_save_off();

	apic_command(dest, ICR_FIXED_ASSERT | vector);
	if (was_on)
		machine_interrupts_on();
}

void apic_send_nmi(uint32_t dest)
{
	bool was_on = machine_interrupts_save_off();

	apic_command(dest, ICR_NMI_ASSERT);
	if (was_on)
		machine_interrupts_on();
}

bool apic_send_init(uint32_t dest)
{
	return apic_command(dest, ICR_INIT_ASSERT) && apic_command(dest, ICR_INIT_DEASSERT);
}

bool apic_send_startup(uint32_t dest, uint8_t page)
{
	return apic_command(dest, ICR_STARTUP | page);
}

/* Starts the PIT's channel 2 counting count periods down; its output stays low until 0. */
static void pit_countdown_start(uint16_t count)
{
	outb(PORT_B, (inb(PORT_B) & ~PORT_B_SPEAKER) | PORT_B_CH2_GATE);
	outb(PIT_COMMAND, PIT_CH2_COUNTDOWN);
	outb(PIT_CH2_DATA, count & 0xff);
	outb(PIT_CH2_DATA, count >> 8);
}

/* Returns when channel 2's countdown reaches 0 (its output rises); panics if it never does. */
static void pit_countdown_wait(void)
{
	for (uint32_t polls = 0; !(inb(PORT_B) & PORT_B_CH2_OUT); polls++)
		if (polls == PIT_POLLS_MAX)
			panic("clock: the PIT's channel 2 never finished counting down, so the "
			      "TSC and the APIC timer cannot be calibrated");
}

/* Counts per second of the TSC and of the APIC timer (its clock divided by 16). */
struct clock_rates {
	uint64_t tsc_hz;
	uint64_t apic_timer_hz;
};

/*
 * Runs the TSC and the APIC timer (counting down from its maximum,
 * masked, one-shot) side by side for CALIBRATION_COUNT PIT periods.
 */
static struct clock_rates calibrate_once(void)
{
	uint64_t tsc_start, tsc_end;
	uint32_t apic_left;

	apic_write(APIC_TIMER_DIVIDE, TIMER_DIVIDE_16);
	apic_write(APIC_LVT_TIMER, LVT_MASKED | T_TIMER);
	pit_countdown_start(CALIBRATION_COUNT);
	apic_write(APIC_TIMER_INITIAL, UINT32_MAX);
	tsc_start = rdtsc();
	pit_countdown_wait();
	tsc_end = rdtsc();
	apic_left = apic_read(APIC_TIMER_CURRENT);
	return (struct clock_rates){
		.tsc_hz = (tsc_end - tsc_start) * PIT_HZ / CALIBRATION_COUNT,
		.apic_timer_hz = (uint64_t)(UINT32_MAX - apic_left) * PIT_HZ / CALIBRATION_COUNT,
	};
}

/*
 * The median, by TSC rate, of CALIBRATION_RUNS measurements.  A run that
 * something stretched (a host hiccup under QEMU, a system-management
 * interrupt on hardware) sorts to an end and is ignored; the TSC and APIC
 * rates taken are from the same run, so they agree with each other.
 */
static struct clock_rates calibrate(void)
{
	struct clock_rates runs[CALIBRATION_RUNS];

	for (int i = 0; i < CALIBRATION_RUNS; i++) {
		struct clock_rates r = calibrate_once();
		int j = i;

		for (; j > 0 && runs[j - 1].tsc_hz > r.tsc_hz; j--)   /* insertion sort */
			runs[j] = runs[j - 1];
		runs[j] = r;
	}
	return runs[CALIBRATION_RUNS / 2];
}

/* This CPU's timer in one-shot mode on T_TIMER, unarmed, counting at the calibrated rate. */
static void timer_ready(void)
{
	apic_write(APIC_TIMER_DIVIDE, TIMER_DIVIDE_16);
	apic_write(APIC_LVT_TIMER, T_TIMER);
	apic_write(APIC_TIMER_INITIAL, 0);
}

/*
 * The timers of all CPUs run from one bus clock, so the rate the boot
 * processor measured holds for each: another CPU only enables its APIC
 * and readies its timer as the boot processor's is.
 */
void apic_init_ap(void)
{
	apic_enable();
	timer_ready();
}

/*
 * Readies the timer in one-shot mode on T_TIMER, unarmed.  The rate is
 * far below 2^32 counts a second (it is a bus clock divided by 16), so
 * the 32.32 rate per nanosecond keeps its precision.
 */
uint64_t machine_clock_start(void)
{
	struct clock_rates rates;

	apic_init();
	rates = calibrate();
	if (rates.apic_timer_hz == 0 || rates.apic_timer_hz >= NSEC_PER_SEC)
		panic("clock: the APIC timer counts at %lu Hz, too %s to time deadlines",
		      rates.apic_timer_hz, rates.apic_timer_hz ? "fast" : "slow");
	timer_counts_per_ns = (rates.apic_timer_hz << 32) / NSEC_PER_SEC;
	timer_ns_per_count = (NSEC_PER_SEC << 32) / rates.apic_timer_hz;
	timer_ready();
	klog("clock: TSC %lu MHz, APIC timer %lu kHz, one-shot\n",
	     (rates.tsc_hz + 500000) / 1000000, (rates.apic_timer_hz + 500) / 1000);
	return rates.tsc_hz;
}

/*
 * Rounds up, so the timer runs at least ns by its own clock; a count of
 * 0 would disarm it, so 1 is the least.  A longer wait than the counter
 * holds comes early and is armed again.
 */
void machine_timer_oneshot(uint64_t ns)
{
	uint64_t count = (uint64_t)(((unsigned __int128)ns * timer_counts_per_ns) >> 32) + 1;

	apic_write(APIC_TIMER_INITIAL, count > UINT32_MAX ? UINT32_MAX : (uint32_t)count);
}

void machine_timer_stop(void)
{
	if (gdbstub_enabled())
		machine_timer_oneshot(GDB_POLL_NS);
	else
		apic_write(APIC_TIMER_INITIAL, 0);
}

uint64_t machine_timer_left_ns(void)
{
	uint64_t count = apic_read(APIC_TIMER_CURRENT);

	return (uint64_t)(((unsigned __int128)count * timer_ns_per_count) >> 32);
}
