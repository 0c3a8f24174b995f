/*
 * The randomized differential test of the VM (issue 6).
 *
 * A seeded generator makes a stream of operations on a few small user
 * maps -- vm_allocate, vm_deallocate, vm_protect, vm_inherit, vm_write,
 * vm_map_copy_overwrite, vm_read, vm_map_read, vm_copy, vm_region,
 * vm_wire (wiring and unwiring), vm_map_copyin / vm_map_copyout of held
 * copies, vm_map_fork, and touches of single bytes "as the task would"
 * -- and runs each against the VM and against a plain reference model:
 * per map and page, whether it is allocated, its protection, maximum
 * protection, inheritance and wiring, and a reference-counted block of
 * bytes (SHARE-inherited pages alias a block, COPY-inherited ones get
 * their own).  Every result code is
 * compared; so are the bytes an operation touched (through the pmap, at
 * no cost to the VM's state, and now and then through vm_map_read), and,
 * every few hundred operations, every page, mapping and region of every
 * map, and the wire count of every mapped page.  Now and then one
 * operation runs with a reserve floor just below the free frames: it may
 * then fail with KERN_RESOURCE_SHORTAGE, and must have changed nothing
 * when it does (a failed vm_wire is compared with a snapshot of its map's
 * entries and wire counts taken before it).
 *
 * The file is freestanding: the same code runs on the host (with
 * sanitizers, over the kernel's pmap on tests/host/fake_kernel.c's fake
 * machine) and in the kernel (tests/kern/vm_diff_test.c, on the real
 * one).  It uses only the VM's public interface, kprintf, and static
 * arrays.
 *
 * Operations are generated (vd_generate, which looks at the model to pick
 * interesting addresses) separately from their execution (vd_execute,
 * which depends only on the operation), so a recorded stream can be
 * replayed, or a subset of it, to shrink a failure.
 */
#ifndef MICA_TESTS_COMMON_VM_DIFF_H
#define MICA_TESTS_COMMON_VM_DIFF_H

#include <stdbool.h>
#include <stdint.h>
#include "vm/pmap.h"

/* The maps: all cover [VD_MIN, VD_MAX). */
#define VD_NMAPS   3
#define VD_NPAGES  64
#define VD_MIN     0x10000ul
#define VD_MAX     (VD_MIN + VD_NPAGES * 4096ul)
#define VD_PENDING 2               /* copies held across operations */

enum vd_kind {
	VD_ALLOCATE,       /* vm_allocate(m, &addr, size, arg = flags) */
	VD_DEALLOCATE,     /* vm_deallocate(m, addr, size) */
	VD_PROTECT,        /* vm_protect(m, addr, size, flag SETMAX, arg = prot) */
	VD_INHERIT,        /* vm_inherit(m, addr, size, arg = inheritance) */
	VD_WRITE,          /* data (src), then vm_write(m, addr, copy, count) or vm_map_copy_overwrite */
	VD_READ,           /* vm_read(m, addr, size), mapped into the scratch map and compared */
	VD_MAP_READ,       /* vm_map_read(m, addr, buf, size) */
	VD_COPY,           /* vm_copy(m, addr2, size, addr) */
	VD_TOUCH,          /* an access of arg (READ/WRITE/EXECUTE) at addr; a write stores value */
	VD_FORK,           /* maps[m] = vm_map_fork(maps[m2]) */
	VD_REGION,         /* vm_region(m, addr, count = size) */
	VD_HOLD,           /* pending[slot] = vm_map_copyin(m2, addr2, size2) */
	VD_COPYOUT,        /* vm_map_copyout(m, &addr, pending[slot]) */
	VD_WIRE,           /* vm_wire(m, addr, size, arg = access; VM_PROT_NONE unwires) */
	VD_CHECK,          /* compare everything */
	VD_KINDS,
};

/* Where VD_WRITE's data comes from. */
enum vd_src {
	VD_SRC_COPYIN,     /* vm_map_copyin(m2, addr2, size2) just before */
	VD_SRC_KERNEL,     /* vm_map_copy_from_kernel of size2 bytes at offset addr2 of a buffer */
	VD_SRC_PENDING,    /* a copy held since an earlier VD_HOLD (slot) */
};

/* VD_WRITE / op flags */
#define VD_F_SETMAX    0x01        /* vm_protect: set_maximum */
#define VD_F_OVERWRITE 0x02        /* vm_write: call vm_map_copy_overwrite instead */
#define VD_F_VERIFY    0x04        /* afterwards read the op's range back with vm_map_read */
#define VD_F_BADCOUNT  0x08        /* vm_write: pass count = size2 + count_delta */

struct vd_op {
	uint8_t kind;                  /* enum vd_kind */
	uint8_t m, m2;                 /* target map; source map */
	uint8_t flags;                 /* VD_F_* */
	uint8_t oom;                   /* 0, or 1 + frames the op may take before memory runs out */
	uint8_t src;                   /* enum vd_src */
	uint8_t slot;                  /* pending copy */
	uint8_t value;                 /* byte stored by a write touch */
	int32_t arg;                   /* flags, prot, inheritance, access, count delta */
	uint32_t data_seed;            /* kernel buffer contents */
	uint64_t addr, size;           /* target range */
	uint64_t addr2, size2;         /* source range */
};

struct vd_config {
	uint64_t seed;
	uint64_t check_every;          /* full comparison every this many operations */
	unsigned max_mismatches;       /* stop after this many (0: never) */
	bool trace;                    /* print every operation */
	uint32_t skip_kinds;           /* 1 << kind: never generate these */
	/* Optional: called for every access the test makes through the pmap, as hardware would see it. */
	void (*access_hook)(pmap_t pmap, vm_offset_t va, vm_prot_t access);
};

struct vd_stats {
	uint64_t ops;                  /* executed */
	uint64_t mismatches;
	uint64_t by_kind[VD_KINDS];
	uint64_t success_by_kind[VD_KINDS];
	uint64_t shortage;             /* KERN_RESOURCE_SHORTAGE under an injected limit */
	uint64_t oom_ops;              /* operations run with a limit */
	uint64_t leaks;                /* counts not back where they started at vd_finish */
};

/* Creates the maps; false when that fails (reported). */
bool vd_start(const struct vd_config *cfg);

/* The next operation (the generator is seeded by cfg->seed). */
void vd_generate(struct vd_op *op);

/* Runs one operation on the VM and the model; returns the mismatches it found. */
unsigned vd_execute(const struct vd_op *op);

/* Whether the run should stop (too many mismatches). */
bool vd_should_stop(void);

/* Final comparison, then tears everything down and checks for leaks; returns the stats. */
void vd_finish(struct vd_stats *out);

/* Prints op as one line ("# vm_diff: " prefix, no newline handling needed). */
void vd_print_op(uint64_t n, const struct vd_op *op);

/* Operations executed so far in this run. */
uint64_t vd_operations_done(void);

/* Names of the operation kinds, for summaries. */
const char *vd_kind_name(unsigned kind);

/* Generates and runs n operations (a whole run); the stats in *out. */
void vd_run(const struct vd_config *cfg, uint64_t n, struct vd_stats *out);

#endif
