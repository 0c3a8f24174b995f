/*
 * The messages of the calls on the host port: host_page_size (Mach's
 * mach_host subsystem, id 202) and Mica's host_vm_stats (id 4700, outside
 * Mach's ranges).
 */
#ifndef MICA_MACH_HOST_RPC_H
#define MICA_MACH_HOST_RPC_H

#include <mach/mig_errors.h>
#include <mach/vm_types.h>
#include <mica/vm_stats.h>

#define HOST_PAGE_SIZE_ID     202
#define MICA_HOST_VM_STATS_ID 4700

/* Both requests are a bare header. */
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

#endif
