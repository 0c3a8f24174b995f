/*
 * Tests of arch/x86_64/acpi.c: finding the MADT from an RSDP and reading
 * its processors, over tables these tests lay out in a small fake
 * physical memory, the sound ones and the broken ones a firmware might
 * hand over.
 */
#include <string.h>

#include "arch/x86_64/acpi.h"
#include "tests/host/htest.h"

#define RAM_BASE 0x10000u
#define RSDP_AT  0x10000u
#define ROOT_AT  0x10100u          /* the XSDT or RSDT */
#define OTHER_AT 0x10200u          /* a table that is not the MADT */
#define MADT_AT  0x10400u

static uint8_t ram[0x1000];
static size_t madt_len;

/* The fake memory: [RAM_BASE, RAM_BASE + sizeof(ram)), nothing else. */
static const void *phys(uint64_t pa, size_t len)
{
	if (pa < RAM_BASE || pa - RAM_BASE > sizeof(ram) || len > sizeof(ram) - (pa - RAM_BASE))
		return NULL;
	return ram + (pa - RAM_BASE);
}

static uint8_t *at(uint32_t pa)
{
	return ram + (pa - RAM_BASE);
}

/* Sets the byte at sum_at so that the len bytes at p sum to 0. */
static void checksum(uint8_t *p, size_t len, size_t sum_at)
{
	uint8_t sum = 0;

	p[sum_at] = 0;
	for (size_t i = 0; i < len; i++)
		sum += p[i];
	p[sum_at] = (uint8_t)-sum;
}

/* A table header with signature sig and length len at pa; the checksum comes last. */
static void header(uint32_t pa, const char *sig, uint32_t len)
{
	memcpy(at(pa), sig, 4);
	memcpy(at(pa) + 4, &len, 4);
	at(pa)[8] = 1;
}

/* Appends a MADT entry of the given type and bytes. */
static void madt_entry(uint8_t type, const uint8_t *body, uint8_t body_len)
{
	uint8_t *e = at(MADT_AT) + madt_len;

	e[0] = type;
	e[1] = body_len + 2;
	memcpy(e + 2, body, body_len);
	madt_len += body_len + 2;
}

static void local_apic(uint8_t uid, uint8_t id, uint32_t flags)
{
	uint8_t b[6] = { uid, id };

	memcpy(b + 2, &flags, 4);
	madt_entry(0, b, sizeof(b));
}

static void local_x2apic(uint32_t id, uint32_t flags)
{
	uint8_t b[14] = { 0 };

	memcpy(b + 2, &id, 4);
	memcpy(b + 6, &flags, 4);
	madt_entry(9, b, sizeof(b));
}

/* Finishes the MADT: its header, length and checksum. */
static void madt_close(void)
{
	uint32_t lapic = 0xfee00000;

	header(MADT_AT, "APIC", madt_len);
	memcpy(at(MADT_AT) + 36, &lapic, 4);
	checksum(at(MADT_AT), madt_len, 9);
}

/*
 * The machine most firmware describes: an ACPI 2.0 RSDP, an XSDT naming
 * another table and then the MADT, whose CPUs are enabled APIC IDs 0, 1
 * and 3, a disabled 2, an I/O APIC entry, 1 listed again, an x2APIC
 * entry for 4 (reachable) and one for 300 (not).
 */
static void machine_build(bool xsdt)
{
	uint64_t entries[2] = { OTHER_AT, MADT_AT };
	uint8_t ioapic[10] = { 0 };
	uint32_t root_len = 36 + (xsdt ? 16 : 8);

	memset(ram, 0, sizeof(ram));
	memcpy(at(RSDP_AT), "RSD PTR ", 8);
	at(RSDP_AT)[15] = xsdt ? 2 : 0;
	memcpy(at(RSDP_AT) + 16, &(uint32_t){ ROOT_AT }, 4);
	memcpy(at(RSDP_AT) + 20, &(uint32_t){ 36 }, 4);
	memcpy(at(RSDP_AT) + 24, &(uint64_t){ xsdt ? ROOT_AT : 0 }, 8);
	checksum(at(RSDP_AT), 20, 8);
	checksum(at(RSDP_AT), 36, 32);
	header(ROOT_AT, xsdt ? "XSDT" : "RSDT", root_len);
	for (int i = 0; i < 2; i++) {
		if (xsdt)
			memcpy(at(ROOT_AT) + 36 + 8 * i, &entries[i], 8);
		else
			memcpy(at(ROOT_AT) + 36 + 4 * i, &(uint32_t){ (uint32_t)entries[i] }, 4);
	}
	checksum(at(ROOT_AT), root_len, 9);
	header(OTHER_AT, "FACP", 40);
	checksum(at(OTHER_AT), 40, 9);
	madt_len = 44;
	local_apic(0, 0, 1);
	local_apic(1, 1, 1);
	local_apic(2, 2, 2);           /* only hot-pluggable: not enabled */
	madt_entry(1, ioapic, sizeof(ioapic));
	local_apic(3, 3, 1);
	local_apic(4, 1, 1);
	local_x2apic(4, 1);
	local_x2apic(300, 1);
	madt_close();
}

static const void *find_madt(size_t *len)
{
	return acpi_find_table(RSDP_AT, "APIC", phys, len);
}

static void expect_the_machine(const struct madt_cpus *c)
{
	HT_EXPECT_EQ(c->enabled, 4u);
	HT_EXPECT_EQ(c->apic_id[0], 0u);
	HT_EXPECT_EQ(c->apic_id[1], 1u);
	HT_EXPECT_EQ(c->apic_id[2], 3u);
	HT_EXPECT_EQ(c->apic_id[3], 4u);
	HT_EXPECT_EQ(c->disabled, 1u);
	HT_EXPECT_EQ(c->x2apic_only, 1u);
	HT_EXPECT_EQ(c->lapic_pa, 0xfee00000u);
}

static void test_madt_found_through_the_xsdt(void)
{
	struct madt_cpus c;
	size_t len = 0;
	const void *t;

	machine_build(true);
	t = find_madt(&len);
	HT_EXPECT_TRUE(t == at(MADT_AT));
	HT_EXPECT_EQ(len, madt_len);
	HT_EXPECT_TRUE(t && madt_parse(t, len, &c));
	if (t)
		expect_the_machine(&c);
}

static void test_madt_found_through_the_rsdt(void)
{
	struct madt_cpus c;
	size_t len = 0;
	const void *t;

	machine_build(false);
	t = find_madt(&len);
	HT_EXPECT_TRUE(t == at(MADT_AT));
	HT_EXPECT_TRUE(t && madt_parse(t, len, &c));
	if (t)
		expect_the_machine(&c);
}

static void test_bad_checksums_and_signatures_find_nothing(void)
{
	size_t len;

	machine_build(true);
	at(MADT_AT)[40] ^= 1;                  /* the MADT's flags, checksum now wrong */
	HT_EXPECT_TRUE(find_madt(&len) == NULL);
	machine_build(true);
	at(ROOT_AT)[36] ^= 1;                  /* the XSDT's first entry */
	HT_EXPECT_TRUE(find_madt(&len) == NULL);
	machine_build(true);
	at(RSDP_AT)[0] = 'X';
	HT_EXPECT_TRUE(find_madt(&len) == NULL);
	machine_build(true);
	HT_EXPECT_TRUE(acpi_find_table(0, "APIC", phys, &len) == NULL);
	HT_EXPECT_TRUE(acpi_find_table(RSDP_AT, "SRAT", phys, &len) == NULL);
}

static void test_unreachable_or_short_tables_find_nothing(void)
{
	size_t len;

	machine_build(true);
	memcpy(at(ROOT_AT) + 44, &(uint64_t){ 0xfee00000 }, 8);   /* the MADT elsewhere */
	checksum(at(ROOT_AT), 52, 9);
	HT_EXPECT_TRUE(find_madt(&len) == NULL);
	machine_build(true);
	header(MADT_AT, "APIC", 20);                              /* shorter than a header */
	HT_EXPECT_TRUE(find_madt(&len) == NULL);
	machine_build(true);
	header(MADT_AT, "APIC", sizeof(ram));                     /* longer than memory */
	HT_EXPECT_TRUE(find_madt(&len) == NULL);
}

static void test_malformed_entries_are_refused(void)
{
	struct madt_cpus c;
	const uint8_t *t = at(MADT_AT);

	machine_build(true);
	HT_EXPECT_TRUE(!madt_parse(t, madt_len + 1, &c));   /* an entry cut at its type byte */
	HT_EXPECT_TRUE(!madt_parse(t, madt_len - 1, &c));   /* the last one cut short */
	HT_EXPECT_TRUE(!madt_parse(t, 40, &c));             /* no room for the APIC address */
	at(MADT_AT)[44 + 1] = 0;                            /* a zero length would never end */
	HT_EXPECT_TRUE(!madt_parse(t, madt_len, &c));
	at(MADT_AT)[44 + 1] = 6;                            /* a local APIC entry without flags */
	HT_EXPECT_TRUE(!madt_parse(t, madt_len, &c));
}

static void test_no_processors_and_an_address_override(void)
{
	struct madt_cpus c;
	uint8_t override[10] = { 0 };
	uint64_t lapic = 0x123456789000;

	machine_build(true);
	madt_len = 44;
	memcpy(override + 2, &lapic, 8);
	madt_entry(5, override, sizeof(override));
	madt_close();
	HT_EXPECT_TRUE(madt_parse(at(MADT_AT), madt_len, &c));
	HT_EXPECT_EQ(c.enabled, 0u);
	HT_EXPECT_EQ(c.lapic_pa, lapic);
}

static const struct ht_case cases[] = {
	HT_CASE(test_madt_found_through_the_xsdt),
	HT_CASE(test_madt_found_through_the_rsdt),
	HT_CASE(test_bad_checksums_and_signatures_find_nothing),
	HT_CASE(test_unreachable_or_short_tables_find_nothing),
	HT_CASE(test_malformed_entries_are_refused),
	HT_CASE(test_no_processors_and_an_address_override),
};

HT_MAIN("acpi", cases)
