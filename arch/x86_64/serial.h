/*
 * 16550 UARTs, polled, 115200 baud 8N1: COM1 carries the console, COM2
 * the gdb stub (arch/x86_64/gdbstub_md.c).
 */
#ifndef MICA_ARCH_SERIAL_H
#define MICA_ARCH_SERIAL_H

#include <stdbool.h>
#include <stdint.h>

#define COM1 0x3f8
#define COM2 0x2f8

void uart_init(uint16_t port);
void uart_putc(uint16_t port, char c);
/* Has a received byte arrived? */
bool uart_byte_ready(uint16_t port);
/* The next received byte; waits for it. */
char uart_getc(uint16_t port);

#endif
