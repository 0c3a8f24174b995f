/*
 * The kernel's printf engine.
 *
 * kvformat does all the formatting and hands each character to a callback,
 * so kprintf (console) and ksnprintf (memory) share one implementation and
 * differ only in where the characters go.  It is freestanding: the same
 * file is compiled into the kernel, into the user library (whose printf
 * is this one) and, for tests/host/test_printf.c, into a Linux program.
 *
 * Conversions: %d %i %u %x %X %o %p %s %c %%.
 * Length modifiers: hh h l ll z.  Flags: - 0 + space #.
 * Width and precision: a number or '*'.  For %s the precision is the most
 * characters printed; for integers, the fewest digits.
 * %p prints "0x" and 16 lowercase hex digits; %s prints NULL as "(null)".
 * An unknown conversion is printed as written ("%q" gives "%q").
 * There is no floating point: the kernel is built -mgeneral-regs-only.
 */
#ifndef MICA_LIB_PRINTF_H
#define MICA_LIB_PRINTF_H

#include <stdarg.h>
#include <stddef.h>

/* Receives one formatted character; arg is whatever the caller passed. */
typedef void (*kputc_fn)(char c, void *arg);

/* Formats fmt with ap, calling put(c, arg) for each character; returns how many. */
int kvformat(kputc_fn put, void *arg, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

/*
 * C99 vsnprintf: writes at most size - 1 characters and a NUL (when
 * size > 0) and returns the length the whole output would have had, so
 * a return value >= size means the output was truncated.
 */
int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

/* C99 snprintf; see kvsnprintf. */
int ksnprintf(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
