/*
 * stdio's output side: one line buffer in front of SYS_console_write.
 *
 * The kernel shows a program's output indented, a line at a time, so a
 * line is best written in one call: characters collect here until a
 * newline (or a full buffer, or exit) sends them.  The formatting itself
 * is the kernel's kvformat, compiled into this library from lib/printf.c.
 * One lock covers the buffer, held over a whole call (a printf, a puts),
 * so the lines of a program's threads come out whole and each once.
 */
#include <stdio.h>

#include <mica/mica.h>

#include "lib/printf.h"
#include "user/lib/lib.h"

/* Long enough for any KTAP line; a longer line goes out in pieces. */
static struct lib_lock stdout_lock;
static char line[256];                  /* (stdout_lock) */
static size_t line_len;                 /* (stdout_lock) */

static void flush_locked(void)
{
	if (line_len > 0)
		mica_console_write(line, line_len);
	line_len = 0;
}

void stdout_flush(void)
{
	lib_lock(&stdout_lock);
	flush_locked();
	lib_unlock(&stdout_lock);
}

static void putchar_locked(char c)
{
	line[line_len++] = c;
	if (c == '\n' || line_len == sizeof line)
		flush_locked();
}

int putchar(int c)
{
	lib_lock(&stdout_lock);
	putchar_locked((char)c);
	lib_unlock(&stdout_lock);
	return (unsigned char)c;
}

int puts(const char *s)
{
	lib_lock(&stdout_lock);
	while (*s != '\0')
		putchar_locked(*s++);
	putchar_locked('\n');
	lib_unlock(&stdout_lock);
	return 0;
}

/* kvformat's callback for stdout.  => stdout_lock held */
static void put_stdout(char c, void *arg)
{
	(void)arg;
	putchar_locked(c);
}

int vprintf(const char *fmt, va_list ap)
{
	lib_lock(&stdout_lock);
	int n = kvformat(put_stdout, NULL, fmt, ap);
	lib_unlock(&stdout_lock);
	return n;
}

int printf(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vprintf(fmt, ap);
	va_end(ap);
	return n;
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	return kvsnprintf(buf, size, fmt, ap);
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
