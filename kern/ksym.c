#include "kern/ksym.h"
#include "lib/string.h"

/* ksym_table is sorted by address: find the last symbol at or below addr. */
const char *ksym_lookup(uint64_t addr, uint64_t *offset)
{
	uint32_t lo = 0, hi = ksym_count;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (ksym_table[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	const struct ksym *s = &ksym_table[lo - 1];
	if (s->size != 0 && addr >= s->addr + s->size)
		return NULL;
	/* the last symbol has no size bound: refuse addresses far past it */
	if (s->size == 0 && lo == ksym_count && addr - s->addr >= 4096)
		return NULL;
	*offset = addr - s->addr;
	return &ksym_names[s->name];
}

uint64_t ksym_address(const char *name)
{
	for (uint32_t i = 0; i < ksym_count; i++)
		if (strcmp(&ksym_names[ksym_table[i].name], name) == 0)
			return ksym_table[i].addr;
	return 0;
}
