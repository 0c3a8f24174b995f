/*
 * The routines of the thread calls (include/mach/thread_rpc.h): those a
 * thread port serves, and thread_create and task_threads on a task port;
 * ipc/ipc_kobject.c dispatches to them.
 */
#ifndef MICA_KERN_THREAD_SERVER_H
#define MICA_KERN_THREAD_SERVER_H

#include <stddef.h>
#include "ipc/ipc_kobject.h"

extern const struct ipc_routine thread_server_routines[];
extern const size_t thread_server_routine_count;

#endif
