/* kern/machine.h on x86-64 under QEMU (and on real hardware, where exits halt). */
#include "arch/x86_64/cpu.h"
#include "kern/machine.h"

#define DEBUG_EXIT_PORT 0xf4    /* QEMU's -device isa-debug-exit,iobase=0xf4 */

void machine_idle(void)
{
	__asm__ volatile("sti; hlt; cli" ::: "memory");
}

void machine_exit(enum mica_exit code)
{
	cli();
	outb(DEBUG_EXIT_PORT, (uint8_t)code);
	for (;;)                    /* no isa-debug-exit device: stop here */
		hlt();
}

uint64_t machine_entropy(void)
{
	uint64_t v = rdtsc();

	if (cpu_features.rdrand) {
		for (int i = 0; i < 10; i++) {
			uint64_t r;
			uint8_t ok;
			__asm__ volatile("rdrand %0; setc %1" : "=r"(r), "=qm"(ok));
			if (ok)
				return v ^ r;
		}
	}
	return v;
}

/* One CMOS register (the RTC chip's NVRAM at ports 0x70/0x71). */
static uint8_t cmos_read(uint8_t reg)
{
	outb(0x70, reg);
	return inb(0x71);
}

/*
 * CMOS 0x34/0x35: 64 KiB blocks between 16 MiB and 4 GiB; 0x5b-0x5d: 64 KiB
 * blocks above 4 GiB (as QEMU and SeaBIOS keep them).
 */
uint64_t machine_installed_ram(void)
{
	uint64_t below4g = cmos_read(0x34) | (uint64_t)cmos_read(0x35) << 8;
	uint64_t above4g = cmos_read(0x5b) | (uint64_t)cmos_read(0x5c) << 8 |
	                   (uint64_t)cmos_read(0x5d) << 16;

	return (16ul << 20) + ((below4g + above4g) << 16);
}
