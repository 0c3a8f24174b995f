/*
 * The make run demo's writer: it finds demo_target and writes into its
 * memory with vm_write, then shows what happens at a read-only page and
 * at a hole.
 */
#include <stdio.h>
#include <mica/mica.h>

#define DEMO_ADDR 0x20000000ul     /* agreed with demo_target */

static const char *name_of(kern_return_t kr)
{
	switch (kr) {
	case KERN_SUCCESS: return "KERN_SUCCESS";
	case KERN_INVALID_ADDRESS: return "KERN_INVALID_ADDRESS";
	case KERN_PROTECTION_FAILURE: return "KERN_PROTECTION_FAILURE";
	default: return "another error";
	}
}

int main(void)
{
	static const char message[] = "hello from demo_writer, by vm_write";
	unsigned target;

	while ((target = mica_task_lookup("demo_target")) == 0)
		mica_yield();
	kern_return_t kr, kr_ro, kr_hole;

	/* the target may not have set out its memory yet: a hole until it has */
	while ((kr = mica_vm_write_task(target, DEMO_ADDR, message, sizeof(message))) ==
	       KERN_INVALID_ADDRESS)
		mica_yield();
	printf("demo_writer: vm_write(task %u, %#lx, %zu bytes) = %s\n", target, DEMO_ADDR,
	       sizeof(message), name_of(kr));
	kr_ro = mica_vm_write_task(target, DEMO_ADDR + PAGE_SIZE, message, sizeof(message));
	printf("demo_writer: into the read-only page: %s\n", name_of(kr_ro));
	kr_hole = mica_vm_write_task(target, DEMO_ADDR + 2 * PAGE_SIZE, message, sizeof(message));
	printf("demo_writer: into the hole after it:  %s\n", name_of(kr_hole));
	static const char done = 1;                /* tells the target we are finished */
	kern_return_t kr_done = mica_vm_write_task(target, DEMO_ADDR + 63, &done, 1);
	/* the task suite runs this pair too: exit 0 only when every answer was right */
	return !(kr == KERN_SUCCESS && kr_ro == KERN_PROTECTION_FAILURE &&
	         kr_hole == KERN_INVALID_ADDRESS && kr_done == KERN_SUCCESS);
}
