/*
 * The map index (vm/vm_map_index.h): a B+tree of page-sized nodes.
 *
 * Shape.  Leaves hold (start, end, entry) for entries in address order;
 * inner nodes hold (key, max gap, child).  Every leaf is at the same
 * depth.  An inner node's key[i], for i >= 1, is a lower bound on every
 * key under child i and lies above every key under child i - 1; key[0]
 * means nothing (an insert below it never updates it), so a search of an
 * inner node starts at slot 1.  Keys are exact when a split makes them
 * and may then fall behind (the least entry under a child removed), which
 * is harmless: a lookup that lands before a leaf's first key takes the
 * entry before that one, from the entry list.
 *
 * Gaps.  The gap before an entry is its start minus the previous entry's
 * end (the map's min for the first: the list header's end).  A node's
 * max_gap is the largest gap before any entry under it, and an inner
 * node's aux[i] repeats child i's, so a first-fit search reads one node a
 * level.  An insert or removal changes the gap before the entry after it,
 * which may sit in the next leaf; both then refresh that leaf's path.
 *
 * Paths.  Nodes have no parent pointers: an operation records its descent
 * (node and slot at each depth, depth 0 the root) and works back up it.
 *
 * Space.  The root is made by the first insert and stays, empty or not,
 * until vm_map_index_destroy.  Any other node that empties is freed, and
 * one left under half full is merged into a neighbour under the same
 * parent when the two fit in three quarters of a node (not in a whole
 * one: a split right after a merge would undo it).  Merging never needs a
 * new node.
 *
 * Locking: => map locked, for every function but vm_map_index_init (see
 * vm/vm_map.h); each asserts it through the map the index is in.
 */
#include "vm/vm_map_index.h"
#include "kern/panic.h"
#include "lib/string.h"
#include "kern/zone.h"
#include "vm/vm_map.h"

#define SLOTS VM_MAP_NODE_SLOTS
#define SLACK 4                  /* a node with fewer free slots is crowded */
#define MAX_HEIGHT 24            /* far above any map the address space can hold */
/* A merge fills a node to three quarters at most, and never crowds it. */
#define MERGE_MAX (SLOTS * 3 / 4 < SLOTS - SLACK ? SLOTS * 3 / 4 : SLOTS - SLACK)

/* Neither half of a split is crowded, so only inserts crowd a node. */
_Static_assert(SLOTS >= 2 * SLACK + 2, "vm_map_index: too few slots a node");

struct path {
	struct vm_map_node *node[MAX_HEIGHT];
	unsigned slot[MAX_HEIGHT];   /* the child followed (inner) or the entry's slot (leaf) */
};

static struct zone node_zone;

/* The map whose index ix is: its lock covers the index. */
static struct vm_map *index_map(const struct vm_map_index *ix)
{
	return (struct vm_map *)((const char *)ix - __builtin_offsetof(struct vm_map, index));
}

#define INDEX_ASSERT_LOCKED(ix) VM_MAP_ASSERT_LOCKED(index_map(ix))
#define INDEX_ASSERT_HELD(ix) VM_MAP_ASSERT_HELD(index_map(ix))

void vm_map_index_bootstrap(void)
{
	zone_init(&node_zone, "vm_map_node", sizeof(struct vm_map_node));
	node_zone.follows_maps = true;
}

void vm_map_index_init(struct vm_map_index *ix, struct vm_map_entry *header)
{
	ix->header = header;
	ix->root = NULL;
	ix->height = 0;
	ix->crowded = 0;
	ix->nodes = 0;
}

static struct vm_map_entry *slot_entry(const struct vm_map_node *n, unsigned i)
{
	return n->ptr[i];
}

/* ------------------------------------------------------------- node memory */

static struct vm_map_node *node_take(struct vm_map_index *ix, struct zone_reserve *r, bool leaf)
{
	struct vm_map_node *n = zone_reserve_take(r);

	KASSERT(n != NULL, "vm_map_index: the node reserve is empty (too few nodes reserved)");
	ix->nodes++;
	n->count = 0;
	n->leaf = leaf;
	n->max_gap = 0;
	return n;
}

static bool is_crowded(unsigned count)
{
	return count > SLOTS - SLACK;
}

/* Every change of a node's count goes through here, to keep ix->crowded right. */
static void set_count(struct vm_map_index *ix, struct vm_map_node *n, unsigned count)
{
	ix->crowded = ix->crowded + is_crowded(count) - is_crowded(n->count);
	n->count = count;
}

static void node_free(struct vm_map_index *ix, struct vm_map_node *n)
{
	set_count(ix, n, 0);
	ix->nodes--;
	zfree(&node_zone, n);
}

/* Frees the empty root a map keeps once it has had an entry. */
void vm_map_index_destroy(struct vm_map_index *ix)
{
	INDEX_ASSERT_LOCKED(ix);
	KASSERT(ix->root == NULL || (ix->root->leaf && ix->root->count == 0),
	        "vm_map_index_destroy: the index still holds entries");
	if (ix->root)
		node_free(ix, ix->root);
	vm_map_index_init(ix, ix->header);
}

/* The nodes n inserts can need (see vm_map_index_reserve). */
static unsigned nodes_needed(const struct vm_map_index *ix, unsigned n)
{
	unsigned need = ix->root ? 0 : 1, height = ix->root ? ix->height : 1, k = n;

	/*
	 * Every node has room for n more keys: no split.  Removals in the
	 * same operation cannot spoil that, as merges crowd no node.
	 */
	if (n == 0 || (ix->crowded == 0 && n <= SLACK))
		return need;
	/*
	 * On each level the new keys fall as two single keys (an operation's
	 * clips) and at most two runs (either side of one stale separator in
	 * a range just emptied).  A run splits a node once, and then again
	 * each time the half it fills is full, every SLOTS / 2 - 1 keys.  Each
	 * split passes one key up; splitting the top level adds a root.
	 */
	for (unsigned level = 0;; level++) {
		unsigned splits = 4 + k / (SLOTS / 2 - 1);
		if (splits > k)
			splits = k;
		need += splits;
		if (level + 1 >= height) {
			need++;
			if (splits + 1 <= SLOTS)
				return need;
		}
		k = splits;
	}
}

bool vm_map_index_reserve(const struct vm_map_index *ix, struct zone_reserve *r, unsigned n)
{
	INDEX_ASSERT_LOCKED(ix);
	return zone_reserve(&node_zone, r, nodes_needed(ix, n));
}

/* ------------------------------------------------------------- slots */

/*
 * The number of n's keys at most addr, counting from slot `from` (a
 * result in [from, count]): in a leaf the slot after addr's floor, in an
 * inner node (from 1) one past the child to follow.
 */
static unsigned keys_at_most(const struct vm_map_node *n, unsigned from, vm_offset_t addr)
{
	unsigned lo = from, hi = n->count;

	while (lo < hi) {
		unsigned mid = (lo + hi) / 2;
		if (n->key[mid] <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Slot shifts are one loop over the three arrays: most move a few slots, or none. */
static void slot_insert(struct vm_map_index *ix, struct vm_map_node *n, unsigned s,
                        vm_offset_t key, vm_offset_t aux, void *ptr)
{
	for (unsigned i = n->count; i > s; i--) {
		n->key[i] = n->key[i - 1];
		n->aux[i] = n->aux[i - 1];
		n->ptr[i] = n->ptr[i - 1];
	}
	n->key[s] = key;
	n->aux[s] = aux;
	n->ptr[s] = ptr;
	set_count(ix, n, n->count + 1);
}

static void slot_remove(struct vm_map_index *ix, struct vm_map_node *n, unsigned s)
{
	for (unsigned i = s + 1; i < n->count; i++) {
		n->key[i - 1] = n->key[i];
		n->aux[i - 1] = n->aux[i];
		n->ptr[i - 1] = n->ptr[i];
	}
	set_count(ix, n, n->count - 1);
}

/* Moves slots [from, count) of src to the end of dst. */
static void slots_move(struct vm_map_index *ix, struct vm_map_node *dst, struct vm_map_node *src,
                       unsigned from)
{
	unsigned move = src->count - from, at = dst->count;

	memcpy(&dst->key[at], &src->key[from], move * sizeof(src->key[0]));
	memcpy(&dst->aux[at], &src->aux[from], move * sizeof(src->aux[0]));
	memcpy(&dst->ptr[at], &src->ptr[from], move * sizeof(src->ptr[0]));
	set_count(ix, dst, at + move);
	set_count(ix, src, from);
}

/* ------------------------------------------------------------- gaps */

static vm_size_t leaf_gap(const struct vm_map_node *n, unsigned i)
{
	vm_offset_t prev_end = i ? n->aux[i - 1] : slot_entry(n, 0)->prev->end;

	return n->key[i] - prev_end;
}

static vm_size_t node_max_gap(const struct vm_map_node *n)
{
	vm_size_t g = 0;

	for (unsigned i = 0; i < n->count; i++) {
		vm_size_t here = n->leaf ? leaf_gap(n, i) : n->aux[i];
		if (here > g)
			g = here;
	}
	return g;
}

/*
 * Recomputes max_gap from depth d of p up to the root, stopping at the
 * first node whose value holds: nothing above it depends on more.
 */
static void fix_gaps(struct path *p, int d)
{
	for (; d >= 0; d--) {
		struct vm_map_node *n = p->node[d];
		vm_size_t g = node_max_gap(n);
		if (g == n->max_gap)
			return;
		n->max_gap = g;
		if (d > 0)
			p->node[d - 1]->aux[p->slot[d - 1]] = g;
	}
}

/* ------------------------------------------------------------- descent */

/*
 * The leaf whose range holds addr (the tree not empty), recording the
 * way down in p (when not NULL) up to the leaf, whose slot it leaves unset.
 *
 *   depth 0 (root) --key[1..]--> ... --> depth height-1 (leaf)
 */
static struct vm_map_node *descend(const struct vm_map_index *ix, vm_offset_t addr, struct path *p)
{
	struct vm_map_node *n = ix->root;
	unsigned d = 0;

	for (; !n->leaf; d++) {
		unsigned s = keys_at_most(n, 1, addr) - 1;
		if (p) {
			p->node[d] = n;
			p->slot[d] = s;
		}
		n = n->ptr[s];
	}
	if (p)
		p->node[d] = n;
	return n;
}

/* The path to e's slot in its leaf; panics when e is not indexed. */
static struct vm_map_node *descend_to_entry(const struct vm_map_index *ix,
                                            const struct vm_map_entry *e, struct path *p)
{
	struct vm_map_node *leaf = descend(ix, e->start, p);
	unsigned k = keys_at_most(leaf, 0, e->start);

	if (k == 0 || leaf->ptr[k - 1] != e)
		panic("vm_map_index: entry %#lx-%#lx is not in the index", e->start, e->end);
	p->slot[ix->height - 1] = k - 1;
	return leaf;
}

/* The gap before x changed: refresh the maxima on its leaf's path. */
static void gap_changed(struct vm_map_index *ix, const struct vm_map_entry *x)
{
	struct path p;

	if (x == ix->header)
		return;                 /* the gap after the last entry is nobody's */
	descend(ix, x->start, &p);
	fix_gaps(&p, (int)ix->height - 1);
}

/* ------------------------------------------------------------- lookup */

void vm_map_index_floor(const struct vm_map_index *ix, vm_offset_t addr, struct vm_map_floor *f)
{
	INDEX_ASSERT_HELD(ix);
	struct vm_map_node *leaf = ix->root ? descend(ix, addr, NULL) : NULL;
	unsigned k = leaf ? keys_at_most(leaf, 0, addr) : 0;

	if (k > 0) {
		*f = (struct vm_map_floor){ leaf->ptr[k - 1], leaf->key[k - 1], leaf->aux[k - 1] };
		return;
	}
	/* below the leaf's first key: a stale separator sent us one leaf on */
	struct vm_map_entry *prev = leaf && leaf->count ? slot_entry(leaf, 0)->prev : ix->header;
	if (prev == ix->header)
		*f = (struct vm_map_floor){ prev, 0, 0 };
	else
		*f = (struct vm_map_floor){ prev, prev->start, prev->end };
}

struct vm_map_entry *vm_map_index_find_gap(const struct vm_map_index *ix, vm_size_t size)
{
	const struct vm_map_node *n = ix->root;

	INDEX_ASSERT_LOCKED(ix);
	if (n == NULL || n->max_gap < size)
		return NULL;
	while (!n->leaf) {
		unsigned i = 0;
		while (n->aux[i] < size)
			i++;
		KASSERT(i < n->count, "vm_map_index_find_gap: max_gap says %lu fits, children disagree", size);
		n = n->ptr[i];
	}
	for (unsigned i = 0; i < n->count; i++)
		if (leaf_gap(n, i) >= size)
			return n->ptr[i];
	panic("vm_map_index_find_gap: max_gap says %lu fits, the leaf disagrees", size);
}

/* ------------------------------------------------------------- insert */

/* A new root over the two halves of the old one.  Nothing above it to fix. */
static void grow(struct vm_map_index *ix, struct vm_map_node *left, struct vm_map_node *right,
                 struct zone_reserve *r)
{
	struct vm_map_node *root = node_take(ix, r, false);

	KASSERT(ix->height < MAX_HEIGHT, "vm_map_index: the tree is %u levels high", ix->height);
	slot_insert(ix, root, 0, left->key[0], left->max_gap, left);
	slot_insert(ix, root, 1, right->key[0], right->max_gap, right);
	root->max_gap = node_max_gap(root);
	ix->root = root;
	ix->height++;
}

/*
 * Puts (key, aux, ptr) at slot p->slot[d] of p->node[d].  A full node
 * splits first, both halves get their max_gap, and the right half goes up
 * into the parent the same way.  It splits in half, except when the key
 * goes after every other (append): then the left keeps all but SLACK
 * slots, so that a map built in address order (a fork, a program laid out
 * page by page) fills its nodes instead of leaving them half empty.
 * Returns the depth from which max_gap must still be recomputed (-1:
 * none): the node that took the last insert without splitting.
 */
static int node_insert(struct vm_map_index *ix, struct path *p, int d, vm_offset_t key,
                       vm_offset_t aux, void *ptr, bool append, struct zone_reserve *r)
{
	struct vm_map_node *n = p->node[d];
	unsigned s = p->slot[d], keep = append ? SLOTS - SLACK : SLOTS / 2;

	if (n->count < SLOTS) {
		slot_insert(ix, n, s, key, aux, ptr);
		return d;
	}
	struct vm_map_node *right = node_take(ix, r, n->leaf);
	slots_move(ix, right, n, keep);
	if (s <= keep)
		slot_insert(ix, n, s, key, aux, ptr);
	else
		slot_insert(ix, right, s - keep, key, aux, ptr);
	n->max_gap = node_max_gap(n);
	right->max_gap = node_max_gap(right);
	if (d == 0) {
		grow(ix, n, right, r);
		return -1;
	}
	p->node[d - 1]->aux[p->slot[d - 1]] = n->max_gap;
	p->slot[d - 1]++;                  /* right goes just after n */
	return node_insert(ix, p, d - 1, right->key[0], right->max_gap, right, append, r);
}

void vm_map_index_insert(struct vm_map_index *ix, struct vm_map_entry *e, struct zone_reserve *r)
{
	struct path p;

	INDEX_ASSERT_LOCKED(ix);
	if (ix->root == NULL) {
		ix->root = node_take(ix, r, true);
		ix->height = 1;
	}
	int leaf_depth = (int)ix->height - 1;
	struct vm_map_node *leaf = descend(ix, e->start, &p);
	unsigned s = keys_at_most(leaf, 0, e->start);
	KASSERT(s == 0 || leaf->key[s - 1] < e->start, "vm_map_index_insert: %#lx is indexed", e->start);
	p.slot[leaf_depth] = s;
	bool next_elsewhere = s == leaf->count;    /* e->next, whose gap shrank, is in a later leaf */
	bool append = e->next == ix->header;
	fix_gaps(&p, node_insert(ix, &p, leaf_depth, e->start, e->end, e, append, r));
	if (next_elsewhere)
		gap_changed(ix, e->next);
}

/* ------------------------------------------------------------- remove */

/*
 * Folds slot i + 1 of parent into slot i when the two children fit in
 * three quarters of a node; frees the right one.  True when it did.
 */
static bool merge_children(struct vm_map_index *ix, struct vm_map_node *parent, unsigned i)
{
	struct vm_map_node *left = parent->ptr[i], *right = parent->ptr[i + 1];

	if (left->count + right->count > MERGE_MAX)
		return false;
	if (!right->leaf)
		right->key[0] = parent->key[i + 1];   /* becomes a separator in left: make it one */
	slots_move(ix, left, right, 0);
	left->max_gap = node_max_gap(left);
	parent->aux[i] = left->max_gap;
	slot_remove(ix, parent, i + 1);
	node_free(ix, right);
	return true;
}

/*
 * After a slot of p->node[d] went: frees the node if it is empty, or
 * merges it with a neighbour if it is under half full, and goes on up
 * while that leaves the parent short.  Returns the depth from which
 * max_gap must be recomputed; p stays right down to that depth.
 */
static int rebalance(struct vm_map_index *ix, struct path *p, int d)
{
	for (; d > 0; d--) {
		struct vm_map_node *n = p->node[d], *parent = p->node[d - 1];
		unsigned s = p->slot[d - 1];
		if (n->count == 0) {
			node_free(ix, n);
			slot_remove(ix, parent, s);
		} else if (n->count >= SLOTS / 2 ||
		           !((s > 0 && merge_children(ix, parent, s - 1)) ||
		             (s + 1u < parent->count && merge_children(ix, parent, s)))) {
			return d;
		}
	}
	return 0;
}

/* While the root is an inner node with one child, the child becomes the root. */
static void shrink(struct vm_map_index *ix)
{
	while (!ix->root->leaf && ix->root->count == 1) {
		struct vm_map_node *old = ix->root;
		ix->root = old->ptr[0];
		ix->height--;
		node_free(ix, old);
	}
}

void vm_map_index_remove(struct vm_map_index *ix, struct vm_map_entry *e)
{
	INDEX_ASSERT_LOCKED(ix);
	struct path p;
	int leaf_depth = (int)ix->height - 1;
	struct vm_map_node *leaf = descend_to_entry(ix, e, &p);
	unsigned s = p.slot[leaf_depth];
	bool next_elsewhere = s == leaf->count - 1u;   /* e->next, whose gap grew, is in a later leaf */

	slot_remove(ix, leaf, s);
	fix_gaps(&p, rebalance(ix, &p, leaf_depth));
	shrink(ix);
	if (next_elsewhere)
		gap_changed(ix, e->next);
}

void vm_map_index_end_changed(struct vm_map_index *ix, struct vm_map_entry *e)
{
	INDEX_ASSERT_LOCKED(ix);
	struct path p;
	int leaf_depth = (int)ix->height - 1;
	struct vm_map_node *leaf = descend_to_entry(ix, e, &p);
	unsigned s = p.slot[leaf_depth];

	leaf->aux[s] = e->end;
	fix_gaps(&p, leaf_depth);
	if (s == leaf->count - 1u)
		gap_changed(ix, e->next);
}

/* ------------------------------------------------------------- checks */

struct check {
	const struct vm_map_index *ix;
	const struct vm_map_entry *next;   /* the entry the next leaf slot must hold */
	unsigned crowded, nodes;
};

/* Checks the subtree at n, at depth d, whose keys must lie in [lo, hi). */
static const char *check_node(struct check *c, const struct vm_map_node *n, unsigned d,
                              vm_offset_t lo, vm_offset_t hi)
{
	if (n->count == 0 || n->count > SLOTS)
		return "an index node is empty or overfull";
	if (n->leaf != (d == c->ix->height - 1))
		return "the index's leaves are not all at the bottom";
	c->crowded += is_crowded(n->count);
	c->nodes++;
	for (unsigned i = 0; i < n->count; i++) {
		if (n->leaf) {
			const struct vm_map_entry *e = n->ptr[i];
			if (e != c->next)
				return "the index's leaves and the entry list disagree";
			if (n->key[i] != e->start || n->aux[i] != e->end)
				return "an index leaf's copy of an entry's range is stale";
			if (e->start < lo || e->start >= hi)
				return "an entry lies outside its index separators";
			c->next = e->next;
			continue;
		}
		const struct vm_map_node *child = n->ptr[i];
		vm_offset_t clo = i ? n->key[i] : lo, chi = i + 1 < n->count ? n->key[i + 1] : hi;
		if (clo < lo || chi > hi || clo >= chi)
			return "index separators are out of order";
		const char *wrong = check_node(c, child, d + 1, clo, chi);
		if (wrong)
			return wrong;
		if (n->aux[i] != child->max_gap)
			return "an index node's copy of a child's max_gap is stale";
	}
	return n->max_gap == node_max_gap(n) ? NULL : "an index max_gap is stale";
}

const char *vm_map_index_check(const struct vm_map_index *ix)
{
	const struct vm_map_entry *header = ix->header;
	struct check c = { ix, header->next, 0, 0 };
	const char *wrong = NULL;

	INDEX_ASSERT_LOCKED(ix);
	if (ix->root == NULL || ix->root->count == 0)
		return header->next == header && ix->crowded == 0 && ix->nodes == (ix->root != NULL) ?
		       NULL : "the index is empty, the map is not";
	wrong = check_node(&c, ix->root, 0, 0, ~0ul);
	if (wrong == NULL && c.next != header)
		wrong = "the index misses entries at the end of the list";
	if (wrong == NULL && c.crowded != ix->crowded)
		wrong = "the index's count of crowded nodes is wrong";
	if (wrong == NULL && c.nodes != ix->nodes)
		wrong = "the index's count of nodes is wrong";
	return wrong;
}
