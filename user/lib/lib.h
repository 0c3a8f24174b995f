/* What the user library's parts share with each other, and programs do not see. */
#ifndef MICA_USER_LIB_H
#define MICA_USER_LIB_H

/* Writes out whatever stdout holds, even a partial line. */
void stdout_flush(void);

#include <mach/message.h>

/*
 * One remote procedure call, as a MIG stub makes it: sends the request
 * in msg (send_size bytes, its COMPLEX bit kept) to target with a
 * send-once right to the program's reply port and receives the reply
 * into msg (reply_size bytes when it succeeds; errors come as
 * mig_reply_error_t).  Returns the mach_msg error, or the reply's code.
 */
kern_return_t mig_rpc(mach_port_t target, mach_msg_header_t *msg, mach_msg_id_t id,
		      mach_msg_size_t send_size, mach_msg_size_t reply_size);

#endif
