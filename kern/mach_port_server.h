/*
 * The mach_port calls a task port serves (include/mach/mach_port_rpc.h);
 * ipc/ipc_kobject.c dispatches to them once registered.
 */
#ifndef MICA_KERN_MACH_PORT_SERVER_H
#define MICA_KERN_MACH_PORT_SERVER_H

#include <stddef.h>
#include "ipc/ipc_kobject.h"

extern const struct ipc_routine mach_port_server_routines[];
extern const size_t mach_port_server_routine_count;

/* Registers them for task ports; at boot, before the first message. */
void mach_port_server_init(void);

#endif
