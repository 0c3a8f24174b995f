/*
 * Tests of debug/gdbstub.c, the stub's protocol half, over a fake machine
 * half: a scripted line from "gdb", a four-register context and one page
 * of fake memory.  Each test plays gdb's side byte for byte and checks
 * the exact bytes the stub sends back, and what it did to the context
 * and the memory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kern/console.h"
#include "debug/gdb_packet.h"
#include "debug/gdbstub.h"
#include "kern/machine.h"
#include "kern/service.h"
#include "tests/host/htest.h"

/* ---- the fake machine half ---- */

struct trap_frame {
	uint64_t regs[4];
	uint64_t pc;
	bool step;
};

#define MEM_BASE 0x10000u
#define MEM_SIZE 4096u

static uint8_t mem[MEM_SIZE];
static const char *input;              /* what "gdb" sends */
static char output[4 * GDB_PACKET_MAX];   /* what the stub sent */
static size_t output_len;
static jmp_buf out_of_input, exited;
static int exit_code;

const uint8_t gdbstub_md_break_insn[GDBSTUB_BREAK_LEN] = { 0xcc };

void gdbstub_md_init(void) {}
void gdbstub_md_break(void) {}

/* Whether the fake machine's other CPUs are held (gdbstub_md_stop_others). */
static bool others_held;

bool gdbstub_md_stop_others(void)
{
	others_held = true;
	return true;
}

void gdbstub_md_resume_others(void)
{
	others_held = false;
}

bool gdbstub_md_park(void)
{
	return false;
}

char gdbstub_md_getc(void)
{
	if (*input == '\0')
		longjmp(out_of_input, 1);
	return *input++;
}

void gdbstub_md_putc(char c)
{
	if (output_len < sizeof(output) - 1)
		output[output_len++] = c;
	output[output_len] = '\0';
}

size_t gdbstub_md_get_registers(const struct trap_frame *tf, uint8_t *out, size_t cap)
{
	if (cap < 40)
		return 0;
	memcpy(out, tf->regs, 32);
	memcpy(out + 32, &tf->pc, 8);
	return 40;
}

bool gdbstub_md_set_registers(struct trap_frame *tf, const uint8_t *in, size_t len)
{
	if (len < 40)
		return false;
	memcpy(tf->regs, in, 32);
	memcpy(&tf->pc, in + 32, 8);
	return true;
}

void gdbstub_md_set_pc(struct trap_frame *tf, uint64_t pc) { tf->pc = pc; }
void gdbstub_md_set_step(struct trap_frame *tf, bool step) { tf->step = step; }

static bool in_mem(uint64_t addr, size_t len)
{
	return addr >= MEM_BASE && len <= MEM_SIZE && addr - MEM_BASE <= MEM_SIZE - len;
}

bool gdbstub_md_read(uint64_t addr, void *buf, size_t len)
{
	if (!in_mem(addr, len))
		return false;
	memcpy(buf, mem + (addr - MEM_BASE), len);
	return true;
}

bool gdbstub_md_write(uint64_t addr, const void *buf, size_t len)
{
	if (!in_mem(addr, len))
		return false;
	memcpy(mem + (addr - MEM_BASE), buf, len);
	return true;
}

/* The stub's console messages and its way out ('k'). */
int kprintf(const char *fmt, ...)
{
	(void)fmt;
	return 0;
}

void machine_exit(enum mica_exit code)
{
	exit_code = code;
	longjmp(exited, 1);
}

/* gdbstub_start's panic hook (kern/service.h): nothing panics here. */
void panic_set_hook(void (*hook)(void))
{
	(void)hook;
}

/* ---- gdb's side ---- */

/* `$payload#cc`, as gdb frames it. */
static const char *framed(const char *payload)
{
	static char buf[4][2 * GDB_PACKET_MAX + 8];
	static int next;
	char *out = buf[next++ % 4];

	out[gdb_packet_frame(out, sizeof(buf[0]), payload, strlen(payload))] = '\0';
	return out;
}

static struct trap_frame ctx;

/* Starts a session: a fresh context and memory, and gdb's bytes to come. */
static void script(const char *wire)
{
	memset(&ctx, 0, sizeof(ctx));
	for (size_t i = 0; i < MEM_SIZE; i++)
		mem[i] = (uint8_t)i;
	input = wire;
	output_len = 0;
	output[0] = '\0';
}

/*
 * Runs the stub on ctx until gdb resumes it (true) or the script runs
 * out while it waits for more (false); either way the script must have
 * been read to its end.
 */
static bool run_stop(int signal)
{
	bool resumed;

	if (setjmp(out_of_input) == 0) {
		gdbstub_stop(&ctx, signal);
		resumed = true;
	} else {
		resumed = false;
	}
	HT_EXPECT_STREQ(input, "");
	return resumed;
}

/* Sends one request and expects `+` and then exactly the framed reply. */
static void expect_reply(const char *request, const char *reply)
{
	char want[2 * GDB_PACKET_MAX + 16];

	script(framed(request));
	run_stop(GDB_SIGTRAP);
	snprintf(want, sizeof(want), "+%s", framed(reply));
	HT_EXPECT_STREQ(output, want);
}

/* ---- tests ---- */

/* Off until started; then on, and waiting at its own breakpoint (the fake's is a no-op). */
static void test_start(void)
{
	HT_EXPECT_TRUE(!gdbstub_enabled());
	gdbstub_start();
	HT_EXPECT_TRUE(gdbstub_enabled());
}

static void test_why_stopped(void)
{
	char want[32];

	expect_reply("?", "S05");
	script(framed("?"));
	run_stop(GDB_SIGSEGV);
	snprintf(want, sizeof(want), "+%s", framed("S0b"));
	HT_EXPECT_STREQ(output, want);
}

static void test_unknown_packets_get_an_empty_reply(void)
{
	expect_reply("vMustReplyEmpty", "");
	expect_reply("qTStatus", "");
	expect_reply("X10000,1:a", "");     /* binary writes: gdb falls back to M */
	expect_reply("Z1,10000,1", "");     /* hardware breakpoints are not served */
	expect_reply("qSupported:multiprocess+;swbreak+", "PacketSize=1000");
	expect_reply("qAttached", "1");
	expect_reply("Hg0", "OK");
}

static void test_registers(void)
{
	char g[128];

	expect_reply("g", "0000000000000000000000000000000000000000000000000000000000000000"
	                  "0000000000000000");
	snprintf(g, sizeof(g), "G%s", "0100000000000000" "0200000000000000" "0300000000000000"
	         "0400000000000000" "efcdab8967452301");
	script(framed(g));
	run_stop(GDB_SIGTRAP);
	HT_EXPECT_STREQ(output, "+$OK#9a");
	HT_EXPECT_EQ(ctx.regs[0], 1);
	HT_EXPECT_EQ(ctx.regs[3], 4);
	HT_EXPECT_EQ(ctx.pc, 0x0123456789abcdefull);
	/* too short, odd, not hex: refused, the context unchanged */
	const char *bad[] = { "G0100", "G010", "Gzz000000000000000000000000000000000000000000"
	                      "000000000000000000000000000000000000" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		script(framed(bad[i]));
		ctx.regs[0] = 7;
		run_stop(GDB_SIGTRAP);
		HT_EXPECT_STREQ(output, "+$E01#a6");
		HT_EXPECT_EQ(ctx.regs[0], 7);
	}
}

static void test_memory_read(void)
{
	expect_reply("m10000,4", "00010203");
	expect_reply("m100fe,2", "feff");
	expect_reply("m10ffe,2", "feff");
	expect_reply("m10fff,2", "E0e");           /* runs off the mapped page */
	expect_reply("m0,1", "E0e");
	expect_reply("mffffffffffffffff,1", "E0e");
	expect_reply("m10000,801", "E01");         /* more than a reply can carry */
	expect_reply("m10000", "E01");
	expect_reply("m,4", "E01");
	expect_reply("m10000,4x", "E01");
	expect_reply("m10000000000000000,1", "E01");   /* 65-bit address */
}

static void test_memory_write(void)
{
	script(framed("M10010,3:a1b2c3"));
	run_stop(GDB_SIGTRAP);
	HT_EXPECT_STREQ(output, "+$OK#9a");
	HT_EXPECT_EQ(mem[0x10], 0xa1);
	HT_EXPECT_EQ(mem[0x12], 0xc3);
	HT_EXPECT_EQ(mem[0x13], 0x13);
	/* refused, and memory untouched */
	const char *bad[] = { "M10010,3:a1b2", "M10010,3:a1b2c3d4", "M10010,3:a1b2cx",
	                      "M10010,3", "M10010:a1", "M20000,1:00" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		script(framed(bad[i]));
		run_stop(GDB_SIGTRAP);
		HT_EXPECT_STREQ(output, i == 5 ? "+$E0e#da" : "+$E01#a6");
		HT_EXPECT_EQ(mem[0x10], 0x10);
	}
}

static void test_breakpoints(void)
{
	char wire[256];

	snprintf(wire, sizeof(wire), "%s%s", framed("Z0,10020,1"), framed("Z0,10020,1"));
	script(wire);
	run_stop(GDB_SIGTRAP);
	HT_EXPECT_STREQ(output, "+$OK#9a+$OK#9a");   /* planting twice is harmless */
	HT_EXPECT_EQ(mem[0x20], 0xcc);
	HT_EXPECT_TRUE(gdbstub_breakpoint_at(0x10020));
	HT_EXPECT_TRUE(!gdbstub_breakpoint_at(0x10021));
	input = framed("z0,10020,1");
	output_len = 0;
	run_stop(GDB_SIGTRAP);
	HT_EXPECT_STREQ(output, "+$OK#9a");
	HT_EXPECT_EQ(mem[0x20], 0x20);              /* the saved byte is back */
	HT_EXPECT_TRUE(!gdbstub_breakpoint_at(0x10020));
	expect_reply("z0,10020,1", "E01");          /* not planted */
	expect_reply("Z0,20000,1", "E0e");          /* unmapped */
	expect_reply("Z0,10020", "E01");
	HT_EXPECT_TRUE(!gdbstub_breakpoint_at(0x20000));
}

static void test_breakpoint_table_fills(void)
{
	char req[32], full[32];
	int planted = 0;

	snprintf(full, sizeof(full), "+%s", framed("E1c"));

	script("");
	for (int i = 0; i < 40; i++) {
		snprintf(req, sizeof(req), "Z0,%x,1", MEM_BASE + 0x100 + i);
		input = framed(req);
		output_len = 0;
		run_stop(GDB_SIGTRAP);
		if (strcmp(output, "+$OK#9a") == 0)
			planted++;
		else
			HT_EXPECT_STREQ(output, full);
	}
	HT_EXPECT_TRUE(planted >= 16 && planted < 40);
	/* detaching takes every one out and resumes */
	input = framed("D");
	output_len = 0;
	HT_EXPECT_TRUE(run_stop(GDB_SIGTRAP));
	HT_EXPECT_STREQ(output, "+$OK#9a");
	for (int i = 0; i < 40; i++) {
		HT_EXPECT_EQ(mem[0x100 + i], (uint8_t)(0x100 + i));
		HT_EXPECT_TRUE(!gdbstub_breakpoint_at(MEM_BASE + 0x100 + i));
	}
}

static void test_line_errors(void)
{
	char wire[3 * GDB_PACKET_MAX], request[2 * GDB_PACKET_MAX];

	/* a bad checksum gets `-`; a `-` from gdb gets the last reply again */
	snprintf(wire, sizeof(wire), "$g#00%s-", framed("?"));
	script(wire);
	run_stop(GDB_SIGTRAP);
	HT_EXPECT_STREQ(output, "-+$S05#b8$S05#b8");
	/* overlong: acknowledged, then an error; the next request is served */
	memset(request, 0, sizeof(request));
	request[0] = 'm';
	memset(request + 1, '0', GDB_PACKET_MAX + 10);
	snprintf(wire, sizeof(wire), "%s%s", framed(request), framed("?"));
	script(wire);
	run_stop(GDB_SIGTRAP);
	HT_EXPECT_STREQ(output, "+$E01#a6+$S05#b8");
	/* a request cut short by a new `$` is dropped */
	snprintf(wire, sizeof(wire), "$m10000,%s", framed("?"));
	script(wire);
	run_stop(GDB_SIGTRAP);
	HT_EXPECT_STREQ(output, "+$S05#b8");
}

static void test_resume(void)
{
	expect_reply("cxyz", "E01");
	expect_reply("C", "E01");
	expect_reply("C0b:10", "E01");
	expect_reply("S0b;", "E01");
	script(framed("c"));
	HT_EXPECT_TRUE(run_stop(GDB_SIGTRAP));
	HT_EXPECT_STREQ(output, "+");               /* no reply until the next stop */
	HT_EXPECT_TRUE(!ctx.step);
	/* gdb waits for that stop: the stub says why before anything else */
	input = framed("s10040");
	output_len = 0;
	HT_EXPECT_TRUE(run_stop(GDB_SIGINT));
	HT_EXPECT_STREQ(output, "$S02#b5+");
	HT_EXPECT_TRUE(ctx.step);
	HT_EXPECT_EQ(ctx.pc, 0x10040);
	input = framed("c");
	output_len = 0;
	HT_EXPECT_TRUE(run_stop(GDB_SIGTRAP));
	HT_EXPECT_STREQ(output, "$S05#b8+");
	HT_EXPECT_TRUE(!ctx.step);
	/* with a signal (gdb passes SIGSEGV on after a fault): the same, signal dropped */
	input = framed("S0b;10080");
	output_len = 0;
	HT_EXPECT_TRUE(run_stop(GDB_SIGSEGV));
	HT_EXPECT_TRUE(ctx.step);
	HT_EXPECT_EQ(ctx.pc, 0x10080);
	input = framed("C0b");
	output_len = 0;
	HT_EXPECT_TRUE(run_stop(GDB_SIGTRAP));
	HT_EXPECT_TRUE(!ctx.step);
	HT_EXPECT_EQ(ctx.pc, 0x10080);
	/* detached: the next stop waits quietly for a new gdb */
	input = framed("D");
	output_len = 0;
	run_stop(GDB_SIGTRAP);
	script(framed("?"));
	run_stop(GDB_SIGTRAP);
	HT_EXPECT_STREQ(output, "+$S05#b8");
}

/* A stop holds the other CPUs until gdb lets the machine go; a single step keeps them held. */
static void test_other_cpus_are_held_until_the_machine_goes_on(void)
{
	script(framed("s"));
	HT_EXPECT_TRUE(run_stop(GDB_SIGTRAP));
	HT_EXPECT_TRUE(others_held);           /* the step runs this CPU alone */
	input = framed("c");
	output_len = 0;
	HT_EXPECT_TRUE(run_stop(GDB_SIGTRAP));
	HT_EXPECT_TRUE(!others_held);
	script(framed("?"));
	HT_EXPECT_TRUE(!run_stop(GDB_SIGTRAP));   /* stopped, waiting for gdb's next word */
	HT_EXPECT_TRUE(others_held);
	input = framed("D");
	output_len = 0;
	HT_EXPECT_TRUE(run_stop(GDB_SIGTRAP));
	HT_EXPECT_TRUE(!others_held);
}

static void test_kill(void)
{
	script(framed("k"));
	exit_code = 0;
	if (setjmp(exited) == 0) {
		gdbstub_stop(&ctx, GDB_SIGTRAP);
		HT_EXPECT_TRUE(!"k returned");
	}
	HT_EXPECT_EQ(exit_code, MICA_EXIT_FAIL);
}

static void test_ctrl_c_while_running(void)
{
	HT_EXPECT_TRUE(gdbstub_byte_while_running(0x03));
	HT_EXPECT_TRUE(gdbstub_byte_while_running('$'));   /* a new gdb's first request */
	HT_EXPECT_TRUE(!gdbstub_byte_while_running('+'));
	HT_EXPECT_TRUE(!gdbstub_byte_while_running('x'));
	/* after `$`, the request's rest arrives in the stop that follows */
	gdbstub_byte_while_running('$');
	script("?#3f");
	run_stop(GDB_SIGINT);
	HT_EXPECT_STREQ(output, "+$S02#b5");
}

static const struct ht_case cases[] = {
	HT_CASE(test_start),            /* first: the others need the stub on */
	HT_CASE(test_why_stopped),
	HT_CASE(test_unknown_packets_get_an_empty_reply),
	HT_CASE(test_registers),
	HT_CASE(test_memory_read),
	HT_CASE(test_memory_write),
	HT_CASE(test_breakpoints),
	HT_CASE(test_breakpoint_table_fills),
	HT_CASE(test_line_errors),
	HT_CASE(test_resume),
	HT_CASE(test_other_cpus_are_held_until_the_machine_goes_on),
	HT_CASE(test_kill),
	HT_CASE(test_ctrl_c_while_running),
};
HT_MAIN("gdbstub", cases)
