/*
 * Frame-pointer backtraces with symbol names.  The kernel is built with
 * -fno-omit-frame-pointer, so every C frame starts with the caller's RBP
 * followed by the return address:  [rbp] = caller's rbp, [rbp+8] = return.
 */
#include "arch/x86_64/backtrace.h"
#include "kern/console.h"
#include "kern/ksym.h"
#include "kern/machine.h"
#include "lib/printf.h"
#include "kern/thread.h"
#include "vm/vm_kern.h"

extern char _kernel_start[], _kernel_end[], _text_start[], _text_end[];

void backtrace_format_addr(uint64_t addr, char *buf, size_t len)
{
	uint64_t off;
	const char *name = ksym_lookup(addr, &off);

	if (name)
		ksnprintf(buf, len, "%s+0x%lx", name, off);
	else
		ksnprintf(buf, len, "%#lx", addr);
}

/* Is [lo, lo + 16) inside [start, end)? */
static bool inside(uint64_t lo, uint64_t start, uint64_t end)
{
	return lo >= start && lo + 16 <= end;
}

/*
 * A frame lies on the boot stack (in the image) or on the running
 * thread's kernel stack, above the one before it.
 */
static int frame_ok(uint64_t rbp, uint64_t prev)
{
	struct thread *t = current_thread();
	uint64_t kstack = t ? t->kstack : 0;

	if (rbp == 0 || (rbp & 7) != 0 || rbp <= prev)
		return 0;
	return inside(rbp, (uint64_t)_kernel_start, (uint64_t)_kernel_end) ||
	       (kstack && inside(rbp, kstack, kstack + KSTACK_SIZE));
}

int backtrace_collect(uint64_t rbp, uint64_t *pcs, int max)
{
	int n = 0;
	uint64_t prev = 0;

	while (n < max && frame_ok(rbp, prev)) {
		const uint64_t *frame = (const uint64_t *)rbp;
		if (frame[1] < (uint64_t)_text_start || frame[1] >= (uint64_t)_text_end)
			break;      /* the outermost frame, or a smashed one */
		pcs[n++] = frame[1];
		prev = rbp;
		rbp = frame[0];
	}
	return n;
}

/*
 * Frame 0 is where execution stopped; the others are return addresses,
 * which point after a call and so may already be past the end of the
 * calling function (a call to a noreturn function is often its last
 * instruction): those are looked up one byte back.
 */
static void print_frame(int i, uint64_t pc)
{
	uint64_t off;
	const char *name = ksym_lookup(i == 0 ? pc : pc - 1, &off);

	if (name)
		kprintf("  #%d 0x%016lx %s+0x%lx\n", i, pc, name, i == 0 ? off : off + 1);
	else
		kprintf("  #%d 0x%016lx\n", i, pc);
}

void backtrace_print(uint64_t rip, uint64_t rbp)
{
	uint64_t pcs[BACKTRACE_MAX];
	int n = backtrace_collect(rbp, pcs, BACKTRACE_MAX);

	kprintf("backtrace:\n");
	print_frame(0, rip);
	for (int i = 0; i < n; i++)
		print_frame(i + 1, pcs[i]);
}

void machine_backtrace_here(void)
{
	uint64_t rbp = (uint64_t)__builtin_frame_address(0);

	backtrace_print((uint64_t)__builtin_return_address(0), *(uint64_t *)rbp);
}
