/*
 * The map index (vm/vm_map_index.c) under load, on the host: thousands of
 * entries in 8-slot nodes (host.mk), so every operation splits, merges or
 * frees nodes somewhere.  After each call the map's invariants must hold
 * (index shape, separators, gaps, the crowded count, leaves against the
 * entry list), and lookups and first-fit allocation must agree with a
 * page-by-page model.
 *
 * SEED=n repeats a run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "tests/host/htest.h"
#include "vm/vm_map.h"
#include "vm/vm_user.h"

void fake_machine_boot(void);

#define PG 4096ul
#define NPAGES 3000ul
#define BASE 0x10000000ul

static uint64_t seed;
static vm_prot_t model[NPAGES];           /* 0: no entry; else the page's protection */
static unsigned max_height;

static uint64_t rnd(void)
{
	seed ^= seed << 13;
	seed ^= seed >> 7;
	seed ^= seed << 17;
	return seed;
}

/* An empty map over the window, and the model emptied to match. */
static vm_map_t new_map(void)
{
	for (unsigned i = 0; i < NPAGES; i++)
		model[i] = 0;
	return vm_map_create(pmap_create(), BASE, BASE + NPAGES * PG);
}

/* The map's invariants, and every page's entry (or none) as the model says. */
static bool map_matches_model(vm_map_t map)
{
	const char *wrong = vm_map_check_invariants(map);

	if (wrong) {
		printf("    # invariant broken: %s\n", wrong);
		return false;
	}
	vm_map_lock_unint(map);
	bool same = true;
	for (unsigned i = 0; i < NPAGES && same; i++) {
		struct vm_map_entry *e = vm_map_lookup_entry(map, BASE + i * PG + (rnd() & (PG - 1)));
		same = e ? e->protection == model[i] : model[i] == 0;
		if (!same)
			printf("    # page %u: entry %p, model %d\n", i, (void *)e, model[i]);
	}
	vm_map_unlock(map);
	if (map->index.height > max_height)
		max_height = map->index.height;
	return same;
}

/* The lowest run of n free pages in the model, or NPAGES. */
static unsigned model_first_fit(unsigned n)
{
	for (unsigned i = 0, run = 0; i < NPAGES; i++) {
		run = model[i] ? 0 : run + 1;
		if (run == n)
			return i + 1 - n;
	}
	return NPAGES;
}

/* One random call, checked against the model, which it then updates. */
static bool random_operation(vm_map_t map)
{
	unsigned at = (unsigned)(rnd() % NPAGES), n = 1 + (unsigned)(rnd() % 6);
	vm_address_t addr = BASE + at * PG;
	unsigned kind = (unsigned)(rnd() % 8);

	if (at + n > NPAGES)
		n = NPAGES - at;
	if (kind < 3) {                                         /* allocate at a fixed place */
		bool free = true;
		for (unsigned i = at; i < at + n; i++)
			free &= model[i] == 0;
		kern_return_t kr = vm_allocate(map, &addr, n * PG, VM_FLAGS_FIXED);
		if (kr != (free ? KERN_SUCCESS : KERN_NO_SPACE))
			return false;
		for (unsigned i = at; free && i < at + n; i++)
			model[i] = VM_PROT_DEFAULT;
	} else if (kind == 3) {                                 /* allocate anywhere: first fit */
		unsigned fit = model_first_fit(n);
		addr = 0;
		kern_return_t kr = vm_allocate(map, &addr, n * PG, VM_FLAGS_ANYWHERE);
		if (kr != (fit < NPAGES ? KERN_SUCCESS : KERN_NO_SPACE) ||
		    (fit < NPAGES && addr != BASE + fit * PG))
			return false;
		for (unsigned i = fit; fit < NPAGES && i < fit + n; i++)
			model[i] = VM_PROT_DEFAULT;
	} else if (kind < 6) {                                  /* protect: splits and merges */
		vm_prot_t prot = (rnd() & 1) ? VM_PROT_READ : VM_PROT_DEFAULT;
		bool whole = true;
		for (unsigned i = at; i < at + n; i++)
			whole &= model[i] != 0;
		kern_return_t kr = vm_protect(map, addr, n * PG, false, prot);
		if (kr != (whole ? KERN_SUCCESS : KERN_INVALID_ADDRESS))
			return false;
		for (unsigned i = at; whole && i < at + n; i++)
			model[i] = prot;
	} else {                                                /* deallocate: removals */
		if (vm_deallocate(map, addr, n * PG) != KERN_SUCCESS)
			return false;
		for (unsigned i = at; i < at + n; i++)
			model[i] = 0;
	}
	return vm_map_check_invariants(map) == NULL;
}

static void test_boot(void)
{
	fake_machine_boot();
	printf("    # SEED=%lu repeats this run\n", seed);
	HT_EXPECT_TRUE(true);
}

static void test_random_calls_keep_the_index_right(void)
{
	vm_map_t map = new_map();
	unsigned bad_at = 0;

	HT_EXPECT_TRUE(map != NULL);
	for (unsigned op = 1; op <= 60000 && !bad_at; op++)
		if (!random_operation(map) || (op % 2000 == 0 && !map_matches_model(map)))
			bad_at = op;
	HT_EXPECT_EQ(bad_at, 0);
	HT_EXPECT_TRUE(map_matches_model(map));
	printf("    # %u entries at the end, index up to %u levels\n", vm_map_entry_count(map),
	       max_height);
	HT_EXPECT_TRUE(max_height >= 3);                        /* the tree really grew */
	vm_map_deallocate(map);
}

/* Entries that cannot merge: one page each, alternating protections. */
static void fill_alternating(vm_map_t map, unsigned from, unsigned to)
{
	for (unsigned i = from; i < to; i++) {
		vm_address_t addr = BASE + i * PG;
		vm_allocate(map, &addr, PG, VM_FLAGS_FIXED);
		if (i & 1)
			vm_protect(map, addr, PG, false, VM_PROT_READ);
		model[i] = (i & 1) ? VM_PROT_READ : VM_PROT_DEFAULT;
	}
}

static void test_emptying_the_map_shrinks_the_index(void)
{
	vm_map_t map = new_map();

	fill_alternating(map, 0, NPAGES);
	HT_EXPECT_EQ(vm_map_entry_count(map), NPAGES);
	HT_EXPECT_TRUE(map->index.height >= 4);
	HT_EXPECT_TRUE(map_matches_model(map));
	/* appended in address order, nodes keep all but 4 slots full (halves would be 1.5 x this) */
	printf("    # %u entries in %u nodes\n", vm_map_entry_count(map), map->index.nodes);
	HT_EXPECT_TRUE(map->index.nodes * (VM_MAP_NODE_SLOTS - 4) <= NPAGES * 6 / 5);
	/* take out all but the first three pages, from the top down */
	for (unsigned i = NPAGES; i-- > 3;) {
		HT_EXPECT_EQ(vm_deallocate(map, BASE + i * PG, PG), KERN_SUCCESS);
		model[i] = 0;
	}
	HT_EXPECT_TRUE(map_matches_model(map));
	HT_EXPECT_EQ(vm_map_entry_count(map), 3);
	HT_EXPECT_EQ(map->index.height, 1);                    /* merged back into one leaf */
	HT_EXPECT_EQ(vm_deallocate(map, BASE, 3 * PG), KERN_SUCCESS);
	HT_EXPECT_EQ(vm_map_entry_count(map), 0);
	HT_EXPECT_TRUE(vm_map_check_invariants(map) == NULL);
	vm_map_deallocate(map);
}

/*
 * Deleting all but every 16th entry, in random order, leaves leaves that
 * would hold one entry each; merging must pack them.
 */
static void test_sparse_nodes_merge(void)
{
	vm_map_t map = new_map();
	static unsigned order[NPAGES];
	unsigned n = 0, bad_at = 0;

	fill_alternating(map, 0, NPAGES);
	for (unsigned i = 0; i < NPAGES; i++)
		if (i % 16)
			order[n++] = i;
	for (unsigned i = n; i > 1; i--) {                      /* shuffle */
		unsigned j = (unsigned)(rnd() % i), t = order[i - 1];
		order[i - 1] = order[j];
		order[j] = t;
	}
	for (unsigned i = 0; i < n && !bad_at; i++) {
		if (vm_deallocate(map, BASE + order[i] * PG, PG) != KERN_SUCCESS ||
		    vm_map_check_invariants(map) != NULL)
			bad_at = i + 1;
		model[order[i]] = 0;
	}
	HT_EXPECT_EQ(bad_at, 0);
	HT_EXPECT_TRUE(map_matches_model(map));
	unsigned entries = vm_map_entry_count(map);
	printf("    # %u entries left in %u nodes\n", entries, map->index.nodes);
	HT_EXPECT_EQ(entries, (NPAGES + 15) / 16);
	HT_EXPECT_TRUE(map->index.nodes * 2 <= entries);       /* one entry a leaf would be more */
	vm_map_deallocate(map);
}

static void test_fork_builds_an_equal_index(void)
{
	vm_map_t map = new_map();

	fill_alternating(map, 100, 2100);
	vm_map_t child = vm_map_fork(map, pmap_create());
	HT_EXPECT_TRUE(child != NULL);
	HT_EXPECT_EQ(vm_map_entry_count(child), 2000);
	HT_EXPECT_TRUE(map_matches_model(child));
	vm_address_t addr = 0;                                  /* first fit: below the entries */
	HT_EXPECT_EQ(vm_allocate(child, &addr, 100 * PG, VM_FLAGS_ANYWHERE), KERN_SUCCESS);
	HT_EXPECT_EQ(addr, BASE);
	addr = 0;                                               /* and past them */
	HT_EXPECT_EQ(vm_allocate(child, &addr, 2 * PG, VM_FLAGS_ANYWHERE), KERN_SUCCESS);
	HT_EXPECT_EQ(addr, BASE + 2100 * PG);
	HT_EXPECT_TRUE(vm_map_check_invariants(child) == NULL);
	vm_map_deallocate(child);
	vm_map_deallocate(map);
}

static const struct ht_case cases[] = {
	HT_CASE(test_boot),
	HT_CASE(test_random_calls_keep_the_index_right),
	HT_CASE(test_emptying_the_map_shrinks_the_index),
	HT_CASE(test_sparse_nodes_merge),
	HT_CASE(test_fork_builds_an_equal_index),
};

int main(void)
{
	const char *s = getenv("SEED");

	seed = s && *s ? strtoull(s, NULL, 0) : (uint64_t)time(NULL);
	seed |= 1;
	return ht_run("vm_map_index", cases, sizeof(cases) / sizeof(cases[0]));
}
