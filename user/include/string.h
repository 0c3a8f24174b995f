/* The string and memory functions of C, for user programs: the kernel's own (kern/string.c). */
#ifndef MICA_USER_STRING_H
#define MICA_USER_STRING_H

#include "kern/string.h"

#endif
