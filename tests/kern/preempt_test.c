/*
 * Preemption inside the kernel, on one CPU: a long vm_write gives the CPU
 * away at the clock's request, so another runnable thread has its turns
 * while the copy is under way, not only once it is over.  The thread
 * under test is the test thread itself (thread A); thread B records the
 * time of each of its turns and yields.
 */
#include "kern/clock.h"
#include "kern/console.h"
#include "kern/machine.h"
#include "kern/sched.h"
#include "kern/thread.h"
#include "tests/harness/ktest.h"
#include "tests/kern/vm_user_test.h"
#include "vm/vm_fault.h"
#include "vm/vm_map_copy.h"

#define COPY_SIZE (64ul << 20)
#define SRC 0x100000ul
#define DST 0x10000000ul
#define MAX_TURNS 4096

/* Thread B's record: the clock at each of its turns, until told to stop. */
struct turns {
	uint64_t at[MAX_TURNS];
	unsigned n;
	volatile bool stop, done;
};

static struct turns turns;

/* Thread B: one timestamp a turn, then the CPU back to whoever is runnable. */
static void record_turns(void *arg)
{
	struct turns *t = arg;

	while (!t->stop) {
		if (t->n < MAX_TURNS)
			t->at[t->n++] = clock_ns();
		machine_interrupts_on();   /* a switch back brings the switcher's flag along */
		sched_yield();
	}
	t->done = true;
}

/* Turns of B inside [from, to). */
static unsigned turns_between(const struct turns *t, uint64_t from, uint64_t to)
{
	unsigned n = 0;

	for (unsigned i = 0; i < t->n; i++)
		n += t->at[i] >= from && t->at[i] < to;
	return n;
}

/* A source of size bytes at addr whose every page is resident: the copy moves real bytes. */
static void resident_source(vm_map_t map, vm_address_t addr, vm_size_t size)
{
	test_alloc_at(map, addr, size);
	for (vm_size_t at = 0; at < size; at += PAGE_SIZE)
		KT_ASSERT_EQ(vm_fault(map, addr + at, VM_PROT_WRITE), KERN_SUCCESS);
}

/*
 * 64 MiB from offset 123 of a page to offset 2000 of another: neither
 * side aligned, so vm_map_copy_overwrite copies every byte, page after
 * page, holding the destination map's lock throughout.  B must have had
 * a turn in the first half of that call.
 */
KTEST(preempt, a_long_vm_write_gives_the_cpu_to_a_runnable_thread)
{
	vm_map_t src = test_map(), dst = test_map();
	vm_map_copy_t copy;

	resident_source(src, SRC, COPY_SIZE + PAGE_SIZE);
	test_alloc_at(dst, DST, COPY_SIZE + PAGE_SIZE);
	KT_ASSERT_EQ(vm_map_copyin(src, SRC + 123, COPY_SIZE, &copy), KERN_SUCCESS);
	turns.n = 0;
	turns.stop = turns.done = false;
	struct thread *b = thread_create_kernel("turn_recorder", record_turns, &turns);
	KT_ASSERT(b != NULL);
	bool was_on = machine_interrupts_save_off();
	machine_interrupts_on();
	while (turns.n == 0)
		sched_yield();                     /* B is under way */
	uint64_t start = clock_ns();
	kern_return_t kr = vm_map_copy_overwrite(dst, DST + 2000, copy);
	uint64_t end = clock_ns();
	turns.stop = true;
	while (!turns.done)
		sched_yield();
	if (!was_on)
		machine_interrupts_off();
	unsigned first_half = turns_between(&turns, start, start + (end - start) / 2);
	kprintf("    # the copy took %lu ms; B had %u turns during it, %u in its first half\n",
	        (end - start) / 1000000, turns_between(&turns, start, end), first_half);
	KT_EXPECT_EQ(kr, KERN_SUCCESS);
	KT_EXPECT(first_half >= 1);
	vm_map_deallocate(src);
	vm_map_deallocate(dst);
}
