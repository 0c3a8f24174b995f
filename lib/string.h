/* The string and memory functions the kernel, user programs and GCC's code generation need. */
#ifndef MICA_LIB_STRING_H
#define MICA_LIB_STRING_H

#include <stddef.h>

void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
/* The length of s, or max if no NUL comes within max bytes. */
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strstr(const char *haystack, const char *needle);
char *strcpy(char *dst, const char *src);
char *strchr(const char *s, int c);

#endif
