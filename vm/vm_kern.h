/*
 * Kernel memory that is not the kernel image: kernel stacks, wired memory
 * from kernel_map, and device registers mapped into it.
 * Each stack is KSTACK_SIZE bytes of wired memory with an unmapped guard
 * page below it, so running off the end faults at once (a double fault,
 * reported as a stack overflow) instead of corrupting whatever lies below.
 */
#ifndef MICA_VM_VM_KERN_H
#define MICA_VM_VM_KERN_H

#include <stdbool.h>
#include <mach/kern_return.h>
#include <mach/vm_types.h>
#include "vm/vm_page.h"

#define KSTACK_PAGES 8
#define KSTACK_SIZE  (KSTACK_PAGES * 4096ul)

void kmem_init(void);

/* The lowest address of a new stack (its top is that + KSTACK_SIZE), or 0. */
vm_offset_t kmem_stack_alloc(void);
void kmem_stack_free(vm_offset_t stack);

/* The first kernel virtual address after the stacks: where kernel_map starts. */
vm_offset_t kmem_first_free_va(void);

/*
 * Wired, zeroed kernel memory from kernel_map, mapped read/write: size
 * bytes (whole pages), or 0 when size is 0, no room is left or memory is
 * short.  All or nothing: the range is allocated and wired under one hold
 * of kernel_map's lock (vm_map_wire), and a wiring that fails takes the
 * allocation back, so on 0 kernel_map is as it was.
 */
vm_offset_t kmem_alloc(vm_size_t size);

/* Frees what kmem_alloc gave: addr and size as it took and returned them. */
void kmem_free(vm_offset_t addr, vm_size_t size);

/*
 * Maps size bytes (whole pages) of device registers at pa, page-aligned,
 * uncached at a kernel address returned in *va, for good.  The entry is a
 * device entry: no fault may fill it, so a stray access there, a user's or
 * the kernel's, can never put RAM where the device was.  All or nothing:
 * KERN_NO_SPACE or KERN_RESOURCE_SHORTAGE leaves kernel_map as it was.
 */
kern_return_t kmem_map_device(paddr_t pa, vm_size_t size, vm_offset_t *va);

/* Is va inside the guard page below some kernel stack? */
bool kmem_is_stack_guard(vm_offset_t va);

#endif
