/* tree.h -- an ordered map of blocks, augmented for searches: a treap over an index pool.
** Each subtree knows its node count and its largest size; keys may be (key, a) pairs. */
#ifndef SH_TREE_H
#define SH_TREE_H

#include <stdint.h>

#define SHT_NIL 0u

typedef struct shT_node {
  uint64_t key, size, a, b;    /* size is the searched value; in a composite tree a
                                  breaks ties between equal keys, else a, b are the user's */
  uint64_t max;                /* largest size in the subtree */
  uint32_t l, r, prio, cnt;
} shT_node;

typedef struct sh_tree {
  shT_node *n;                 /* n[0] is the nil sentinel */
  uint32_t cap, used, freelist, root;
  uint32_t rng;                /* deterministic priorities: same inputs, same shape */
  int composite;               /* order by (key, a) rather than key alone */
} sh_tree;

void shT_init(sh_tree *t);
void shT_init2(sh_tree *t);    /* a composite tree */
void shT_free(sh_tree *t);
uint32_t shT_count(const sh_tree *t);
/* Insert a key that is not present; returns the node, or SHT_NIL when out of memory. */
uint32_t shT_insert(sh_tree *t, uint64_t key, uint64_t size, uint64_t a, uint64_t b);
int shT_remove(sh_tree *t, uint64_t key);
int shT_remove2(sh_tree *t, uint64_t key, uint64_t a);
uint32_t shT_find(const sh_tree *t, uint64_t key);
uint32_t shT_find2(const sh_tree *t, uint64_t key, uint64_t a);
uint32_t shT_le(const sh_tree *t, uint64_t key);   /* largest key <= key */
uint32_t shT_ge(const sh_tree *t, uint64_t key);   /* smallest key >= key */
uint32_t shT_ge2(const sh_tree *t, uint64_t key, uint64_t a);
/* How many nodes order before (key, a). */
uint64_t shT_rank2(const sh_tree *t, uint64_t key, uint64_t a);
/* The first node in order whose size is >= need; *rank counts the nodes before it. */
uint32_t shT_first_fit(const sh_tree *t, uint64_t need, uint64_t *rank);
/* The same among the nodes at or after (key, a). */
uint32_t shT_first_fit_from(const sh_tree *t, uint64_t key, uint64_t a, uint64_t need,
                            uint64_t *rank);
/* The node at position i (0-based) in order, or SHT_NIL. */
uint32_t shT_at(const sh_tree *t, uint64_t i);
/* Largest size in the tree (0 when empty). */
uint64_t shT_max(const sh_tree *t);
/* Give node (key, a) new contents (key, size, a, b from nv) without moving
** it: the caller guarantees the new key keeps the node's place in order. */
int shT_update(sh_tree *t, uint64_t key, uint64_t a, const shT_node *nv);
/* Change a node's searched size in place. */
void shT_set_size(sh_tree *t, uint64_t key, uint64_t size);
/* In order; a nonzero return from fn stops the walk and is returned. */
int shT_walk(const sh_tree *t, int (*fn)(void *ud, const shT_node *x), void *ud);

#endif
