/* Loading ELF programs into tasks, and starting them. */
#ifndef MICA_KERN_EXEC_H
#define MICA_KERN_EXEC_H

#include <stddef.h>
#include <stdint.h>
#include <mach/kern_return.h>
#include <mach/vm_types.h>

#include "kern/task.h"

/*
 * Maps the ELF64 executable image[0, size) into task's (empty) address
 * space: each PT_LOAD with its own rights, then a stack with a guard page
 * below it.  On success *entry and *stack_top say where to start.  A
 * malformed image gives KERN_INVALID_ARGUMENT and *why says what is wrong.
 */
kern_return_t exec_load(struct task *task, const uint8_t *image, size_t size,
                        vm_address_t *entry, vm_address_t *stack_top, const char **why);

/*
 * A new task (child of parent, which may be NULL), named after and
 * running the carried program `name` in its first thread.  When it cannot
 * be started, nothing is left behind and the reason is printed.
 */
kern_return_t task_spawn(struct task *parent, const char *name, struct task **child);

/*
 * The same, quietly: *why gives the reason for a failure, and the task's
 * console output goes to output(…, output_arg) (NULL: the console).
 */
kern_return_t task_spawn_with_output(struct task *parent, const char *name, task_output_fn output,
                                     void *output_arg, struct task **child, const char **why);

/*
 * The same, but the first thread (*thread) waits for its thread_resume:
 * the caller can set the task up (give out its port) before it runs.
 */
kern_return_t task_spawn_suspended(struct task *parent, const char *name, task_output_fn output,
                                   void *output_arg, struct task **child, struct thread **thread,
                                   const char **why);

#endif
