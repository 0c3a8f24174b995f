/*
 * The system calls of <mica/mica.h>: each passes its arguments, in the
 * order include/mica/syscall.h gives, to one SYSCALL.
 */
#include <stdint.h>
#include <mach/mach_time.h>
#include <mica/mica.h>

void mica_exit(int status)
{
	/* The kernel never comes back from SYS_exit; the loop tells GCC so. */
	for (;;)
		mica_syscall(SYS_exit, status, 0, 0, 0);
}

kern_return_t mica_console_write(const char *buf, size_t len)
{
	return (kern_return_t)mica_syscall(SYS_console_write, (long)(uintptr_t)buf, (long)len,
					   0, 0);
}

kern_return_t mica_vm_allocate(vm_address_t *addr, vm_size_t size, int flags)
{
	return (kern_return_t)mica_syscall(SYS_vm_allocate, (long)(uintptr_t)addr, (long)size,
					   flags, 0);
}

kern_return_t mica_vm_deallocate(vm_address_t addr, vm_size_t size)
{
	return (kern_return_t)mica_syscall(SYS_vm_deallocate, (long)addr, (long)size, 0, 0);
}

kern_return_t mica_vm_protect(vm_address_t addr, vm_size_t size, boolean_t set_maximum,
			      vm_prot_t prot)
{
	return (kern_return_t)mica_syscall(SYS_vm_protect, (long)addr, (long)size, set_maximum,
					   prot);
}

kern_return_t mica_yield(void)
{
	return (kern_return_t)mica_syscall(SYS_yield, 0, 0, 0, 0);
}

kern_return_t mica_null_trap(void)
{
	return (kern_return_t)mica_syscall(SYS_null, 0, 0, 0, 0);
}

kern_return_t mica_profile(int op, int slot, const char *name, uint64_t size)
{
	return (kern_return_t)mica_syscall(SYS_profile, op, slot, (long)(uintptr_t)name, (long)size);
}

kern_return_t mica_alloc_fail_arm(unsigned kinds, uint64_t n)
{
	return (kern_return_t)mica_syscall(SYS_alloc_fail, MICA_ALLOC_FAIL_ARM, kinds, (long)n, 0);
}

bool mica_alloc_fail_fired(void)
{
	return mica_syscall(SYS_alloc_fail, MICA_ALLOC_FAIL_FIRED, 0, 0, 0) == KERN_SUCCESS;
}

kern_return_t mach_timebase_info(mach_timebase_info_t info)
{
	return (kern_return_t)mica_syscall(SYS_timebase_info, (long)(uintptr_t)info, 0, 0, 0);
}
