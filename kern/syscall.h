/* System calls (include/mica/syscall.h is the ABI): the machine-independent half. */
#ifndef MICA_KERN_SYSCALL_H
#define MICA_KERN_SYSCALL_H

#include <stdint.h>

/* Runs system call nr with its six arguments for the current task; returns RAX. */
uint64_t syscall_handle(uint64_t nr, const uint64_t args[6]);

#endif
