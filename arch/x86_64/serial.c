/*
 * 16550 UARTs (arch/x86_64/serial.h), and the console on COM1.  Polled:
 * no interrupts, so they work in a panic and with interrupts off.
 */
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/serial.h"
#include "kern/machine.h"

enum {
	UART_DATA = 0, UART_IER = 1, UART_FCR = 2, UART_LCR = 3, UART_MCR = 4, UART_LSR = 5,
	LCR_DLAB = 0x80, LCR_8N1 = 0x03,
	LSR_DATA_READY = 0x01, LSR_THR_EMPTY = 0x20,
};

void uart_init(uint16_t port)
{
	outb(port + UART_IER, 0);            /* polled: no interrupts */
	outb(port + UART_LCR, LCR_DLAB);
	outb(port + UART_DATA, 1);           /* divisor 1: 115200 baud */
	outb(port + UART_IER, 0);
	outb(port + UART_LCR, LCR_8N1);
	outb(port + UART_FCR, 0xc7);         /* FIFO on, cleared */
	outb(port + UART_MCR, 0x03);         /* DTR, RTS */
}

void uart_putc(uint16_t port, char c)
{
	while (!(inb(port + UART_LSR) & LSR_THR_EMPTY))
		;
	outb(port + UART_DATA, (uint8_t)c);
}

bool uart_byte_ready(uint16_t port)
{
	return inb(port + UART_LSR) & LSR_DATA_READY;
}

char uart_getc(uint16_t port)
{
	while (!uart_byte_ready(port))
		;
	return (char)inb(port + UART_DATA);
}

void console_hw_init(void)
{
	uart_init(COM1);
}

void console_hw_putc(char c)
{
	uart_putc(COM1, c);
}
