/*
 * The in-kernel gdb stub's protocol half (debug/gdbstub.h): gdb's requests
 * and our replies, the breakpoint table, and when to stop.
 *
 * Packets served (gdb's "Remote Protocol" appendix names them):
 *   ?               why we stopped: S<signal>
 *   g / G           read / write the registers (the machine's `g` layout)
 *   m a,n / M a,n:x read / write memory; an unmapped byte gives E0e (EFAULT)
 *   c [a] / s [a]   continue / single-step, from a if given
 *   C s[;a] / S s[;a]  the same with a signal, which a kernel has no use for
 *   Z0,a,k / z0,a,k plant / remove a software breakpoint
 *   qSupported      PacketSize; qAttached: 1 (quitting gdb detaches)
 *   H...            OK (one thread as gdb sees it: the CPU that stopped)
 *   D               detach: breakpoints out, the kernel runs on
 *   k               kill: the machine exits
 * and an empty reply for anything else, which gdb reads as "unsupported".
 *
 * A stop holds every other CPU where it is (gdbstub_md_stop_others) until
 * gdb lets the machine go, so the stub, with interrupts off, is alone
 * with its state and the machine holds still under gdb; a CPU that traps
 * for gdb meanwhile waits its turn.  A single step runs only the CPU that
 * stopped: the others are let go with the next continue.
 */
#include "debug/gdbstub.h"
#include "debug/gdb_packet.h"
#include "kern/cmdline.h"
#include "kern/console.h"
#include "kern/machine.h"
#include "kern/service.h"
#include "lib/printf.h"
#include "lib/string.h"

#define MAX_BREAKPOINTS 32
#define REGISTERS_MAX 512              /* bytes: more than any `g` block */
#define MEMORY_MAX (GDB_PACKET_MAX / 2)   /* bytes one m reply can carry in hex */

enum { E_MALFORMED = 1, E_FAULT = 14, E_NO_SPACE = 28 };

struct breakpoint {
	uint64_t addr;
	uint8_t saved[GDBSTUB_BREAK_LEN];  /* the instruction bytes under the breakpoint */
	bool used;
};

/* What a request asks of the stopped context once answered. */
enum verdict { STAY, RESUME };

static bool enabled;
static bool gdb_waits_for_stop;        /* gdb resumed us and waits for the stop reply */
static bool stepping;                  /* the resume is one step: the other CPUs stay held */
static bool panic_reported;
static int stop_signal;
static struct gdb_rx rx;
static char reply[GDB_PACKET_MAX + 1];
static char frame[2 * GDB_PACKET_MAX + 4];   /* the last reply as sent: `-` resends it */
static size_t frame_len;
static uint8_t scratch[MEMORY_MAX > REGISTERS_MAX ? MEMORY_MAX : REGISTERS_MAX];
static struct breakpoint breakpoints[MAX_BREAKPOINTS];

bool gdbstub_enabled(void)
{
	return enabled;
}

static void send_frame(void)
{
	for (size_t i = 0; i < frame_len; i++)
		gdbstub_md_putc(frame[i]);
}

/* Frames reply[] and sends it; it stays in frame[] until the next one. */
static void send_reply(void)
{
	frame_len = gdb_packet_frame(frame, sizeof(frame), reply, strlen(reply));
	send_frame();
}

static enum verdict reply_error(int code)
{
	ksnprintf(reply, sizeof(reply), "E%02x", code);
	return STAY;
}

static enum verdict reply_text(const char *text)
{
	ksnprintf(reply, sizeof(reply), "%s", text);
	return STAY;
}

/* Reads `addr,len` at *p: the form of m, M, Z and z arguments. */
static bool parse_range(const char **p, uint64_t *addr, uint64_t *len)
{
	if (!gdb_parse_hex(p, addr) || **p != ',')
		return false;
	(*p)++;
	return gdb_parse_hex(p, len);
}

static enum verdict read_registers(const struct trap_frame *tf)
{
	size_t n = gdbstub_md_get_registers(tf, scratch, sizeof(scratch));

	gdb_hex_encode(scratch, n, reply);
	reply[2 * n] = '\0';
	return STAY;
}

static enum verdict write_registers(struct trap_frame *tf, const char *hex)
{
	size_t n = strlen(hex) / 2;

	if (strlen(hex) % 2 || n > sizeof(scratch) || !gdb_hex_decode(hex, n, scratch))
		return reply_error(E_MALFORMED);
	if (!gdbstub_md_set_registers(tf, scratch, n))
		return reply_error(E_MALFORMED);
	return reply_text("OK");
}

static enum verdict read_memory(const char *args)
{
	uint64_t addr, len;

	if (!parse_range(&args, &addr, &len) || *args || len > MEMORY_MAX)
		return reply_error(E_MALFORMED);
	if (!gdbstub_md_read(addr, scratch, len))
		return reply_error(E_FAULT);
	gdb_hex_encode(scratch, len, reply);
	reply[2 * len] = '\0';
	return STAY;
}

static enum verdict write_memory(const char *args)
{
	uint64_t addr, len;

	if (!parse_range(&args, &addr, &len) || *args++ != ':' || len > MEMORY_MAX ||
	    strlen(args) != 2 * len || !gdb_hex_decode(args, len, scratch))
		return reply_error(E_MALFORMED);
	if (!gdbstub_md_write(addr, scratch, len))
		return reply_error(E_FAULT);
	return reply_text("OK");
}

static struct breakpoint *breakpoint_find(uint64_t addr)
{
	for (int i = 0; i < MAX_BREAKPOINTS; i++)
		if (breakpoints[i].used && breakpoints[i].addr == addr)
			return &breakpoints[i];
	return NULL;
}

bool gdbstub_breakpoint_at(uint64_t addr)
{
	return enabled && breakpoint_find(addr) != NULL;
}

/* Saves the bytes at addr and puts the breakpoint instruction there. */
static int breakpoint_insert(uint64_t addr)
{
	struct breakpoint *bp = breakpoint_find(addr);

	if (bp != NULL)
		return 0;              /* gdb may plant one twice: it is there */
	for (bp = breakpoints; bp < breakpoints + MAX_BREAKPOINTS && bp->used; bp++)
		;
	if (bp == breakpoints + MAX_BREAKPOINTS)
		return E_NO_SPACE;
	if (!gdbstub_md_read(addr, bp->saved, GDBSTUB_BREAK_LEN) ||
	    !gdbstub_md_write(addr, gdbstub_md_break_insn, GDBSTUB_BREAK_LEN))
		return E_FAULT;
	bp->addr = addr;
	bp->used = true;
	return 0;
}

/* Puts the saved bytes back; the slot is freed even if that fails (the page went away). */
static int breakpoint_remove(uint64_t addr)
{
	struct breakpoint *bp = breakpoint_find(addr);

	if (bp == NULL)
		return E_MALFORMED;
	bp->used = false;
	return gdbstub_md_write(addr, bp->saved, GDBSTUB_BREAK_LEN) ? 0 : E_FAULT;
}

/* Z0/z0: software breakpoints; other kinds (hardware, watchpoints) are not served. */
static enum verdict change_breakpoint(const char *req)
{
	const char *args = req + 1;
	uint64_t type, addr, kind;
	int error;

	if (!gdb_parse_hex(&args, &type) || *args++ != ',' || !parse_range(&args, &addr, &kind))
		return reply_error(E_MALFORMED);
	if (type != 0)
		return reply_text("");
	error = req[0] == 'Z' ? breakpoint_insert(addr) : breakpoint_remove(addr);
	return error ? reply_error(error) : reply_text("OK");
}

/* c and s: an optional address to resume at, then off it goes. */
static enum verdict resume(struct trap_frame *tf, const char *args, bool step)
{
	uint64_t pc;

	if (*args) {
		if (!gdb_parse_hex(&args, &pc) || *args)
			return reply_error(E_MALFORMED);
		gdbstub_md_set_pc(tf, pc);
	}
	gdbstub_md_set_step(tf, step);
	stepping = step;
	gdb_waits_for_stop = true;
	return RESUME;
}

/* C and S: gdb passes the stop's signal on; it is dropped, and the rest is c and s. */
static enum verdict resume_with_signal(struct trap_frame *tf, const char *args, bool step)
{
	uint64_t signal;

	if (!gdb_parse_hex(&args, &signal))
		return reply_error(E_MALFORMED);
	if (*args == '\0')
		return resume(tf, args, step);
	if (args[0] != ';' || args[1] == '\0')
		return reply_error(E_MALFORMED);
	return resume(tf, args + 1, step);
}

/* D: the breakpoints come out and the kernel runs on, on its own. */
static enum verdict detach(struct trap_frame *tf)
{
	for (int i = 0; i < MAX_BREAKPOINTS; i++)
		if (breakpoints[i].used)
			breakpoint_remove(breakpoints[i].addr);
	gdbstub_md_set_step(tf, false);
	stepping = false;
	reply_text("OK");
	send_reply();
	gdb_waits_for_stop = false;
	return RESUME;
}

static bool starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static enum verdict query(const char *req)
{
	if (starts_with(req, "qSupported"))
		ksnprintf(reply, sizeof(reply), "PacketSize=%x", GDB_PACKET_MAX);
	else if (starts_with(req, "qAttached"))
		reply_text("1");
	else
		reply_text("");
	return STAY;
}

/* Answers one request into reply[]; says whether the context resumes. */
static enum verdict serve_request(struct trap_frame *tf, const char *req)
{
	switch (req[0]) {
	case '?':
		ksnprintf(reply, sizeof(reply), "S%02x", stop_signal);
		return STAY;
	case 'g':
		return read_registers(tf);
	case 'G':
		return write_registers(tf, req + 1);
	case 'm':
		return read_memory(req + 1);
	case 'M':
		return write_memory(req + 1);
	case 'c':
	case 's':
		return resume(tf, req + 1, req[0] == 's');
	case 'C':
	case 'S':
		return resume_with_signal(tf, req + 1, req[0] == 'S');
	case 'Z':
	case 'z':
		return change_breakpoint(req);
	case 'q':
		return query(req);
	case 'H':
		return reply_text("OK");
	case 'D':
		return detach(tf);
	case 'k':
		kprintf("mica: killed from gdb\n");
		machine_exit(MICA_EXIT_FAIL);
	default:
		return reply_text("");
	}
}

/*
 * Feeds one byte from gdb to the receiver and acts on what it completes:
 * acks, a resend on `-`, and for a whole request its reply.
 */
static enum verdict take_byte(struct trap_frame *tf, char c)
{
	switch (gdb_rx_feed(&rx, c)) {
	case GDB_RX_PACKET:
		gdbstub_md_putc('+');
		if (serve_request(tf, rx.data) == RESUME)
			return RESUME;
		send_reply();
		return STAY;
	case GDB_RX_BAD_CHECKSUM:
		gdbstub_md_putc('-');
		return STAY;
	case GDB_RX_OVERLONG:
		gdbstub_md_putc('+');
		reply_error(E_MALFORMED);
		send_reply();
		return STAY;
	case GDB_RX_NAK:
		send_frame();
		return STAY;
	default:
		return STAY;
	}
}

void gdbstub_stop(struct trap_frame *tf, int signal)
{
	gdbstub_md_stop_others();
	stop_signal = signal;
	if (gdb_waits_for_stop) {
		gdb_waits_for_stop = false;
		ksnprintf(reply, sizeof(reply), "S%02x", signal);
		send_reply();
	}
	while (take_byte(tf, gdbstub_md_getc()) == STAY)
		;
	if (!stepping)
		gdbstub_md_resume_others();
}

bool gdbstub_byte_while_running(char c)
{
	gdb_rx_init(&rx);
	return gdb_rx_feed(&rx, c) == GDB_RX_INTERRUPT || rx.state == GDB_RX_DATA;
}

/* Is this the first stop for a panic?  gdb sees a panic once, at its first stop. */
static bool first_panic_stop(void)
{
	if (!enabled || panic_reported)
		return false;
	panic_reported = true;
	return true;
}

void gdbstub_panic_at(struct trap_frame *tf, int signal)
{
	if (first_panic_stop())
		gdbstub_stop(tf, signal);
}

void gdbstub_panic(void)
{
	if (first_panic_stop())
		gdbstub_md_break();
	/* Not a tail call: panic_end reaches this through a pointer, and gdb
	 * finds a frame the call skipped only behind a direct call. */
	__asm__ volatile("" ::: "memory");
}

void gdbstub_start(void)
{
	gdb_rx_init(&rx);
	gdbstub_md_init();
	enabled = true;
	panic_set_hook(gdbstub_panic);      /* kern/service.h */
	kprintf("gdbstub: waiting for gdb on the second serial port (COM2)\n");
	gdbstub_md_break();
	/* Not a tail call: kernel_main reaches this through its service, and
	 * gdb finds a frame the call skipped only behind a direct call. */
	__asm__ volatile("" ::: "memory");
}

static bool gdb_wanted(const struct boot_options *o)
{
	return o->gdb;
}

KERN_SERVICE(gdb) = { "gdb stub", gdb_wanted, gdbstub_start, NULL, NULL };
