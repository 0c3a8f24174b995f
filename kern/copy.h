/*
 * Moving bytes across the user/kernel boundary.  Each call checks that the
 * user range lies wholly in user space (no wrap, below USER_MAX), opens
 * SMAP for exactly the copy, and turns a fault on a user address into
 * KERN_INVALID_ADDRESS instead of a panic (arch/x86_64/copy.asm), or
 * into KERN_RESOURCE_SHORTAGE when the page is the user's but the VM had
 * no memory to make it.  On an error, part of the data may have been
 * copied.
 */
#ifndef MICA_KERN_COPY_H
#define MICA_KERN_COPY_H

#include <stddef.h>
#include <mach/kern_return.h>

kern_return_t copyin(const void *uaddr, void *kaddr, size_t len);
kern_return_t copyout(const void *kaddr, void *uaddr, size_t len);

/*
 * Makes the current task's pages under [uaddr, uaddr + len) writable now,
 * faulting in those that are not, so that a copyout there cannot then
 * fail for want of memory (unless the map changes in between).  As
 * copyout's results: KERN_INVALID_ADDRESS for a range that is not all
 * the user's to write, KERN_RESOURCE_SHORTAGE when memory is short (pages
 * already faulted in stay: they hold what they held).
 */
kern_return_t copyout_prepare(void *uaddr, size_t len);

/*
 * Copies a NUL-terminated string of at most len bytes (NUL included);
 * *done is the number copied.  KERN_NO_SPACE when no NUL came within len.
 */
kern_return_t copyinstr(const void *uaddr, char *kaddr, size_t len, size_t *done);

#endif
