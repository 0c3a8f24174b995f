/*
 * The user programs the kernel carries: every tests/user/NAME.c and
 * user/bin/NAME.c, built as ELF executables and linked into the kernel
 * image (user/user.mk generates the table).
 */
#ifndef MICA_KERN_PROGRAMS_H
#define MICA_KERN_PROGRAMS_H

#include <stdbool.h>
#include <stdint.h>

struct program {
	const char *name;
	const uint8_t *start, *end;    /* the ELF image */
	bool is_test;                  /* from tests/user/: the `user` suite runs it */
};

extern const struct program programs[];
extern const unsigned program_count;

/* The program with this name, or NULL. */
const struct program *program_find(const char *name);

#endif
