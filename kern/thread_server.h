/*
 * The routines of the thread calls (include/mach/thread_rpc.h): those a
 * thread port serves, and thread_create and task_threads on a task port;
 * ipc/ipc_kobject.c dispatches to them once registered.
 */
#ifndef MICA_KERN_THREAD_SERVER_H
#define MICA_KERN_THREAD_SERVER_H

#include <stddef.h>
#include "ipc/ipc_kobject.h"

/* On a task port: thread_create and task_threads. */
extern const struct ipc_routine thread_server_task_routines[];
extern const size_t thread_server_task_routine_count;

/* On a thread port: Mach's thread_act calls. */
extern const struct ipc_routine thread_server_routines[];
extern const size_t thread_server_routine_count;

/* Registers both for their ports; at boot, before the first message. */
void thread_server_init(void);

#endif
