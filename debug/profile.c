/*
 * The sampling profiler (debug/profile.h).  The NMI side only stores an
 * address and bumps a count: it may interrupt anything, locks included,
 * so it takes none; the slot being filled changes only between a case's
 * rounds, on the CPU the NMIs go to.
 *
 * `running` covers every moment an NMI of the profiler's can arrive, so
 * that trap_dispatch never takes one for a stray NMI and panics: it is
 * set before the source is armed, and cleared only once the source is
 * masked and an NMI already on its way has had time to land.
 */
#include "debug/profile.h"
#include "kern/clock.h"
#include "kern/console.h"
#include "kern/copy.h"
#include "kern/ksym.h"
#include "kern/machine.h"
#include "kern/service.h"
#include <mica/syscall.h>

#define USER_SAMPLE 0                  /* the address a user-mode sample is stored as */
#define DISTINCT_MAX 256               /* functions counted apart in one report */

static struct {
	uint64_t rip[PROFILE_SAMPLES];
	uint32_t taken;                /* samples, kept or not */
} slots[PROFILE_SLOTS];

/*
 * How long profile_stop still takes NMIs as samples after masking their
 * source: two sample periods, jitter included.  An NMI sent just before
 * the mask lands within microseconds on hardware, and under QEMU's TCG
 * at the next translation block, however long the host held the CPU.
 */
#define DRAIN_NS (2 * PROFILE_PERIOD_NS)

static volatile int filling = -1;
static volatile bool running;

/* make bench PROFILE=1 from the user program: SYS_profile's operations (include/mica/syscall.h). */
static kern_return_t profile_syscall(int op, int slot, uint64_t uname, uint64_t size)
{
	char name[64];
	size_t len;

	if (!profile_running())
		return KERN_FAILURE;
	if (op == MICA_PROFILE_RUNNING)
		return KERN_SUCCESS;
	if (slot < -1 || slot >= PROFILE_SLOTS || (op == MICA_PROFILE_REPORT && slot < 0))
		return KERN_INVALID_ARGUMENT;
	if (op == MICA_PROFILE_FILL) {
		profile_fill(slot);
		return KERN_SUCCESS;
	}
	if (op != MICA_PROFILE_REPORT)
		return KERN_INVALID_ARGUMENT;
	kern_return_t kr = copyinstr((const void *)uname, name, sizeof(name), &len);
	if (kr == KERN_SUCCESS)
		profile_report(slot, name, size, kprintf);
	return kr;
}

bool profile_start(void)
{
	syscall_set_profile(profile_syscall);   /* kern/service.h; it fails while nothing runs */
	running = true;
	if (machine_profile_start(PROFILE_HZ))
		return true;
	running = false;
	kprintf("profile: this machine has no I/O APIC to raise the profiler's NMI; "
	        "no samples will be taken\n");
	return false;
}

void profile_stop(void)
{
	filling = -1;
	machine_profile_stop();
	uint64_t end = clock_ns() + DRAIN_NS;
	while (clock_ns() < end)
		continue;
	running = false;
}

bool profile_running(void)
{
	return running;
}

void profile_fill(int slot)
{
	filling = slot >= 0 && slot < PROFILE_SLOTS ? slot : -1;
}

void profile_sample(uint64_t rip, bool user)
{
	int s = filling;

	if (s < 0)
		return;
	if (slots[s].taken < PROFILE_SAMPLES)
		slots[s].rip[slots[s].taken] = user ? USER_SAMPLE : rip;
	slots[s].taken++;
}

struct tally {
	const char *fn;
	uint32_t samples;
};

/* The function a sample fell in, as a name. */
static const char *function_of(uint64_t rip)
{
	uint64_t offset;
	const char *name = rip == USER_SAMPLE ? "(user)" : ksym_lookup(rip, &offset);

	return name ? name : "(unknown)";
}

/* Counts the kept samples of a slot by function into t[]; returns how many functions. */
static unsigned tally_slot(int slot, struct tally *t)
{
	unsigned n = 0, kept = slots[slot].taken < PROFILE_SAMPLES ? slots[slot].taken :
	                                                             PROFILE_SAMPLES;

	for (unsigned i = 0; i < kept; i++) {
		const char *fn = function_of(slots[slot].rip[i]);
		unsigned j = 0;
		while (j < n && t[j].fn != fn)
			j++;
		if (j == n && n < DISTINCT_MAX - 1) {
			t[n++] = (struct tally){ fn, 0 };
		} else if (j == n) {               /* the table is full: its last row takes the rest */
			j = DISTINCT_MAX - 1;
			if (n < DISTINCT_MAX)
				t[n++] = (struct tally){ "(other)", 0 };
		}
		t[j].samples++;
	}
	return n;
}

/* Sorts the tally, most samples first (insertion sort: a few hundred rows at most). */
static void sort_tally(struct tally *t, unsigned n)
{
	for (unsigned i = 1; i < n; i++) {
		struct tally v = t[i];
		unsigned j = i;
		for (; j > 0 && t[j - 1].samples < v.samples; j--)
			t[j] = t[j - 1];
		t[j] = v;
	}
}

void profile_report(int slot, const char *name, uint64_t size,
                    int (*print)(const char *fmt, ...))
{
	static struct tally t[DISTINCT_MAX];   /* reports run one at a time, from one thread */

	if (slot < 0 || slot >= PROFILE_SLOTS)
		return;
	unsigned n = tally_slot(slot, t), kept = 0;
	for (unsigned i = 0; i < n; i++)
		kept += t[i].samples;
	sort_tally(t, n);
	for (unsigned i = 0; i < n && i < PROFILE_TOP; i++) {
		uint64_t tenths = (uint64_t)t[i].samples * 1000 / kept;
		print("PROFILE name=%s size=%lu pct=%lu.%lu samples=%u fn=%s\n", name, size,
		      tenths / 10, tenths % 10, t[i].samples, t[i].fn);
	}
	slots[slot].taken = 0;
}
