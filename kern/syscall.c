/*
 * The system calls of include/mica/syscall.h.  Every pointer from user
 * space goes through copyin/copyout (kern/copy.h), so a bad one comes
 * back as KERN_INVALID_ADDRESS; nothing here trusts an argument.
 */
#include "kern/syscall.h"
#include "kern/console.h"
#include "kern/copy.h"
#include "kern/sched.h"
#include "kern/task.h"
#include "vm/vm_user.h"
#include <mica/syscall.h>

#define CONSOLE_CHUNK 256

/* Copies the user's bytes in a chunk at a time and hands them to the task's console. */
static kern_return_t sys_console_write(struct task *task, uint64_t buf, uint64_t len)
{
	char chunk[CONSOLE_CHUNK];

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

uint64_t syscall_handle(uint64_t nr, const uint64_t a[6])
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
		sched_yield();
		return KERN_SUCCESS;
	default:
		return KERN_INVALID_ARGUMENT;
	}
}
