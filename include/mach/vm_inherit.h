/* What a child address space gets of a region when a task is created from its parent. */
#ifndef MACH_VM_INHERIT_H
#define MACH_VM_INHERIT_H

typedef unsigned int vm_inherit_t;

#define VM_INHERIT_SHARE    ((vm_inherit_t)0)  /* the same memory, shared */
#define VM_INHERIT_COPY     ((vm_inherit_t)1)  /* a copy-on-write copy */
#define VM_INHERIT_NONE     ((vm_inherit_t)2)  /* nothing: a hole */
#define VM_INHERIT_DEFAULT  VM_INHERIT_COPY
#define VM_INHERIT_LAST_VALID VM_INHERIT_NONE

#endif
