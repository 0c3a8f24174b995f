/*
 * The local APIC: each CPU's own interrupt controller, and the one-shot
 * timer behind the clock's interrupt (arch/x86_64/apic.c implements
 * kern/machine.h's clock primitives with it).
 */
#ifndef MICA_ARCH_APIC_H
#define MICA_ARCH_APIC_H

/*
 * Tells the local APIC that the interrupt in service is handled, so it
 * may deliver the next one of the same or lower priority.  Not for the
 * spurious vector, which was never in service.
 */
void apic_eoi(void);

#endif
