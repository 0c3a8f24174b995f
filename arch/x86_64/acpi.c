/*
 * Finding a table from the RSDP, and reading the MADT's processors
 * (arch/x86_64/acpi.h).  Fields are read with memcpy: ACPI tables are
 * packed, and the XSDT's 64-bit entries sit at offsets of 4 mod 8.
 */
#include "arch/x86_64/acpi.h"
#include "lib/string.h"

#define RSDP_SIGNATURE     "RSD PTR "
#define RSDP_V1_SIZE       20      /* what the first checksum covers */
#define RSDP_V2_SIZE       36
#define SDT_HEADER_SIZE    36      /* every other table starts with this header */
#define MADT_ENTRIES       44      /* after the header, the APIC address and flags */

enum { MADT_LOCAL_APIC = 0, MADT_LAPIC_OVERRIDE = 5, MADT_LOCAL_X2APIC = 9 };
#define MADT_ENABLED       (1u << 0)
#define XAPIC_BROADCAST    0xff

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

bool acpi_checksum_ok(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	for (size_t i = 0; i < len; i++)
		sum += b[i];
	return sum == 0;
}

/*
 * The whole table at pa if its header, length and checksum are sound and
 * (with sig) its signature is sig; its length in *len.  NULL otherwise.
 */
static const uint8_t *sdt_map(uint64_t pa, const char *sig, acpi_phys_fn phys, size_t *len)
{
	const uint8_t *h = phys(pa, SDT_HEADER_SIZE);
	uint32_t length;

	if (h == NULL || (sig && memcmp(h, sig, 4) != 0))
		return NULL;
	length = get32(h + 4);
	if (length < SDT_HEADER_SIZE)
		return NULL;
	h = phys(pa, length);
	if (h == NULL || !acpi_checksum_ok(h, length))
		return NULL;
	*len = length;
	return h;
}

/* The root table's physical address and entry width (8: XSDT, 4: RSDT); 0 if the RSDP is bad. */
static uint64_t rsdp_root(uint64_t rsdp_pa, acpi_phys_fn phys, unsigned *width)
{
	const uint8_t *r = rsdp_pa ? phys(rsdp_pa, RSDP_V1_SIZE) : NULL;

	if (r == NULL || memcmp(r, RSDP_SIGNATURE, 8) != 0 || !acpi_checksum_ok(r, RSDP_V1_SIZE))
		return 0;
	if (r[15] >= 2) {
		const uint8_t *r2 = phys(rsdp_pa, RSDP_V2_SIZE);
		if (r2 && get32(r2 + 20) >= RSDP_V2_SIZE && acpi_checksum_ok(r2, RSDP_V2_SIZE) &&
		    get64(r2 + 24) != 0) {
			*width = 8;
			return get64(r2 + 24);
		}
	}
	*width = 4;
	return get32(r + 16);
}

const void *acpi_find_table(uint64_t rsdp_pa, const char sig[4], acpi_phys_fn phys, size_t *len)
{
	unsigned width;
	uint64_t root_pa = rsdp_root(rsdp_pa, phys, &width);
	size_t root_len;
	const uint8_t *root = root_pa ? sdt_map(root_pa, width == 8 ? "XSDT" : "RSDT", phys,
	                                        &root_len) : NULL;

	if (root == NULL)
		return NULL;
	for (size_t at = SDT_HEADER_SIZE; at + width <= root_len; at += width) {
		uint64_t pa = width == 8 ? get64(root + at) : get32(root + at);
		const uint8_t *t = pa ? sdt_map(pa, sig, phys, len) : NULL;
		if (t)
			return t;
	}
	return NULL;
}

/* Adds one enabled processor, once; an ID xAPIC mode cannot address is only counted. */
static void madt_add(struct madt_cpus *out, uint32_t apic_id)
{
	if (apic_id >= XAPIC_BROADCAST) {
		out->x2apic_only++;
		return;
	}
	for (unsigned i = 0; i < out->enabled; i++)
		if (out->apic_id[i] == apic_id)
			return;
	if (out->enabled < MADT_CPUS_MAX)
		out->apic_id[out->enabled++] = apic_id;
}

/* One processor entry: an enabled one is added, any other counted. */
static void madt_cpu(struct madt_cpus *out, uint32_t flags, uint32_t apic_id)
{
	if (flags & MADT_ENABLED)
		madt_add(out, apic_id);
	else
		out->disabled++;
}

bool madt_parse(const void *madt, size_t len, struct madt_cpus *out)
{
	const uint8_t *t = madt;
	size_t at = MADT_ENTRIES;

	memset(out, 0, sizeof(*out));
	if (len < MADT_ENTRIES)
		return false;
	out->lapic_pa = get32(t + SDT_HEADER_SIZE);
	while (at < len) {
		uint8_t type = t[at], elen = at + 2 <= len ? t[at + 1] : 0;
		if (elen < 2 || at + elen > len)
			return false;
		if (type == MADT_LOCAL_APIC && elen >= 8)
			madt_cpu(out, get32(t + at + 4), t[at + 3]);
		else if (type == MADT_LOCAL_X2APIC && elen >= 16)
			madt_cpu(out, get32(t + at + 8), get32(t + at + 4));
		else if (type == MADT_LAPIC_OVERRIDE && elen >= 12)
			out->lapic_pa = get64(t + at + 4);
		else if (type == MADT_LOCAL_APIC || type == MADT_LOCAL_X2APIC ||
		         type == MADT_LAPIC_OVERRIDE)
			return false;          /* a known kind, cut short */
		at += elen;
	}
	return true;
}
