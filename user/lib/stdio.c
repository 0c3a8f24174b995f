/*
 * stdio's output side: one line buffer in front of SYS_console_write.
 *
 * The kernel shows a program's output indented, a line at a time, so a
 * line is best written in one call: characters collect here until a
 * newline (or a full buffer, or exit) sends them.  The formatting itself
 * is the kernel's kvformat, compiled into this library from lib/printf.c.
 * The buffer has no lock: one thread of a program at a time may print
 * (<mica/thread.h>); RPCs never use it.
 */
#include <stdio.h>

#include <mica/mica.h>

#include "lib/printf.h"
#include "user/lib/lib.h"

/* Long enough for any KTAP line; a longer line goes out in pieces. */
static char line[256];
static size_t line_len;

void stdout_flush(void)
{
	if (line_len > 0)
		mica_console_write(line, line_len);
	line_len = 0;
}

int putchar(int c)
{
	line[line_len++] = (char)c;
	if (c == '\n' || line_len == sizeof line)
		stdout_flush();
	return (unsigned char)c;
}

int puts(const char *s)
{
	while (*s != '\0')
		putchar(*s++);
	putchar('\n');
	return 0;
}

/* kvformat's callback for stdout. */
static void put_stdout(char c, void *arg)
{
	(void)arg;
	putchar(c);
}

int vprintf(const char *fmt, va_list ap)
{
	return kvformat(put_stdout, NULL, fmt, ap);
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
