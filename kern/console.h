/*
 * The console: kprintf writes to the serial line and to the kernel log
 * ring buffer; klog writes informational messages that the `quiet` option
 * keeps off the serial line (they still reach the ring buffer).
 */
#ifndef MICA_KERN_CONSOLE_H
#define MICA_KERN_CONSOLE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#define KPRINTF_FORMAT(f, a) __attribute__((format(printf, f, a)))

void console_init(void);
void console_set_quiet(bool quiet);
int kprintf(const char *fmt, ...) KPRINTF_FORMAT(1, 2);
int kvprintf(const char *fmt, va_list ap);
int klog(const char *fmt, ...) KPRINTF_FORMAT(1, 2);

/* The kernel log: the last LOG_SIZE bytes of console output. */
#define LOG_SIZE 65536

/* Copies the newest min(len, bytes logged, LOG_SIZE) bytes into buf; returns how many. */
size_t log_tail(char *buf, size_t len);

/* Total bytes ever logged (so tests can see what a call added). */
unsigned long log_total(void);

#endif
