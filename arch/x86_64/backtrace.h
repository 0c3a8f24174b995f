#ifndef MICA_ARCH_BACKTRACE_H
#define MICA_ARCH_BACKTRACE_H

#include <stddef.h>
#include <stdint.h>

#define BACKTRACE_MAX 32

/* Formats addr as "symbol+0xoff", or as a bare address outside every function. */
void backtrace_format_addr(uint64_t addr, char *buf, size_t len);

/*
 * Follows the frame-pointer chain from rbp and stores up to max return
 * addresses in pcs; returns how many.  Stops at a frame pointer of 0 (the
 * outermost frame), or one that is misaligned, outside the kernel image or
 * not above the previous one, and at a return address outside kernel text,
 * so a corrupt chain ends the walk instead of faulting or printing junk.
 */
int backtrace_collect(uint64_t rbp, uint64_t *pcs, int max);

/* Prints "backtrace:" and one line per frame, starting with rip itself. */
void backtrace_print(uint64_t rip, uint64_t rbp);

#endif
