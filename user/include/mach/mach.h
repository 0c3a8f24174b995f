/*
 * <mach/mach.h> for Mica's user programs: Mach's types and codes
 * (include/mach/) and the calls, each a remote procedure call on a task,
 * thread or host port (their messages: <mach/vm_map_rpc.h> and the other
 * *_rpc.h), with mach_msg and the self traps.  <mica/mica.h> has Mica's
 * own system calls.
 */
#ifndef MICA_USER_MACH_H
#define MICA_USER_MACH_H

#include <mach/kern_return.h>
#include <mach/message.h>
#include <mach/mig_errors.h>
#include <mach/port.h>
#include <mach/thread_status.h>
#include <mach/vm_inherit.h>
#include <mach/vm_prot.h>
#include <mach/vm_region.h>
#include <mach/vm_types.h>
#include <mica/vm_stats.h>

/* In user space every kernel object is named by a port, as in Mach. */
typedef mach_port_t task_t;
typedef mach_port_t vm_task_t;
typedef mach_port_t vm_map_t;
typedef mach_port_t thread_t;
typedef mach_port_t thread_act_t;
typedef thread_act_t *thread_act_array_t;
typedef mach_port_t host_t;
typedef mach_port_t ipc_space_t;

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

/* A send right to the caller's own task port (each call adds a user reference, up to
 * MACH_PORT_UREFS_MAX, where they stay). */
mach_port_t mach_task_self(void);

/*
 * A new task with no threads: an empty address space, or with
 * inherit_memory a copy of parent_task's by each region's inheritance.
 * *child_task is a send right to its port.  It lives until task_terminate.
 */
kern_return_t task_create(task_t parent_task, boolean_t inherit_memory, task_t *child_task);

/* Ends target_task and frees its memory; its port dies.  Not the caller's own task (exit). */
kern_return_t task_terminate(task_t target_task);

/*
 * Counted, as Mach's: none of target_task's threads runs while it is
 * suspended more times than resumed.  Resuming a task that is not
 * suspended is KERN_FAILURE; a task that suspends itself stops at once.
 */
kern_return_t task_suspend(task_t target_task);
kern_return_t task_resume(task_t target_task);

/*
 * A send right to the port of each of target_task's threads, in an array
 * of *act_listCnt names mapped in the caller: the caller
 * mach_port_deallocates each and vm_deallocates the array.
 */
kern_return_t task_threads(task_t target_task, thread_act_array_t *act_list,
			   mach_msg_type_number_t *act_listCnt);

/*
 * A new thread in parent_task, suspended once, with zeroed registers:
 * thread_set_state, then thread_resume.  *child_act is a send right to
 * its thread port.
 */
kern_return_t thread_create(task_t parent_task, thread_act_t *child_act);

/* A send right to the calling thread's port (each call adds a user reference, up to
 * MACH_PORT_UREFS_MAX, where they stay). */
mach_port_t mach_thread_self(void);

/* Ends target_act; its port dies.  Not the calling thread itself (KERN_INVALID_ARGUMENT). */
kern_return_t thread_terminate(thread_act_t target_act);

/*
 * x86_THREAD_STATE64 (an x86_thread_state64_t) only; any other flavor is
 * KERN_INVALID_ARGUMENT.  Get: *old_stateCnt natural_t of room in (fewer
 * than x86_THREAD_STATE64_COUNT: KERN_INVALID_ARGUMENT), filled out.
 * Set: exactly x86_THREAD_STATE64_COUNT; RIP and RSP must be user
 * addresses (KERN_INVALID_ARGUMENT); CS, FS and GS are ignored.
 */
kern_return_t thread_get_state(thread_act_t target_act, thread_state_flavor_t flavor,
			       thread_state_t old_state, mach_msg_type_number_t *old_stateCnt);
kern_return_t thread_set_state(thread_act_t target_act, thread_state_flavor_t flavor,
			       thread_state_t new_state, mach_msg_type_number_t new_stateCnt);

/* Counted, as Mach's: a thread runs while neither it nor its task is suspended. */
kern_return_t thread_suspend(thread_act_t target_act);
kern_return_t thread_resume(thread_act_t target_act);

/*
 * The rights in a task's space (the caller's own: mach_task_self()).  As
 * in Mach: allocate makes a receive right (a new port) or a dead name;
 * deallocate drops one user reference of a send right, send-once right or
 * dead name; mod_refs adds delta to a right's user references (a receive
 * or send-once right can only be dropped, delta -1; user references
 * saturate at MACH_PORT_UREFS_MAX, and once there only a delta of
 * -MACH_PORT_UREFS_MAX changes them); insert_right puts a
 * send right to poly under name (polyPoly: MAKE_SEND from a receive
 * right, COPY_SEND or MOVE_SEND; the others give KERN_INVALID_VALUE).
 */
kern_return_t mach_port_allocate(ipc_space_t task, mach_port_right_t right,
				 mach_port_name_t *name);
kern_return_t mach_port_deallocate(ipc_space_t task, mach_port_name_t name);
kern_return_t mach_port_mod_refs(ipc_space_t task, mach_port_name_t name,
				 mach_port_right_t right, mach_port_delta_t delta);
kern_return_t mach_port_insert_right(ipc_space_t task, mach_port_name_t name, mach_port_t poly,
				     mach_msg_type_name_t polyPoly);
kern_return_t mach_port_type(ipc_space_t task, mach_port_name_t name, mach_port_type_t *ptype);
kern_return_t mach_port_get_refs(ipc_space_t task, mach_port_name_t name,
				 mach_port_right_t right, mach_port_urefs_t *refs);

/* A send right to the host port. */
mach_port_t mach_host_self(void);

/* The size of a page, from the kernel. */
kern_return_t host_page_size(host_t host, vm_size_t *page_size);

/* Mica's own: what the kernel holds (free frames, zones, objects...), for leak checks. */
kern_return_t host_vm_stats(host_t host, struct mica_vm_stats *stats);

/*
 * Mica's own: starts the program `program` that the kernel carries
 * (user/bin, tests/user) in a new task, a child of the caller with the
 * caller's output, and gives *child a send right to its port.  The task
 * lives until it exits or is terminated.  An unknown, empty or overlong
 * (64 bytes or more) name: KERN_INVALID_ARGUMENT.
 */
kern_return_t task_spawn(host_t host, const char *program, task_t *child);

/*
 * Makes the pages of [address, address + size) in task resident and
 * mapped for desired_access, so they never fault; VM_PROT_NONE unwires.
 * Sent to the host port (XNU's host_priv); a task port that names no live
 * task gives KERN_INVALID_TASK.
 */
kern_return_t vm_wire(host_t host, vm_map_t task, vm_address_t address, vm_size_t size,
		      vm_prot_t desired_access);

/*
 * The port the calling thread's RPCs receive their replies on, made on
 * its first use; each thread has its own (<mica/thread.h>).
 */
mach_port_t mig_get_reply_port(void);

/*
 * Mach's VM calls on the task target_task names: as the kernel's
 * vm_allocate, vm_deallocate and vm_protect, with the task port as the
 * authority.  A name that denotes nothing gives MACH_SEND_INVALID_DEST.
 * vm_allocate of size 0 succeeds and sets *address to 0, as XNU's.
 */
/*
 * The seed's vm_write: data_count bytes at data go out of line to
 * target_task's address, written as if the target had written them
 * (docs/vm_write.md).  An unreadable data range: MACH_SEND_INVALID_MEMORY.
 */
kern_return_t vm_write(vm_task_t target_task, vm_address_t address, pointer_t data,
		       mach_msg_type_number_t data_count);
/*
 * As XNU: size bytes at address (any alignment) arrive mapped in the
 * caller; *data is the first byte read, *data_count is size, and the
 * caller vm_deallocates it.  Under two pages arrive at the start of a
 * page (a kernel-buffer copy, as XNU's), more at address's offset in its
 * page (docs/vm_write.md).
 */
kern_return_t vm_read(vm_map_t target_task, vm_address_t address, vm_size_t size,
		      vm_offset_t *data, mach_msg_type_number_t *data_count);
kern_return_t vm_allocate(vm_map_t target_task, vm_address_t *address, vm_size_t size,
			  int flags);
kern_return_t vm_deallocate(vm_map_t target_task, vm_address_t address, vm_size_t size);
kern_return_t vm_protect(vm_map_t target_task, vm_address_t address, vm_size_t size,
			 boolean_t set_maximum, vm_prot_t new_protection);
kern_return_t vm_inherit(vm_map_t target_task, vm_address_t address, vm_size_t size,
			 vm_inherit_t new_inheritance);
kern_return_t vm_copy(vm_map_t target_task, vm_address_t source_address, vm_size_t size,
		      vm_address_t dest_address);

/*
 * XNU's flavor form: the region at or above *address (*address and *size
 * say where it is), its VM_REGION_BASIC_INFO_64 in info; *infoCnt ints of
 * room in, ints filled out.  *object_name is always MACH_PORT_NULL.
 */
kern_return_t vm_region(vm_map_t target_task, vm_address_t *address, vm_size_t *size,
			vm_region_flavor_t flavor, vm_region_info_t info,
			mach_msg_type_number_t *infoCnt, mach_port_t *object_name);

#endif
