/*
 * The make run demo's target, spawned by demo_writer: it sets out memory
 * for its parent to write into (a read/write page, then a read-only page,
 * then nothing), and waits until bytes it never wrote itself appear.
 */
#include <stdio.h>
#include <mach/mach.h>
#include <mica/mica.h>

#define DEMO_ADDR 0x20000000ul     /* agreed with demo_writer */

int main(void)
{
	task_t self = mach_task_self();
	vm_address_t rw = DEMO_ADDR, ro = DEMO_ADDR + PAGE_SIZE;
	volatile char *inbox = (volatile char *)DEMO_ADDR;

	/* the read/write page last: once the writer finds it, all is set */
	if (vm_allocate(self, &ro, PAGE_SIZE, VM_FLAGS_FIXED) != KERN_SUCCESS ||
	    vm_protect(self, ro, PAGE_SIZE, 0, VM_PROT_READ) != KERN_SUCCESS ||
	    vm_allocate(self, &rw, PAGE_SIZE, VM_FLAGS_FIXED) != KERN_SUCCESS) {
		printf("demo_target: could not set out its memory\n");
		return 1;
	}
	printf("demo_target: page %#lx read/write, %#lx read-only, %#lx a hole; waiting\n", rw, ro,
	       ro + PAGE_SIZE);
	/* the writer's page carries a 1 at offset 63: then the page has arrived */
	while (inbox[63] == 0)
		mica_yield();
	printf("demo_target: found \"%s\" in memory it never wrote\n", (const char *)inbox);
	return 0;
}
