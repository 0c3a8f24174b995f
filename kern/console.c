/*
 * Console output and the kernel log ring buffer.  Every byte kprintf or
 * klog produces goes into the ring; the serial line gets kprintf always and
 * klog unless the command line said `quiet`.
 */
#include "kern/console.h"
#include "kern/machine.h"
#include "lib/printf.h"

static char log_ring[LOG_SIZE];
static unsigned long log_written;      /* total bytes; the ring holds the last LOG_SIZE */
static bool console_quiet;

void console_init(void)
{
	console_hw_init();
}

void console_set_quiet(bool quiet)
{
	console_quiet = quiet;
}

static void log_putc(char c)
{
	log_ring[log_written % LOG_SIZE] = c;
	log_written++;
}

static void put_both(char c, void *arg)
{
	(void)arg;
	log_putc(c);
	console_hw_putc(c);
}

static void put_log_only(char c, void *arg)
{
	(void)arg;
	log_putc(c);
}

int kvprintf(const char *fmt, va_list ap)
{
	return kvformat(put_both, NULL, fmt, ap);
}

int kprintf(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = kvprintf(fmt, ap);
	va_end(ap);
	return n;
}

int klog(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = kvformat(console_quiet ? put_log_only : put_both, NULL, fmt, ap);
	va_end(ap);
	return n;
}

size_t log_tail(char *buf, size_t len)
{
	unsigned long have = log_written < LOG_SIZE ? log_written : LOG_SIZE;
	size_t n = len < have ? len : have;
	unsigned long start = log_written - n;

	for (size_t i = 0; i < n; i++)
		buf[i] = log_ring[(start + i) % LOG_SIZE];
	return n;
}

unsigned long log_total(void)
{
	return log_written;
}
