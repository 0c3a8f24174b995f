/*
 * The other side of make bench's wakeup_round_trip and rcv_timeout_vm_write
 * (user/bin/bench.c, bench_echo.h): sleeps in mach_msg's receive on its
 * own port and answers each request on the reply right it carries, at
 * once (PING) or after a vm_write of LOAD_SIZE bytes into another task,
 * the sink (LOAD), with both ends one byte past a page boundary, so that
 * every byte is copied.  WRITES and RPCS run bench's loops of vm_write
 * and host_page_size beside bench's own.  It serves until it is
 * terminated.
 */
#include <string.h>
#include <mach/mach.h>
#include <mach/mach_time.h>
#include <mica/mica.h>
#include "bench_echo.h"

static mach_port_t sink, host;
static vm_address_t src, dst;

/* Waits until bench has put its send right under BOOT_NAME. */
static void wait_for_boot_right(void)
{
	mach_port_type_t type = 0;

	while (mach_port_type(mach_task_self(), BENCH_ECHO_BOOT_NAME, &type) != KERN_SUCCESS ||
	       !(type & MACH_PORT_TYPE_SEND))
		mica_yield();
}

/* A new port, and a send right to it for bench; MACH_PORT_NULL if either failed. */
static mach_port_t say_hello(void)
{
	mach_port_t port = MACH_PORT_NULL;
	struct bench_echo_hello hello = { .header = { .msgh_bits = MACH_MSGH_BITS_COMPLEX } };

	if (mach_port_allocate(mach_task_self(), MACH_PORT_RIGHT_RECEIVE, &port) != KERN_SUCCESS)
		return MACH_PORT_NULL;
	hello.header.msgh_bits |= MACH_MSGH_BITS(MACH_MSG_TYPE_COPY_SEND, 0);
	hello.header.msgh_size = sizeof(hello);
	hello.header.msgh_remote_port = BENCH_ECHO_BOOT_NAME;
	hello.header.msgh_id = BENCH_ECHO_HELLO;
	hello.body.msgh_descriptor_count = 2;
	hello.port = (mach_msg_port_descriptor_t){ .name = port,
	                                           .disposition = MACH_MSG_TYPE_MAKE_SEND,
	                                           .type = MACH_MSG_PORT_DESCRIPTOR };
	hello.sink = (mach_msg_port_descriptor_t){ .name = sink,
	                                           .disposition = MACH_MSG_TYPE_COPY_SEND,
	                                           .type = MACH_MSG_PORT_DESCRIPTOR };
	if (mach_msg(&hello.header, MACH_SEND_MSG, sizeof(hello), 0, MACH_PORT_NULL,
	             MACH_MSG_TIMEOUT_NONE, MACH_PORT_NULL) != MACH_MSG_SUCCESS)
		return MACH_PORT_NULL;
	return port;
}

/*
 * The source, every page written, and the destination in the sink.  Not
 * in this task: a region allocated next to the source merges with it into
 * one entry, which the vm_write's copy-in shares copy-on-write whole, and
 * every destination page would first be copied by a copy-on-write fault.
 * A first vm_write makes every destination page, so that LOAD only copies.
 */
static bool set_up_load(void)
{
	vm_size_t size = BENCH_ECHO_LOAD_SIZE + 2 * PAGE_SIZE;

	if (task_create(mach_task_self(), FALSE, &sink) != KERN_SUCCESS ||
	    mica_vm_allocate(&src, size, VM_FLAGS_ANYWHERE) != KERN_SUCCESS ||
	    vm_allocate(sink, &dst, size, VM_FLAGS_ANYWHERE) != KERN_SUCCESS)
		return false;
	memset((void *)src, 0x5a, size);
	return vm_write(sink, dst + 1, src + 1, BENCH_ECHO_LOAD_SIZE) == KERN_SUCCESS;
}

/* LOAD: the vm_write, timed; its answer goes in m. */
static mach_msg_size_t load(struct bench_echo_loaded *m)
{
	uint64_t start = mach_absolute_time();

	m->result = vm_write(sink, dst + 1, src + 1, BENCH_ECHO_LOAD_SIZE);
	m->cycles = mach_absolute_time() - start;
	return sizeof(*m);
}

/* WRITES and RPCS: w's iterations of one page-aligned 4 KiB vm_write, or of host_page_size. */
static mach_msg_size_t work(const struct bench_echo_work *w, struct bench_echo_loaded *m)
{
	bool writes = w->header.msgh_id == BENCH_ECHO_WRITES;
	uint64_t iters = w->iters, start = mach_absolute_time();
	kern_return_t kr = KERN_SUCCESS;
	vm_size_t page;

	for (uint64_t i = 0; i < iters && kr == KERN_SUCCESS; i++)
		kr = writes ? vm_write(sink, dst, src, PAGE_SIZE) : host_page_size(host, &page);
	m->cycles = mach_absolute_time() - start;
	m->result = kr;
	return sizeof(*m);
}

/* A request as it comes, and its answer as it goes, in the same place. */
union message {
	struct bench_echo_work work;
	struct bench_echo_loaded loaded;
};

/* Answers the request in m, in m; the answer's size. */
static mach_msg_size_t serve(union message *m)
{
	switch (m->loaded.header.msgh_id) {
	case BENCH_ECHO_LOAD:
		return load(&m->loaded);
	case BENCH_ECHO_WRITES:
	case BENCH_ECHO_RPCS: {
		struct bench_echo_work w = m->work;
		return work(&w, &m->loaded);
	}
	default:
		return sizeof(m->loaded.header);
	}
}

/* Each turn sends the last answer and sleeps until the next request, as a server's loop does. */
int main(void)
{
	union message m;
	mach_msg_option_t option = MACH_RCV_MSG;
	mach_msg_size_t answer = 0;
	mach_port_t port;

	wait_for_boot_right();
	host = mach_host_self();
	if (!set_up_load() || (port = say_hello()) == MACH_PORT_NULL)
		return 1;
	for (;;) {
		mach_msg_header_t *h = &m.loaded.header;
		if (mach_msg(h, option, answer, sizeof(m), port, MACH_MSG_TIMEOUT_NONE,
		             MACH_PORT_NULL) != MACH_MSG_SUCCESS)
			return 2;
		answer = serve(&m);
		h->msgh_bits = MACH_MSGH_BITS(MACH_MSG_TYPE_MOVE_SEND_ONCE, 0);
		h->msgh_size = answer;
		h->msgh_local_port = MACH_PORT_NULL;
		option = MACH_SEND_MSG | MACH_RCV_MSG;
	}
}
