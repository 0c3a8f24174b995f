/*
 * kalloc: general kernel memory in power-of-two size classes, each a zone
 * (kern/zone.h), so every kernel structure comes from a counted pool and
 * tests can prove that nothing leaks.  Allocations above the largest class
 * take whole contiguous frames.  As in Mach, kfree is told the size.
 */
#ifndef MICA_KERN_KALLOC_H
#define MICA_KERN_KALLOC_H

#include <stddef.h>
#include <stdint.h>

void kalloc_init(void);

/* size bytes, 16-byte aligned, or NULL when memory is short. */
void *kalloc(size_t size);

/* The same, zeroed. */
void *kzalloc(size_t size);

void kfree(void *p, size_t size);

/* Elements handed out by every size class and not freed, plus large blocks. */
uint64_t kalloc_in_use(void);

/* Elements in use of each of the n smallest size classes, and the large blocks. */
void kalloc_zone_in_use(uint64_t *counts, unsigned n, uint64_t *large);

#endif
