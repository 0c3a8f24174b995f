/*
 * panic() stops the kernel: it prints "panic: <message>" (the line the
 * QEMU runner quotes), a backtrace with function names, and leaves QEMU
 * with MICA_EXIT_PANIC.  KASSERT panics naming the file, line and
 * condition when an invariant is broken.
 */
#ifndef MICA_KERN_PANIC_H
#define MICA_KERN_PANIC_H

#include "kern/console.h"

void panic(const char *fmt, ...) KPRINTF_FORMAT(1, 2) __attribute__((noreturn));

/* For panics with more to show (trap.c's register dump): begin, print, end. */
void panic_begin(const char *fmt, ...) KPRINTF_FORMAT(1, 2);
void panic_end(void) __attribute__((noreturn));

#define KASSERT(cond, fmt, ...)                                                   \
	do {                                                                      \
		if (__builtin_expect(!(cond), 0))                                 \
			panic("%s:%d: %s: assertion \"%s\" failed: " fmt, __FILE__, \
			      __LINE__, __func__, #cond, ##__VA_ARGS__);           \
	} while (0)

#endif
