/*
 * The codes a Mach server puts in a reply's RetCode when the request
 * itself is wrong, with Mach's values, and the reply that carries only a
 * code.
 */
#ifndef MICA_MACH_MIG_ERRORS_H
#define MICA_MACH_MIG_ERRORS_H

#include <mach/kern_return.h>
#include <mach/message.h>

#define MIG_TYPE_ERROR      -300   /* a field of the wrong type */
#define MIG_REPLY_MISMATCH  -301   /* the reply is not the request's */
#define MIG_REMOTE_ERROR    -302   /* the server said so */
#define MIG_BAD_ID          -303   /* no routine has this msgh_id */
#define MIG_BAD_ARGUMENTS   -304   /* the request's size or layout is wrong */
#define MIG_NO_REPLY        -305   /* the server sends no reply */
#define MIG_EXCEPTION       -306   /* the server raised an exception */
#define MIG_ARRAY_TOO_LARGE -307   /* an array larger than its room */
#define MIG_SERVER_DIED     -308   /* the server died */
#define MIG_TRAILER_ERROR   -309   /* the trailer has an unknown format */

/* A reply's id is its request's plus this. */
#define MIG_REPLY_ID_OFFSET 100

typedef struct {
	mach_msg_header_t Head;
	kern_return_t RetCode;
} mig_reply_error_t;

#endif
