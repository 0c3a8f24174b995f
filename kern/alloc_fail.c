/* Allocation-failure injection (kern/alloc_fail.h). */
#include "kern/alloc_fail.h"
#include <stddef.h>
#include "kern/thread.h"

bool alloc_fail_used;
static bool permitted;

void alloc_fail_permit(void)
{
	permitted = true;
}

bool alloc_fail_count(unsigned site)
{
	struct thread *t = current_thread();

	if (t == NULL || !t->alloc_fail.in_syscall || !(t->alloc_fail.sites & site) ||
	    t->alloc_fail.fired)
		return false;
	if (--t->alloc_fail.countdown > 0)
		return false;
	t->alloc_fail.fired = true;
	return true;
}

bool alloc_fail_has_fired(void)
{
	struct thread *t = current_thread();

	return t != NULL && t->alloc_fail.sites != 0 && t->alloc_fail.fired;
}

/*
 * ARM counts from the next allocation; FIRED says whether the armed
 * failure happened and disarms.  Neither allocates, so neither is
 * counted.
 */
kern_return_t alloc_fail_syscall(unsigned op, uint64_t sites, uint64_t n)
{
	struct alloc_fail *f = &current_thread()->alloc_fail;

	if (!permitted)
		return KERN_INVALID_ARGUMENT;          /* as an unknown system call */
	switch (op) {
	case MICA_ALLOC_FAIL_ARM:
		if (sites == 0 || (sites & ~(uint64_t)MICA_ALLOC_ANY) || n == 0)
			return KERN_INVALID_ARGUMENT;
		f->sites = (uint32_t)sites;
		f->countdown = n;
		f->fired = false;
		alloc_fail_used = true;
		return KERN_SUCCESS;
	case MICA_ALLOC_FAIL_FIRED: {
		bool fired = f->sites != 0 && f->fired;
		f->sites = 0;
		f->fired = false;
		return fired ? KERN_SUCCESS : KERN_FAILURE;
	}
	default:
		return KERN_INVALID_ARGUMENT;
	}
}
