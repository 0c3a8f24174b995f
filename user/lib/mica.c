/*
 * The system calls of <mica/mica.h>: each passes its arguments, in the
 * order include/mica/syscall.h gives, to one SYSCALL.
 */
#include <stdint.h>
#include <mach/mach.h>
#include <mach/mach_time.h>
#include <mica/mica.h>

void mica_exit(int status)
{
	/* The kernel never comes back from SYS_exit; the loop tells GCC so. */
	for (;;)
		mica_syscall(SYS_exit, status, 0, 0, 0);
}

kern_return_t mica_console_write(const char *buf, size_t len)
{
	return (kern_return_t)mica_syscall(SYS_console_write, (long)(uintptr_t)buf, (long)len,
					   0, 0);
}

kern_return_t mica_vm_allocate(vm_address_t *addr, vm_size_t size, int flags)
{
	return (kern_return_t)mica_syscall(SYS_vm_allocate, (long)(uintptr_t)addr, (long)size,
					   flags, 0);
}

kern_return_t mica_vm_deallocate(vm_address_t addr, vm_size_t size)
{
	return (kern_return_t)mica_syscall(SYS_vm_deallocate, (long)addr, (long)size, 0, 0);
}

kern_return_t mica_vm_protect(vm_address_t addr, vm_size_t size, boolean_t set_maximum,
			      vm_prot_t prot)
{
	return (kern_return_t)mica_syscall(SYS_vm_protect, (long)addr, (long)size, set_maximum,
					   prot);
}

kern_return_t mica_yield(void)
{
	return (kern_return_t)mica_syscall(SYS_yield, 0, 0, 0, 0);
}

/* Counter ticks in a millisecond: 10^6 ns times denom / numer, each below 2^32, fits 64 bits. */
static uint64_t ticks_per_ms(void)
{
	mach_timebase_info_data_t tb;

	if (mach_timebase_info(&tb) != KERN_SUCCESS || tb.numer == 0)
		return 0;
	return 1000000ull * tb.denom / tb.numer;
}

/*
 * Sleeps about ms milliseconds in a receive that times out on a port of
 * its own, made on first use into *port; false if no port could be made.
 */
static bool nap(mach_port_t *port, unsigned ms)
{
	mach_msg_header_t h;

	if (*port == MACH_PORT_NULL &&
	    mach_port_allocate(mach_task_self(), MACH_PORT_RIGHT_RECEIVE, port) != KERN_SUCCESS) {
		*port = MACH_PORT_NULL;
		return false;
	}
	(void)mach_msg(&h, MACH_RCV_MSG | MACH_RCV_TIMEOUT, 0, sizeof(h), *port, ms,
		       MACH_PORT_NULL);
	return true;
}

/*
 * A few yields first, for an answer that comes at once; then naps, each
 * twice as long as the last up to a bound, so that a long wait uses
 * almost no CPU and leaves the scheduler to the threads it waits for.
 */
#define WAIT_YIELDS 16
#define WAIT_NAP_MAX_MS 16

bool mica_wait_until(bool (*done)(void *), void *arg, uint64_t timeout_ms)
{
	uint64_t end = mach_absolute_time() + timeout_ms * ticks_per_ms();
	mach_port_t port = MACH_PORT_NULL;
	unsigned nap_ms = 1;
	bool answer = false;

	for (unsigned turn = 0; !answer && mach_absolute_time() < end; turn++) {
		answer = done(arg);
		if (answer)
			break;
		if (turn < WAIT_YIELDS || !nap(&port, nap_ms))
			mica_yield();
		else if (nap_ms < WAIT_NAP_MAX_MS)
			nap_ms *= 2;
	}
	if (port != MACH_PORT_NULL)
		mach_port_mod_refs(mach_task_self(), port, MACH_PORT_RIGHT_RECEIVE, -1);
	return answer || done(arg);
}

/* One CPUID leaf's EAX and EDX. */
static void cpuid_ad(uint32_t leaf, uint32_t *a, uint32_t *d)
{
	uint32_t b, c;

	__asm__ volatile("cpuid" : "=a"(*a), "=b"(b), "=c"(c), "=d"(*d) : "a"(leaf), "c"(0));
}

/*
 * CPUID's leaf 0x80000001, EDX bit 27, asked once: CPUID may cost a trip
 * to the hypervisor.  Threads that find the answer unknown at once all
 * work out the same one, so the race costs only a second CPUID.
 */
static bool has_rdtscp(void)
{
	static int known;		/* atomic: 0 unknown, 1 yes, 2 no */
	int k = __atomic_load_n(&known, __ATOMIC_RELAXED);
	uint32_t a, d = 0;

	if (k == 0) {
		cpuid_ad(0x80000000u, &a, &d);
		if (a >= 0x80000001u)
			cpuid_ad(0x80000001u, &a, &d);
		else
			d = 0;
		k = d & (1u << 27) ? 1 : 2;
		__atomic_store_n(&known, k, __ATOMIC_RELAXED);
	}
	return k == 1;
}

/* The kernel sets each CPU's TSC_AUX to its number (arch/x86_64/cpu.c); RDTSCP reads it. */
int mica_cpu_number(void)
{
	uint32_t lo, hi, aux;

	if (!has_rdtscp())
		return -1;
	__asm__ volatile("rdtscp" : "=a"(lo), "=d"(hi), "=c"(aux));
	return (int)aux;
}

kern_return_t mica_null_trap(void)
{
	return (kern_return_t)mica_syscall(SYS_null, 0, 0, 0, 0);
}

kern_return_t mica_profile(int op, int slot, const char *name, uint64_t size)
{
	return (kern_return_t)mica_syscall(SYS_profile, op, slot, (long)(uintptr_t)name, (long)size);
}

kern_return_t mica_alloc_fail_arm(unsigned kinds, uint64_t n)
{
	return (kern_return_t)mica_syscall(SYS_alloc_fail, MICA_ALLOC_FAIL_ARM, kinds, (long)n, 0);
}

bool mica_alloc_fail_fired(void)
{
	return mica_syscall(SYS_alloc_fail, MICA_ALLOC_FAIL_FIRED, 0, 0, 0) == KERN_SUCCESS;
}

kern_return_t mach_timebase_info(mach_timebase_info_t info)
{
	return (kern_return_t)mica_syscall(SYS_timebase_info, (long)(uintptr_t)info, 0, 0, 0);
}
