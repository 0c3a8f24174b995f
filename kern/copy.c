/* The half of kern/copy.h written in C (the copy routines are arch/x86_64/copy.asm). */
#include "kern/copy.h"
#include <stdint.h>
#include "arch/x86_64/layout.h"
#include "vm/vm_page.h"

/*
 * Each page is made writable the way a store would make it: one byte of
 * it is read and written back by the copy routines, whose faults go to
 * the VM and say when it had no memory.  That costs two short copies a
 * page where asking the VM first would walk the page tables under the
 * pmap's lock, and a kernel call does it on every reply.  The byte
 * written back is the one read: the buffer is one a receive is about to
 * fill, so no one may count on it meanwhile.
 */
kern_return_t copyout_prepare(void *uaddr, size_t len)
{
	uintptr_t start = (uintptr_t)uaddr, end = start + len;

	if (end < start || end > USER_MAX)
		return KERN_INVALID_ADDRESS;
	for (uintptr_t at = start; at < end; at = (at | (PAGE_SIZE - 1)) + 1) {
		char byte;
		kern_return_t kr = copyin((const void *)at, &byte, 1);
		if (kr == KERN_SUCCESS)
			kr = copyout(&byte, (void *)at, 1);
		if (kr != KERN_SUCCESS)
			return kr;
	}
	return KERN_SUCCESS;
}
