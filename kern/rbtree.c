/*
 * The red-black tree; kern/rbtree.h states the interface.
 *
 * The algorithms are CLRS's, with NULL in place of the sentinel leaf, so
 * the removal fix-up carries the parent of its "extra black" position
 * alongside the position itself (which may be NULL).
 *
 * Left and right cases are mirror images.  Rather than write each twice,
 * the code names nodes by their relation to one another: rotate_up lifts
 * a node above its parent whichever side it is on, and the fix-ups speak
 * of a sibling's "near" and "far" children.
 *
 * Augmented values are kept correct in two steps.  A link or an unlink
 * first updates the values on the path above the change, while the tree
 * is still a correct binary tree (though perhaps unbalanced).  The
 * rebalancing that follows changes the tree only by rotations, and each
 * rotation recomputes the two nodes it moves; a rotated subtree holds the
 * same nodes as before, so nothing above it changes.
 */
#include "kern/rbtree.h"

/*
 * No valid tree is deeper than this: a red-black tree of n nodes is at
 * most 2 log2(n + 1) deep, and n < 2^63.  rb_check refuses deeper trees
 * rather than recurse off the end of a kernel stack.
 */
#define RB_MAX_DEPTH 128

/* NULL leaves are black. */
static bool is_red(const struct rb_node *n)
{
	return n != NULL && n->red;
}

/* Whether n, which must have a parent, is its parent's left child. */
static bool is_left(const struct rb_node *n)
{
	return n == n->parent->left;
}

/* The leftmost node of the subtree at n, which must not be NULL. */
static struct rb_node *leftmost(struct rb_node *n)
{
	while (n->left != NULL)
		n = n->left;
	return n;
}

/* The rightmost node of the subtree at n, which must not be NULL. */
static struct rb_node *rightmost(struct rb_node *n)
{
	while (n->right != NULL)
		n = n->right;
	return n;
}

/*
 * Puts new (which may be NULL) where old is in old's parent, or at the
 * root.  Old's own pointers are left alone: the callers still need them.
 */
static void replace_child(struct rb_tree *t, struct rb_node *old, struct rb_node *new)
{
	struct rb_node *p = old->parent;

	if (p == NULL)
		t->root = new;
	else if (p->left == old)
		p->left = new;
	else
		p->right = new;
	if (new != NULL)
		new->parent = p;
}

/* Recomputes n's augmented value, if the tree has any. */
static void augment(struct rb_tree *t, struct rb_node *n)
{
	if (t->recompute != NULL)
		t->recompute(n);
}

/*
 * Recomputes every node from n (which may be NULL) up to the root.
 * Removal needs the whole walk: it can move a node up into the removed
 * node's place, so a value can change above a node whose own did not.
 */
static void augment_to_root(struct rb_tree *t, struct rb_node *n)
{
	for (; n != NULL; n = n->parent)
		augment(t, n);
}

/*
 * Lifts n above its parent p: n takes p's place, p becomes n's child on
 * the other side, and n's inner child moves across to p.  The in-order
 * sequence is unchanged, and so is the augmented value at the top of the
 * rotated subtree, since it holds the same nodes; only p and n, in that
 * order (p is now the lower), need recomputing.
 */
static void rotate_up(struct rb_tree *t, struct rb_node *n)
{
	struct rb_node *p = n->parent;
	struct rb_node *inner;

	if (is_left(n)) {
		inner = n->right;
		p->left = inner;
		n->right = p;
	} else {
		inner = n->left;
		p->right = inner;
		n->left = p;
	}
	if (inner != NULL)
		inner->parent = p;
	replace_child(t, p, n);
	p->parent = n;
	augment(t, p);
	augment(t, n);
}

void rb_init(struct rb_tree *t, bool (*recompute)(struct rb_node *n))
{
	t->root = NULL;
	t->recompute = recompute;
}

/*
 * Restores the red-black properties after the red node n was linked as a
 * leaf.  The only possible fault is n red under a red parent; each step
 * either fixes it with at most two rotations or pushes it two levels up.
 */
static void insert_fixup(struct rb_tree *t, struct rb_node *n)
{
	struct rb_node *p;

	while ((p = n->parent) != NULL && p->red) {
		/* p is red, so it is not the root: the grandparent exists. */
		struct rb_node *g = p->parent;
		struct rb_node *uncle = is_left(p) ? g->right : g->left;

		if (is_red(uncle)) {
			/* Move g's black down to both its children; g may now clash above. */
			p->red = false;
			uncle->red = false;
			g->red = true;
			n = g;
			continue;
		}
		if (is_left(n) != is_left(p)) {
			/* n is an inner grandchild: make it the outer one. */
			rotate_up(t, n);
			n = p;
			p = n->parent;
		}
		/* n is an outer grandchild: lift p above g and swap their colours. */
		p->red = false;
		g->red = true;
		rotate_up(t, p);
	}
	t->root->red = false;
}

void rb_insert_at(struct rb_tree *t, struct rb_node *parent, bool left, struct rb_node *node)
{
	node->parent = parent;
	node->left = NULL;
	node->right = NULL;
	node->red = true;
	if (parent == NULL)
		t->root = node;
	else if (left)
		parent->left = node;
	else
		parent->right = node;

	/*
	 * node's value is new, so it is computed whatever recompute says, and
	 * so is parent's, whose children changed; above that, a node whose
	 * value did not change leaves its ancestors as they were.
	 */
	augment(t, node);
	rb_propagate(t, parent);
	insert_fixup(t, node);
}

/*
 * Restores the red-black properties after a black node was unlinked from
 * under parent, leaving x (possibly NULL) in its place with one black too
 * few on every path through it.  Each step either fixes the shortage
 * with at most three rotations or moves it one level up.
 */
static void remove_fixup(struct rb_tree *t, struct rb_node *x, struct rb_node *parent)
{
	while (parent != NULL && !is_red(x)) {
		/*
		 * The sibling's side has at least one black node more than x's,
		 * so the sibling exists; hence when x is NULL, parent's NULL
		 * child is x's slot and the test below still finds x's side.
		 */
		bool x_left = x == parent->left;
		struct rb_node *sib = x_left ? parent->right : parent->left;

		if (sib->red) {
			/* Make the sibling black: lift it, then take the new one. */
			sib->red = false;
			parent->red = true;
			rotate_up(t, sib);
			sib = x_left ? parent->right : parent->left;
		}

		struct rb_node *near = x_left ? sib->left : sib->right;
		struct rb_node *far = x_left ? sib->right : sib->left;

		if (!is_red(near) && !is_red(far)) {
			/* Take a black from both sides: the shortage moves to parent. */
			sib->red = true;
			x = parent;
			parent = x->parent;
			continue;
		}
		if (!is_red(far)) {
			/* Only near is red: rotate it into the sibling's place. */
			near->red = false;
			sib->red = true;
			rotate_up(t, near);
			far = sib;
			sib = near;
		}
		/*
		 * far is red: lifting the sibling gives x's side an extra black
		 * ancestor, and far turns black to keep the other side's count.
		 */
		sib->red = parent->red;
		parent->red = false;
		far->red = false;
		rotate_up(t, sib);
		return;
	}
	if (x != NULL)
		x->red = false;
}

void rb_remove(struct rb_tree *t, struct rb_node *node)
{
	struct rb_node *x;		/* takes the place of the unlinked node */
	struct rb_node *x_parent;	/* the lowest node whose children changed */
	bool removed_black;

	if (node->left == NULL || node->right == NULL) {
		x = node->left != NULL ? node->left : node->right;
		x_parent = node->parent;
		removed_black = !node->red;
		replace_child(t, node, x);
	} else {
		/*
		 * Two children: the successor, which has no left child, leaves
		 * its own place and takes node's, colour included, so the black
		 * that goes missing is the successor's.
		 */
		struct rb_node *succ = leftmost(node->right);

		x = succ->right;
		removed_black = !succ->red;
		if (succ->parent == node) {
			x_parent = succ;
		} else {
			x_parent = succ->parent;
			replace_child(t, succ, x);
			succ->right = node->right;
			succ->right->parent = succ;
		}
		replace_child(t, node, succ);
		succ->left = node->left;
		succ->left->parent = succ;
		succ->red = node->red;
	}

	augment_to_root(t, x_parent);
	if (removed_black)
		remove_fixup(t, x, x_parent);
}

/*
 * Once a node's value comes out unchanged, its ancestors, which were
 * computed from it, are still right, so the walk stops there.
 */
void rb_propagate(struct rb_tree *t, struct rb_node *node)
{
	if (t->recompute == NULL)
		return;
	while (node != NULL && t->recompute(node))
		node = node->parent;
}

struct rb_node *rb_first(const struct rb_tree *t)
{
	return t->root != NULL ? leftmost(t->root) : NULL;
}

struct rb_node *rb_last(const struct rb_tree *t)
{
	return t->root != NULL ? rightmost(t->root) : NULL;
}

/* The next node is the leftmost on the right, or the first ancestor we are left of. */
struct rb_node *rb_next(const struct rb_node *n)
{
	if (n->right != NULL)
		return leftmost(n->right);
	struct rb_node *p = n->parent;
	while (p != NULL && n == p->right) {
		n = p;
		p = p->parent;
	}
	return p;
}

/* The mirror image of rb_next. */
struct rb_node *rb_prev(const struct rb_node *n)
{
	if (n->left != NULL)
		return rightmost(n->left);
	struct rb_node *p = n->parent;
	while (p != NULL && n == p->left) {
		n = p;
		p = p->parent;
	}
	return p;
}

/*
 * Checks the subtree at n, whose parent should be parent and which lies
 * depth levels below the root; returns its black height (NULL leaves
 * count 0), or -1 if it breaks an invariant.  Each node's parent pointer
 * is checked before its children are visited, so a cycle among the child
 * pointers is caught before it can make this recurse forever.
 */
static int check_subtree(const struct rb_node *n, const struct rb_node *parent, int depth)
{
	if (n == NULL)
		return 0;
	if (n->parent != parent || depth > RB_MAX_DEPTH)
		return -1;
	if (n->red && (is_red(n->left) || is_red(n->right)))
		return -1;

	int left = check_subtree(n->left, n, depth + 1);
	int right = check_subtree(n->right, n, depth + 1);

	if (left < 0 || left != right)
		return -1;
	return left + !n->red;
}

int rb_check(const struct rb_tree *t)
{
	if (is_red(t->root))
		return -1;
	return check_subtree(t->root, NULL, 0);
}
