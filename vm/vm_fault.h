/*
 * Page faults: how a map's pages come to be mapped (vm/vm_fault.c).  The
 * trap handler resolves a task's faults with vm_fault; the VM's own
 * operations fault pages in with the map already locked
 * (vm_fault_page).  Faults that must be taken back on failure go through
 * the fault journal (vm/vm_map_internal.h).
 */
#ifndef MICA_VM_VM_FAULT_H
#define MICA_VM_VM_FAULT_H

#include "vm/vm_map.h"

/*
 * Resolves a fault at va in map for an access of fault_type (one of
 * VM_PROT_READ, WRITE, EXECUTE): KERN_SUCCESS once the page is mapped
 * with the entry's rights, KERN_INVALID_ADDRESS outside every entry,
 * KERN_PROTECTION_FAILURE when the entry forbids the access,
 * KERN_MEMORY_FAILURE in a device entry (its mapping was lost: RAM must
 * never stand in for the device), KERN_RESOURCE_SHORTAGE when no frame
 * is left.
 */
kern_return_t vm_fault(vm_map_t map, vm_offset_t va, vm_prot_t fault_type);


/*
 * The same as vm_fault with map locked, returning the page that now holds
 * va's data (resolved for writing when fault_type has VM_PROT_WRITE, and
 * the entry's own for any access when the entry is wired).
 */
kern_return_t vm_fault_page(vm_map_t map, vm_offset_t va, vm_prot_t fault_type,
                            struct vm_page **pagep);

#endif
