/*
 * Tests of kern/rbtree.c.  The nodes are items with a key and a weight,
 * augmented with the largest weight in their subtree, as vm_map keeps the
 * largest gap, and with the sum of those weights.  A max forgives some
 * mistakes that a sum does not (recomputing a rotation's two nodes in the
 * wrong order, for one), hence both.  Many weights are zero, so that
 * often neither value changes when an item goes, which gives the tree
 * the chance to stop its walk up too early.
 *
 * A model keeps the same items in a plain sorted array.  After each
 * operation the tree is checked against it: the red-black invariants
 * (rb_check), the in-order sequence in both directions, and every node's
 * augmented values against ones computed from scratch.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "kern/rbtree.h"
#include "tests/host/htest.h"

struct item {
	struct rb_node rb;
	int key;
	unsigned seq;		/* insertion order: equal keys must stay in it */
	int weight;
	int max_weight;		/* augmented: the largest weight in the subtree */
	long weight_sum;	/* augmented: the weights in the subtree, added up */
};

#define MAX_ITEMS 4096

/* A tree and, in sorted[], the order its items must come out in. */
struct model {
	struct rb_tree tree;
	struct item items[MAX_ITEMS];
	struct item *sorted[MAX_ITEMS];
	size_t n;			/* items in the tree */
	size_t free[MAX_ITEMS];		/* indexes of items not in the tree */
	size_t nfree;
	unsigned next_seq;
	uint64_t rng;
};

/* Large, so a test's model does not live on the stack. */
static struct model model;

/*
 * Fails the running test with cond's text and returns false from the
 * enclosing function, so a long run stops at its first broken check.
 */
#define REQUIRE(cond) \
	do { \
		if (!(cond)) { \
			HT_EXPECT_TRUE(cond); \
			return false; \
		} \
	} while (0)

static struct item *item_of(struct rb_node *n)
{
	return rb_entry(n, struct item, rb);
}

static int max_int(int a, int b)
{
	return a > b ? a : b;
}

/* The augmentation under test. */
static bool recompute_item(struct rb_node *n)
{
	struct item *it = item_of(n);
	int max = it->weight;
	long sum = it->weight;

	if (n->left != NULL) {
		max = max_int(max, item_of(n->left)->max_weight);
		sum += item_of(n->left)->weight_sum;
	}
	if (n->right != NULL) {
		max = max_int(max, item_of(n->right)->max_weight);
		sum += item_of(n->right)->weight_sum;
	}
	if (max == it->max_weight && sum == it->weight_sum)
		return false;
	it->max_weight = max;
	it->weight_sum = sum;
	return true;
}

/* splitmix64: small, and the same sequence on every host. */
static uint64_t next_random(struct model *m)
{
	uint64_t z = (m->rng += 0x9e3779b97f4a7c15u);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

static size_t random_below(struct model *m, size_t bound)
{
	return (size_t)(next_random(m) % bound);
}

/* A weight in [0, 1000), zero a quarter of the time (see the top of the file). */
static int random_weight(struct model *m)
{
	return random_below(m, 4) == 0 ? 0 : (int)random_below(m, 1000);
}

static void model_init(struct model *m, bool augmented, uint64_t seed)
{
	rb_init(&m->tree, augmented ? recompute_item : NULL);
	m->n = 0;
	m->nfree = MAX_ITEMS;
	for (size_t i = 0; i < MAX_ITEMS; i++)
		m->free[i] = MAX_ITEMS - 1 - i;
	m->next_seq = 0;
	m->rng = seed;
}

/*
 * Links it into the tree the way a user of rbtree.h does: walks down by
 * key, going right on equal keys so equal keys keep their insertion order.
 */
static void tree_insert(struct rb_tree *t, struct item *it)
{
	struct rb_node *parent = NULL;
	struct rb_node *n = t->root;
	bool left = false;

	while (n != NULL) {
		parent = n;
		left = it->key < item_of(n)->key;
		n = left ? n->left : n->right;
	}
	rb_insert_at(t, parent, left, &it->rb);
}

/* Inserts a free item with this key and weight into the tree and the array. */
static struct item *model_insert(struct model *m, int key, int weight)
{
	struct item *it = &m->items[m->free[--m->nfree]];
	size_t pos = m->n;

	it->key = key;
	it->seq = m->next_seq++;
	it->weight = weight;
	it->max_weight = -1;	/* wrong on purpose: rb_insert_at must compute them */
	it->weight_sum = -1;
	tree_insert(&m->tree, it);

	while (pos > 0 && m->sorted[pos - 1]->key > key)
		pos--;
	memmove(&m->sorted[pos + 1], &m->sorted[pos], (m->n - pos) * sizeof m->sorted[0]);
	m->sorted[pos] = it;
	m->n++;
	return it;
}

/* Removes the pos'th item in key order from the tree and the array. */
static void model_remove(struct model *m, size_t pos)
{
	struct item *it = m->sorted[pos];

	rb_remove(&m->tree, &it->rb);
	memset(&it->rb, 0xa5, sizeof it->rb);	/* so a stale link to it crashes */
	m->n--;
	memmove(&m->sorted[pos], &m->sorted[pos + 1], (m->n - pos) * sizeof m->sorted[0]);
	m->free[m->nfree++] = (size_t)(it - m->items);
}

/* Changes the pos'th item's weight and tells the tree. */
static void model_reweigh(struct model *m, size_t pos, int weight)
{
	struct item *it = m->sorted[pos];

	it->weight = weight;
	rb_propagate(&m->tree, &it->rb);
}

/* A subtree's augmented values, as computed from scratch. */
struct summary {
	int max_weight;
	long weight_sum;
};

/*
 * Walks the subtree at n computing each node's augmented values afresh
 * and comparing them with the stored ones; returns the subtree's, and
 * clears *ok at any mismatch.
 */
static struct summary check_augmented(struct rb_node *n, bool *ok)
{
	if (n == NULL)
		return (struct summary){ .max_weight = -1, .weight_sum = 0 };

	struct item *it = item_of(n);
	struct summary left = check_augmented(n->left, ok);
	struct summary right = check_augmented(n->right, ok);
	struct summary all = {
		.max_weight = max_int(it->weight, max_int(left.max_weight, right.max_weight)),
		.weight_sum = it->weight + left.weight_sum + right.weight_sum,
	};
	if (it->max_weight != all.max_weight || it->weight_sum != all.weight_sum)
		*ok = false;
	return all;
}

/* Checks the tree against the model in every way the tree can be observed. */
static bool model_check(struct model *m)
{
	REQUIRE(rb_check(&m->tree) >= 0);

	/* The array itself: keys sorted, equal keys in insertion order. */
	for (size_t i = 1; i < m->n; i++) {
		REQUIRE(m->sorted[i - 1]->key <= m->sorted[i]->key);
		REQUIRE(m->sorted[i - 1]->key < m->sorted[i]->key ||
			m->sorted[i - 1]->seq < m->sorted[i]->seq);
	}

	size_t i = 0;
	for (struct rb_node *n = rb_first(&m->tree); n != NULL; n = rb_next(n)) {
		REQUIRE(i < m->n);
		REQUIRE(item_of(n) == m->sorted[i]);
		i++;
	}
	REQUIRE(i == m->n);
	for (struct rb_node *n = rb_last(&m->tree); n != NULL; n = rb_prev(n)) {
		REQUIRE(i > 0);
		i--;
		REQUIRE(item_of(n) == m->sorted[i]);
	}
	REQUIRE(i == 0);

	if (m->tree.recompute != NULL) {
		bool ok = true;
		check_augmented(m->tree.root, &ok);
		REQUIRE(ok);
	}
	return true;
}

/* Inserts n items with random keys in [0, key_range) and random weights. */
static void model_fill(struct model *m, size_t n, int key_range)
{
	while (n-- > 0)
		model_insert(m, (int)random_below(m, (size_t)key_range),
			     random_weight(m));
}

/*
 * Runs ops random operations, with the tree's size hovering around
 * target: inserts, removals of random items and weight changes, checking
 * the whole tree every check_every operations.  Equal keys are common,
 * since keys come from a range half the size of the tree.
 */
static void random_run(uint64_t seed, bool augmented, long ops, size_t target,
		       long check_every)
{
	struct model *m = &model;
	int key_range = (int)(target / 2 + 1);
	long checks = 0;

	model_init(m, augmented, seed);
	for (long op = 0; op < ops; op++) {
		if (m->n > 0 && random_below(m, 10) < 3) {
			model_reweigh(m, random_below(m, m->n),
				      random_weight(m));
		} else if (m->nfree > 0 && random_below(m, 2 * target) >= m->n) {
			/* Likelier below target, less likely above it. */
			model_fill(m, 1, key_range);
		} else {
			model_remove(m, random_below(m, m->n));
		}
		if (op % check_every == 0 || op == ops - 1) {
			checks++;
			if (!model_check(m)) {
				printf("    # seed %llu: wrong after operation %ld\n",
				       (unsigned long long)seed, op);
				return;
			}
		}
	}
	HT_EXPECT_TRUE(checks >= 2000);
}

static void test_empty_tree(void)
{
	struct rb_tree t;

	rb_init(&t, recompute_item);
	HT_EXPECT_TRUE(t.root == NULL);
	HT_EXPECT_TRUE(rb_first(&t) == NULL);
	HT_EXPECT_TRUE(rb_last(&t) == NULL);
	HT_EXPECT_EQ(rb_check(&t), 0);
	rb_propagate(&t, NULL);
	HT_EXPECT_TRUE(t.root == NULL);
}

static void test_single_node(void)
{
	struct rb_tree t;
	struct item it = { .key = 1, .weight = 42, .max_weight = -1, .weight_sum = -1 };

	rb_init(&t, recompute_item);
	tree_insert(&t, &it);
	HT_EXPECT_TRUE(t.root == &it.rb);
	HT_EXPECT_TRUE(!it.rb.red);
	HT_EXPECT_TRUE(it.rb.parent == NULL);
	HT_EXPECT_EQ(rb_check(&t), 1);
	HT_EXPECT_TRUE(rb_first(&t) == &it.rb);
	HT_EXPECT_TRUE(rb_last(&t) == &it.rb);
	HT_EXPECT_TRUE(rb_next(&it.rb) == NULL);
	HT_EXPECT_TRUE(rb_prev(&it.rb) == NULL);
	HT_EXPECT_EQ(it.max_weight, 42);
	HT_EXPECT_EQ(it.weight_sum, 42);

	it.weight = 7;
	rb_propagate(&t, &it.rb);
	HT_EXPECT_EQ(it.max_weight, 7);
	HT_EXPECT_EQ(it.weight_sum, 7);

	rb_remove(&t, &it.rb);
	HT_EXPECT_TRUE(t.root == NULL);
	HT_EXPECT_TRUE(rb_first(&t) == NULL);
	HT_EXPECT_EQ(rb_check(&t), 0);
}

/* Removing whatever is at the root, over and over, empties the tree cleanly. */
static void test_remove_root(void)
{
	struct model *m = &model;

	model_init(m, true, 1);
	for (int key = 0; key < 100; key++)
		model_insert(m, key, key);
	while (m->n > 0) {
		size_t pos = 0;

		while (&m->sorted[pos]->rb != m->tree.root)
			pos++;
		model_remove(m, pos);
		if (!model_check(m))
			return;
	}
	HT_EXPECT_TRUE(m->tree.root == NULL);
}

/* The shapes rb_remove handles differently. */
enum shape {
	LEAF_RED, LEAF_BLACK, ONE_CHILD, TWO_CHILDREN_SUCC_ADJACENT,
	TWO_CHILDREN_SUCC_DEEPER, NSHAPES
};

static enum shape shape_of(const struct rb_node *n)
{
	if (n->left == NULL && n->right == NULL)
		return n->red ? LEAF_RED : LEAF_BLACK;
	if (n->left == NULL || n->right == NULL)
		return ONE_CHILD;
	return n->right->left == NULL ? TWO_CHILDREN_SUCC_ADJACENT
				      : TWO_CHILDREN_SUCC_DEEPER;
}

/*
 * Removes each node in turn from many small trees, rebuilt each time,
 * and expects every shape of removed node to have come up.
 */
static void test_remove_every_node(void)
{
	struct model *m = &model;
	unsigned seen[NSHAPES] = { 0 };

	for (size_t size = 1; size <= 40; size++) {
		for (uint64_t seed = 1; seed <= 5; seed++) {
			for (size_t pos = 0; pos < size; pos++) {
				model_init(m, true, seed * 1000 + size);
				model_fill(m, size, (int)size);
				if (!model_check(m))
					return;
				seen[shape_of(&m->sorted[pos]->rb)]++;
				model_remove(m, pos);
				if (!model_check(m))
					return;
			}
		}
	}
	for (int s = 0; s < NSHAPES; s++)
		HT_EXPECT_TRUE(seen[s] > 0);
}

/* Equal keys come out in insertion order, also after removals among them. */
static void test_duplicate_keys(void)
{
	struct model *m = &model;

	model_init(m, true, 2);
	for (int i = 0; i < 60; i++)
		model_insert(m, i % 3 == 0 ? 5 : (i % 3 == 1 ? 3 : 7), i);
	if (!model_check(m))
		return;
	/* sorted[20..39] are the 5s; take out every other one. */
	for (size_t pos = 20; pos < 30; pos++) {
		HT_EXPECT_EQ(m->sorted[pos]->key, 5);
		model_remove(m, pos);
		if (!model_check(m))
			return;
	}
}

/* Sorted input, the worst case for an unbalanced tree, stays within 2 log2(n + 1). */
static void test_sorted_input_stays_balanced(void)
{
	struct model *m = &model;
	struct rb_tree *t = &m->tree;
	int height = 0;

	model_init(m, true, 3);
	for (int key = 0; key < 1023; key++)
		model_insert(m, key, key);
	if (!model_check(m))
		return;
	for (struct rb_node *n = rb_first(t); n != NULL; n = rb_next(n)) {
		int depth = 1;
		for (const struct rb_node *a = n; a != t->root; a = a->parent)
			depth++;
		height = max_int(height, depth);
	}
	HT_EXPECT_TRUE(height <= 2 * 10);	/* log2(1024) == 10 */
	HT_EXPECT_TRUE(rb_check(t) <= 10);
}

/* Raising and lowering one deep item's weight shows at the root. */
static void test_propagate(void)
{
	struct model *m = &model;
	struct item *root;

	model_init(m, true, 4);
	for (int key = 0; key < 200; key++)
		model_insert(m, key, 10);
	root = item_of(m->tree.root);
	HT_EXPECT_EQ(root->max_weight, 10);

	model_reweigh(m, 0, 500);	/* the leftmost item is deep */
	HT_EXPECT_EQ(root->max_weight, 500);
	model_check(m);

	model_reweigh(m, 0, 1);
	HT_EXPECT_EQ(root->max_weight, 10);
	model_check(m);
}

/* rb_check notices each kind of damage. */
static void test_check_detects_damage(void)
{
	struct model *m = &model;
	struct rb_tree *t = &m->tree;

	model_init(m, true, 5);
	for (int key = 0; key < 100; key++)
		model_insert(m, key, key);
	if (!model_check(m))
		return;

	t->root->red = true;
	HT_EXPECT_EQ(rb_check(t), -1);
	t->root->red = false;

	for (size_t pos = 0; pos < m->n; pos++) {
		struct rb_node *n = &m->sorted[pos]->rb;
		struct rb_node *parent = n->parent;

		/* One colour flip changes a black height or makes red touch red. */
		n->red = !n->red;
		HT_EXPECT_EQ(rb_check(t), -1);
		n->red = !n->red;

		n->parent = n;
		HT_EXPECT_EQ(rb_check(t), -1);
		n->parent = parent;
	}
	HT_EXPECT_TRUE(rb_check(t) > 0);
}

/*
 * rb_check notices a red node with a red child even where the black
 * heights agree: a black root over a red left child, then a red grandchild.
 */
static void test_check_detects_red_red(void)
{
	struct rb_node top = { 0 }, mid = { .red = true }, low = { .red = true };
	struct rb_tree t = { .root = &top };

	top.left = &mid;
	mid.parent = &top;
	HT_EXPECT_EQ(rb_check(&t), 1);

	mid.left = &low;
	low.parent = &mid;
	HT_EXPECT_EQ(rb_check(&t), -1);
}

/* Small trees, checked after every operation: many rebalancing corner cases. */
static void test_random_small_trees(void)
{
	random_run(10, true, 200000, 12, 1);
}

/* A tree of about 2000 items, checked every 50 operations. */
static void test_random_large_tree(void)
{
	random_run(11, true, 200000, 2000, 50);
}

/* With no augmentation (recompute NULL), everything else still holds. */
static void test_random_without_augmentation(void)
{
	random_run(12, false, 50000, 200, 5);
}

static const struct ht_case cases[] = {
	HT_CASE(test_empty_tree),
	HT_CASE(test_single_node),
	HT_CASE(test_remove_root),
	HT_CASE(test_remove_every_node),
	HT_CASE(test_duplicate_keys),
	HT_CASE(test_sorted_input_stays_balanced),
	HT_CASE(test_propagate),
	HT_CASE(test_check_detects_damage),
	HT_CASE(test_check_detects_red_red),
	HT_CASE(test_random_small_trees),
	HT_CASE(test_random_large_tree),
	HT_CASE(test_random_without_augmentation),
};
HT_MAIN("rbtree", cases)
