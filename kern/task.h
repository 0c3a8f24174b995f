/*
 * Tasks: an address space (a vm_map with its pmap), an IPC space (the
 * task's names for port rights) and the threads that run in it.  The task
 * port (authority over the task) comes with mach_msg.
 */
#ifndef MICA_KERN_TASK_H
#define MICA_KERN_TASK_H

#include <stdbool.h>
#include <stddef.h>
#include <mach/kern_return.h>
#include "kern/lock.h"
#include "kern/thread.h"
#include "vm/vm_map.h"

struct thread;
struct task;
struct ipc_space;
struct ipc_port;
struct ipc_kobject_ops;

/* The lowest user address: the first 64 KiB are never mapped (a null-pointer guard). */
#define USER_MIN 0x10000ul

/* Receives what a task writes to the console (the user test runner judges it). */
typedef void (*task_output_fn)(struct task *task, const char *buf, size_t len, void *arg);

/*
 * Locks:
 *   (t) task->lock; terminated, thread_count and suspend_count are also
 *       read without it, as a glimpse
 *   (g) all_tasks_lock (kern/task.c)
 *   (a) atomic
 *   (c) constant after task_create
 *   (s) set by whoever makes the task, before its first thread runs
 *       (task_create, task_spawn_suspended)
 *   (x) set by task_create; task_terminate clears it once terminated is
 *       set under (t) and the task's other threads are stopped: those read
 *       it freely, anyone else under (t) after checking terminated
 *   (e) the task's own thread, on its way out (task_exit); read once the
 *       task has terminated
 *   (f) set once by task_terminate, with preemption disabled, just before
 *       it wakes the task's waiters
 */
struct task {
	struct task *all_next;         /* (g) every live task, newest first */
	struct spinlock lock;
	char name[32];                 /* (s) */
	unsigned id;                   /* (c) */
	uint32_t ref_count;            /* (a) */
	vm_map_t map;                  /* (x) */
	struct ipc_space *space;       /* (x) the task's port names */
	struct ipc_port *self_port;    /* (x) the task port (the kernel holds its receive right) */
	bool made_by_rpc;              /* (a) task_create's RPC holds its first reference until the
	                                  task ends */
	struct thread *threads;        /* (t) */
	unsigned thread_count;         /* (t) */
	bool terminated;               /* (t) */
	bool finished;                 /* (f) its end is done: threads, memory, names released */
	unsigned suspend_count;        /* (t) > 0: none of its threads is given the CPU */
	int exit_status;               /* (e) from SYS_exit; TASK_KILLED after a fatal fault */
	task_output_fn output;         /* (s) NULL: straight to the console */
	void *output_arg;              /* (s) */
};

/* => task locked */
#define TASK_ASSERT_LOCKED(task) LOCK_ASSERT_HELD(&(task)->lock)

#define TASK_KILLED (-1000)

/*
 * A new task with no threads.  inherit_memory: its map is parent's, copied
 * by each entry's inheritance; otherwise empty.  parent may be NULL (then
 * inherit_memory must be false).  It takes parent's name ("task" without
 * one); task_set_name changes it.
 */
kern_return_t task_create(struct task *parent, bool inherit_memory, struct task **child);

void task_set_name(struct task *task, const char *name);

void task_reference(struct task *task);
void task_deallocate(struct task *task);
/* A reference, unless the last one is already gone (the task port's dispatcher). */
bool task_reference_if_live(struct task *task);
/* The task's map with a reference, or NULL once the task is terminated. */
vm_map_t task_map_reference(struct task *task);

/*
 * How the dispatcher holds a task while a routine runs on its port, and
 * turns it into its map for the vm calls (converted routines): a task's
 * kind registers with it (task_server.c, mach_port_server.c,
 * thread_server.c), so that ipc/ need not know what a task is.
 */
extern const struct ipc_kobject_ops task_kobject_ops;

/*
 * The live task port stands for, with a reference for the caller to drop
 * (task_deallocate); NULL for NULL, a dead port or another kind's, as
 * GNU Mach's convert_port_to_task.
 */
struct task *convert_port_to_task(struct ipc_port *port);

/* The map of the task port stands for, with a reference (vm_map_deallocate), or NULL likewise. */
vm_map_t convert_port_to_map(struct ipc_port *port);

/*
 * Stops every thread and frees the address space; the structure lives
 * while referenced (the reference task_create's RPC made goes now).
 */
kern_return_t task_terminate(struct task *task);

/* The end of a task's termination, once its threads are gone (kern/task.c). */
void task_finish(struct task *task, struct ipc_port *port);

/*
 * Stops every thread of task from being scheduled (counted: as many
 * resumes as suspends), and lets them go again.  task_suspend returns once
 * every other thread of the task is stopped, on whatever CPU it ran;
 * KERN_INVALID_ARGUMENT for a task that ended, KERN_ABORTED (the count
 * given back) if the caller is terminated while it waits.  A task that
 * suspends itself: the caller stops on its way out of the call.
 */
kern_return_t task_suspend(struct task *task);
kern_return_t task_resume(struct task *task);

/* The current thread's task ends with status (does not return). */
void task_exit(int status) __attribute__((noreturn));

/* Waits until task has terminated. */
void task_wait(struct task *task);

/* The same, but after timeout_ns the task is terminated: false then. */
bool task_wait_timeout(struct task *task, uint64_t timeout_ns);

/* The current thread's task; NULL for a kernel thread. */
static inline struct task *current_task(void)
{
	struct thread *t = current_thread();

	return t ? t->task : NULL;
}

void task_add_thread(struct task *task, struct thread *t);
void task_remove_thread(struct task *task, struct thread *t);


/* Tasks alive (not yet freed): a leak check for tests. */
unsigned task_count(void);

#endif
