/*
 * Message dispositions: what a message (or mach_port_insert_right) does
 * with a right.  Mach's values.  mach_msg itself arrives with the IPC
 * issue's next steps.
 */
#ifndef MACH_MESSAGE_H
#define MACH_MESSAGE_H

#include <mach/port.h>

typedef unsigned int mach_msg_type_name_t;

#define MACH_MSG_TYPE_MOVE_RECEIVE    16   /* the receive right itself */
#define MACH_MSG_TYPE_MOVE_SEND       17
#define MACH_MSG_TYPE_MOVE_SEND_ONCE  18
#define MACH_MSG_TYPE_COPY_SEND       19   /* a new send right, the sender keeps its own */
#define MACH_MSG_TYPE_MAKE_SEND       20   /* a send right made from a receive right */
#define MACH_MSG_TYPE_MAKE_SEND_ONCE  21

#endif
