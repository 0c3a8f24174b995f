/*
 * mach_msg's send and receive on a space, in the kernel and from user
 * space.  A message is copied into a kernel buffer (ipc/ipc_kmsg.h) when
 * it is sent; the rights its header names travel with it (a reference
 * each) and become rights in the receiver's space when it is received;
 * out-of-line memory travels as a vm_map_copy, and port descriptors'
 * rights as ports.
 */
#ifndef MICA_IPC_MACH_MSG_H
#define MICA_IPC_MACH_MSG_H

#include <mach/message.h>
#include "ipc/ipc_space.h"

struct vm_map;

/*
 * Sends the message at msg (size bytes, in kernel memory) from space; its
 * out-of-line memory is in map (NULL: the sender has none).  A full queue
 * waits, or with MACH_SEND_TIMEOUT gives up after timeout milliseconds
 * (MACH_SEND_TIMED_OUT).  The wait comes before anything is taken from
 * the sender, so on any error nothing was sent and the sender's rights
 * are as they were.
 */
mach_msg_return_t ipc_msg_send(struct ipc_space *space, struct vm_map *map,
                               const mach_msg_header_t *msg, mach_msg_size_t size,
                               mach_msg_option_t option, mach_msg_timeout_t timeout);

/*
 * Receives the next message of the receive right `name` in space into buf
 * (size bytes), its out-of-line memory mapped in map (NULL: none): waits,
 * or with MACH_RCV_TIMEOUT gives up after timeout milliseconds.  A
 * message larger than buf gives MACH_RCV_TOO_LARGE: it is destroyed, as in
 * Mach, unless option has MACH_RCV_LARGE, which leaves it queued and puts
 * its size in buf->msgh_size.  A port that dies while waiting, or whose
 * receive right leaves in a message, gives MACH_RCV_PORT_DIED.
 */
mach_msg_return_t ipc_msg_receive(struct ipc_space *space, struct vm_map *map,
                                  mach_port_name_t name, mach_msg_header_t *buf,
                                  mach_msg_size_t size, mach_msg_option_t option,
                                  mach_msg_timeout_t timeout);

/*
 * mach_msg from user space: umsg is the caller's buffer; space and map
 * are its task's names and memory, which the trap layer knows and ipc/
 * does not.  With MACH_SEND_MSG, send_size bytes from it are sent (an
 * unreadable buffer: MACH_SEND_INVALID_DATA); then, if that worked and
 * MACH_RCV_MSG is set, a message from rcv_name is received into it (at
 * most rcv_size bytes; a buffer outside the caller's memory:
 * MACH_RCV_INVALID_DATA).  One timeout serves each half.
 */
mach_msg_return_t mach_msg_trap(struct ipc_space *space, struct vm_map *map, uintptr_t umsg,
                                mach_msg_option_t option, mach_msg_size_t send_size,
                                mach_msg_size_t rcv_size, mach_port_name_t rcv_name,
                                mach_msg_timeout_t timeout);

#endif
