/*
 * Messages: the header every message starts with, what a message does
 * with the rights it names (dispositions), mach_msg's options and its
 * return codes.  Mach's (XNU's) names and values throughout.
 */
#ifndef MACH_MESSAGE_H
#define MACH_MESSAGE_H

#include <mach/kern_return.h>
#include <mach/port.h>

typedef unsigned int mach_msg_type_name_t;

#define MACH_MSG_TYPE_MOVE_RECEIVE    16   /* the receive right itself */
#define MACH_MSG_TYPE_MOVE_SEND       17
#define MACH_MSG_TYPE_MOVE_SEND_ONCE  18
#define MACH_MSG_TYPE_COPY_SEND       19   /* a new send right, the sender keeps its own */
#define MACH_MSG_TYPE_MAKE_SEND       20   /* a send right made from a receive right */
#define MACH_MSG_TYPE_MAKE_SEND_ONCE  21

/* What a received message says it carries (the rights the receiver now holds). */
#define MACH_MSG_TYPE_PORT_RECEIVE    MACH_MSG_TYPE_MOVE_RECEIVE
#define MACH_MSG_TYPE_PORT_SEND       MACH_MSG_TYPE_MOVE_SEND
#define MACH_MSG_TYPE_PORT_SEND_ONCE  MACH_MSG_TYPE_MOVE_SEND_ONCE

typedef unsigned int mach_msg_bits_t;
typedef natural_t mach_msg_size_t;
typedef int mach_msg_id_t;
typedef int mach_msg_option_t;
typedef natural_t mach_msg_timeout_t;
typedef kern_return_t mach_msg_return_t;

typedef struct {
	mach_msg_bits_t msgh_bits;
	mach_msg_size_t msgh_size;         /* header and body, bytes */
	mach_port_t msgh_remote_port;      /* sending: the destination; received: the reply port */
	mach_port_t msgh_local_port;       /* sending: the reply port; received: the destination */
	mach_port_name_t msgh_voucher_port;
	mach_msg_id_t msgh_id;
} mach_msg_header_t;

#define MACH_MSGH_BITS(remote, local)  ((remote) | ((local) << 8))
#define MACH_MSGH_BITS_REMOTE(bits)    ((bits) & 0x1f)
#define MACH_MSGH_BITS_LOCAL(bits)     (((bits) >> 8) & 0x1f)
#define MACH_MSGH_BITS_COMPLEX         0x80000000u   /* a body of descriptors follows the header */

/*
 * A complex message: the header, a body giving the number of descriptors,
 * the descriptors, then inline data.  Packed to 4 bytes as in Mach, so a
 * descriptor starts right after the body (offset 28).
 */
typedef unsigned int mach_msg_descriptor_type_t;
typedef unsigned int mach_msg_copy_options_t;

#define MACH_MSG_PORT_DESCRIPTOR      0
#define MACH_MSG_OOL_DESCRIPTOR       1   /* out-of-line memory */
#define MACH_MSG_OOL_PORTS_DESCRIPTOR 2   /* an out-of-line array of port rights */
#define MACH_MSG_PHYSICAL_COPY        0
#define MACH_MSG_VIRTUAL_COPY         1   /* copy-on-write: Mica does this for both */

#pragma pack(push, 4)
typedef struct {
	mach_msg_size_t msgh_descriptor_count;
} mach_msg_body_t;

typedef struct {
	mach_port_t name;                  /* received: the right's name in the receiver's space */
	mach_msg_size_t pad1;
	unsigned int pad2 : 16;
	mach_msg_type_name_t disposition : 8;   /* received: MACH_MSG_TYPE_PORT_* */
	mach_msg_descriptor_type_t type : 8;
} mach_msg_port_descriptor_t;

/* The type sits in the same byte (11) of every kind of descriptor. */
typedef struct {
	void *address;                     /* sent: the sender's data; received: where it landed */
	unsigned int deallocate : 8;       /* sent: unmap it from the sender */
	mach_msg_copy_options_t copy : 8;
	unsigned int pad1 : 8;
	mach_msg_descriptor_type_t type : 8;
	mach_msg_size_t size;              /* bytes */
} mach_msg_ool_descriptor_t;

/*
 * Received, address is an array of count port names mapped in the
 * receiver (each a right of type disposition), which it vm_deallocates.
 * The kernel's replies make them (task_threads); user senders cannot yet.
 */
typedef struct {
	void *address;
	unsigned int deallocate : 8;
	mach_msg_copy_options_t copy : 8;
	mach_msg_type_name_t disposition : 8;
	mach_msg_descriptor_type_t type : 8;
	mach_msg_size_t count;
} mach_msg_ool_ports_descriptor_t;
#pragma pack(pop)

/* mach_msg options */
#define MACH_MSG_OPTION_NONE  0x00000000
#define MACH_SEND_MSG         0x00000001
#define MACH_RCV_MSG          0x00000002
#define MACH_RCV_LARGE        0x00000004   /* Mica keeps a too-large message queued either way */
#define MACH_SEND_TIMEOUT     0x00000010
#define MACH_SEND_INTERRUPT   0x00000040
#define MACH_SEND_CANCEL      0x00000080
#define MACH_RCV_TIMEOUT      0x00000100
#define MACH_RCV_NOTIFY       0x00000200
#define MACH_RCV_INTERRUPT    0x00000400
#define MACH_SEND_ALWAYS      0x00010000
#define MACH_SEND_TRAILER     0x00020000
#define MACH_MSG_TIMEOUT_NONE ((mach_msg_timeout_t)0)

#define MACH_MSG_SUCCESS            0x00000000
/* XNU's bare code for a send whose out-of-line memory the kernel had no room to copy */
#define MACH_MSG_VM_KERNEL          0x00000400
#define MACH_SEND_IN_PROGRESS       0x10000001
#define MACH_SEND_INVALID_DATA      0x10000002
#define MACH_SEND_INVALID_DEST      0x10000003
#define MACH_SEND_TIMED_OUT         0x10000004
#define MACH_SEND_INVALID_VOUCHER   0x10000005
#define MACH_SEND_INTERRUPTED       0x10000007
#define MACH_SEND_MSG_TOO_SMALL     0x10000008
#define MACH_SEND_INVALID_REPLY     0x10000009
#define MACH_SEND_INVALID_RIGHT     0x1000000a
#define MACH_SEND_INVALID_NOTIFY    0x1000000b
#define MACH_SEND_INVALID_MEMORY    0x1000000c
#define MACH_SEND_NO_BUFFER         0x1000000d
#define MACH_SEND_TOO_LARGE         0x1000000e
#define MACH_SEND_INVALID_TYPE      0x1000000f
#define MACH_SEND_INVALID_HEADER    0x10000010
#define MACH_SEND_INVALID_TRAILER   0x10000011
#define MACH_SEND_INVALID_CONTEXT   0x10000012
#define MACH_SEND_INVALID_RT_OOL_SIZE 0x10000015
#define MACH_SEND_NO_GRANT_DEST     0x10000016
#define MACH_SEND_MSG_FILTERED      0x10000017
#define MACH_RCV_IN_PROGRESS        0x10004001
#define MACH_RCV_INVALID_NAME       0x10004002
#define MACH_RCV_TIMED_OUT          0x10004003
#define MACH_RCV_TOO_LARGE          0x10004004
#define MACH_RCV_INTERRUPTED        0x10004005
#define MACH_RCV_PORT_CHANGED       0x10004006
#define MACH_RCV_INVALID_NOTIFY     0x10004007
#define MACH_RCV_INVALID_DATA       0x10004008
#define MACH_RCV_PORT_DIED          0x10004009
#define MACH_RCV_IN_SET             0x1000400a
#define MACH_RCV_HEADER_ERROR       0x1000400b
#define MACH_RCV_BODY_ERROR         0x1000400c
#define MACH_RCV_INVALID_TYPE       0x1000400d
#define MACH_RCV_SCATTER_SMALL      0x1000400e
#define MACH_RCV_INVALID_TRAILER    0x1000400f
#define MACH_RCV_IN_PROGRESS_TIMED  0x10004011
#define MACH_RCV_INVALID_REPLY      0x10004012

#endif
