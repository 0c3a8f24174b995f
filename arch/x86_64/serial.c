/*
 * The console: a 16550 UART on COM1 at 115200 baud, 8N1, polled.
 * Output only; the gdb stub (a later issue) brings its own port.
 */
#include "arch/x86_64/cpu.h"
#include "kern/machine.h"

#define COM1 0x3f8

enum {
	UART_DATA = 0, UART_IER = 1, UART_FCR = 2, UART_LCR = 3, UART_MCR = 4, UART_LSR = 5,
	LCR_DLAB = 0x80, LCR_8N1 = 0x03,
	LSR_THR_EMPTY = 0x20,
};

void console_hw_init(void)
{
	outb(COM1 + UART_IER, 0);            /* polled: no interrupts */
	outb(COM1 + UART_LCR, LCR_DLAB);
	outb(COM1 + UART_DATA, 1);           /* divisor 1: 115200 baud */
	outb(COM1 + UART_IER, 0);
	outb(COM1 + UART_LCR, LCR_8N1);
	outb(COM1 + UART_FCR, 0xc7);         /* FIFO on, cleared */
	outb(COM1 + UART_MCR, 0x03);         /* DTR, RTS */
}

void console_hw_putc(char c)
{
	while (!(inb(COM1 + UART_LSR) & LSR_THR_EMPTY))
		;
	outb(COM1 + UART_DATA, (uint8_t)c);
}
