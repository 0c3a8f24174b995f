/* The scalar types of Mach's VM interface, for x86-64 (LP64). */
#ifndef MACH_VM_TYPES_H
#define MACH_VM_TYPES_H

#include <stdint.h>

typedef uintptr_t vm_offset_t;     /* an address or offset in an address space */
typedef uintptr_t vm_address_t;
typedef uintptr_t vm_size_t;
typedef vm_offset_t pointer_t;     /* out-of-line data, as a message carries it */
typedef uint32_t natural_t;
typedef natural_t mach_msg_type_number_t;
typedef int boolean_t;
typedef int integer_t;

#ifndef TRUE                       /* Mach's <mach/boolean.h> */
#define TRUE  1
#define FALSE 0
#endif

#endif
