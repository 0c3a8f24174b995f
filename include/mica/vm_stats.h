/*
 * Mica's own host call host_vm_stats: counts of what the kernel holds, so
 * that user tests can prove an operation leaked nothing (compare two
 * snapshots).
 */
#ifndef MICA_VM_STATS_H
#define MICA_VM_STATS_H

#include <stdint.h>

#define MICA_VM_STATS_ZONES 8          /* kalloc's size classes, 16 bytes to 2 KiB */

struct mica_vm_stats {
	uint64_t free_frames;
	uint64_t kernel_frames;        /* frames in use: wired kernel memory (stacks, zones) */
	uint64_t pagetable_frames;     /* ... page tables of every pmap */
	uint64_t object_frames;        /* ... data of VM objects */
	uint64_t zone_frames;          /* of kernel_frames, those the zones hold (in use, or a
	                                  few empty ones each zone keeps in reserve) */
	uint64_t zone_elements;        /* elements in use, over the zones (kalloc's included) but
	                                  those of map and pv entries, which follow live maps */
	uint64_t zone_in_use[MICA_VM_STATS_ZONES];   /* elements of kalloc.16 ... kalloc.2048 */
	uint64_t large_blocks;         /* kalloc blocks of whole frames */
	uint64_t vm_objects;
	uint64_t ports;
	uint64_t tasks;
	uint64_t threads;
};

#endif
