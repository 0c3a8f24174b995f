/* The half of kern/copy.h written in C (the copy routines are arch/x86_64/copy.asm). */
#include "kern/copy.h"
#include <stdint.h>
#include "arch/x86_64/layout.h"
#include "kern/task.h"
#include "vm/vm_fault.h"

kern_return_t copyout_prepare(void *uaddr, size_t len)
{
	uintptr_t start = (uintptr_t)uaddr;
	struct task *task = current_task();

	if (start + len < start || start + len > USER_MAX || task == NULL)
		return KERN_INVALID_ADDRESS;
	kern_return_t kr = vm_fault_range(task->map, start, start + len, VM_PROT_WRITE);
	if (kr == KERN_SUCCESS || kr == KERN_RESOURCE_SHORTAGE)
		return kr;
	return KERN_INVALID_ADDRESS;
}
