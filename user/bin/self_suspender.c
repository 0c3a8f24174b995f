/*
 * Suspends its own task and never runs again: for tests that terminate a
 * task stopped that way (tests/user/spawn.c).
 */
#include <mach/mach.h>

int main(void)
{
	return task_suspend(mach_task_self()) == KERN_SUCCESS;
}
