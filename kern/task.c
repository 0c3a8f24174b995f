/*
 * Tasks (kern/task.h).  A task dies in two steps: task_terminate stops
 * its threads and releases its memory at once; the structure itself goes
 * with the last reference (its creator usually holds one to read the exit
 * status).
 */
#include "kern/task.h"
#include "ipc/ipc_kobject.h"
#include "ipc/ipc_space.h"
#include "arch/x86_64/layout.h"
#include "kern/clock.h"
#include "kern/kalloc.h"
#include "kern/panic.h"
#include "kern/refcount.h"
#include "kern/sched.h"
#include "lib/string.h"
#include "kern/thread.h"
#include "vm/pmap.h"

static unsigned next_task_id = 1;
static unsigned tasks_alive;
static struct task *all_tasks;         /* newest first */
static struct spinlock all_tasks_lock = SPINLOCK_INIT("all_tasks", LOCK_RANK_ALL_TASKS);

unsigned task_count(void)
{
	return tasks_alive;
}

/* The new task's map: a copy of the parent's by inheritance, or an empty one. */
static vm_map_t task_map(struct task *parent, bool inherit_memory)
{
	pmap_t pmap = pmap_create();
	vm_map_t map;

	if (pmap == NULL)
		return NULL;
	map = inherit_memory ? vm_map_fork(parent->map, pmap) : vm_map_create(pmap, USER_MIN, USER_MAX);
	if (map == NULL)
		pmap_destroy(pmap);
	return map;
}

void task_set_name(struct task *task, const char *name)
{
	size_t i;

	for (i = 0; i + 1 < sizeof(task->name) && name[i]; i++)
		task->name[i] = name[i];
	task->name[i] = '\0';
}

kern_return_t task_create(struct task *parent, bool inherit_memory, struct task **child)
{
	struct task *t;

	if (inherit_memory && (parent == NULL || parent->terminated))
		return KERN_INVALID_ARGUMENT;
	t = kzalloc(sizeof(*t));
	if (t == NULL)
		return KERN_RESOURCE_SHORTAGE;
	t->map = task_map(parent, inherit_memory);
	t->space = t->map ? ipc_space_create() : NULL;
	t->self_port = t->space ? ipc_kobject_port_alloc(t, IKOT_TASK) : NULL;
	if (t->self_port == NULL) {
		if (t->space)
			ipc_space_destroy(t->space);
		if (t->map)
			vm_map_deallocate(t->map);
		kfree(t, sizeof(*t));
		return KERN_RESOURCE_SHORTAGE;
	}
	spin_lock_init(&t->lock, "task", LOCK_RANK_TASK);
	task_set_name(t, parent ? parent->name : "task");
	t->id = __atomic_fetch_add(&next_task_id, 1, __ATOMIC_RELAXED);
	t->ref_count = 1;
	__atomic_fetch_add(&tasks_alive, 1, __ATOMIC_RELAXED);
	spin_lock(&all_tasks_lock);
	t->all_next = all_tasks;
	all_tasks = t;
	spin_unlock(&all_tasks_lock);
	*child = t;
	return KERN_SUCCESS;
}

/*
 * The count is atomic rather than under task->lock: the task port's
 * dispatcher takes a reference while it holds the port's lock, which
 * ranks after the task's.
 */
void task_reference(struct task *task)
{
	__atomic_fetch_add(&task->ref_count, 1, __ATOMIC_RELAXED);
}

bool task_reference_if_live(struct task *task)
{
	return refcount_take_if_live(&task->ref_count);
}

vm_map_t task_map_reference(struct task *task)
{
	spin_lock(&task->lock);
	vm_map_t map = task->terminated ? NULL : task->map;
	if (map)
		vm_map_reference(map);
	spin_unlock(&task->lock);
	return map;
}

/* task_kobject_ops' members: the dispatcher's void * is a task, or a map once converted. */
static bool task_kobject_reference(void *task)
{
	return task_reference_if_live(task);
}

static void task_kobject_release(void *task)
{
	task_deallocate(task);
}

static void *task_kobject_map(void *task)
{
	return task_map_reference(task);
}

static void task_kobject_map_release(void *map)
{
	vm_map_deallocate(map);
}

const struct ipc_kobject_ops task_kobject_ops = {
	.reference = task_kobject_reference,
	.release = task_kobject_release,
	.convert = task_kobject_map,
	.release_converted = task_kobject_map_release,
};

struct task *convert_port_to_task(struct ipc_port *port)
{
	return port ? ipc_kobject_reference(port, IKOT_TASK) : NULL;
}

vm_map_t convert_port_to_map(struct ipc_port *port)
{
	struct task *task = convert_port_to_task(port);
	vm_map_t map = task ? task_map_reference(task) : NULL;

	if (task)
		task_deallocate(task);
	return map;
}

void task_deallocate(struct task *task)
{
	uint32_t left = __atomic_sub_fetch(&task->ref_count, 1, __ATOMIC_ACQ_REL);

	if (left > 0)
		return;
	if (!task->terminated) {
		/* its end holds a reference and drops it: this one is kept until then */
		__atomic_store_n(&task->ref_count, 1, __ATOMIC_RELAXED);
		task_terminate(task);
		task_deallocate(task);
		return;
	}
	spin_lock(&all_tasks_lock);
	for (struct task **pp = &all_tasks; *pp; pp = &(*pp)->all_next)
		if (*pp == task) {
			*pp = task->all_next;
			break;
		}
	spin_unlock(&all_tasks_lock);
	kfree(task, sizeof(*task));
	__atomic_fetch_sub(&tasks_alive, 1, __ATOMIC_RELAXED);
}

void task_add_thread(struct task *task, struct thread *t)
{
	spin_lock(&task->lock);
	t->task = task;
	t->task_next = task->threads;
	task->threads = t;
	task->thread_count++;
	spin_unlock(&task->lock);
}

void task_remove_thread(struct task *task, struct thread *t)
{
	spin_lock(&task->lock);
	for (struct thread **pp = &task->threads; *pp; pp = &(*pp)->task_next) {
		if (*pp == t) {
			*pp = t->task_next;
			task->thread_count--;
			break;
		}
	}
	spin_unlock(&task->lock);
}

/*
 * Frees the address space and the port names once no thread of the task
 * can run but, when the task ends itself (own), the caller.  That caller
 * is running in the task's space: it lets go of the map and loads the
 * kernel's space with preemption off, since a switch back between the
 * two would load the map's pmap again (address_space) and pmap_destroy
 * would then free the page tables in use.
 */
static void task_release_memory(struct task *task, bool own)
{
	vm_map_t map;
	struct ipc_space *space = task->space;

	preempt_disable();
	map = task->map;
	task->map = NULL;
	if (own)
		pmap_activate(kernel_pmap);
	preempt_enable();
	task->space = NULL;
	if (map)
		vm_map_deallocate(map);
	if (space)
		ipc_space_destroy(space);
}

/*
 * The reference task_create's RPC left for task_terminate's, dropped
 * however the task ends (it may exit or fault first, and then its port
 * is dead and no task_terminate can reach it).  May free the task.
 */
static void task_drop_rpc_reference(struct task *task)
{
	if (__atomic_exchange_n(&task->made_by_rpc, false, __ATOMIC_ACQ_REL))
		task_deallocate(task);
}

kern_return_t task_terminate(struct task *task)
{
	struct thread *self = current_thread();
	struct ipc_port *port;
	bool exiting = false;

	spin_lock(&task->lock);
	if (task->terminated) {
		spin_unlock(&task->lock);
		return KERN_SUCCESS;
	}
	task->terminated = true;
	spin_unlock(&task->lock);
	task_reference(task);                  /* the end's own: the task outlives its teardown */
	/*
	 * No request reaches the task from now on, but its port dies only
	 * once the task is torn down: the teardown may be preempted, and
	 * whoever watches the port for its death (a dead name) may count
	 * the tasks and ports left as soon as it sees it.
	 */
	port = task->self_port;
	task->self_port = NULL;
	ipc_kobject_port_detach(port);
	while (task->threads) {
		struct thread *t = task->threads;
		if (t == self) {                   /* last: we are standing on its stack */
			task_remove_thread(task, t);
			exiting = true;
			continue;
		}
		thread_terminate(t);
	}
	task_release_memory(task, exiting);
	if (exiting) {
		preempt_disable();             /* its last steps and its end, seen together */
		self->task = NULL;
		self->ended_task = task;       /* the reaper finishes it, off this stack */
		self->ended_task_port = port;
		sched_exit();
	}
	task_finish(task, port);
	return KERN_SUCCESS;
}

/*
 * The end's last steps, once its threads, the one that ended it among
 * them, are gone (a task that ends itself is finished by the reaper that
 * frees its last thread: thread_reap).  Whoever sees the port dead, or
 * the task finished, may count what is left at once, on another CPU, and
 * this may be preempted between any two steps: so the port dies only
 * after the task is freed when nothing else holds it (the port, detached,
 * leads to it no more, and a waiter would hold a reference), and before
 * it is marked finished for its waiters otherwise.
 */
void task_finish(struct task *task, struct ipc_port *port)
{
	task_drop_rpc_reference(task);         /* the caller holds one of its own, or is done */
	if (__atomic_load_n(&task->ref_count, __ATOMIC_ACQUIRE) == 1) {
		task_deallocate(task);         /* the end's own, the last: the task is freed */
		ipc_port_destroy(port);
		return;
	}
	ipc_port_destroy(port);
	__atomic_store_n(&task->finished, true, __ATOMIC_RELEASE);
	task_deallocate(task);                 /* may free the task */
	thread_wakeup(task);                   /* only an address now; each waiter holds a reference */
}

/* A reference to a thread of task, not the caller, that is not stopped yet; NULL if none. */
static struct thread *task_thread_not_stopped(struct task *task)
{
	struct thread *found = NULL;

	spin_lock(&task->lock);
	for (struct thread *t = task->threads; t && !found; t = t->task_next)
		if (t != current_thread() && !sched_thread_stopped(t) && thread_reference_if_live(t))
			found = t;
	spin_unlock(&task->lock);
	return found;
}

/*
 * As Mach's, the call returns once every other thread of the task is
 * stopped, wherever it ran: one running on another CPU is kicked, and
 * waited for, so no store of the task's lands after the call.
 */
kern_return_t task_suspend(struct task *task)
{
	spin_lock(&task->lock);
	bool dead = task->terminated;
	if (!dead) {
		task->suspend_count++;
		for (struct thread *t = task->threads; t; t = t->task_next)
			sched_nudge(t);            /* running on another CPU: it stops there */
	}
	spin_unlock(&task->lock);
	if (dead)
		return KERN_INVALID_ARGUMENT;
	for (struct thread *t; (t = task_thread_not_stopped(task)) != NULL;) {
		bool stopped = sched_wait_stopped(t);
		thread_deallocate(t);
		if (!stopped) {
			(void)task_resume(task);
			return KERN_ABORTED;   /* the caller is being terminated */
		}
	}
	return KERN_SUCCESS;                   /* the caller itself stops on its way out (syscall.c) */
}

kern_return_t task_resume(struct task *task)
{
	kern_return_t kr = KERN_SUCCESS;

	spin_lock(&task->lock);
	if (task->terminated || task->suspend_count == 0)
		kr = KERN_FAILURE;
	else
		task->suspend_count--;
	spin_unlock(&task->lock);
	if (kr == KERN_SUCCESS) {
		thread_wakeup(&task->suspend_count);  /* its threads stopped in sched_stop_if_suspended */
		sched_may_run_again();                /* or queued, passed over until now */
	}
	return kr;
}

void task_exit(int status)
{
	struct task *task = current_task();

	KASSERT(task != NULL, "task_exit: a kernel thread has no task");
	task->exit_status = status;
	task_terminate(task);
	sched_stop_if_suspended();             /* another thread ends the task: this one stops */
	panic("task_exit: returned");
}

static bool task_finished(const struct task *task)
{
	return __atomic_load_n(&task->finished, __ATOMIC_ACQUIRE);
}

/*
 * Waits until task has finished or deadline (clock_ns(); 0: none) has
 * passed; true if it finished.  The wait is declared before the look, so
 * that task_terminate's wakeup, which comes after the task is finished,
 * cannot fall between them.
 */
static bool task_wait_until(struct task *task, uint64_t deadline)
{
	for (;;) {
		assert_wait_deadline(task, "the task's end", deadline);
		if (task_finished(task)) {
			clear_wait(current_thread(), THREAD_AWAKENED);
			return true;
		}
		if (thread_block() == THREAD_TIMED_OUT && !task_finished(task))
			return false;
	}
}

void task_wait(struct task *task)
{
	task_wait_until(task, 0);
}

bool task_wait_timeout(struct task *task, uint64_t timeout_ns)
{
	if (task_wait_until(task, clock_ns() + timeout_ns))
		return true;
	task_terminate(task);
	return false;
}
