/*
 * The messages of the thread calls: those a task port serves about its
 * threads and its suspension (Mach's task subsystem, from 3400:
 * task_threads, task_suspend, task_resume, thread_create) and those a
 * thread port serves (Mach's thread_act subsystem, from 3600).  The ids
 * are XNU's (osfmk/mach/task.defs, thread_act.defs); the layouts are
 * Mica's fixed-size forms of MIG's, without the NDR record.  The kernel
 * (kern/thread_server.c, kern/task_server.c) checks each request's size
 * exactly; user/lib/thread_rpc.c builds them.
 */
#ifndef MICA_MACH_THREAD_RPC_H
#define MICA_MACH_THREAD_RPC_H

#include <mach/mig_errors.h>
#include <mach/thread_status.h>
#include <mach/vm_types.h>

#define TASK_THREADS_ID       3402
#define TASK_SUSPEND_ID       3407
#define TASK_RESUME_ID        3408
#define THREAD_CREATE_ID      3411

#define THREAD_ACT_SUBSYSTEM  3600
#define THREAD_TERMINATE_ID   3600
#define THREAD_GET_STATE_ID   3603
#define THREAD_SET_STATE_ID   3604
#define THREAD_SUSPEND_ID     3605
#define THREAD_RESUME_ID      3606

/*
 * The natural_t a state message has room for: the largest flavor Mica
 * serves (MIG's messages are sized by the count, up to THREAD_STATE_MAX;
 * Mica's dispatcher wants one size per routine).
 */
#define THREAD_STATE_MSG_ROOM x86_THREAD_STATE64_COUNT

/* task_suspend, task_resume, thread_create, task_threads and the thread calls but the state ones. */
typedef struct {
	mach_msg_header_t Head;
} object_request_t;

#pragma pack(push, 4)
typedef struct {
	mach_msg_header_t Head;        /* MACH_MSGH_BITS_COMPLEX */
	mach_msg_body_t msgh_body;     /* one descriptor */
	mach_msg_port_descriptor_t child_act;   /* a send right to the new thread's port */
} thread_create_reply_t;

typedef struct {
	mach_msg_header_t Head;        /* MACH_MSGH_BITS_COMPLEX */
	mach_msg_body_t msgh_body;     /* one descriptor */
	mach_msg_ool_ports_descriptor_t act_list;   /* a send right to each thread's port */
	mach_msg_type_number_t act_listCnt;
} task_threads_reply_t;
#pragma pack(pop)

typedef struct {
	mach_msg_header_t Head;
	thread_state_flavor_t flavor;
	mach_msg_type_number_t old_stateCnt;    /* natural_t the caller has room for */
} thread_get_state_request_t;

typedef struct {
	mach_msg_header_t Head;
	kern_return_t RetCode;
	mach_msg_type_number_t old_stateCnt;    /* natural_t filled */
	natural_t old_state[THREAD_STATE_MSG_ROOM];
} thread_get_state_reply_t;

typedef struct {
	mach_msg_header_t Head;
	thread_state_flavor_t flavor;
	mach_msg_type_number_t new_stateCnt;
	natural_t new_state[THREAD_STATE_MSG_ROOM];
} thread_set_state_request_t;

#endif
