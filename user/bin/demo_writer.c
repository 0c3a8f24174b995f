/*
 * The make run demo's writer: it spawns demo_target, and with the send
 * right to its task port that task_spawn returns, writes a whole page into
 * its memory with the seed's vm_write, showing the region and its first
 * bytes before and after; then what a read-only page and a hole answer.
 */
#include <stdio.h>
#include <string.h>
#include <mach/mach.h>
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

/* vm_region's answer for the region at address in target, on one line. */
static void show_region(task_t target, const char *when)
{
	struct vm_region_basic_info_64 info;
	mach_msg_type_number_t count = VM_REGION_BASIC_INFO_COUNT_64;
	vm_address_t start = DEMO_ADDR;
	vm_size_t size = 0;
	mach_port_t object;
	vm_offset_t data;
	mach_msg_type_number_t got;
	char bytes[40] = "";

	if (vm_region(target, &start, &size, VM_REGION_BASIC_INFO_64, (vm_region_info_t)&info,
		      &count, &object) != KERN_SUCCESS)
		return;
	if (vm_read(target, DEMO_ADDR, sizeof(bytes) - 1, &data, &got) == KERN_SUCCESS) {
		memcpy(bytes, (const void *)data, sizeof(bytes) - 1);
		vm_deallocate(mach_task_self(), data, got);
	}
	printf("demo_writer: %s: region %#lx-%#lx prot %c%c%c, first bytes \"%s\"\n", when, start,
	       start + size, info.protection & VM_PROT_READ ? 'r' : '-',
	       info.protection & VM_PROT_WRITE ? 'w' : '-',
	       info.protection & VM_PROT_EXECUTE ? 'x' : '-', bytes);
}

/* Waits until the target has set out its memory: its read/write page exists. */
static void wait_for_target(task_t target)
{
	struct vm_region_basic_info_64 info;
	mach_msg_type_number_t count = VM_REGION_BASIC_INFO_COUNT_64;
	vm_address_t start = DEMO_ADDR;
	vm_size_t size;
	mach_port_t object;

	while (vm_region(target, &start, &size, VM_REGION_BASIC_INFO_64, (vm_region_info_t)&info,
			 &count, &object) != KERN_SUCCESS || start != DEMO_ADDR) {
		start = DEMO_ADDR;
		count = VM_REGION_BASIC_INFO_COUNT_64;
		mica_yield();
	}
}

/* Waits until the target has ended: the right to its port reads as a dead name. */
static void wait_for_end(task_t target)
{
	mach_port_type_t type = 0;

	while (mach_port_type(mach_task_self(), target, &type) == KERN_SUCCESS &&
	       type != MACH_PORT_TYPE_DEAD_NAME)
		mica_yield();
}

int main(void)
{
	static const char message[] = "hello from demo_writer, by vm_write";
	task_t self = mach_task_self(), target;
	vm_address_t page = 0;
	kern_return_t kr, kr_ro, kr_hole;

	if (task_spawn(mach_host_self(), "demo_target", &target) != KERN_SUCCESS ||
	    vm_allocate(self, &page, PAGE_SIZE, VM_FLAGS_ANYWHERE) != KERN_SUCCESS)
		return 1;
	wait_for_target(target);
	show_region(target, "before");
	kr_ro = vm_write(target, DEMO_ADDR + PAGE_SIZE, (pointer_t)message, sizeof(message));
	kr_hole = vm_write(target, DEMO_ADDR + 2 * PAGE_SIZE, (pointer_t)message, sizeof(message));
	/* a whole page-aligned page: it travels and lands as a page, no byte copied */
	memcpy((void *)page, message, sizeof(message));
	((char *)page)[63] = 1;                /* tells the target the page has arrived */
	kr = vm_write(target, DEMO_ADDR, page, PAGE_SIZE);
	printf("demo_writer: vm_write(child's task port, %#lx, one page) = %s\n", DEMO_ADDR,
	       name_of(kr));
	show_region(target, "after");
	wait_for_end(target);                  /* it prints what it found, and exits */
	mach_port_deallocate(self, target);
	printf("demo_writer: into the read-only page: %s\n", name_of(kr_ro));
	printf("demo_writer: into the hole after it:  %s\n", name_of(kr_hole));
	/* the task suite runs this too: exit 0 only when every answer was right */
	return !(kr == KERN_SUCCESS && kr_ro == KERN_PROTECTION_FAILURE &&
		 kr_hole == KERN_INVALID_ADDRESS);
}
