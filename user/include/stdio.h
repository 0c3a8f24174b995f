/*
 * Console output for user programs.  printf has exactly the kernel's
 * formats (lib/printf.h: no floating point); output is kept until a
 * newline, a full buffer or exit, and then written with one system call,
 * so a line reaches the console whole.
 */
#ifndef MICA_USER_STDIO_H
#define MICA_USER_STDIO_H

#include <stdarg.h>
#include <stddef.h>

#define EOF (-1)

int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int vprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
int snprintf(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
int putchar(int c);
int puts(const char *s);

#endif
