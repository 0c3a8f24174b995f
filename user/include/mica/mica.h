/*
 * Mica's system calls, for user programs (the ABI: include/mica/syscall.h).
 *
 * The VM calls act on the calling task's own address space, as fast traps
 * (the Mach forms, vm_allocate(task, ...) and the rest from <mach/mach.h>,
 * act on any task whose port the caller holds); they are named mica_vm_*
 * so that the two do not clash.
 */
#ifndef MICA_USER_MICA_H
#define MICA_USER_MICA_H

#include <stdbool.h>
#include <stddef.h>
#include <mach/kern_return.h>
#include <mach/vm_prot.h>
#include <mach/vm_region.h>
#include <mach/vm_types.h>
#include <mica/syscall.h>

#define PAGE_SIZE 4096ul

/*
 * Traps into the kernel with system call `number` and up to six
 * arguments; returns what the kernel leaves in RAX.  The kernel preserves
 * every register but RAX, RCX and R11; the "memory" clobber is there
 * because the kernel reads and writes memory the pointers lead to.
 */
static inline long mica_syscall6(long number, long a1, long a2, long a3, long a4, long a5,
				 long a6)
{
	register long r10 __asm__("r10") = a4;
	register long r8 __asm__("r8") = a5;
	register long r9 __asm__("r9") = a6;
	long result;

	__asm__ volatile("syscall"
			 : "=a"(result)
			 : "a"(number), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return result;
}

static inline long mica_syscall(long number, long a1, long a2, long a3, long a4)
{
	return mica_syscall6(number, a1, a2, a3, a4, 0, 0);
}

/* Ends the task with this status; does not flush stdio (exit does). */
__attribute__((noreturn)) void mica_exit(int status);

/* Writes len bytes at buf to the console, as they are. */
kern_return_t mica_console_write(const char *buf, size_t len);

/*
 * Maps size bytes (rounded up to pages) of zero-filled memory, read-write.
 * VM_FLAGS_ANYWHERE picks the address and stores it in *addr, never below
 * the 64 KiB null guard; VM_FLAGS_FIXED uses *addr.
 */
kern_return_t mica_vm_allocate(vm_address_t *addr, vm_size_t size, int flags);

/* Unmaps the pages of [addr, addr + size); pages already unmapped are fine. */
kern_return_t mica_vm_deallocate(vm_address_t addr, vm_size_t size);

/*
 * Sets the rights of the pages of [addr, addr + size) to prot, or with
 * set_maximum their ceiling, which can be lowered but never raised.
 */
kern_return_t mica_vm_protect(vm_address_t addr, vm_size_t size, boolean_t set_maximum,
			      vm_prot_t prot);

/* Lets another thread run; returns KERN_SUCCESS when this one runs again. */
kern_return_t mica_yield(void);

/*
 * Gives the CPU away until done(arg) is true or timeout_ms milliseconds
 * have passed, by mach_absolute_time: the same wait on one CPU or many,
 * however often the others run.  It yields at first, then sleeps, from a
 * millisecond at a time up to 16.  Returns done's last answer, asked once more at
 * the end.
 */
bool mica_wait_until(bool (*done)(void *), void *arg, uint64_t timeout_ms);

/*
 * The number of the CPU this thread ran on a moment ago (the kernel's,
 * 0 for the boot CPU), from RDTSCP without entering the kernel; -1 on a
 * CPU without RDTSCP.  The thread may be elsewhere by the time it looks.
 */
int mica_cpu_number(void);

/* Enters the kernel and leaves at once: KERN_SUCCESS (what make bench's null_syscall costs). */
kern_return_t mica_null_trap(void);

/*
 * make bench PROFILE=1's sampler (SYS_profile: op is a MICA_PROFILE_* of
 * <mica/syscall.h>): KERN_FAILURE when it does not run.
 */
kern_return_t mica_profile(int op, int slot, const char *name, uint64_t size);

/*
 * Test boots only (SYS_alloc_fail): from now on the n-th allocation of the
 * kinds given (MICA_ALLOC_* of <mica/syscall.h>) that the kernel makes in
 * this thread's system calls fails, once.  KERN_INVALID_ARGUMENT outside a
 * test boot, for no kinds or for n == 0.
 */
kern_return_t mica_alloc_fail_arm(unsigned kinds, uint64_t n);

/* Whether the armed failure was injected; disarms. */
bool mica_alloc_fail_fired(void);

#endif
