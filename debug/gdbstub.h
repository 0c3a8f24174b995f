/*
 * The in-kernel gdb stub: gdb's remote serial protocol on a serial port
 * of its own, for machines without QEMU's gdbstub (real hardware, KVM).
 * Boot with the command-line option `gdb` and the kernel waits for the
 * debugger before it sets up memory; from then on breakpoints, single
 * steps, Ctrl-C from gdb and panics stop the machine and hand it to gdb.
 * Without `gdb`, none of this runs: traps are handled as they always were.
 *
 * debug/gdbstub.c speaks the protocol; the machine-dependent half
 * (arch/x86_64/gdbstub_md.c) owns the registers, the port, safe memory
 * access and the trap hooks.  docs/debugging.md tells the whole story.
 */
#ifndef MICA_DEBUG_GDBSTUB_H
#define MICA_DEBUG_GDBSTUB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct trap_frame;             /* the stopped context; only the machine layer looks inside */

/* Signal numbers gdb shows as a stop's reason. */
enum {
	GDB_SIGINT = 2, GDB_SIGILL = 4, GDB_SIGTRAP = 5, GDB_SIGFPE = 8, GDB_SIGSEGV = 11,
};

/* Turns the stub on, says so on the console and waits for gdb to connect. */
void gdbstub_start(void);
bool gdbstub_enabled(void);

/*
 * Reports a stop for the context tf to gdb and serves gdb's requests
 * until it says continue or step; the context resumes as gdb left it.
 * Interrupts must be off.
 */
void gdbstub_stop(struct trap_frame *tf, int signal);

/*
 * A byte came from gdb while the kernel ran: true if gdb wants it stopped
 * (Ctrl-C, or the start of a request from a gdb that attaches anew).
 */
bool gdbstub_byte_while_running(char c);

/* Does a breakpoint of gdb's lie at addr? */
bool gdbstub_breakpoint_at(uint64_t addr);

/*
 * A panic is under way: stop for gdb once, at tf with signal when the
 * panic comes from a trap (gdbstub_panic_at, from the trap hooks), else
 * where the caller stands (gdbstub_panic: the hook gdbstub_start sets
 * for panic_end).  Nothing without the stub.
 */
void gdbstub_panic_at(struct trap_frame *tf, int signal);
void gdbstub_panic(void);

/* ---- the machine-dependent half (arch/x86_64/gdbstub_md.c) ---- */

/* Opens the debugger's serial port. */
void gdbstub_md_init(void);
/* The next byte from gdb (waits for it); a byte to gdb. */
char gdbstub_md_getc(void);
void gdbstub_md_putc(char c);
/* Stops here, as a breakpoint instruction would. */
void gdbstub_md_break(void);
/*
 * Holds every other CPU where it is, and returns once each is held (true)
 * or after about a second without some (false); this CPU then has the
 * stub, and one that already has it returns at once.  Another CPU's stop
 * waits until resume_others lets them all go together.
 */
bool gdbstub_md_stop_others(void);
void gdbstub_md_resume_others(void);
/* From the NMI handler: true if the NMI was the stub's (the CPU was held until let go). */
bool gdbstub_md_park(void);

/* The registers in the layout of gdb's `g` packet; returns their size in bytes. */
size_t gdbstub_md_get_registers(const struct trap_frame *tf, uint8_t *out, size_t cap);
/* Takes a `G` packet's block; false (and tf unchanged) if it is too short. */
bool gdbstub_md_set_registers(struct trap_frame *tf, const uint8_t *in, size_t len);
void gdbstub_md_set_pc(struct trap_frame *tf, uint64_t pc);
/* Resumes with one instruction's single step, or without. */
void gdbstub_md_set_step(struct trap_frame *tf, bool step);

/*
 * Copies memory without faulting: false when any byte of the range is
 * not mapped (or not canonical).  Writes reach read-only kernel text too,
 * which is how breakpoints are planted.
 */
bool gdbstub_md_read(uint64_t addr, void *buf, size_t len);
bool gdbstub_md_write(uint64_t addr, const void *buf, size_t len);

/* The breakpoint instruction (x86: int3, one byte). */
#define GDBSTUB_BREAK_LEN 1
extern const uint8_t gdbstub_md_break_insn[GDBSTUB_BREAK_LEN];

#endif
