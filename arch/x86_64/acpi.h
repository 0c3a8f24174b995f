/*
 * ACPI's tables, as far as Mica reads them: from the RSDP through the
 * XSDT or RSDT to a table by its signature, and the MADT's list of
 * processors (ACPI specification, "Multiple APIC Description Table").
 * Plain C over bytes: the caller turns physical addresses into pointers,
 * so the host tests feed it tables they made (tests/host/test_acpi.c).
 */
#ifndef MICA_ARCH_ACPI_H
#define MICA_ARCH_ACPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* len bytes at physical address pa, readable, or NULL where they cannot be reached. */
typedef const void *(*acpi_phys_fn)(uint64_t pa, size_t len);

/* Every xAPIC ID but 0xff, the broadcast: more processors than xAPIC mode can name. */
#define MADT_CPUS_MAX 255

/* The processors a MADT lists. */
struct madt_cpus {
	unsigned enabled;                 /* usable processors, in the table's order */
	uint32_t apic_id[MADT_CPUS_MAX];  /* the first `enabled` are their APIC IDs */
	unsigned disabled;                /* listed but not enabled (or only hot-pluggable) */
	unsigned x2apic_only;             /* enabled, with an ID only x2APIC mode reaches */
	uint64_t lapic_pa;                /* the local APICs' registers, as the table says */
};

/* Do the len bytes at p sum to 0, as every ACPI table's must? */
bool acpi_checksum_ok(const void *p, size_t len);

/*
 * The table with signature sig (e.g. "APIC", the MADT) reached from the
 * RSDP at rsdp_pa through the XSDT (ACPI 2.0 and later) or the RSDT, its
 * length in *len; NULL if the RSDP, the root table or the table itself is
 * missing, unreachable, shorter than its header or fails its checksum.
 */
const void *acpi_find_table(uint64_t rsdp_pa, const char sig[4], acpi_phys_fn phys, size_t *len);

/*
 * Reads the processor entries (local APIC, type 0; local x2APIC, type
 * 9) of the MADT at madt, len bytes, into out; an APIC ID listed twice
 * counts once.  False if the table is malformed: shorter than its fixed
 * part, or an entry shorter than its kind or running past the end (out
 * then holds what came before it).
 */
bool madt_parse(const void *madt, size_t len, struct madt_cpus *out);

#endif
