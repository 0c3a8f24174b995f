/*
 * <mach/mach.h> for Mica's user programs: Mach's types and codes
 * (include/mach/) and the calls built so far.  The Mach VM and task calls
 * on task ports arrive here as remote procedure calls; until then
 * <mica/mica.h> has the temporary forms.
 */
#ifndef MICA_USER_MACH_H
#define MICA_USER_MACH_H

#include <mach/kern_return.h>
#include <mach/message.h>
#include <mach/port.h>

/* A new port with its receive right in the caller's space; MACH_PORT_NULL if none could be made. */
mach_port_t mach_reply_port(void);

/*
 * Sends the message at msg (MACH_SEND_MSG, send_size bytes), then
 * receives one from rcv_name into the same buffer (MACH_RCV_MSG, at most
 * rcv_size bytes).  MACH_SEND_TIMEOUT / MACH_RCV_TIMEOUT bound each wait
 * by timeout milliseconds.  notify is Mach's and must be MACH_PORT_NULL.
 */
mach_msg_return_t mach_msg(mach_msg_header_t *msg, mach_msg_option_t option,
			   mach_msg_size_t send_size, mach_msg_size_t rcv_size,
			   mach_port_name_t rcv_name, mach_msg_timeout_t timeout,
			   mach_port_name_t notify);

#endif
