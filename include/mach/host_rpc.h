/*
 * The messages of the calls on the host port: host_page_size (Mach's
 * mach_host subsystem, id 202), vm_wire (the host_priv subsystem, id 404:
 * Mica's one host port is also the privileged one) and Mica's own,
 * outside Mach's ranges: host_vm_stats (4700) and task_spawn (4701).
 */
#ifndef MICA_MACH_HOST_RPC_H
#define MICA_MACH_HOST_RPC_H

#include <mach/mig_errors.h>
#include <mach/vm_prot.h>
#include <mach/vm_types.h>
#include <mica/vm_stats.h>

#define HOST_PAGE_SIZE_ID     202
#define VM_WIRE_ID            404
#define MICA_HOST_VM_STATS_ID 4700
#define MICA_TASK_SPAWN_ID    4701

#define MICA_PROGRAM_NAME_MAX 64       /* task_spawn's name, its NUL included */

/* host_page_size's and host_vm_stats' requests are a bare header. */
typedef struct {
	mach_msg_header_t Head;
} host_request_t;

typedef struct {
	mach_msg_header_t Head;
	kern_return_t RetCode;
	int pad;
	vm_size_t page_size;
} host_page_size_reply_t;

typedef struct {
	mach_msg_header_t Head;
	kern_return_t RetCode;
	int pad;
	struct mica_vm_stats stats;
} host_vm_stats_reply_t;

/* The program's name travels inline, NUL-terminated within the array. */
typedef struct {
	mach_msg_header_t Head;
	char program[MICA_PROGRAM_NAME_MAX];
} task_spawn_request_t;

#pragma pack(push, 4)
typedef struct {
	mach_msg_header_t Head;        /* MACH_MSGH_BITS_COMPLEX */
	mach_msg_body_t msgh_body;     /* one descriptor */
	mach_msg_port_descriptor_t child_task;   /* a send right to the new task's port */
} task_spawn_reply_t;

typedef struct {
	mach_msg_header_t Head;        /* MACH_MSGH_BITS_COMPLEX */
	mach_msg_body_t msgh_body;     /* one descriptor */
	mach_msg_port_descriptor_t task;   /* a send right to the task whose memory is wired */
	vm_address_t address;
	vm_size_t size;
	vm_prot_t desired_access;      /* VM_PROT_NONE unwires */
} vm_wire_request_t;
#pragma pack(pop)

#endif
