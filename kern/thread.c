/*
 * Threads (kern/thread.h): creation, state, resumption and termination.
 * The machine-dependent half (stacks, switching, register frames) is
 * arch/x86_64/thread_md.c, reached through kern/machine.h.
 */
#include "kern/thread.h"
#include "ipc/ipc_kobject.h"
#include "kern/kalloc.h"
#include "kern/lock.h"
#include "kern/machine.h"
#include "kern/panic.h"
#include "kern/refcount.h"
#include "kern/sched.h"
#include "lib/string.h"
#include "kern/task.h"
#include "vm/vm_kern.h"

extern struct spinlock sched_lock;

static unsigned next_thread_id = 1;
static unsigned threads_alive;

unsigned thread_count(void)
{
	return threads_alive;
}

/* A thread structure with a fresh kernel stack, or NULL. */
static struct thread *thread_alloc(const char *name)
{
	struct thread *t = kzalloc(sizeof(*t));

	if (t == NULL)
		return NULL;
	t->kstack = kmem_stack_alloc();
	if (t->kstack == 0) {
		kfree(t, sizeof(*t));
		return NULL;
	}
	t->id = __atomic_fetch_add(&next_thread_id, 1, __ATOMIC_RELAXED);
	for (size_t i = 0; i + 1 < sizeof(t->name) && name[i]; i++)
		t->name[i] = name[i];
	t->state = THREAD_SUSPENDED;
	t->ref_count = 1;
	__atomic_fetch_add(&threads_alive, 1, __ATOMIC_RELAXED);
	return t;
}

struct thread *thread_create_kernel(const char *name, void (*fn)(void *), void *arg)
{
	struct thread *t = thread_alloc(name);

	if (t == NULL)
		return NULL;
	machine_thread_init_kernel(t, fn, arg);
	sched_make_runnable(t);
	return t;
}

/*
 * Every thread starts here, holding sched_lock from the switch that ran
 * it.  Interrupts come on whatever the thread that switched to it had
 * (a test's own thread runs with them off): a kernel thread is
 * preemptible like any other.
 */
void thread_start(void (*fn)(void *), void *arg)
{
	sched_thread_begin();
	machine_interrupts_on();
	fn(arg);
	thread_exit();
}

/* Frees the stack and the structure: nothing refers to t any more, its port is gone. */
static void thread_free(struct thread *t)
{
	kmem_stack_free(t->kstack);
	kfree(t, sizeof(*t));
	__atomic_fetch_sub(&threads_alive, 1, __ATOMIC_RELAXED);
}

kern_return_t thread_create(struct task *task, struct thread **out)
{
	struct thread *t;

	if (task == NULL || task->terminated)
		return KERN_INVALID_ARGUMENT;
	t = thread_alloc(task->name);
	if (t == NULL)
		return KERN_RESOURCE_SHORTAGE;
	t->self_port = ipc_kobject_port_alloc(t, IKOT_THREAD);
	if (t->self_port == NULL) {
		thread_free(t);
		return KERN_RESOURCE_SHORTAGE;
	}
	t->suspend_count = 1;                  /* as Mach's: created suspended */
	machine_thread_init_user(t);
	task_add_thread(task, t);
	*out = t;
	return KERN_SUCCESS;
}

/*
 * One suspension more, then the wait for t to be stopped (it may run on
 * another CPU; the current thread stops on its way out of the call).
 * False, the suspension given back, if the wait was interrupted.
 */
static bool thread_suspend_and_wait(struct thread *t)
{
	spin_lock(&sched_lock);
	t->suspend_count++;
	spin_unlock(&sched_lock);
	if (sched_wait_stopped(t))
		return true;
	(void)thread_resume(t);
	return false;
}

/*
 * Stops t, another thread, so that its registers hold still: a suspension
 * of the caller's own, then the wait.  False, holding nothing, if the wait
 * was interrupted.
 */
static bool thread_hold(struct thread *t)
{
	return t == current_thread() || thread_suspend_and_wait(t);
}

static void thread_release(struct thread *t)
{
	if (t != current_thread())
		(void)thread_resume(t);
}

kern_return_t thread_set_state(struct thread *t, int flavor, const void *state, unsigned count)
{
	if (flavor != x86_THREAD_STATE64 || count != x86_THREAD_STATE64_COUNT || t->task == NULL)
		return KERN_INVALID_ARGUMENT;
	if (!thread_hold(t))
		return KERN_ABORTED;
	kern_return_t kr = machine_thread_set_state(t, state);
	thread_release(t);
	return kr;
}

kern_return_t thread_get_state(struct thread *t, int flavor, void *state, unsigned *count)
{
	if (flavor != x86_THREAD_STATE64 || *count < x86_THREAD_STATE64_COUNT || t->task == NULL)
		return KERN_INVALID_ARGUMENT;
	if (!thread_hold(t))
		return KERN_ABORTED;
	*count = x86_THREAD_STATE64_COUNT;
	kern_return_t kr = machine_thread_get_state(t, state);
	thread_release(t);
	return kr;
}

kern_return_t thread_suspend(struct thread *t)
{
	if (t->task == NULL)
		return KERN_INVALID_ARGUMENT;      /* kernel threads are not Mach's to stop */
	return thread_suspend_and_wait(t) ? KERN_SUCCESS : KERN_ABORTED;
}

/* The last resume lets a thread that never ran start; one that ran is still queued. */
kern_return_t thread_resume(struct thread *t)
{
	bool start = false;

	spin_lock(&sched_lock);
	if (t->suspend_count == 0) {
		spin_unlock(&sched_lock);
		return KERN_FAILURE;
	}
	t->suspend_count--;
	start = t->suspend_count == 0 && t->state == THREAD_SUSPENDED;
	spin_unlock(&sched_lock);
	if (start) {
		sched_make_runnable(t);
	} else {
		thread_wakeup(&t->suspend_count);  /* it may be stopped in sched_stop_if_suspended */
		sched_may_run_again();             /* or queued, passed over until now */
	}
	return KERN_SUCCESS;
}

/*
 * The count never rises again from 0, and a halted thread is refused, so
 * a routine never starts on a thread that has ended.
 */
bool thread_reference_if_live(struct thread *t)
{
	return __atomic_load_n(&t->state, __ATOMIC_RELAXED) != THREAD_HALTED &&
	       refcount_take_if_live(&t->ref_count);
}

void thread_deallocate(struct thread *t)
{
	if (__atomic_sub_fetch(&t->ref_count, 1, __ATOMIC_ACQ_REL) == 0)
		thread_free(t);
}

/* thread_kobject_ops' members: the dispatcher's void * is a thread. */
static bool thread_kobject_reference(void *thread)
{
	return thread_reference_if_live(thread);
}

static void thread_kobject_release(void *thread)
{
	thread_deallocate(thread);
}

const struct ipc_kobject_ops thread_kobject_ops = {
	.reference = thread_kobject_reference,
	.release = thread_kobject_release,
};

/* No call reaches t through its port from now on; senders get MACH_SEND_INVALID_DEST. */
/*
 * Not preempted from here on: its end is one step.  A thread being
 * terminated leaves its end to whoever terminates it: it stops
 * (sched_stop_if_suspended) to be reaped there.
 */
void thread_exit(void)
{
	struct thread *t = current_thread();

	preempt_disable();
	if (__atomic_load_n(&t->terminating, __ATOMIC_RELAXED)) {
		preempt_enable();
		sched_stop_if_suspended();
		panic("thread_exit: %s ran on after its end", t->name);
	}
	if (t->task)
		task_remove_thread(t->task, t);
	sched_exit();                          /* its port dies as it is reaped (thread_reap) */
}

/*
 * Ends a thread that is not running: off the queues, then reaped.  Where
 * it holds nothing (a mach_msg wait, user mode, its way out) it is
 * stopped there: its wait is interrupted, it is off its event and its
 * timer, and dropping its stack frees all it had.  Inside a call
 * (preempted, or waiting for a sleep lock) it is first let run on, its
 * lock wait interrupted, to unwind the call and stop on its way out
 * (sched_remove).  The current thread ends itself through thread_exit.
 */
void thread_terminate(struct thread *t)
{
	if (t == current_thread())
		thread_exit();
	sched_remove(t);
	if (t->task)
		task_remove_thread(t->task, t);
	t->state = THREAD_HALTED;
	thread_reap(t);
}

/*
 * Its stack and structure go before its port dies (and, if it ended its
 * task, before the task is finished): whoever sees either may count the
 * thread gone at once, on another CPU.
 */
void thread_reap(struct thread *t)
{
	KASSERT(t != current_thread(), "thread_reap: %s is running", t->name);
	struct ipc_port *port = t->self_port;
	struct task *ended = t->ended_task;
	struct ipc_port *ended_port = t->ended_task_port;

	t->self_port = NULL;
	thread_deallocate(t);
	if (port)
		ipc_kobject_port_destroy(port);
	if (ended)
		task_finish(ended, ended_port);
}
