/*
 * Port names and rights, with Mach's types and values (mach/port.h in
 * CMU Mach, GNU Mach and XNU).  A task names the ports it holds rights to
 * with small integers that mean something only in its own IPC space.
 */
#ifndef MACH_PORT_H
#define MACH_PORT_H

#include <mach/vm_types.h>

typedef natural_t mach_port_name_t;
typedef mach_port_name_t mach_port_t;        /* in user space, a name */
typedef natural_t mach_port_right_t;
typedef natural_t mach_port_type_t;
typedef natural_t mach_port_urefs_t;
typedef int mach_port_delta_t;

#define MACH_PORT_NULL  ((mach_port_name_t)0)
#define MACH_PORT_DEAD  ((mach_port_name_t)~0u)
#define MACH_PORT_VALID(name) ((name) != MACH_PORT_NULL && (name) != MACH_PORT_DEAD)

#define MACH_PORT_RIGHT_SEND       ((mach_port_right_t)0)
#define MACH_PORT_RIGHT_RECEIVE    ((mach_port_right_t)1)
#define MACH_PORT_RIGHT_SEND_ONCE  ((mach_port_right_t)2)
#define MACH_PORT_RIGHT_PORT_SET   ((mach_port_right_t)3)
#define MACH_PORT_RIGHT_DEAD_NAME  ((mach_port_right_t)4)
#define MACH_PORT_RIGHT_NUMBER     ((mach_port_right_t)5)

#define MACH_PORT_TYPE(right)      ((mach_port_type_t)(1u << ((right) + 16)))
#define MACH_PORT_TYPE_NONE        ((mach_port_type_t)0)
#define MACH_PORT_TYPE_SEND        MACH_PORT_TYPE(MACH_PORT_RIGHT_SEND)
#define MACH_PORT_TYPE_RECEIVE     MACH_PORT_TYPE(MACH_PORT_RIGHT_RECEIVE)
#define MACH_PORT_TYPE_SEND_ONCE   MACH_PORT_TYPE(MACH_PORT_RIGHT_SEND_ONCE)
#define MACH_PORT_TYPE_PORT_SET    MACH_PORT_TYPE(MACH_PORT_RIGHT_PORT_SET)
#define MACH_PORT_TYPE_DEAD_NAME   MACH_PORT_TYPE(MACH_PORT_RIGHT_DEAD_NAME)
#define MACH_PORT_TYPE_SEND_RECEIVE (MACH_PORT_TYPE_SEND | MACH_PORT_TYPE_RECEIVE)
#define MACH_PORT_TYPE_SEND_RIGHTS  (MACH_PORT_TYPE_SEND | MACH_PORT_TYPE_SEND_ONCE)
#define MACH_PORT_TYPE_PORT_RIGHTS  (MACH_PORT_TYPE_SEND_RIGHTS | MACH_PORT_TYPE_RECEIVE)
#define MACH_PORT_TYPE_ALL_RIGHTS   (MACH_PORT_TYPE_PORT_RIGHTS | MACH_PORT_TYPE_PORT_SET | \
				     MACH_PORT_TYPE_DEAD_NAME)

/* The most user references one name may carry for send rights or a dead name. */
#define MACH_PORT_UREFS_MAX        ((mach_port_urefs_t)((1 << 16) - 1))

#endif
