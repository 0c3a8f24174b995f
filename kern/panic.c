#include <stdint.h>
#include "kern/panic.h"
#include "kern/machine.h"
#include "kern/service.h"
#include "lib/printf.h"

static int panic_depth;
static void (*panic_hook)(void);

void panic_set_hook(void (*hook)(void))
{
	panic_hook = hook;
}

/*
 * Interrupts off, then the message.  A panic while panicking (say, a fault
 * while printing the backtrace) exits at once rather than recursing.
 */
void panic_begin(const char *fmt, ...)
{
	va_list ap;

	machine_interrupts_off();
	if (panic_depth++ > 0) {
		kprintf("\npanic: nested panic, giving up\n");
		machine_exit(MICA_EXIT_PANIC);
	}
	kprintf("\npanic: ");
	va_start(ap, fmt);
	kvprintf(fmt, ap);
	va_end(ap);
	kprintf("\n");
}

/* With the gdb stub on (its hook is set), gdb sees the panic before the machine goes. */
void panic_end(void)
{
	if (panic_hook)
		panic_hook();
	kprintf("mica: halted after panic\n");
	machine_exit(MICA_EXIT_PANIC);
}

void panic(const char *fmt, ...)
{
	va_list ap;
	char msg[256];

	va_start(ap, fmt);
	kvsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	panic_begin("%s", msg);
	machine_backtrace_here();
	panic_end();
}

/* -fstack-protector-strong calls this when a function's canary was overwritten. */
void __attribute__((noreturn)) __stack_chk_fail(void)
{
	panic("stack smashing detected: a function overwrote its own stack frame");
}

/* Seeded by kernel_entry (arch/x86_64/entry.asm) before any C code runs. */
uint64_t __stack_chk_guard = 0x595e9fbd94fda766ull;
