/*
 * The VM's randomized differential test (tests/common/vm_diff.h) inside
 * the kernel, against the real pmap: a shorter run of the same operation
 * stream the host runs a million of.  The seed is the run's (seed=N on the
 * command line repeats it; SEED=N with make test).
 */
#include "tests/harness/ktest.h"
#include "tests/common/vm_diff.h"

#define VM_DIFF_KERNEL_OPS 20000

KTEST(vm_diff, random_operations_match_the_model)
{
	struct vd_config cfg = {
		.seed = ktest_seed(),
		.check_every = 500,
		.max_mismatches = 1,
	};
	struct vd_stats st;

	vd_run(&cfg, VM_DIFF_KERNEL_OPS, &st);
	kprintf("    # differential: %lu operations, seed %lu, %lu mismatches "
	        "(%lu under a memory limit, %lu resource shortages)\n",
	        st.ops, cfg.seed, st.mismatches, st.oom_ops, st.shortage);
	KT_EXPECT_EQ(st.mismatches, 0);
	KT_EXPECT_EQ(st.ops, VM_DIFF_KERNEL_OPS);
	KT_EXPECT_EQ(st.leaks, 0);
}
