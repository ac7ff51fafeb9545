/* tree.h -- an ordered map of blocks, augmented for searches: a B+tree of sorted 31-entry nodes.
** Each child of an inner node carries its entry count and largest size; keys may be (key, a) pairs. */
#ifndef SH_TREE_H
#define SH_TREE_H

#include <stdint.h>

/* One entry, copied in and out: the tree hands out no references into itself. */
typedef struct shT_node {
  uint64_t key, size, a, b;    /* size is the searched value; in a composite tree a
                                  breaks ties between equal keys, else a, b are the user's */
} shT_node;

struct shT_leaf;
struct shT_inner;

#define SHT_MAXH 40            /* far above any height 2^32 entries can reach */

typedef struct sh_tree {
  struct shT_leaf *lf;         /* node pools, linked by index, aligned inside */
  struct shT_inner *in;
  void *lraw, *iraw;           /* the blocks holding them */
  uint32_t lcap, lused, lfree, nlfree;
  uint32_t icap, iused, ifree, nifree;
  uint32_t root, height, count;/* height 0: the root is a leaf */
  uint32_t stamp;              /* changes with every change: spots go stale */
  int composite;               /* order by (key, a) rather than key alone */
  int unsized;                 /* sizes are never searched: no maxima kept */
} sh_tree;

void shT_init(sh_tree *t);
void shT_init2(sh_tree *t);    /* a composite tree */
/* A tree that keeps no maximum size: cheaper updates, but shT_max,
** shT_first_fit and shT_first_fit_from must not be asked of it. */
void shT_init_unsized(sh_tree *t);
void shT_free(sh_tree *t);
uint32_t shT_count(const sh_tree *t);
/* Insert a key that is not present; 0, or -1 when out of memory (the tree unchanged). */
int shT_insert(sh_tree *t, uint64_t key, uint64_t size, uint64_t a, uint64_t b);
/* Insert [key, key + size) unless it meets an entry's [key, key + size): 0
** when inserted, 1 with the first entry it meets in *clash, -1 out of memory. */
int shT_insert_span(sh_tree *t, uint64_t key, uint64_t size, uint64_t a, uint64_t b,
                    shT_node *clash);
int shT_remove(sh_tree *t, uint64_t key);
int shT_remove2(sh_tree *t, uint64_t key, uint64_t a);
/* Remove the last entry at or before key when its a is a: 1 with it in *out, else 0. */
int shT_take_le(sh_tree *t, uint64_t key, uint64_t a, shT_node *out);
/* Queries return 1 and copy the entry to *out (out may be NULL), or return 0. */
int shT_find(const sh_tree *t, uint64_t key, shT_node *out);
int shT_find2(const sh_tree *t, uint64_t key, uint64_t a, shT_node *out);
int shT_le(const sh_tree *t, uint64_t key, shT_node *out);   /* largest key <= key */
int shT_ge(const sh_tree *t, uint64_t key, shT_node *out);   /* smallest key >= key */
int shT_ge2(const sh_tree *t, uint64_t key, uint64_t a, shT_node *out);
/* The last entry before (key, a) into *before (bit 1 of the answer) and the
** first at or after it into *after (bit 2), in one descent. */
int shT_around(const sh_tree *t, uint64_t key, uint64_t a, shT_node *before, shT_node *after);
/* How many entries order before (key, a). */
uint64_t shT_rank2(const sh_tree *t, uint64_t key, uint64_t a);
/* The first entry in order whose size is >= need; *rank counts the entries before it. */
int shT_first_fit(const sh_tree *t, uint64_t need, uint64_t *rank, shT_node *out);
/* The same among the entries at or after (key, a). */
int shT_first_fit_from(const sh_tree *t, uint64_t key, uint64_t a, uint64_t need,
                       uint64_t *rank, shT_node *out);
/* The entry at position i (0-based) in order. */
int shT_at(const sh_tree *t, uint64_t i, shT_node *out);
/* Largest size in the tree (0 when empty). */
uint64_t shT_max(const sh_tree *t);
/* Where a search found an entry, so changing that entry needs no second
** descent; it goes stale when the tree changes, and a stale spot only
** costs the descent it would have saved. */
typedef struct shT_spot {
  const struct sh_tree *tree;  /* the tree it was found in, NULL for none */
  uint32_t node[SHT_MAXH], idx[SHT_MAXH], leaf, j, stamp;
} shT_spot;
int shT_first_fit_spot(const sh_tree *t, uint64_t need, uint64_t *rank, shT_node *out,
                       shT_spot *sp);
/* shT_update and shT_remove2 of entry (key, a), found through sp when sp
** (which may be NULL) is fresh and names it. */
int shT_update_spot(sh_tree *t, const shT_spot *sp, uint64_t key, uint64_t a,
                    const shT_node *nv);
int shT_remove_spot(sh_tree *t, const shT_spot *sp, uint64_t key, uint64_t a);
/* Give entry (key, a) new contents (key, size, a, b from nv) without moving
** it: the caller guarantees the new key keeps the entry's place in order. */
int shT_update(sh_tree *t, uint64_t key, uint64_t a, const shT_node *nv);
/* Change the searched size of entry (key, 0) in place. */
void shT_set_size(sh_tree *t, uint64_t key, uint64_t size);
/* In order; a nonzero return from fn stops the walk and is returned. fn must
** not change the tree. */
int shT_walk(const sh_tree *t, int (*fn)(void *ud, const shT_node *x), void *ud);
/* 0 when every node's order, fill and summaries hold (for tests). */
int shT_check(const sh_tree *t);

#endif
