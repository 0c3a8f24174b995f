/*
 * Allocation-failure injection: the test-only switch behind SYS_alloc_fail
 * (include/mica/syscall.h), by which a test proves that a call fails
 * cleanly wherever memory runs out.
 *
 * A thread arms it with a set of allocation kinds (MICA_ALLOC_*) and a
 * number n: from then on the n-th allocation of those kinds that the
 * thread makes while it runs a system call fails, exactly as if memory
 * were short at that point, and only that one.  Nothing else is counted:
 * not the thread's user-mode page faults, not other threads.  So a test
 * that sweeps n = 1, 2, 3, ... over one call, restoring the state between
 * steps, fails each allocation the call makes in turn; the first n that
 * does not fire is one past the call's last allocation.  An allocation
 * nested in another (a zone's new frame) is counted on its own, so both
 * ways of failing are reached.
 *
 * Only a test boot accepts SYS_alloc_fail; until a thread arms it, an
 * allocation pays one load of a flag that is false.
 */
#ifndef MICA_KERN_ALLOC_FAIL_H
#define MICA_KERN_ALLOC_FAIL_H

#include <stdbool.h>
#include <stdint.h>
#include <mach/kern_return.h>
#include <mica/syscall.h>

/* One thread's switch (in struct thread; only the thread itself touches it). */
struct alloc_fail {
	uint32_t sites;         /* MICA_ALLOC_* kinds counted; 0: disarmed */
	bool in_syscall;        /* the thread is running a system call: count */
	bool fired;             /* the armed failure has been injected */
	uint64_t countdown;     /* counted allocations left before the one that fails */
};

extern bool alloc_fail_used;   /* some thread has armed it since boot */

bool alloc_fail_count(unsigned site);

/*
 * Called by each allocator before it allocates: true when this
 * allocation must fail.  site is one MICA_ALLOC_* kind.
 */
static inline bool alloc_fail_now(unsigned site)
{
	return __builtin_expect(alloc_fail_used, 0) && alloc_fail_count(site);
}

bool alloc_fail_has_fired(void);

/*
 * Has the current thread's armed failure been injected (and not yet read
 * by its test)?  An allocator that falls back on memory held elsewhere
 * when a nested allocation fails (a zone, on what the CPUs cache) asks,
 * so that the injected failure stays its caller's failure.
 */
static inline bool alloc_fail_injected(void)
{
	return __builtin_expect(alloc_fail_used, 0) && alloc_fail_has_fired();
}

/* Lets SYS_alloc_fail work (a test boot). */
void alloc_fail_permit(void);

/* SYS_alloc_fail for the current thread (the operations are in mica/syscall.h). */
kern_return_t alloc_fail_syscall(unsigned op, uint64_t sites, uint64_t n);

/*
 * Brackets a system call of the thread whose switch f is: allocations
 * while it is in one (in) are counted.
 */
static inline void alloc_fail_in_syscall(struct alloc_fail *f, bool in)
{
	if (__builtin_expect(alloc_fail_used, 0))
		f->in_syscall = in;
}

#endif
