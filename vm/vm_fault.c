/*
 * Page faults.  Until the VM issue brings maps and objects, no address
 * space has anything behind it that is not already mapped, so there is
 * nothing a fault could bring in.
 */
#include "vm/vm_map.h"

kern_return_t vm_fault(vm_map_t map, vm_offset_t va, vm_prot_t fault_type)
{
	(void)map;
	(void)va;
	(void)fault_type;
	return KERN_INVALID_ADDRESS;
}
