/*
 * Non-local jumps inside the kernel, for the expected-trap mechanism and
 * for ending a test at a failed assertion.  Besides the callee-saved
 * registers the buffer keeps RFLAGS, so a jump out of a trap handler
 * restores the interrupt flag of the place it returns to.
 */
#ifndef MICA_KERN_SETJMP_H
#define MICA_KERN_SETJMP_H

#include <stdint.h>

struct kjmp_buf {
	uint64_t rbx, rbp, r12, r13, r14, r15, rsp, rip, rflags;
};

int kern_setjmp(struct kjmp_buf *jb) __attribute__((returns_twice));
void kern_longjmp(struct kjmp_buf *jb, int value) __attribute__((noreturn));

#endif
