/*
 * The kernel's own symbol table, embedded at link time (a second link
 * pass: tools/gen-ksyms turns the first pass's `nm` output into
 * build/ksyms.c), so backtraces name functions whichever loader ran.
 */
#ifndef MICA_KERN_KSYM_H
#define MICA_KERN_KSYM_H

#include <stdint.h>

struct ksym {
	uint64_t addr;
	uint32_t size;             /* 0 when unknown (assembly labels) */
	uint32_t name;             /* offset into ksym_names */
};

extern const struct ksym ksym_table[];
extern const uint32_t ksym_count;
extern const char ksym_names[];

/*
 * The function containing addr: its name, and in *offset how far into it
 * addr is.  NULL for an address in no known function.
 */
const char *ksym_lookup(uint64_t addr, uint64_t *offset);

/* The address of the function with this name, or 0. */
uint64_t ksym_address(const char *name);

#endif
