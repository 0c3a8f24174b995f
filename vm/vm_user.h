/*
 * The Mach VM calls on a map, with Mach's (XNU's) meanings and error
 * codes.  The IPC layer turns task ports into maps and out-of-line data
 * into vm_map_copy; these are the kernel functions behind both.
 */
#ifndef MICA_VM_VM_USER_H
#define MICA_VM_VM_USER_H

#include "vm/vm_map_copy.h"

/*
 * size bytes, rounded up to whole pages, at *addr (truncated to its page)
 * or with VM_FLAGS_ANYWHERE the lowest free range; *addr is where they
 * start.  Size 0 succeeds, allocates nothing and sets *addr to 0, as XNU.
 * KERN_INVALID_ARGUMENT (other flags, a range that wraps),
 * KERN_INVALID_ADDRESS (outside the map), KERN_NO_SPACE,
 * KERN_RESOURCE_SHORTAGE.
 */
kern_return_t vm_allocate(vm_map_t map, vm_address_t *addr, vm_size_t size, int flags);
kern_return_t vm_deallocate(vm_map_t map, vm_address_t addr, vm_size_t size);
kern_return_t vm_protect(vm_map_t map, vm_address_t addr, vm_size_t size, boolean_t set_maximum,
                         vm_prot_t new_prot);
kern_return_t vm_inherit(vm_map_t map, vm_address_t addr, vm_size_t size, vm_inherit_t inheritance);
/*
 * Wires the pages of [addr, addr+size) for access, or with VM_PROT_NONE
 * unwires them, under one hold of the map lock: vm_map_wire's and
 * vm_map_unwire's codes and their all-or-nothing rule (vm/vm_map.h), and
 * KERN_INVALID_ARGUMENT for access outside VM_PROT_ALL or a range that
 * wraps.  Size 0 succeeds and does nothing.
 */
kern_return_t vm_wire(vm_map_t map, vm_address_t addr, vm_size_t size, vm_prot_t access);
kern_return_t vm_region(vm_map_t map, vm_address_t *addr, vm_size_t *size,
                        vm_region_flavor_t flavor, vm_region_info_t info,
                        mach_msg_type_number_t *count);
/*
 * A copy of size bytes at addr (vm_map_copyin's errors).  Mapped by
 * vm_map_copyout, as its reply does, it lands page-aligned when size is
 * under two pages, else at addr's offset in its page, as XNU's.
 */
kern_return_t vm_read(vm_map_t map, vm_address_t addr, vm_size_t size, vm_map_copy_t *data);
kern_return_t vm_copy(vm_map_t map, vm_address_t source, vm_size_t size, vm_address_t dest);
kern_return_t vm_write(vm_map_t map, vm_address_t addr, vm_map_copy_t data,
                       mach_msg_type_number_t data_count);
kern_return_t host_page_size(vm_size_t *size);

#endif
