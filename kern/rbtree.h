/*
 * An intrusive red-black tree with parent pointers and an optional
 * augmentation, after the classic (CLRS) algorithm.
 *
 * The tree never compares keys: the caller walks down with its own
 * comparison to find where a new node goes and links it there with
 * rb_insert_at, as Linux's rbtree does.  That keeps it generic without
 * function-pointer comparisons on the hot path.
 *
 * Augmentation: a node may carry a value computed from itself and its
 * children (vm_map keeps the largest free gap of each subtree, so the
 * gap search is O(log n)).  The tree calls recompute(node) on every node
 * whose children changed, bottom-up, and after rb_propagate(node).
 * recompute returns true when the node's value changed.
 *
 * All operations are O(log n); the tree allocates nothing.
 */
#ifndef MICA_KERN_RBTREE_H
#define MICA_KERN_RBTREE_H

#include <stdbool.h>
#include <stddef.h>

struct rb_node {
	struct rb_node *parent, *left, *right;
	bool red;
};

struct rb_tree {
	struct rb_node *root;
	bool (*recompute)(struct rb_node *n);   /* NULL: no augmentation */
};

#define rb_entry(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))

void rb_init(struct rb_tree *t, bool (*recompute)(struct rb_node *n));

/*
 * Links node as the left (left = true) or right child of parent (NULL for
 * an empty tree), where the caller's search found the empty slot, then
 * rebalances and updates augmented values.
 */
void rb_insert_at(struct rb_tree *t, struct rb_node *parent, bool left, struct rb_node *node);

/* Unlinks node (which must be in t), rebalances and updates augmented values. */
void rb_remove(struct rb_tree *t, struct rb_node *node);

/* After data that node's augmented value depends on changed: recompute up to the root. */
void rb_propagate(struct rb_tree *t, struct rb_node *node);

struct rb_node *rb_first(const struct rb_tree *t);
struct rb_node *rb_last(const struct rb_tree *t);
struct rb_node *rb_next(const struct rb_node *n);
struct rb_node *rb_prev(const struct rb_node *n);

/*
 * Checks every red-black and parent-pointer invariant; returns the black
 * height, or -1 when something is broken (for tests and INVARIANTS builds).
 */
int rb_check(const struct rb_tree *t);

#endif
