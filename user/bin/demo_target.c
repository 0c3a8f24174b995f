/*
 * The make run demo's target: it sets out memory for another task to
 * write into (a read/write page, then a read-only page, then nothing),
 * and waits until the bytes it never wrote itself appear.
 */
#include <stdio.h>
#include <mica/mica.h>

#define DEMO_ADDR 0x20000000ul     /* agreed with demo_writer */

int main(void)
{
	vm_address_t rw = DEMO_ADDR, ro = DEMO_ADDR + PAGE_SIZE;
	volatile char *inbox = (volatile char *)DEMO_ADDR;

	printf("demo_target: page %#lx read/write, %#lx read-only, %#lx unmapped; waiting\n",
	       rw, ro, ro + PAGE_SIZE);
	/* the read/write page last: once the writer gets through to it, all is set */
	if (mica_vm_allocate(&ro, PAGE_SIZE, VM_FLAGS_FIXED) != KERN_SUCCESS ||
	    mica_vm_protect(ro, PAGE_SIZE, 0, VM_PROT_READ) != KERN_SUCCESS ||
	    mica_vm_allocate(&rw, PAGE_SIZE, VM_FLAGS_FIXED) != KERN_SUCCESS) {
		printf("demo_target: could not set out its memory\n");
		return 1;
	}
	/* the writer's last act is a 1 at offset 63: then all its writes are done */
	while (inbox[63] == 0)
		mica_yield();
	printf("demo_target: found \"%s\" in memory it never wrote\n", (const char *)inbox);
	return 0;
}
