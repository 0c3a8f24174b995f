/*
 * KTAP output for test programs; user/include/ktap.h shows the format.
 * One stream per program, so the counts are plain globals.
 */
#include <ktap.h>
#include <mach/mach.h>
#include <mica/mica.h>
#include <mica/vm_stats.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static struct {
	unsigned planned;	/* from the plan line */
	unsigned results;	/* result lines printed so far */
	unsigned passed, failed;
	bool case_failed;	/* a check in the running case has failed */
} ktap;

void ktap_plan(unsigned count)
{
	ktap.planned = count;
	printf("KTAP version 1\n1..%u\n", count);
}

void ktap_result(bool ok, const char *desc)
{
	ktap.results++;
	if (ok)
		ktap.passed++;
	else
		ktap.failed++;
	printf("%s %u %s\n", ok ? "ok" : "not ok", ktap.results, desc);
}

int ktap_done(void)
{
	if (ktap.results != ktap.planned)
		printf("# planned %u results but printed %u\n", ktap.planned, ktap.results);
	printf("# %u passed, %u failed\n", ktap.passed, ktap.failed);
	return ktap.failed == 0 && ktap.results == ktap.planned ? 0 : 1;
}

int ktap_run(const struct ktap_case *cases, unsigned count)
{
	ktap_plan(count);
	for (unsigned i = 0; i < count; i++) {
		ktap.case_failed = false;
		cases[i].fn();
		ktap_result(!ktap.case_failed, cases[i].name);
	}
	return ktap_done();
}

void ktap_fail_at(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	ktap.case_failed = true;
	printf("# %s:%d: ", file, line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

bool ktap_check_eq(const char *file, int line, const char *a_src, const char *b_src,
		   uint64_t a, uint64_t b, bool want_equal)
{
	if ((a == b) == want_equal)
		return true;
	ktap_fail_at(file, line, "expected %s %s %s: %#lx (%ld) vs %#lx (%ld)", a_src,
		     want_equal ? "==" : "!=", b_src, a, (int64_t)a, b, (int64_t)b);
	return false;
}

bool ktap_check_vm_stats(const char *file, int line, const struct mica_vm_stats *before,
			 const struct mica_vm_stats *after)
{
	/* frames a zone took to grow stay with it: counted apart, with its elements exactly */
	bool same = ktap_check_eq(file, line, "after.free_frames + after.zone_frames",
				  "before.free_frames + before.zone_frames",
				  after->free_frames + after->zone_frames,
				  before->free_frames + before->zone_frames, true);

	same &= ktap_check_eq(file, line, "after.kernel_frames - after.zone_frames",
			      "before.kernel_frames - before.zone_frames",
			      after->kernel_frames - after->zone_frames,
			      before->kernel_frames - before->zone_frames, true);
	same &= ktap_check_eq(file, line, "after.zone_elements", "before.zone_elements",
			      after->zone_elements, before->zone_elements, true);
	same &= ktap_check_eq(file, line, "after.pagetable_frames", "before.pagetable_frames",
			      after->pagetable_frames, before->pagetable_frames, true);
	same &= ktap_check_eq(file, line, "after.object_frames", "before.object_frames",
			      after->object_frames, before->object_frames, true);

	for (int z = 0; z < MICA_VM_STATS_ZONES; z++)
		if (after->zone_in_use[z] != before->zone_in_use[z]) {
			ktap_fail_at(file, line, "expected kalloc.%u elements in use to stay %lu: %lu",
				     16u << z, before->zone_in_use[z], after->zone_in_use[z]);
			same = false;
		}
	same &= ktap_check_eq(file, line, "after.large_blocks", "before.large_blocks",
			      after->large_blocks, before->large_blocks, true);
	same &= ktap_check_eq(file, line, "after.vm_objects", "before.vm_objects",
			      after->vm_objects, before->vm_objects, true);
	same &= ktap_check_eq(file, line, "after.ports", "before.ports", after->ports,
			      before->ports, true);
	same &= ktap_check_eq(file, line, "after.tasks", "before.tasks", after->tasks,
			      before->tasks, true);
	same &= ktap_check_eq(file, line, "after.threads", "before.threads", after->threads,
			      before->threads, true);
	return same;
}

/* A NULL on either side fails: it is never the string a test meant. */
bool ktap_check_streq(const char *file, int line, const char *a_src, const char *b_src,
		      const char *a, const char *b)
{
	if (a != NULL && b != NULL && strcmp(a, b) == 0)
		return true;
	ktap_fail_at(file, line, "expected %s == %s: \"%s\" vs \"%s\"", a_src, b_src, a, b);
	return false;
}

/* The pattern's byte at offset i: not periodic within a page, different for each seed. */
static unsigned char pattern(size_t i, unsigned seed)
{
	return (unsigned char)(seed + i * 13 + i / 4096);
}

void ktap_fill(void *p, size_t n, unsigned seed)
{
	unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		b[i] = pattern(i, seed);
}

size_t ktap_count_wrong(const void *p, size_t n, unsigned seed)
{
	const unsigned char *b = p;
	size_t wrong = 0;

	for (size_t i = 0; i < n; i++)
		wrong += b[i] != pattern(i, seed);
	return wrong;
}

/* A name in a space: what task_port_dead looks at. */
struct port_name {
	mach_port_t space;
	mach_port_name_t name;
};

/* mica_wait_until's test: has the task port died? */
static bool task_port_dead(void *arg)
{
	const struct port_name *p = arg;
	mach_port_type_t type = 0;

	return mach_port_type(p->space, p->name, &type) == KERN_SUCCESS &&
	       type == MACH_PORT_TYPE_DEAD_NAME;
}

bool ktap_wait_task_ended(unsigned task)
{
	/* one user reference for the whole wait, not one per turn */
	struct port_name p = { mach_task_self(), task };

	return mica_wait_until(task_port_dead, &p, KTAP_WAIT_MS);
}
