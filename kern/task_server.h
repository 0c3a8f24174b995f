/*
 * The routines a task port serves (the vm_map subsystem's calls so far);
 * ipc/ipc_kobject.c dispatches to them.
 */
#ifndef MICA_KERN_TASK_SERVER_H
#define MICA_KERN_TASK_SERVER_H

#include <stddef.h>
#include "ipc/ipc_kobject.h"

extern const struct ipc_routine task_server_routines[];
extern const size_t task_server_routine_count;

#endif
