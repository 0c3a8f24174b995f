/*
 * The ELF loader: checks an executable completely before it maps a byte,
 * then gives each loadable segment exactly the rights its flags ask for
 * (text R-X, rodata R--, data and bss RW-), and adds a stack under a guard
 * page.  Bytes are put in place with vm_write, as if the task wrote them.
 */
#include "kern/exec.h"
#include "kern/console.h"
#include <mica/elf64.h>
#include "kern/programs.h"
#include "lib/string.h"
#include "kern/task.h"
#include "kern/thread.h"
#include "vm/vm_map_copy.h"
#include "vm/vm_user.h"
#include <mica/syscall.h>

#define ELF_MAX_PHDRS 16

const struct program *program_find(const char *name)
{
	for (unsigned i = 0; i < program_count; i++)
		if (strcmp(programs[i].name, name) == 0)
			return &programs[i];
	return NULL;
}

/* The ELF header, if image starts with a well-formed one; else NULL and *why. */
static const struct elf64_ehdr *check_header(const uint8_t *image, size_t size, const char **why)
{
	const struct elf64_ehdr *h = (const void *)image;

	if (size < sizeof(*h) || memcmp(h->ident, "\177ELF", 4) != 0)
		*why = "not an ELF file";
	else if (h->ident[EI_CLASS] != ELFCLASS64 || h->ident[EI_DATA] != ELFDATA2LSB ||
	         h->machine != EM_X86_64)
		*why = "not a little-endian ELF64 x86-64 file";
	else if (h->type != ET_EXEC)
		*why = "not an executable";
	else if (h->phentsize != sizeof(struct elf64_phdr) || h->phnum == 0 ||
	         h->phnum > ELF_MAX_PHDRS || h->phoff > size ||
	         size - h->phoff < (uint64_t)h->phnum * sizeof(struct elf64_phdr))
		*why = "program headers missing or outside the file";
	else
		return h;
	return NULL;
}

/* Whether one segment is sane on its own: inside the file, inside user space. */
static bool segment_ok(const struct elf64_phdr *p, size_t size, const char **why)
{
	if (p->offset > size || p->filesz > size - p->offset)
		*why = "a segment's data lies outside the file (truncated?)";
	else if (p->filesz > p->memsz)
		*why = "a segment has more file bytes than memory";
	else if (p->vaddr < USER_MIN || p->vaddr + p->memsz < p->vaddr ||
	         p->vaddr + p->memsz > USER_STACK_TOP - USER_STACK_SIZE - PAGE_SIZE)
		*why = "a segment lies outside user space (or on the null guard or the stack)";
	else
		return true;
	return false;
}

/* Checks every PT_LOAD, and that no two share a page. */
static bool segments_ok(const struct elf64_ehdr *h, const uint8_t *image, size_t size,
                        const char **why)
{
	const struct elf64_phdr *ph = (const void *)(image + h->phoff);

	for (unsigned i = 0; i < h->phnum; i++) {
		if (ph[i].type != PT_LOAD)
			continue;
		if (!segment_ok(&ph[i], size, why))
			return false;
		for (unsigned j = 0; j < i; j++) {
			if (ph[j].type != PT_LOAD)
				continue;
			if (trunc_page(ph[i].vaddr) < round_page(ph[j].vaddr + ph[j].memsz) &&
			    trunc_page(ph[j].vaddr) < round_page(ph[i].vaddr + ph[i].memsz)) {
				*why = "two segments overlap (or share a page)";
				return false;
			}
		}
	}
	return true;
}

static vm_prot_t segment_prot(uint32_t flags)
{
	return ((flags & ELF_PF_R) ? VM_PROT_READ : 0) |
	       ((flags & ELF_PF_W) ? VM_PROT_WRITE : 0) |
	       ((flags & ELF_PF_X) ? VM_PROT_EXECUTE : 0);
}

/* Maps one checked segment: allocate, write the file bytes, then set its rights. */
static kern_return_t map_segment(vm_map_t map, const struct elf64_phdr *p, const uint8_t *image)
{
	vm_address_t start = trunc_page(p->vaddr);
	vm_size_t len = round_page(p->vaddr + p->memsz) - start;
	vm_map_copy_t copy;
	kern_return_t kr = vm_allocate(map, &start, len, VM_FLAGS_FIXED);

	if (kr == KERN_SUCCESS && p->filesz > 0) {
		kr = vm_map_copy_from_kernel(image + p->offset, p->filesz, &copy);
		if (kr == KERN_SUCCESS && (kr = vm_write(map, p->vaddr, copy, p->filesz)) != KERN_SUCCESS)
			vm_map_copy_discard(copy);
	}
	if (kr == KERN_SUCCESS)
		kr = vm_protect(map, start, len, false, segment_prot(p->flags));
	return kr;
}

/* The stack, RW-, and below it a guard page no access can ever be granted to. */
static kern_return_t map_stack(vm_map_t map)
{
	vm_address_t guard = USER_STACK_TOP - USER_STACK_SIZE - PAGE_SIZE;
	vm_address_t stack = USER_STACK_TOP - USER_STACK_SIZE;
	kern_return_t kr = vm_allocate(map, &guard, PAGE_SIZE, VM_FLAGS_FIXED);

	if (kr == KERN_SUCCESS)
		kr = vm_protect(map, guard, PAGE_SIZE, true, VM_PROT_NONE);
	if (kr == KERN_SUCCESS)
		kr = vm_allocate(map, &stack, USER_STACK_SIZE, VM_FLAGS_FIXED);
	return kr;
}

kern_return_t exec_load(struct task *task, const uint8_t *image, size_t size,
                        vm_address_t *entry, vm_address_t *stack_top, const char **why)
{
	const struct elf64_ehdr *h = check_header(image, size, why);
	kern_return_t kr = KERN_SUCCESS;

	if (h == NULL || !segments_ok(h, image, size, why))
		return KERN_INVALID_ARGUMENT;
	const struct elf64_phdr *ph = (const void *)(image + h->phoff);
	for (unsigned i = 0; i < h->phnum && kr == KERN_SUCCESS; i++)
		if (ph[i].type == PT_LOAD)
			kr = map_segment(task->map, &ph[i], image);
	if (kr == KERN_SUCCESS)
		kr = map_stack(task->map);
	if (kr != KERN_SUCCESS) {
		*why = "out of memory while mapping the program";
		return kr;
	}
	*entry = h->entry;
	*stack_top = USER_STACK_TOP;
	return KERN_SUCCESS;
}

kern_return_t task_spawn(struct task *parent, const char *name, struct task **child)
{
	const char *why;
	kern_return_t kr = task_spawn_with_output(parent, name, NULL, NULL, child, &why);

	if (kr != KERN_SUCCESS)
		kprintf("mica: cannot start %s: %s\n", name, why);
	return kr;
}

kern_return_t task_spawn_suspended(struct task *parent, const char *name, task_output_fn output,
                                   void *output_arg, struct task **child, struct thread **thread,
                                   const char **why)
{
	const struct program *prog = program_find(name);
	struct x86_thread_state64 regs = { 0 };
	vm_address_t entry, stack_top;
	struct thread *t;
	struct task *task;

	*why = "no such program";
	if (prog == NULL)
		return KERN_INVALID_ARGUMENT;
	*why = "out of memory";
	kern_return_t kr = task_create(parent, false, &task);
	if (kr != KERN_SUCCESS)
		return kr;
	task_set_name(task, name);
	task->output = output;
	task->output_arg = output_arg;
	kr = exec_load(task, prog->start, prog->end - prog->start, &entry, &stack_top, why);
	if (kr == KERN_SUCCESS)
		kr = thread_create(task, &t);
	if (kr != KERN_SUCCESS) {
		task_deallocate(task);          /* terminates it: nothing ever ran */
		return kr;
	}
	regs.rip = entry;
	regs.rsp = stack_top;
	thread_set_state(t, x86_THREAD_STATE64, &regs, x86_THREAD_STATE64_COUNT);
	*child = task;
	*thread = t;
	return KERN_SUCCESS;
}

kern_return_t task_spawn_with_output(struct task *parent, const char *name, task_output_fn output,
                                     void *output_arg, struct task **child, const char **why)
{
	struct thread *t;
	kern_return_t kr = task_spawn_suspended(parent, name, output, output_arg, child, &t, why);

	if (kr == KERN_SUCCESS)
		thread_resume(t);
	return kr;
}
