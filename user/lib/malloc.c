/*
 * malloc, calloc and free: a first-fit free list over memory from
 * vm_allocate.
 *
 * Every block, free or in use, starts with a 16-byte header holding its
 * size, header included.  Free blocks are linked in address order, so
 * that free can merge a block with a free neighbour on either side and
 * the heap does not crumble into pieces too small to use.  When no free
 * block is big enough, malloc asks the kernel for at least ARENA_MIN more
 * bytes (VM_FLAGS_ANYWHERE) and frees them into the list.  Nothing is
 * ever given back to the kernel: a test program's heap only grows.  One
 * lock covers the list, so the threads of a program share the heap.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mica/mica.h>

#include "user/lib/lib.h"

#define ALIGN 16			/* every block and every pointer returned */
#define ARENA_MIN (64ul << 10)		/* the least asked of the kernel at a time */
/* Larger requests cannot succeed; refusing them keeps the size arithmetic from wrapping. */
#define REQUEST_MAX (SIZE_MAX / 2)

struct block {
	size_t size;		/* bytes, header included: a multiple of ALIGN */
	struct block *next;	/* free: the next free block up; in use: IN_USE */
};

_Static_assert(sizeof(struct block) == ALIGN, "the header keeps the payload aligned");

/* Marks a block as handed out, so that free can tell a bad pointer or a double free. */
#define IN_USE ((struct block *)1)

/* A split leaves a free block only when it can hold a header and some bytes. */
#define SPLIT_MIN (2 * sizeof(struct block))

static struct lib_lock heap_lock;
static struct block *free_list;             /* (heap_lock) */

/* The block size that holds n bytes, or 0 when n is too large for any block. */
static size_t block_size(size_t n)
{
	if (n > REQUEST_MAX)
		return 0;
	return sizeof(struct block) + ((n + ALIGN - 1) & ~(size_t)(ALIGN - 1));
}

/* True when block a ends exactly where block b starts. */
static bool adjacent(const struct block *a, const struct block *b)
{
	return (const char *)a + a->size == (const char *)b;
}

/* Puts b into the address-ordered free list, merged with any free neighbour it touches. */
static void insert_free(struct block *b)
{
	struct block *prev = NULL, *next = free_list;

	while (next != NULL && next < b) {
		prev = next;
		next = next->next;
	}
	b->next = next;
	if (next != NULL && adjacent(b, next)) {
		b->size += next->size;
		b->next = next->next;
	}
	if (prev == NULL) {
		free_list = b;
	} else if (adjacent(prev, b)) {
		prev->size += b->size;
		prev->next = b->next;
	} else {
		prev->next = b;
	}
}

/* Adds at least need bytes of fresh memory to the free list; false when the kernel has none. */
static bool grow(size_t need)
{
	size_t size = need > ARENA_MIN ? need : ARENA_MIN;
	vm_address_t addr = 0;

	size = (size + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
	if (mica_vm_allocate(&addr, size, VM_FLAGS_ANYWHERE) != KERN_SUCCESS)
		return false;
	struct block *b = (struct block *)addr;
	b->size = size;
	insert_free(b);
	return true;
}

/*
 * Takes the first free block of at least size bytes out of the list,
 * leaving a large enough remainder free in its place.  Returns the block,
 * marked in use, or NULL when none is big enough.
 */
static struct block *take_first_fit(size_t size)
{
	for (struct block **link = &free_list; *link != NULL; link = &(*link)->next) {
		struct block *b = *link;

		if (b->size < size)
			continue;
		if (b->size - size >= SPLIT_MIN) {
			struct block *rest = (struct block *)((char *)b + size);

			rest->size = b->size - size;
			rest->next = b->next;
			b->size = size;
			*link = rest;
		} else {
			*link = b->next;
		}
		b->next = IN_USE;
		return b;
	}
	return NULL;
}

void *malloc(size_t n)
{
	size_t size = block_size(n);
	struct block *b;

	if (size == 0)
		return NULL;
	lib_lock(&heap_lock);
	b = take_first_fit(size);
	if (b == NULL && grow(size))
		b = take_first_fit(size);
	lib_unlock(&heap_lock);
	return b != NULL ? b + 1 : NULL;
}

/* Recycled blocks hold old data, so calloc clears what it returns. */
void *calloc(size_t count, size_t size)
{
	void *p;

	if (size != 0 && count > REQUEST_MAX / size)
		return NULL;
	p = malloc(count * size);
	if (p != NULL)
		memset(p, 0, count * size);
	return p;
}

void free(void *p)
{
	struct block *b;

	if (p == NULL)
		return;
	b = (struct block *)p - 1;
	if (b->next != IN_USE) {
		printf("free: %p is not an allocated block\n", p);
		abort();
	}
	lib_lock(&heap_lock);
	insert_free(b);
	lib_unlock(&heap_lock);
}
