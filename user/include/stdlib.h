/* Ending the program, and its heap (user/lib/malloc.c). */
#ifndef MICA_USER_STDLIB_H
#define MICA_USER_STDLIB_H

#include <stddef.h>

#define EXIT_SUCCESS 0
#define EXIT_FAILURE 1

/* Flushes buffered output and ends the task with this status. */
__attribute__((noreturn)) void exit(int status);

/* Prints "abort" and ends the task with status 134 (128 + SIGABRT, as a shell reports it). */
__attribute__((noreturn)) void abort(void);

/* 16-byte aligned; NULL when out of memory.  Memory is never given back to the kernel. */
void *malloc(size_t size);
void *calloc(size_t count, size_t size);
void free(void *p);

#endif
