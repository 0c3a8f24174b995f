/*
 * Threads: a kernel stack (with a guard page), a saved context and a
 * state.  A kernel thread runs a function; a user thread belongs to a task
 * and runs in ring 3 from the registers thread_set_state gave it.
 *
 * A user thread is named by its thread port (authority over it, as a
 * task port is over a task); the port dies when the thread ends.  The
 * structure lives while referenced (the port's dispatcher holds one while
 * it serves a call), its kernel stack with it.
 *
 * Which lock covers which field: the legend above struct thread.
 */
#ifndef MICA_KERN_THREAD_H
#define MICA_KERN_THREAD_H

#include <stdbool.h>
#include <mach/kern_return.h>
#include <mach/vm_types.h>
#include "arch/x86_64/thread_md.h"
#include "kern/alloc_fail.h"
#include "kern/machine.h"
#include "kern/timer.h"

enum thread_state {
	THREAD_SUSPENDED,              /* created, not yet resumed */
	THREAD_RUNNABLE,
	THREAD_RUNNING,
	THREAD_WAITING,
	THREAD_HALTED,                 /* done; freed once off its stack */
};

struct task;
struct ipc_port;
struct ipc_kobject_ops;

/*
 * Locks:
 *   (s) sched_lock (kern/sched.c); state and suspend_count are also read
 *       without it, atomically, as a glimpse
 *   (k) the lock of the thread's task
 *   (t) the thread itself
 *   (o) the thread itself, or another while it is stopped: the switch,
 *       under (s), and thread_set_state (sched_wait_stopped)
 *   (a) atomic
 *   (c) constant after creation
 *   (x) set at creation; cleared by thread_port_kill, by the thread itself
 *       or once it can no longer run
 */
struct thread {
	struct machine_thread md;      /* (o) */
	unsigned id;                   /* (c) */
	char name[24];                 /* (c) */
	enum thread_state state;       /* (s) but THREAD_HALTED, which thread_terminate sets
	                                  without it, once the thread is off every queue */
	struct task *task;             /* (k) NULL for kernel threads; (t) cleared by the thread
	                                  as its task ends it */
	vm_offset_t kstack;            /* (c) lowest address; 0 for the boot thread */
	struct thread *run_next;       /* (s) run queue, waiters or zombies */
	struct thread *task_next;      /* (k) the task's threads */
	const void *wait_event;        /* (s) what it waits for, while THREAD_WAITING */
	const char *wait_what;         /* (s) the same, in words, for the debugger */
	uint64_t wait_deadline;        /* (s) clock_ns() its wait ends at; 0: none */
	int wait_result;               /* (s) wait_result_t (kern/sched.h): why its wait ended */
	struct timer_call wait_timer;  /* (s) the deadline's timer, queued while it waits */
	uint64_t switches;             /* (s) how often the scheduler gave it the CPU */
	bool running;                  /* (s) on a CPU: from the switch to it to the switch away */
	unsigned last_cpu;             /* (s) the CPU it runs on, or last ran on */
	bool stop_watched;             /* (s) someone waits for it to stop (sched_wait_stopped) */
	unsigned bound_to;             /* (s) 1 + the only CPU it may run on; 0: any (sched_bind) */
	bool preempted_in_kernel;      /* (s) taken off the CPU in the middle of kernel code,
	                                  where it may hold memory and references: it must
	                                  run on to a wait outside any call, or to user
	                                  mode, before it is stopped or reaped; its
	                                  terminator sleeps on this field's address */
	bool wait_in_call;             /* (s) set: its wait (assert_wait_in_call) is inside a
	                                  call that holds memory, references or locks; (t)
	                                  cleared by the thread once it runs again */
	bool wait_unint;               /* (s) with wait_in_call: termination does not end it */
	bool terminating;              /* (s) thread_terminate has begun: an interruptible
	                                  in-call wait ends at once, THREAD_INTERRUPTED */
	uint32_t ref_count;            /* (a) one for being alive, one per holder */
	unsigned suspend_count;        /* (s) > 0: not given the CPU (thread_suspend/resume) */
	struct ipc_port *self_port;    /* (x) the thread port (user threads; NULL once it ended) */
	struct task *ended_task;       /* (t) the task it ended as its last thread, which the
	                                  reaper finishes once the thread is gone (task_finish) */
	struct ipc_port *ended_task_port;   /* (t) that task's port, to die then */
	struct alloc_fail alloc_fail;  /* (t) the test-only failure switch (kern/alloc_fail.h) */
};

/* A kernel thread running fn(arg); runnable at once.  NULL when memory is short. */
struct thread *thread_create_kernel(const char *name, void (*fn)(void *), void *arg);

/*
 * A user thread in task with zeroed registers and a thread port,
 * suspended once (set its registers, then thread_resume it).
 */
kern_return_t thread_create(struct task *task, struct thread **out);

/* As XNU: x86_THREAD_STATE64 only, exactly its count to set, at least its count to get. */
kern_return_t thread_set_state(struct thread *t, int flavor, const void *state, unsigned count);
kern_return_t thread_get_state(struct thread *t, int flavor, void *state, unsigned *count);

/*
 * Counted, as Mach's: a thread runs only while its suspend count (and
 * its task's) is 0.  Resuming a thread that is not suspended is
 * KERN_FAILURE.  A thread that suspends itself stops at once.
 */
kern_return_t thread_suspend(struct thread *t);
kern_return_t thread_resume(struct thread *t);

/* A reference, unless t has ended or its last one is gone (the thread port's dispatcher). */
bool thread_reference_if_live(struct thread *t);
/* Drops a reference; the last one frees the stack and the structure. */
void thread_deallocate(struct thread *t);

/*
 * How the dispatcher holds a thread while a routine runs on its port
 * (thread_server.c registers the thread kind with it): by a reference,
 * which keeps its structure and kernel stack.
 */
extern const struct ipc_kobject_ops thread_kobject_ops;

/* Ends t and kills its port (the current thread does not return). */
void thread_terminate(struct thread *t);
void thread_exit(void) __attribute__((noreturn));

static inline struct thread *current_thread(void)
{
	return machine_current_thread();
}

/* Drops a halted thread's life reference (the scheduler calls it off that stack). */
void thread_reap(struct thread *t);

/* Threads alive (not yet reaped): a leak check for tests. */
unsigned thread_count(void);

/* The first function of every new thread (switch.asm's trampoline calls it). */
void thread_start(void (*fn)(void *), void *arg) __attribute__((noreturn));

#endif
