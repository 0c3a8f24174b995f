/*
 * What user/bin/bench and the program it spawns, bench_echo, say to each
 * other.  bench gives bench_echo one send right, to a port of its own,
 * under BOOT_NAME; bench_echo sends back a send right to the port it
 * serves, and from then on answers each request on the reply right the
 * request carries.  Its LOAD writes into a task of its own, the sink,
 * which bench terminates with it.  WRITES and RPCS are bench's own loops,
 * run here at the same time as bench runs them, on another CPU if there
 * is one: what two tasks get done side by side.
 */
#ifndef MICA_BENCH_ECHO_H
#define MICA_BENCH_ECHO_H

#include <stdint.h>
#include <mach/message.h>

#define BENCH_ECHO_BOOT_NAME 0x2003u   /* slot 0x20, generation 3 */
#define BENCH_ECHO_LOAD_SIZE (64ul << 20)

enum {
	BENCH_ECHO_HELLO = 1,          /* to BOOT_NAME: struct bench_echo_hello */
	BENCH_ECHO_PING,               /* a bare header, answered at once with a bare header */
	BENCH_ECHO_LOAD,               /* a bare header, answered with struct bench_echo_loaded */
	BENCH_ECHO_WRITES,             /* struct bench_echo_work: that many page-aligned 4 KiB
	                                  vm_writes into the sink; answered as LOAD */
	BENCH_ECHO_RPCS,               /* struct bench_echo_work: that many host_page_size calls;
	                                  answered as LOAD */
};

#pragma pack(push, 4)
struct bench_echo_hello {
	mach_msg_header_t header;
	mach_msg_body_t body;
	mach_msg_port_descriptor_t port;   /* a send right to the port bench_echo serves */
	mach_msg_port_descriptor_t sink;   /* and to the sink's task port */
};

/* WRITES' and RPCS' request. */
struct bench_echo_work {
	mach_msg_header_t header;
	uint64_t iters;
};

/* LOAD's answer, once a vm_write of LOAD_SIZE bytes into the sink has returned. */
struct bench_echo_loaded {
	mach_msg_header_t header;
	kern_return_t result;          /* the vm_write's (the first failure's, for WRITES and RPCS) */
	uint64_t cycles;               /* how long it took, in TSC cycles */
};
#pragma pack(pop)

#endif
