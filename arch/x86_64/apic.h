/*
 * The local APIC: each CPU's own interrupt controller, and the one-shot
 * timer behind the clock's interrupt (arch/x86_64/apic.c implements
 * kern/machine.h's clock primitives with it).
 */
#ifndef MICA_ARCH_APIC_H
#define MICA_ARCH_APIC_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Tells the local APIC that the interrupt in service is handled, so it
 * may deliver the next one of the same or lower priority.  Not for the
 * spurious vector, which was never in service.
 */
void apic_eoi(void);

/* This CPU's local APIC ID, from its ID register.  After the clock started (the APIC is mapped). */
uint32_t apic_id(void);

/*
 * On a CPU other than the boot processor, once it runs the kernel's
 * tables: enables its local APIC and readies its timer with the rate the
 * boot processor calibrated.
 */
void apic_init_ap(void);

/*
 * Start-up signals to the CPU with APIC ID dest (Intel SDM vol. 3A,
 * "MP Initialization"): INIT resets it to wait for a start-up IPI, which
 * starts it in real mode at page << 12.  False if the local APIC never
 * accepted the command.
 */
bool apic_send_init(uint32_t dest);
/* A fixed interrupt on vector to the CPU with APIC ID dest. */
void apic_send_ipi(uint32_t dest, uint8_t vector);
/* An NMI to the CPU with this APIC ID: it comes even with the CPU's interrupts off. */
void apic_send_nmi(uint32_t dest);
bool apic_send_startup(uint32_t dest, uint8_t page);

#endif
