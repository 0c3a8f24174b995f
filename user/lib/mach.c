/*
 * Mach's traps for user programs (<mach/mach.h>), each one SYSCALL with
 * the numbers of include/mica/syscall.h.
 */
#include <stdint.h>
#include <mach/mach.h>
#include <mica/mica.h>

mach_port_t mach_reply_port(void)
{
	return (mach_port_t)mica_syscall(SYS_mach_reply_port, 0, 0, 0, 0);
}

mach_port_t mach_task_self(void)
{
	return (mach_port_t)mica_syscall(SYS_task_self, 0, 0, 0, 0);
}

mach_port_t mig_get_reply_port(void)
{
	static mach_port_t reply_port;

	if (reply_port == MACH_PORT_NULL)
		reply_port = mach_reply_port();
	return reply_port;
}

mach_msg_return_t mach_msg(mach_msg_header_t *msg, mach_msg_option_t option,
			   mach_msg_size_t send_size, mach_msg_size_t rcv_size,
			   mach_port_name_t rcv_name, mach_msg_timeout_t timeout,
			   mach_port_name_t notify)
{
	if (notify != MACH_PORT_NULL)
		return MACH_SEND_INVALID_NOTIFY;   /* no notifications yet */
	return (mach_msg_return_t)mica_syscall6(SYS_mach_msg, (long)(uintptr_t)msg, option,
						send_size, rcv_size, rcv_name, timeout);
}
