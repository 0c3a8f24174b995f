/*
 * vm_region's answer, in XNU's flavor form: the caller names a flavor and
 * passes a buffer of `count` natural-sized words; VM_REGION_BASIC_INFO_64
 * is the flavor Mica provides.  The layout is XNU's (4-byte packing).
 */
#ifndef MACH_VM_REGION_H
#define MACH_VM_REGION_H

#include <stdint.h>
#include <mach/vm_inherit.h>
#include <mach/vm_prot.h>
#include <mach/vm_types.h>

typedef int vm_region_flavor_t;
typedef int *vm_region_info_t;
typedef int vm_behavior_t;
typedef uint64_t memory_object_offset_t;

#define VM_REGION_BASIC_INFO_64 9

#pragma pack(push, 4)
struct vm_region_basic_info_64 {
	vm_prot_t protection;
	vm_prot_t max_protection;
	vm_inherit_t inheritance;
	boolean_t shared;              /* another map (or entry) maps the same memory */
	boolean_t reserved;
	memory_object_offset_t offset; /* of the region in its memory object */
	vm_behavior_t behavior;
	unsigned short user_wired_count;
};
#pragma pack(pop)

typedef struct vm_region_basic_info_64 vm_region_basic_info_data_64_t;
typedef struct vm_region_basic_info_64 *vm_region_basic_info_64_t;

#define VM_REGION_BASIC_INFO_COUNT_64 \
	((mach_msg_type_number_t)(sizeof(vm_region_basic_info_data_64_t) / sizeof(int)))

/* vm_allocate flags */
#define VM_FLAGS_FIXED    0x0000
#define VM_FLAGS_ANYWHERE 0x0001

#endif
