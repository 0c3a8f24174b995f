/* The kernel's own copy of what the loader handed it (include/mica/boot_info.h). */
#ifndef MICA_KERN_BOOTINFO_H
#define MICA_KERN_BOOTINFO_H

#include <mica/boot_info.h>

extern struct boot_info boot_info;

/*
 * Checks the loader's structure at phys (reachable through the identity
 * map the entry contract promises) and copies it into boot_info, so the
 * kernel never needs the loader's memory again.  Panics on a bad one.
 */
void boot_info_take(uint64_t phys);

const char *boot_mem_type_name(uint32_t type);
uint64_t boot_info_usable_bytes(const struct boot_info *bi);
void boot_info_print(const struct boot_info *bi);

#endif
