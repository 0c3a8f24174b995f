/*
 * Waits for a message that never comes: a program blocked inside
 * mach_msg, for tests that terminate a task there (tests/user/spawn.c).
 */
#include <mach/mach.h>

int main(void)
{
	mach_port_t port = MACH_PORT_NULL;
	mach_msg_header_t m;

	mach_port_allocate(mach_task_self(), MACH_PORT_RIGHT_RECEIVE, &port);
	return mach_msg(&m, MACH_RCV_MSG, 0, sizeof(m), port, MACH_MSG_TIMEOUT_NONE,
			MACH_PORT_NULL) == MACH_MSG_SUCCESS;
}
