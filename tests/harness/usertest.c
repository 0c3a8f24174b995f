/*
 * Running the test programs (tests/harness/usertest.h).  A program's console output
 * arrives through its task's output hook: whole lines are printed indented
 * two levels (a subtest of the `user` suite) and fed to the KTAP parser
 * that judges the program.
 */
#include "tests/harness/usertest.h"
#include "kern/cmdline.h"
#include "kern/console.h"
#include "kern/exec.h"
#include "tests/harness/ktap.h"
#include "kern/programs.h"
#include "kern/task.h"

#define LINE_MAX 512
#define PROGRAM_TIMEOUT_NS (120ull * 1000 * 1000 * 1000)   /* TCG is slow: generous */

/* One program's run: the line being assembled and the parser judging it. */
struct user_run {
	char line[LINE_MAX];
	size_t len;
	struct ktap_parser parser;
};

static void flush_line(struct user_run *r)
{
	kprintf("        %.*s\n", (int)r->len, r->line);
	ktap_feed_line(&r->parser, r->line, r->len);
	r->len = 0;
}

/* The task's console: split into lines (an overlong one is cut where it overflows). */
static void collect_output(struct task *task, const char *buf, size_t len, void *arg)
{
	struct user_run *r = arg;

	(void)task;
	for (size_t i = 0; i < len; i++) {
		if (buf[i] == '\n' || r->len == LINE_MAX) {
			flush_line(r);
			if (buf[i] == '\n')
				continue;
		}
		r->line[r->len++] = buf[i];
	}
}

/* The suite's program i: a test program, or the name of a named one (which may not exist). */
static const struct program *suite_program(const struct boot_options *o, unsigned i, char *name,
                                           size_t len)
{
	for (unsigned k = 0; k < program_count && !o->usertests_only; k++)
		if (programs[k].is_test && i-- == 0)
			return &programs[k];
	name[0] = '\0';
	cmdline_list_item(o->usertests, i, name, len);
	return program_find(name);
}

unsigned usertest_count(const struct boot_options *o)
{
	unsigned n = 0;
	char name[64];

	for (unsigned k = 0; k < program_count && !o->usertests_only; k++)
		n += programs[k].is_test;
	for (unsigned i = 0; cmdline_list_item(o->usertests, i, name, sizeof(name)); i++)
		n++;
	return n;
}

/* Prints the verdict line (and why, when it failed); returns whether it passed. */
static bool verdict(const char *name, unsigned number, struct user_run *r, int status,
                    const char *why)
{
	struct ktap_counts counts;
	const char *incomplete = NULL;

	if (r->len)
		flush_line(r);
	bool complete = ktap_finish(&r->parser, &counts, &incomplete);
	if (why == NULL && status == TASK_KILLED)
		why = "killed by a fault";
	else if (why == NULL && status != 0)
		why = "main did not return 0";
	else if (why == NULL && !complete)
		why = incomplete;
	else if (why == NULL && counts.failed)
		why = "a case failed";
	if (why)
		kprintf("    # %s: %s (exit status %d)\n", name, why, status);
	kprintf("    %s %u %s\n", why ? "not ok" : "ok", number, name);
	return why == NULL;
}

bool usertest_run(const struct boot_options *o, unsigned i, unsigned number)
{
	static struct user_run run;
	char name[64];
	const struct program *p = suite_program(o, i, name, sizeof(name));
	const char *why = NULL;
	struct task *task;

	run.len = 0;
	ktap_init(&run.parser);
	if (p == NULL)
		return verdict(name, number, &run, -1, "no such program");
	if (task_spawn_with_output(NULL, p->name, collect_output, &run, &task, &why) != KERN_SUCCESS)
		return verdict(p->name, number, &run, -1, why);
	bool finished = task_wait_timeout(task, PROGRAM_TIMEOUT_NS);
	int status = task->exit_status;
	task_deallocate(task);
	return verdict(p->name, number, &run, status, finished ? NULL : "no exit within 120 s (a hang)");
}
