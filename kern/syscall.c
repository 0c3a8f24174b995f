/*
 * The system calls of include/mica/syscall.h.  Every pointer from user
 * space goes through copyin/copyout (kern/copy.h), so a bad one comes
 * back as KERN_INVALID_ADDRESS; nothing here trusts an argument.
 */
#include "kern/syscall.h"
#include "arch/x86_64/layout.h"
#include "kern/alloc_fail.h"
#include "kern/clock.h"
#include "kern/console.h"
#include "kern/host.h"
#include "kern/copy.h"
#include "kern/sched.h"
#include "kern/service.h"
#include "kern/task.h"
#include "kern/thread.h"
#include "ipc/mach_msg.h"
#include "vm/vm_user.h"
#include <mica/syscall.h>

#define CONSOLE_CHUNK 256

/*
 * Copies the user's bytes in a chunk at a time and hands them to the
 * task's console.  A range that wraps or leaves user space is refused
 * before a byte is printed (an unmapped page inside it still stops the
 * output where it starts).  Out of line, so that its chunk on the stack
 * does not bring the stack protector's check to every system call.
 */
static __attribute__((noinline)) kern_return_t sys_console_write(struct task *task, uint64_t buf,
                                                                 uint64_t len)
{
	char chunk[CONSOLE_CHUNK];

	if (buf + len < buf || buf + len > USER_MAX)
		return KERN_INVALID_ADDRESS;

	for (uint64_t done = 0; done < len;) {
		size_t n = len - done < CONSOLE_CHUNK ? len - done : CONSOLE_CHUNK;
		kern_return_t kr = copyin((const void *)(buf + done), chunk, n);
		if (kr != KERN_SUCCESS)
			return kr;
		if (task->output)
			task->output(task, chunk, n, task->output_arg);
		else
			kprintf("%.*s", (int)n, chunk);
		done += n;
	}
	return KERN_SUCCESS;
}

static kern_return_t sys_vm_allocate(struct task *task, uint64_t uaddr, uint64_t size, int flags)
{
	vm_address_t addr;
	kern_return_t kr = copyin((const void *)uaddr, &addr, sizeof(addr));

	if (kr != KERN_SUCCESS)
		return kr;
	kr = vm_allocate(task->map, &addr, size, flags);
	if (kr == KERN_SUCCESS && copyout(&addr, (void *)uaddr, sizeof(addr)) != KERN_SUCCESS) {
		vm_deallocate(task->map, addr, size);   /* the caller could never learn where */
		kr = KERN_INVALID_ADDRESS;
	}
	return kr;
}

static mach_port_name_t sys_mach_reply_port(struct task *task)
{
	mach_port_name_t name;

	if (mach_port_allocate(task->space, MACH_PORT_RIGHT_RECEIVE, &name) != KERN_SUCCESS)
		return MACH_PORT_NULL;
	return name;
}

/* A new send right to port in task's space: its name, or MACH_PORT_NULL (also for no port). */
static mach_port_name_t give_send_right(struct task *task, struct ipc_port *port)
{
	mach_port_name_t name;

	if (port == NULL)
		return MACH_PORT_NULL;
	ipc_port_make_send(port);
	if (ipc_space_copyout_right(task->space, port, MACH_MSG_TYPE_PORT_SEND, &name) != KERN_SUCCESS)
		return MACH_PORT_NULL;
	return name;
}

static uint64_t gcd(uint64_t a, uint64_t b)
{
	while (b) {
		uint64_t t = a % b;
		a = b;
		b = t;
	}
	return a;
}

/* make bench PROFILE=1 from the user program: the sampler serves SYS_profile once it runs. */
static syscall_profile_fn profile_call;

void syscall_set_profile(syscall_profile_fn fn)
{
	profile_call = fn;
}

/*
 * Mach's mach_timebase_info: nanoseconds = counter ticks * numer / denom,
 * for the counter mach_absolute_time reads (the TSC: user mode may read it).
 */
static kern_return_t sys_timebase_info(uint64_t uinfo)
{
	uint64_t hz = clock_tsc_hz(), g = gcd(1000000000, hz);
	uint64_t numer = 1000000000 / g, denom = hz / g;
	uint32_t info[2];

	while (denom > UINT32_MAX || numer > UINT32_MAX) {   /* both fit 32 bits, as Mach's do */
		numer /= 2;
		denom /= 2;
	}
	info[0] = (uint32_t)numer;
	info[1] = (uint32_t)denom;
	return copyout(info, (void *)uinfo, sizeof(info));
}

static uint64_t syscall_run(uint64_t nr, const uint64_t a[6])
{
	struct task *task = current_task();

	switch (nr) {
	case SYS_exit:
		task_exit((int)a[0]);
	case SYS_console_write:
		return sys_console_write(task, a[0], a[1]);
	case SYS_vm_allocate:
		return sys_vm_allocate(task, a[0], a[1], (int)a[2]);
	case SYS_vm_deallocate:
		return vm_deallocate(task->map, a[0], a[1]);
	case SYS_vm_protect:
		return vm_protect(task->map, a[0], a[1], a[2] != 0, (vm_prot_t)a[3]);
	case SYS_yield:
		sched_yield_to_others();
		return KERN_SUCCESS;
	case SYS_mach_reply_port:
		return sys_mach_reply_port(task);
	case SYS_mach_msg:
		return mach_msg_trap(task->space, task->map, a[0], (mach_msg_option_t)a[1],
		                     (mach_msg_size_t)a[2], (mach_msg_size_t)a[3],
		                     (mach_port_name_t)a[4], (mach_msg_timeout_t)a[5]);
	case SYS_task_self:            /* Mach's task_self_trap: one name, a user reference per call */
		return give_send_right(task, task->self_port);
	case SYS_host_self:
		return give_send_right(task, host_port());
	case SYS_thread_self:          /* Mach's thread_self_trap */
		return give_send_right(task, current_thread()->self_port);
	case SYS_timebase_info:
		return sys_timebase_info(a[0]);
	case SYS_null:
		return KERN_SUCCESS;
	case SYS_profile:
		return profile_call ? profile_call((int)a[0], (int)a[1], a[2], a[3]) : KERN_FAILURE;
	case SYS_alloc_fail:
		return alloc_fail_syscall((unsigned)a[0], a[1], a[2]);
	case SYS_thread_set_pointer:
		return machine_thread_set_pointer(a[0]);
	default:
		return KERN_INVALID_ARGUMENT;
	}
}

uint64_t syscall_handle(uint64_t nr, const uint64_t a[6])
{
	struct alloc_fail *f = &current_thread()->alloc_fail;

	alloc_fail_in_syscall(f, true);
	uint64_t result = syscall_run(nr, a);
	alloc_fail_in_syscall(f, false);
	return result;
}
