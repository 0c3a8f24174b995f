/*
 * Address maps.  The VM issue fills this in (entries, objects, the Mach
 * calls); the pmap issue only needs the name the fault path passes on.
 */
#ifndef MICA_VM_VM_MAP_H
#define MICA_VM_VM_MAP_H

#include <mach/kern_return.h>
#include <mach/vm_prot.h>
#include <mach/vm_types.h>

typedef struct vm_map *vm_map_t;

/*
 * Resolves a fault at va in map for an access of fault_type (one of
 * VM_PROT_READ, WRITE, EXECUTE): KERN_SUCCESS once the page is mapped,
 * KERN_INVALID_ADDRESS or KERN_PROTECTION_FAILURE when it cannot be.
 */
kern_return_t vm_fault(vm_map_t map, vm_offset_t va, vm_prot_t fault_type);

#endif
