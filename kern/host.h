/*
 * The host: the machine as a kernel object, named to user space by the
 * host port (mach_host_self).  It is made at boot and never dies.
 */
#ifndef MICA_KERN_HOST_H
#define MICA_KERN_HOST_H

#include <stddef.h>
#include "ipc/ipc_kobject.h"

/*
 * Registers the host's routines and makes its port; panics without
 * memory (boot cannot go on).
 */
void host_init(void);

/* The host port (the kernel holds its receive right). */
struct ipc_port *host_port(void);

extern const struct ipc_routine host_server_routines[];
extern const size_t host_server_routine_count;

#endif
