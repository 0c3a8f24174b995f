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
static uint32_t printing;              /* (a) 1 + the CPU whose call prints now; 0: none */

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

/*
 * One call's output stays in one piece, on the serial line and in the
 * ring, whatever the other CPUs print: they take turns by call.  Not a
 * spin lock of kern/lock.h: a print may come from under any lock, and
 * from a CPU that prints already (a panic inside a print), which goes on
 * rather than wait for itself.  Interrupts stay off meanwhile, so the
 * turn is this CPU's alone.  Returns what to give console_done.
 */
static unsigned console_take(bool *was_on)
{
	*was_on = machine_interrupts_save_off();
	uint32_t me = machine_cpu_number() + 1, free = 0;

	if (__atomic_load_n(&printing, __ATOMIC_RELAXED) == me)
		return 0;                      /* nested: the outer call lets go */
	while (!__atomic_compare_exchange_n(&printing, &free, me, false, __ATOMIC_ACQUIRE,
	                                    __ATOMIC_RELAXED)) {
		free = 0;
		machine_spin_pause();
	}
	return me;
}

static void console_done(unsigned taken, bool was_on)
{
	if (taken)
		__atomic_store_n(&printing, 0, __ATOMIC_RELEASE);
	if (was_on)
		machine_interrupts_on();
}

static int console_format(void (*put)(char, void *), const char *fmt, va_list ap)
{
	bool was_on;
	unsigned taken = console_take(&was_on);
	int n = kvformat(put, NULL, fmt, ap);

	console_done(taken, was_on);
	return n;
}

int kvprintf(const char *fmt, va_list ap)
{
	return console_format(put_both, fmt, ap);
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
	n = console_format(console_quiet ? put_log_only : put_both, fmt, ap);
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
