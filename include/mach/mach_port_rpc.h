/*
 * The messages of Mach's mach_port subsystem (XNU numbers it from 3200):
 * calls on the rights in a task's IPC space, sent to its task port.  The
 * user stubs are user/lib/mach_port.c; the server, kern/mach_port_server.c.
 * Every reply starts as mig_reply_error_t.
 */
#ifndef MICA_MACH_MACH_PORT_RPC_H
#define MICA_MACH_MACH_PORT_RPC_H

#include <mach/mig_errors.h>
#include <mach/port.h>

#define MACH_PORT_TYPE_ID         3201
#define MACH_PORT_ALLOCATE_ID     3204
#define MACH_PORT_DEALLOCATE_ID   3206
#define MACH_PORT_GET_REFS_ID     3207
#define MACH_PORT_MOD_REFS_ID     3208
#define MACH_PORT_INSERT_RIGHT_ID 3214

/* mach_port_type, mach_port_deallocate: a name. */
typedef struct {
	mach_msg_header_t Head;
	mach_port_name_t name;
	int pad;
} mach_port_name_request_t;

typedef struct {
	mach_msg_header_t Head;
	kern_return_t RetCode;
	mach_port_type_t ptype;
} mach_port_type_reply_t;

typedef struct {
	mach_msg_header_t Head;
	mach_port_right_t right;
	int pad;
} mach_port_allocate_request_t;

typedef struct {
	mach_msg_header_t Head;
	kern_return_t RetCode;
	mach_port_name_t name;
} mach_port_allocate_reply_t;

/* mach_port_get_refs (delta unused) and mach_port_mod_refs. */
typedef struct {
	mach_msg_header_t Head;
	mach_port_name_t name;
	mach_port_right_t right;
	mach_port_delta_t delta;
	int pad;
} mach_port_refs_request_t;

typedef struct {
	mach_msg_header_t Head;
	kern_return_t RetCode;
	mach_port_urefs_t refs;
} mach_port_get_refs_reply_t;

#pragma pack(push, 4)
typedef struct {
	mach_msg_header_t Head;        /* MACH_MSGH_BITS_COMPLEX */
	mach_msg_body_t msgh_body;     /* one descriptor */
	mach_msg_port_descriptor_t poly;   /* the right to insert, with the caller's disposition */
	mach_port_name_t name;
} mach_port_insert_right_request_t;
#pragma pack(pop)

#endif
