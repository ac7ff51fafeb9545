/* tree.h -- an ordered map from 64-bit addresses to blocks, augmented for searches.
** A treap over an index pool: each subtree knows its size and its largest block. */
#ifndef SH_TREE_H
#define SH_TREE_H

#include <stdint.h>

#define SHT_NIL 0u

typedef struct shT_node {
  uint64_t key, size, a, b;    /* size is the searched value; a, b belong to the user */
  uint64_t max;                /* largest size in the subtree */
  uint32_t l, r, prio, cnt;
} shT_node;

typedef struct sh_tree {
  shT_node *n;                 /* n[0] is the nil sentinel */
  uint32_t cap, used, freelist, root;
  uint32_t rng;                /* deterministic priorities: same inputs, same shape */
} sh_tree;

void shT_init(sh_tree *t);
void shT_free(sh_tree *t);
uint32_t shT_count(const sh_tree *t);
/* Insert a key that is not present; returns the node, or SHT_NIL when out of memory. */
uint32_t shT_insert(sh_tree *t, uint64_t key, uint64_t size, uint64_t a, uint64_t b);
int shT_remove(sh_tree *t, uint64_t key);
uint32_t shT_find(const sh_tree *t, uint64_t key);
uint32_t shT_le(const sh_tree *t, uint64_t key);   /* largest key <= key */
uint32_t shT_ge(const sh_tree *t, uint64_t key);   /* smallest key >= key */
/* The lowest-keyed node whose size is >= need; *rank counts the nodes before it. */
uint32_t shT_first_fit(const sh_tree *t, uint64_t need, uint64_t *rank);
/* Largest size in the tree (0 when empty). */
uint64_t shT_max(const sh_tree *t);
/* Change a node's searched size in place. */
void shT_set_size(sh_tree *t, uint64_t key, uint64_t size);
/* In key order; a nonzero return from fn stops the walk and is returned. */
int shT_walk(const sh_tree *t, int (*fn)(void *ud, const shT_node *x), void *ud);

#endif
