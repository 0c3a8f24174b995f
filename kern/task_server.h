/*
 * The routines a task port serves (the vm_map subsystem's calls and the
 * task calls); ipc/ipc_kobject.c dispatches to them once registered.
 */
#ifndef MICA_KERN_TASK_SERVER_H
#define MICA_KERN_TASK_SERVER_H

#include <stddef.h>
#include "ipc/ipc_kobject.h"

extern const struct ipc_routine task_server_routines[];
extern const size_t task_server_routine_count;

/* Registers them for task ports; at boot, before the first message. */
void task_server_init(void);

#endif
