/*
 * Data in transit between maps (vm/vm_map_copy.c): a vm_map_copy is a
 * snapshot of a range of one map, or of kernel memory, that can be mapped
 * into another map or written over a range of it.  Out-of-line data in
 * messages travels as one; so do vm_read's reply and vm_write's data.
 * Each call locks one map at a time (vm/vm_map.h).
 */
#ifndef MICA_VM_VM_MAP_COPY_H
#define MICA_VM_VM_MAP_COPY_H

#include "vm/vm_map.h"

typedef struct vm_map_copy *vm_map_copy_t;

/*
 * Snapshots [addr, addr+len) of src: whole pages copy-on-write, small data
 * into a kernel buffer.  KERN_INVALID_ADDRESS for a hole, and
 * KERN_PROTECTION_FAILURE for memory without VM_PROT_READ, in address
 * order; src is unchanged on failure.
 */
kern_return_t vm_map_copyin(vm_map_t src, vm_address_t addr, vm_size_t len,
                            vm_map_copy_t *copy);

/* A copy of len bytes of kernel memory at buf. */
kern_return_t vm_map_copy_from_kernel(const void *buf, vm_size_t len, vm_map_copy_t *copy);

/*
 * Maps copy anywhere in dst (read/write, inheritance copy) and consumes
 * it; *addr is where its first byte landed: at the same offset within its
 * page as in the source, but at the start of a page for a kernel-buffer
 * copy (one made by vm_map_copy_from_kernel, or by vm_map_copyin of
 * under two pages that are not whole aligned pages), as XNU's.  On failure
 * copy is untouched.
 */
kern_return_t vm_map_copyout(vm_map_t dst, vm_address_t *addr, vm_map_copy_t copy);

/*
 * Overwrites [addr, addr + size of copy) of dst with copy, as if dst's
 * task had written it: every page must allow writing.  All or nothing:
 * on failure dst is byte-for-byte unchanged and copy is untouched; on
 * success copy is consumed.  docs/vm_write.md states the whole contract.
 */
kern_return_t vm_map_copy_overwrite(vm_map_t dst, vm_address_t addr, vm_map_copy_t copy);

void vm_map_copy_discard(vm_map_copy_t copy);
vm_size_t vm_map_copy_size(vm_map_copy_t copy);

/* Reads len bytes at addr in map into buf as map's task would (faulting them in). */
kern_return_t vm_map_read(vm_map_t map, vm_address_t addr, void *buf, vm_size_t len);

#endif
