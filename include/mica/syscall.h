/*
 * Mica's system calls: the trap interface user programs reach with the
 * SYSCALL instruction.  The number goes in RAX, the arguments in RDI, RSI,
 * RDX, R10, R8 and R9 (R10 instead of RCX, which SYSCALL overwrites), and
 * the result comes back in RAX; RCX and R11 are clobbered.  Every pointer
 * argument is checked by the kernel (copyin/copyout): a bad one gives
 * KERN_INVALID_ADDRESS, never a crash.  An unknown number gives
 * KERN_INVALID_ARGUMENT.
 *
 * Until the IPC issue brings mach_msg and task ports, the VM calls here act
 * on the caller's own address space.
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
 * Temporary, until the IPC issue gives tasks ports: a task is named by
 * its id, and any task may name any other.  The Mach vm_write, with a
 * task send right as its authority, replaces both.
 */
#define SYS_task_lookup     6   /* (const char *name) -> the id of the newest live task so named, or 0 */
#define SYS_vm_write_task   7   /* (unsigned id, vm_address_t addr, const void *data, size_t count) -> kern_return_t */

/* Mach's traps (the calls are declared in user/include/mach/mach.h). */
#define SYS_mach_reply_port 8   /* () -> a new receive right's name, or MACH_PORT_NULL */
#define SYS_mach_msg        9   /* (msg, option, send_size, rcv_size, rcv_name, timeout) -> mach_msg_return_t */
#define SYS_task_self       10  /* () -> a send right to the caller's task port, or MACH_PORT_NULL */
#define SYS_host_self       11  /* () -> a send right to the host port, or MACH_PORT_NULL */
#define SYS_thread_self     12  /* () -> a send right to the caller's thread port, or MACH_PORT_NULL */
#define SYS_COUNT           13

/* Where programs live: linked above the 64 KiB null guard. */
#define USER_TEXT_BASE      0x400000ul
#define USER_STACK_TOP      0x00007ffffffff000ul
#define USER_STACK_SIZE     (256ul << 10)

#endif
