/*
 * The messages of the calls on a task port: Mach's vm_map subsystem
 * (request ids from 3800, as XNU numbers them), task_create and
 * task_terminate (the mach_port calls: <mach/mach_port_rpc.h>): one request and one reply
 * layout per routine.  The user stubs (user/lib) build the
 * requests; the kernel (kern/task_server.c) checks each one's size
 * exactly before reading it.  Every reply starts as mig_reply_error_t.
 */
#ifndef MICA_MACH_VM_MAP_RPC_H
#define MICA_MACH_VM_MAP_RPC_H

#include <mach/mig_errors.h>
#include <mach/vm_inherit.h>
#include <mach/vm_prot.h>
#include <mach/vm_region.h>
#include <mach/vm_types.h>

#define VM_MAP_SUBSYSTEM      3800
#define VM_REGION_ID          3800
#define VM_ALLOCATE_ID        3801
#define VM_DEALLOCATE_ID      3802
#define VM_PROTECT_ID         3803
#define VM_INHERIT_ID         3804
#define VM_READ_ID            3805
#define VM_WRITE_ID           3807
#define VM_COPY_ID            3808

/* The most ints of region information a reply carries (every flavor fits). */
#define VM_REGION_INFO_MAX_COUNT 16

typedef struct {
	mach_msg_header_t Head;
	vm_address_t address;          /* where, with VM_FLAGS_FIXED */
	vm_size_t size;
	int flags;
	int pad;
} vm_allocate_request_t;

typedef struct {
	mach_msg_header_t Head;
	kern_return_t RetCode;
	int pad;
	vm_address_t address;          /* where it went */
} vm_allocate_reply_t;

typedef struct {
	mach_msg_header_t Head;
	vm_address_t address;
	vm_size_t size;
} vm_deallocate_request_t;

typedef struct {
	mach_msg_header_t Head;
	vm_address_t address;
	vm_size_t size;
	boolean_t set_maximum;
	vm_prot_t new_protection;
} vm_protect_request_t;

typedef struct {
	mach_msg_header_t Head;
	vm_address_t address;
	vm_region_flavor_t flavor;
	mach_msg_type_number_t infoCnt; /* ints the caller has room for */
} vm_region_request_t;

typedef struct {
	mach_msg_header_t Head;
	kern_return_t RetCode;
	int pad;
	vm_address_t address;          /* the region at or above the one asked about */
	vm_size_t size;
	mach_msg_type_number_t infoCnt;
	int info[VM_REGION_INFO_MAX_COUNT];
	mach_port_t object_name;       /* always MACH_PORT_NULL, as in XNU */
} vm_region_reply_t;

typedef struct {
	mach_msg_header_t Head;
	vm_address_t address;
	vm_size_t size;
	vm_inherit_t new_inheritance;
	int pad;
} vm_inherit_request_t;

typedef struct {
	mach_msg_header_t Head;
	vm_address_t source_address;
	vm_size_t size;
	vm_address_t dest_address;
} vm_copy_request_t;

/* The data travels out of line: whole pages move copy-on-write, none copied. */
typedef struct {
	mach_msg_header_t Head;
	vm_address_t address;
	vm_size_t size;
} vm_read_request_t;

/* A successful reply is complex and has no RetCode; a failed one is mig_reply_error_t. */
#pragma pack(push, 4)
typedef struct {
	mach_msg_header_t Head;        /* MACH_MSGH_BITS_COMPLEX */
	mach_msg_body_t msgh_body;     /* one descriptor */
	mach_msg_ool_descriptor_t data;
	mach_msg_type_number_t dataCnt;
} vm_read_reply_t;

typedef struct {
	mach_msg_header_t Head;        /* MACH_MSGH_BITS_COMPLEX */
	mach_msg_body_t msgh_body;     /* one descriptor */
	mach_msg_ool_descriptor_t data;
	vm_address_t address;
	mach_msg_type_number_t dataCnt;
} vm_write_request_t;
#pragma pack(pop)

/* Mach's task subsystem (XNU numbers it from 3400). */
#define TASK_CREATE_ID        3400
#define TASK_TERMINATE_ID     3401

typedef struct {
	mach_msg_header_t Head;
	boolean_t inherit_memory;
	int pad;
} task_create_request_t;

#pragma pack(push, 4)
typedef struct {
	mach_msg_header_t Head;        /* MACH_MSGH_BITS_COMPLEX */
	mach_msg_body_t msgh_body;     /* one descriptor */
	mach_msg_port_descriptor_t child_task;   /* a send right to the child's task port */
} task_create_reply_t;
#pragma pack(pop)

typedef struct {
	mach_msg_header_t Head;
} task_terminate_request_t;

#endif
