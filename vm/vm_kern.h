/*
 * Kernel memory that is not the kernel image: for now, kernel stacks.
 * Each stack is KSTACK_SIZE bytes of wired memory with an unmapped guard
 * page below it, so running off the end faults at once (a double fault,
 * reported as a stack overflow) instead of corrupting whatever lies below.
 */
#ifndef MICA_VM_VM_KERN_H
#define MICA_VM_VM_KERN_H

#include <stdbool.h>
#include <mach/vm_types.h>

#define KSTACK_PAGES 8
#define KSTACK_SIZE  (KSTACK_PAGES * 4096ul)

void kmem_init(void);

/* The lowest address of a new stack (its top is that + KSTACK_SIZE), or 0. */
vm_offset_t kmem_stack_alloc(void);
void kmem_stack_free(vm_offset_t stack);

/* Is va inside the guard page below some kernel stack? */
bool kmem_is_stack_guard(vm_offset_t va);

#endif
