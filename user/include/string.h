/* The string and memory functions of C, for user programs: the kernel's own (lib/string.c). */
#ifndef MICA_USER_STRING_H
#define MICA_USER_STRING_H

#include "lib/string.h"

#endif
