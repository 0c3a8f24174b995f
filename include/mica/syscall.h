/*
 * Mica's system calls: the trap interface user programs reach with the
 * SYSCALL instruction.  The number goes in RAX, the arguments in RDI, RSI,
 * RDX, R10, R8 and R9 (R10 instead of RCX, which SYSCALL overwrites), and
 * the result comes back in RAX; RCX and R11 are clobbered.  Every pointer
 * argument is checked by the kernel (copyin/copyout): a bad one gives
 * KERN_INVALID_ADDRESS, never a crash.  An unknown number gives
 * KERN_INVALID_ARGUMENT.
 *
 * The VM calls here act on the caller's own address space: fast traps
 * beside the Mach calls on a task port (as XNU's _kernelrpc_mach_vm_*
 * traps), which the user library's malloc uses.  Any other task is
 * reached only through a send right to its task port (<mach/mach.h>).
 */
#ifndef MICA_SYSCALL_H
#define MICA_SYSCALL_H

#define SYS_exit            0   /* (int status): ends the task; does not return */
#define SYS_console_write   1   /* (const char *buf, size_t len) -> kern_return_t */
#define SYS_vm_allocate     2   /* (vm_address_t *addr, vm_size_t size, int flags) -> kern_return_t */
#define SYS_vm_deallocate   3   /* (vm_address_t addr, vm_size_t size) -> kern_return_t */
#define SYS_vm_protect      4   /* (vm_address_t addr, vm_size_t size, int set_max, vm_prot_t prot) */
#define SYS_yield           5   /* () -> KERN_SUCCESS: gives the CPU to another thread */

/*
 * 6 and 7 were task_lookup and vm_write_task, which let any task name any
 * other by id until task ports came; they are gone, and their numbers
 * give KERN_INVALID_ARGUMENT like any unknown one.
 */

/* Mach's traps (the calls are declared in user/include/mach/mach.h). */
#define SYS_mach_reply_port 8   /* () -> a new receive right's name, or MACH_PORT_NULL */
#define SYS_mach_msg        9   /* (msg, option, send_size, rcv_size, rcv_name, timeout) -> mach_msg_return_t */
#define SYS_task_self       10  /* () -> a send right to the caller's task port, or MACH_PORT_NULL */
#define SYS_host_self       11  /* () -> a send right to the host port, or MACH_PORT_NULL */
#define SYS_thread_self     12  /* () -> a send right to the caller's thread port, or MACH_PORT_NULL */
#define SYS_timebase_info   13  /* (mach_timebase_info_data_t *info) -> kern_return_t */

/* Mica's own. */
#define SYS_null            14  /* () -> KERN_SUCCESS, doing nothing: the price of a trap */
#define SYS_profile         15  /* (op, slot, name, size) -> kern_return_t: make bench PROFILE=1 */
#define SYS_alloc_fail      16  /* (op, kinds, n) -> kern_return_t: test boots only (below) */
#define SYS_thread_set_pointer 17 /* (uint64_t pointer) -> kern_return_t: the calling
                                   thread's thread pointer, its FS base (below) */
#define SYS_COUNT           18

/* SYS_profile's operations (debug/profile.h). */
#define MICA_PROFILE_RUNNING 0  /* KERN_SUCCESS if the profiler runs, else KERN_FAILURE */
#define MICA_PROFILE_FILL    1  /* samples go to slot from now on (-1: to none) */
#define MICA_PROFILE_REPORT  2  /* prints slot's top functions for the case name (a string), size */

/*
 * SYS_alloc_fail's operations (kern/alloc_fail.h), for tests of every
 * out-of-memory path.  Outside a test boot every operation gives
 * KERN_INVALID_ARGUMENT, as an unknown number does.
 */
#define MICA_ALLOC_FAIL_ARM   0 /* (kinds, n): the caller's n-th allocation of those kinds
                                   inside a system call from now on fails (n >= 1) */
#define MICA_ALLOC_FAIL_FIRED 1 /* KERN_SUCCESS if that failure was injected, else
                                   KERN_FAILURE; disarms */

/* The kinds of allocation: any set of them. */
#define MICA_ALLOC_FRAME      0x1  /* a physical frame (vm_page_alloc*), page tables aside */
#define MICA_ALLOC_PAGE_TABLE 0x2  /* a frame for a page-table page */
#define MICA_ALLOC_ZONE       0x4  /* an element of a named zone (zalloc, zone_reserve) */
#define MICA_ALLOC_KALLOC     0x8  /* kalloc, at any size */
#define MICA_ALLOC_ANY        0xf

/*
 * SYS_thread_set_pointer: as XNU's thread_fast_set_cthread_self64, but in
 * FS, where the x86-64 ABI keeps the thread pointer.  Each thread has its
 * own, 0 when it is created (the user library's threads set theirs first
 * thing, and crt0 the main thread's).  Only a user address is taken
 * (below 0x0000800000000000, where user space ends; 0 included): a
 * kernel or non-canonical one is KERN_INVALID_ARGUMENT, and the old
 * pointer stays.
 */

/* Where programs live: linked above the 64 KiB null guard. */
#define USER_TEXT_BASE      0x400000ul
#define USER_STACK_TOP      0x00007ffffffff000ul
#define USER_STACK_SIZE     (256ul << 10)

#endif
