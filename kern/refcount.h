/*
 * Reference counts that objects reachable from a port share: once the
 * last reference is gone the count never rises again, so a holder of
 * the port (which does not keep the object) can ask for one and be
 * refused.
 *
 * The count is atomic and needs no lock, so it may be taken under any.
 */
#ifndef MICA_KERN_REFCOUNT_H
#define MICA_KERN_REFCOUNT_H

#include <stdbool.h>
#include <stdint.h>

/* Adds a reference unless *refs is already 0. */
static inline bool refcount_take_if_live(uint32_t *refs)
{
	uint32_t seen = __atomic_load_n(refs, __ATOMIC_RELAXED);

	while (seen > 0)
		if (__atomic_compare_exchange_n(refs, &seen, seen + 1, false, __ATOMIC_ACQUIRE,
		                                __ATOMIC_RELAXED))
			return true;
	return false;
}

#endif
