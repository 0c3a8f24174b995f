/*
 * The VM's randomized differential test on the host (tests/common/vm_diff.h):
 * vm/ and the kernel's pmap (arch/x86_64/pmap.c) built for Linux with ASan
 * and UBSan, over the fake machine of tests/host/fake_kernel.c.
 *
 * Environment:
 *   VM_DIFF_OPS=n            operations (default 1000000)
 *   SEED=n                   the seed (default: from the clock); printed either way
 *   VM_DIFF_CHECK_EVERY=n    full comparison every n operations (default 500)
 *   VM_DIFF_MAX_MISMATCHES=n stop after n mismatches (default 1: what follows the
 *                            first is mostly its consequence; 0: never stop)
 *   VM_DIFF_SKIP=k1,k2       never generate these kinds of operation (names as in
 *                            the summary), to look past a known failure
 *   VM_DIFF_TRACE=1          print every operation
 *   VM_DIFF_TIMEOUT=s        give up (a hang in the VM) after s seconds (default 300)
 *   VM_DIFF_SHRINK=1         after a failure, replay subsets of the operations
 *                            (each in a forked child) down to a minimal sequence
 *                            that still fails, and print it
 *
 * The output is KTAP, one case per phase, and then the line
 *   differential: N operations, seed S, M mismatches
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "arch/x86_64/pmap_md.h"
#include "tests/common/vm_diff.h"
#include "tests/host/htest.h"

void fake_machine_boot(void);
void fake_pmap_access(pmap_t pmap, vm_offset_t va, vm_prot_t access);

static uint64_t nops = 1000000;
static struct vd_config config;
static struct vd_stats stats;
static bool booted, shrink;
static uint64_t pv_at_boot;
static struct vd_op *recorded;             /* with VM_DIFF_SHRINK */
static uint64_t nrecorded;

/* A hang in the VM must not hang make test: say where it happened and fail. */
static void watchdog(int sig)
{
	char msg[160];
	int n = snprintf(msg, sizeof(msg), "\n    # vm_diff: timed out after %lu operations "
	                 "(seed %lu): a hang in the VM?\nnot ok 1 vm_diff\n",
	                 vd_operations_done(), config.seed);

	(void)sig;
	if (write(1, msg, (size_t)n) < 0)
		_exit(3);
	_exit(2);
}

static uint64_t env_u64(const char *name, uint64_t dflt)
{
	const char *s = getenv(name);

	return s && *s ? strtoull(s, NULL, 0) : dflt;
}

static void test_boot(void)
{
	fake_machine_boot();
	booted = true;
	pv_at_boot = pmap_pv_entries();
	HT_EXPECT_TRUE(booted);
}

static void test_random_operations_match_the_model(void)
{
	struct vd_op op;
	struct timespec t0, t1;

	HT_EXPECT_TRUE(booted);
	if (!booted)
		return;
	printf("    # seed %lu (SEED=%lu repeats this run), %lu operations\n", config.seed,
	       config.seed, nops);
	if (shrink) {
		recorded = malloc(nops * sizeof(*recorded));
		if (recorded == NULL)
			shrink = false;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	HT_EXPECT_TRUE(vd_start(&config));
	uint64_t i;
	for (i = 0; i < nops && !vd_should_stop(); i++) {
		vd_generate(&op);
		if (shrink)
			recorded[nrecorded++] = op;
		vd_execute(&op);
	}
	vd_finish(&stats);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("    # %lu operations in %.1f s\n", stats.ops,
	       (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	for (unsigned k = 0; k < VD_KINDS; k++)
		printf("    # %-10s %8lu, %8lu succeeded\n", vd_kind_name(k), stats.by_kind[k],
		       stats.success_by_kind[k]);
	printf("    # %lu operations under a memory limit, %lu resource shortages\n",
	       stats.oom_ops, stats.shortage);
	HT_EXPECT_EQ(stats.mismatches, 0);
	HT_EXPECT_EQ(stats.ops, nops);
}

static void test_teardown_returns_every_frame_and_object(void)
{
	HT_EXPECT_EQ(stats.leaks, 0);
	HT_EXPECT_EQ(pmap_pv_entries(), pv_at_boot);     /* every mapping gone */
}

/* ------------------------------------------------------------- shrinking */

/* Replays ops[0..n) where keep[i] in a forked child; true when it fails. */
static bool replay_fails(const struct vd_op *ops, const bool *keep, uint64_t n, bool loud)
{
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0)
		return false;
	if (pid == 0) {
		if (!loud) {
			int fd = open("/dev/null", O_WRONLY);
			dup2(fd, 1);
			dup2(fd, 2);
		}
		struct vd_config c = config;
		struct vd_stats s;
		c.max_mismatches = 1;
		c.trace = loud;
		if (!vd_start(&c))
			_exit(1);
		for (uint64_t i = 0; i < n && !vd_should_stop(); i++)
			if (keep[i])
				vd_execute(&ops[i]);
		vd_finish(&s);
		fflush(stdout);
		_exit(s.mismatches || s.leaks ? 1 : 0);
	}
	int status;
	waitpid(pid, &status, 0);
	return !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* ddmin over the recorded operations; prints the smallest failing sequence found. */
static void shrink_failure(void)
{
	uint64_t n = nrecorded;
	bool *keep = malloc(n), *trial = malloc(n);
	uint64_t live = n, chunk;
	unsigned replays = 0;

	if (keep == NULL || trial == NULL)
		return;
	memset(keep, 1, n);
	printf("    # shrinking %lu operations\n", n);
	if (!replay_fails(recorded, keep, n, false)) {
		printf("    # the failure does not reproduce in a fresh process\n");
		return;
	}
	for (chunk = live / 2; chunk >= 1 && replays < 3000;) {
		bool removed = false;
		uint64_t seen = 0, start_live = live;
		for (uint64_t i = 0; i < n && replays < 3000;) {
			/* remove the next `chunk` live ops */
			memcpy(trial, keep, n);
			uint64_t j = i, taken = 0;
			for (; j < n && taken < chunk; j++)
				if (trial[j]) {
					trial[j] = false;
					taken++;
				}
			if (taken == 0)
				break;
			replays++;
			if (replay_fails(recorded, trial, n, false)) {
				memcpy(keep, trial, n);
				live -= taken;
				removed = true;
			}
			seen += taken;
			i = j;
		}
		(void)seen;
		printf("    # chunk %lu: %lu -> %lu operations (%u replays)\n", chunk, start_live,
		       live, replays);
		if (!removed)
			chunk /= 2;
		else if (chunk > live / 2 && live > 1)
			chunk = live / 2;
	}
	printf("    # minimal failing sequence (%lu operations):\n", live);
	fflush(stdout);
	replay_fails(recorded, keep, n, true);
	free(keep);
	free(trial);
}

static const struct ht_case cases[] = {
	HT_CASE(test_boot),
	HT_CASE(test_random_operations_match_the_model),
	HT_CASE(test_teardown_returns_every_frame_and_object),
};

int main(void)
{
	const char *seed = getenv("SEED");
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	config.seed = seed && *seed ? strtoull(seed, NULL, 0)
	                            : ((uint64_t)ts.tv_sec * 1000003u ^ (uint64_t)ts.tv_nsec) % 1000000000u;
	config.check_every = env_u64("VM_DIFF_CHECK_EVERY", 500);
	config.max_mismatches = (unsigned)env_u64("VM_DIFF_MAX_MISMATCHES", 1);
	config.trace = env_u64("VM_DIFF_TRACE", 0) != 0;
	config.access_hook = fake_pmap_access;
	nops = env_u64("VM_DIFF_OPS", 1000000);
	const char *skip = getenv("VM_DIFF_SKIP");
	for (unsigned k = 0; skip && k < VD_KINDS; k++) {
		const char *name = vd_kind_name(k), *p = skip;
		size_t len = strlen(name);
		while ((p = strstr(p, name)) != NULL) {
			if ((p == skip || p[-1] == ',') && (p[len] == ',' || p[len] == '\0'))
				config.skip_kinds |= 1u << k;
			p += len;
		}
	}
	shrink = env_u64("VM_DIFF_SHRINK", 0) != 0;

	signal(SIGALRM, watchdog);
	alarm((unsigned)env_u64("VM_DIFF_TIMEOUT", 300));
	int rc = ht_run("vm_diff", cases, sizeof(cases) / sizeof(cases[0]));
	alarm(0);
	if (shrink && stats.mismatches + stats.leaks)
		shrink_failure();
	printf("differential: %lu operations, seed %lu, %lu mismatches\n", stats.ops, config.seed,
	       stats.mismatches);
	return rc;
}
