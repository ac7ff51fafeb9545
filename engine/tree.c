/* tree.c -- a B+tree keyed by address (or (key, a)) whose inner nodes know each child's count and maximum.
** A first fit over a million free blocks runs in O(log n), a few cache lines per level, and still tells how many it passed. */
#include <stdlib.h>
#include <string.h>
#include "tree.h"

#define LB 31                  /* entries per leaf: with the count, the keys fill four cache lines */
#define IB 31                  /* children per inner node */
#define NODE 1024              /* bytes a node takes, aligned to cache lines */
#define NONE UINT32_MAX
#define MAXH SHT_MAXH

/* A node with fewer than FEW entries after a removal borrows from or merges
** with a neighbour; merging only below MERGE leaves room on both sides, so an
** insert and a remove at the same place do not split and merge by turns. */
#define FEW(cap) ((cap) * 2 / 5)
#define MERGE(cap) ((cap) * 3 / 4)

/* A search reads n and key[] first: they share the node's first two lines. */
struct shT_leaf {
  uint32_t n;                  /* entries; on the free chain, the next free leaf */
  uint64_t key[LB], size[LB], a[LB], b[LB];
  char pad[NODE - 8 - 32 * LB];
};

struct shT_inner {
  uint32_t n;                  /* children; on the free chain, the next free node */
  uint64_t key[IB];            /* each child's first entry: separators that stay exact */
  uint32_t kid[IB], cnt[IB];
  uint64_t a[IB];
  uint64_t max[IB];            /* each child's largest size */
  char pad[NODE - 8 - 32 * IB];
};

_Static_assert(sizeof(struct shT_leaf) == NODE && sizeof(struct shT_inner) == NODE,
               "nodes fill whole cache lines");

/* The way down to a leaf: the child taken in each inner node, root first. */
typedef struct path {
  uint32_t node[MAXH], idx[MAXH];
  uint64_t base[MAXH + 1];     /* entries ordered before the subtree at each depth (ranked) */
  uint32_t leaf;
} path;

void shT_init(sh_tree *t) {
  memset(t, 0, sizeof *t);
  t->lfree = t->ifree = NONE;
}

void shT_init2(sh_tree *t) {
  shT_init(t);
  t->composite = 1;
}

void shT_init_unsized(sh_tree *t) {
  shT_init(t);
  t->unsized = 1;
}

void shT_free(sh_tree *t) {
  int c = t->composite, u = t->unsized;
  free(t->lraw);
  free(t->iraw);
  shT_init(t);
  t->composite = c;
  t->unsized = u;
}

uint32_t shT_count(const sh_tree *t) {
  return t->count;
}

/* ---- order ---- */

static int lt2(const sh_tree *t, uint64_t k1, uint64_t a1, uint64_t k2, uint64_t a2) {
  return k1 < k2 || (k1 == k2 && t->composite && a1 < a2);
}

/* Down to the leaf that holds (key, a) if present: in each node the last
** child whose first entry is <= (key, a). Every entry left of the path
** orders before (key, a), every entry right of it after. */
static uint32_t descend(const sh_tree *t, uint64_t key, uint64_t a, path *p) {
  uint32_t x = t->root, d;
  for (d = 0; d < t->height; d++) {
    const struct shT_inner *in = &t->in[x];
    uint32_t i, c = 0, n = in->n;
    /* keys are sorted, so counting those <= (key, a) finds the child; the
    ** count has no branch to mispredict, where a scan stopping early has one */
    if (t->composite)
      for (i = 1; i < n; i++)
        c += (in->key[i] < key) | ((in->key[i] == key) & (in->a[i] <= a));
    else
      for (i = 1; i < n; i++) c += in->key[i] <= key;
    p->node[d] = x;
    p->idx[d] = c;
    x = in->kid[c];
  }
  return p->leaf = x;
}

/* Fill p->base: only ranks need the counts, so only they read them. */
static void rank_path(const sh_tree *t, path *p) {
  uint32_t d, i;
  uint64_t r = 0;
  for (d = 0; d < t->height; d++) {
    const struct shT_inner *in = &t->in[p->node[d]];
    p->base[d] = r;
    for (i = 0; i < p->idx[d]; i++) r += in->cnt[i];
  }
  p->base[d] = r;
}

/* Entries of leaf l before (key, a), and those at or before it (counted, as
** descend counts). */
static uint32_t lower(const sh_tree *t, const struct shT_leaf *l, uint64_t key, uint64_t a) {
  uint32_t j, c = 0, n = l->n;
  if (t->composite)
    for (j = 0; j < n; j++) c += (l->key[j] < key) | ((l->key[j] == key) & (l->a[j] < a));
  else
    for (j = 0; j < n; j++) c += l->key[j] < key;
  return c;
}

static uint32_t upper(const sh_tree *t, const struct shT_leaf *l, uint64_t key, uint64_t a) {
  uint32_t j, c = 0, n = l->n;
  if (t->composite)
    for (j = 0; j < n; j++) c += (l->key[j] < key) | ((l->key[j] == key) & (l->a[j] <= a));
  else
    for (j = 0; j < n; j++) c += l->key[j] <= key;
  return c;
}

static int get(const struct shT_leaf *l, uint32_t j, shT_node *out) {
  if (out) {
    out->key = l->key[j];
    out->size = l->size[j];
    out->a = l->a[j];
    out->b = l->b[j];
  }
  return 1;
}

/* Move p to the leaf after its own; 0 at the last. */
static int next_leaf(const sh_tree *t, path *p) {
  uint32_t d = t->height, e, x;
  while (d-- > 0) {
    const struct shT_inner *in = &t->in[p->node[d]];
    if (p->idx[d] + 1 < in->n) {
      x = in->kid[++p->idx[d]];
      for (e = d + 1; e < t->height; e++) {
        p->node[e] = x;
        p->idx[e] = 0;
        x = t->in[x].kid[0];
      }
      p->leaf = x;
      return 1;
    }
  }
  return 0;
}

/* Move p to the leaf before its own; 0 at the first. */
static int prev_leaf(const sh_tree *t, path *p) {
  uint32_t d = t->height, e, x;
  while (d-- > 0) {
    if (p->idx[d] > 0) {
      x = t->in[p->node[d]].kid[--p->idx[d]];
      for (e = d + 1; e < t->height; e++) {
        p->node[e] = x;
        p->idx[e] = t->in[x].n - 1;
        x = t->in[x].kid[p->idx[e]];
      }
      p->leaf = x;
      return 1;
    }
  }
  return 0;
}

/* ---- queries ---- */

/* Where (key, a) is or would go: its leaf in p, its index in the leaf. */
static uint32_t seek(const sh_tree *t, uint64_t key, uint64_t a, path *p) {
  return lower(t, &t->lf[descend(t, key, a, p)], key, a);
}

static int at_seek(const sh_tree *t, uint64_t key, uint64_t a, path *p, uint32_t *j) {
  const struct shT_leaf *l;
  if (t->count == 0) return 0;
  *j = seek(t, key, a, p);
  l = &t->lf[p->leaf];
  return *j < l->n && l->key[*j] == key && (!t->composite || l->a[*j] == a);
}

int shT_find2(const sh_tree *t, uint64_t key, uint64_t a, shT_node *out) {
  path p;
  uint32_t j;
  return at_seek(t, key, a, &p, &j) ? get(&t->lf[p.leaf], j, out) : 0;
}

int shT_find(const sh_tree *t, uint64_t key, shT_node *out) {
  return shT_find2(t, key, 0, out);
}

int shT_le(const sh_tree *t, uint64_t key, shT_node *out) {
  path p;
  uint32_t j;
  if (t->count == 0) return 0;
  /* (key, max) follows every entry with this key; none left of the path
  ** can be the answer, so an empty prefix of this leaf means there is none */
  j = upper(t, &t->lf[descend(t, key, UINT64_MAX, &p)], key, UINT64_MAX);
  return j > 0 ? get(&t->lf[p.leaf], j - 1, out) : 0;
}

int shT_ge2(const sh_tree *t, uint64_t key, uint64_t a, shT_node *out) {
  path p;
  uint32_t j;
  if (t->count == 0) return 0;
  j = seek(t, key, a, &p);
  if (j < t->lf[p.leaf].n) return get(&t->lf[p.leaf], j, out);
  return next_leaf(t, &p) ? get(&t->lf[p.leaf], 0, out) : 0;
}

int shT_ge(const sh_tree *t, uint64_t key, shT_node *out) {
  return shT_ge2(t, key, 0, out);     /* (key, 0) precedes every entry with this key */
}

/* The neighbours of a place j in p's leaf: the entry before it and the one
** at it, either of which may sit in the next leaf over. */
static int neighbours(const sh_tree *t, const path *p, uint32_t j, shT_node *before,
                      shT_node *after) {
  const struct shT_leaf *l = &t->lf[p->leaf];
  int got = 0;
  path q;
  if (j > 0) got |= get(l, j - 1, before);
  else if ((q = *p, prev_leaf(t, &q))) got |= get(&t->lf[q.leaf], t->lf[q.leaf].n - 1, before);
  if (j < l->n) got |= 2 * get(l, j, after);
  else if ((q = *p, next_leaf(t, &q))) got |= 2 * get(&t->lf[q.leaf], 0, after);
  return got;
}

int shT_around(const sh_tree *t, uint64_t key, uint64_t a, shT_node *before, shT_node *after) {
  path p;
  uint32_t j;
  if (t->count == 0) return 0;
  j = seek(t, key, a, &p);
  return neighbours(t, &p, j, before, after);
}

uint64_t shT_rank2(const sh_tree *t, uint64_t key, uint64_t a) {
  path p;
  uint32_t j;
  if (t->count == 0) return 0;
  j = seek(t, key, a, &p);
  rank_path(t, &p);
  return p.base[t->height] + j;
}

int shT_at(const sh_tree *t, uint64_t i, shT_node *out) {
  uint32_t x = t->root, d, c;
  if (i >= t->count) return 0;
  for (d = 0; d < t->height; d++) {
    const struct shT_inner *in = &t->in[x];
    for (c = 0; c + 1 < in->n && i >= in->cnt[c]; c++) i -= in->cnt[c];
    x = in->kid[c];
  }
  return get(&t->lf[x], (uint32_t)i, out);
}

uint64_t shT_max(const sh_tree *t) {
  uint64_t m = 0;
  uint32_t i;
  if (t->count == 0) return 0;
  if (t->height == 0) {
    const struct shT_leaf *l = &t->lf[t->root];
    for (i = 0; i < l->n; i++) if (l->size[i] > m) m = l->size[i];
  } else {
    const struct shT_inner *in = &t->in[t->root];
    for (i = 0; i < in->n; i++) if (in->max[i] > m) m = in->max[i];
  }
  return m;
}

/* The leftmost fitting entry of subtree x at depth d, whose maximum fits;
** r counts the entries ordered before the subtree. */
static int fit_down(const sh_tree *t, uint32_t x, uint32_t d, uint64_t need, uint64_t r,
                    uint64_t *rank, shT_node *out, shT_spot *sp) {
  const struct shT_leaf *l;
  uint32_t i;
  for (; d < t->height; d++) {
    const struct shT_inner *in = &t->in[x];
    for (i = 0; i + 1 < in->n && in->max[i] < need; i++) r += in->cnt[i];
    if (sp) { sp->node[d] = x; sp->idx[d] = i; }
    x = in->kid[i];
  }
  l = &t->lf[x];
  for (i = 0; i + 1 < l->n && l->size[i] < need; i++) {}
  if (rank) *rank = r + i;
  if (sp) { sp->tree = t; sp->leaf = x; sp->j = i; sp->stamp = t->stamp; }
  return get(l, i, out);
}

int shT_first_fit(const sh_tree *t, uint64_t need, uint64_t *rank, shT_node *out) {
  return shT_first_fit_spot(t, need, rank, out, NULL);
}

int shT_first_fit_spot(const sh_tree *t, uint64_t need, uint64_t *rank, shT_node *out,
                       shT_spot *sp) {
  if (sp) sp->tree = NULL;
  if (t->count == 0 || shT_max(t) < need) return 0;
  return fit_down(t, t->root, 0, need, 0, rank, out, sp);
}

int shT_first_fit_from(const sh_tree *t, uint64_t key, uint64_t a, uint64_t need,
                       uint64_t *rank, shT_node *out) {
  path p;
  const struct shT_leaf *l;
  uint32_t j, d, c;
  if (t->count == 0) return 0;
  j = seek(t, key, a, &p);
  rank_path(t, &p);
  l = &t->lf[p.leaf];
  for (; j < l->n; j++)
    if (l->size[j] >= need) {
      if (rank) *rank = p.base[t->height] + j;
      return get(l, j, out);
    }
  /* then the subtrees right of the path, nearest (deepest) first */
  for (d = t->height; d-- > 0;) {
    const struct shT_inner *in = &t->in[p.node[d]];
    uint64_t r = p.base[d];
    for (c = 0; c <= p.idx[d]; c++) r += in->cnt[c];
    for (; c < in->n; c++) {
      if (in->max[c] >= need) return fit_down(t, in->kid[c], d + 1, need, r, rank, out, NULL);
      r += in->cnt[c];
    }
  }
  return 0;
}

/* ---- node pools ---- */

/* Pools grow by half (not double: less idle memory) and stay aligned to
** cache lines. realloc, not a fresh block: a large pool is moved by
** remapping its pages, without a copy; the nodes move only when the
** block's alignment changed. */
static void *grow(void **raw, void *nodes, uint32_t *cap, uint32_t need) {
  uint64_t c = (uint64_t)*cap + *cap / 8 + 1;
  size_t was = nodes ? (size_t)((char *)nodes - (char *)*raw) : 0, now;
  char *nv;
  if (c < need) c = need;
  if (c >= NONE) c = NONE - 1;
  if (c < need || c > (SIZE_MAX - 64) / NODE) return NULL;
  if ((nv = realloc(*raw, (size_t)c * NODE + 64)) == NULL) return NULL;
  now = (size_t)(-(uintptr_t)nv & 63);
  if (now != was) memmove(nv + now, nv + was, (size_t)*cap * NODE);
  *raw = nv;
  *cap = (uint32_t)c;
  return nv + now;
}

/* Room for one more leaf and ni more inner nodes, so a split never fails halfway. */
static int reserve(sh_tree *t, uint32_t ni) {
  if (t->nlfree == 0 && t->lused == t->lcap) {
    struct shT_leaf *l = grow(&t->lraw, t->lf, &t->lcap, t->lused + 1);
    if (l == NULL) return -1;
    t->lf = l;
  }
  if (t->nifree + (t->icap - t->iused) < ni) {
    struct shT_inner *in = grow(&t->iraw, t->in, &t->icap, t->iused + ni);
    if (in == NULL) return -1;
    t->in = in;
  }
  return 0;
}

static uint32_t new_leaf(sh_tree *t) {
  uint32_t x = t->lfree;
  if (x == NONE) x = t->lused++;
  else { t->lfree = t->lf[x].n; t->nlfree--; }
  t->lf[x].n = 0;
  return x;
}

static uint32_t new_inner(sh_tree *t) {
  uint32_t x = t->ifree;
  if (x == NONE) x = t->iused++;
  else { t->ifree = t->in[x].n; t->nifree--; }
  t->in[x].n = 0;
  return x;
}

static void free_leaf(sh_tree *t, uint32_t x) {
  t->lf[x].n = t->lfree;
  t->lfree = x;
  t->nlfree++;
}

static void free_inner(sh_tree *t, uint32_t x) {
  t->in[x].n = t->ifree;
  t->ifree = x;
  t->nifree++;
}

/* ---- moving entries and children ---- */

static void lmove(struct shT_leaf *d, uint32_t dj, const struct shT_leaf *s, uint32_t sj,
                  uint32_t n) {
  memmove(&d->key[dj], &s->key[sj], n * sizeof d->key[0]);
  memmove(&d->size[dj], &s->size[sj], n * sizeof d->size[0]);
  memmove(&d->a[dj], &s->a[sj], n * sizeof d->a[0]);
  memmove(&d->b[dj], &s->b[sj], n * sizeof d->b[0]);
}

static void imove(struct shT_inner *d, uint32_t di, const struct shT_inner *s, uint32_t si,
                  uint32_t n) {
  memmove(&d->key[di], &s->key[si], n * sizeof d->key[0]);
  memmove(&d->a[di], &s->a[si], n * sizeof d->a[0]);
  memmove(&d->max[di], &s->max[si], n * sizeof d->max[0]);
  memmove(&d->cnt[di], &s->cnt[si], n * sizeof d->cnt[0]);
  memmove(&d->kid[di], &s->kid[si], n * sizeof d->kid[0]);
}

/* Largest size in node x at depth d. */
static uint64_t max_of(const sh_tree *t, uint32_t x, uint32_t d) {
  uint64_t m = 0;
  uint32_t j;
  if (t->unsized) return 0;
  if (d == t->height) {
    const struct shT_leaf *l = &t->lf[x];
    for (j = 0; j < l->n; j++) if (l->size[j] > m) m = l->size[j];
  } else {
    const struct shT_inner *in = &t->in[x];
    for (j = 0; j < in->n; j++) if (in->max[j] > m) m = in->max[j];
  }
  return m;
}

/* Copy child i's first entry into inner node in, whose children are at depth d. */
static void first_of(const sh_tree *t, struct shT_inner *in, uint32_t i, uint32_t d) {
  if (d == t->height) {
    in->key[i] = t->lf[in->kid[i]].key[0];
    in->a[i] = t->lf[in->kid[i]].a[0];
  } else {
    in->key[i] = t->in[in->kid[i]].key[0];
    in->a[i] = t->in[in->kid[i]].a[0];
  }
}

/* Recompute what inner node x says of its child i, at depth d + 1. */
static void refresh(sh_tree *t, uint32_t x, uint32_t i, uint32_t d) {
  struct shT_inner *in = &t->in[x];
  uint32_t j, kid = in->kid[i];
  uint64_t c = 0;
  if (d + 1 == t->height) {
    c = t->lf[kid].n;
  } else {
    for (j = 0; j < t->in[kid].n; j++) c += t->in[kid].cnt[j];
  }
  first_of(t, in, i, d + 1);
  in->max[i] = max_of(t, kid, d + 1);
  in->cnt[i] = (uint32_t)c;
}

/* The summaries along the path, after one entry of the
** leaf (at index j) changed: the count by dc, a size from was to now (gone:
** removed). A maximum is rescanned only when it may have shrunk, and no
** higher than the first level where it stays what it was. */
static void retell(sh_tree *t, const path *p, uint32_t j, int dc, uint64_t was, uint64_t now,
                   int gone) {
  int first = j == 0, sized = !t->unsized;
  uint32_t d = t->height;
  while (d-- > 0) {
    struct shT_inner *in = &t->in[p->node[d]];
    uint32_t i = p->idx[d];
    in->cnt[i] += (uint32_t)dc;
    if (sized) {
      uint64_t old = in->max[i];
      if (!gone && now >= old) in->max[i] = now;
      else if (was == old) in->max[i] = max_of(t, in->kid[i], d + 1);
      sized = in->max[i] != old;
    }
    if (first) first_of(t, in, i, d + 1);
    first = first && i == 0;
  }
}

/* ---- insertion ---- */

/* Children of inner node x at depth d: y goes in after child i; when x is
** full it splits, keeping s children, and the new right half is returned. */
static uint32_t put_child(sh_tree *t, uint32_t x, uint32_t i, uint32_t y, uint32_t d, int edge) {
  struct shT_inner *in = &t->in[x], *z;
  uint32_t zx, s, k;
  if (in->n < IB) {
    imove(in, i + 2, in, i + 1, in->n - i - 1);
    in->kid[i + 1] = y;
    in->n++;
    refresh(t, x, i + 1, d);
    return NONE;
  }
  /* appending at the right edge of the tree: fill nodes, as ascending keys do */
  s = edge && i + 1 == IB ? IB : (IB + 1) / 2;
  zx = new_inner(t);
  in = &t->in[x];
  z = &t->in[zx];
  if (i + 1 < s) {
    imove(z, 0, in, s - 1, IB - s + 1);
    z->n = IB - s + 1;
    in->n = s - 1;
    imove(in, i + 2, in, i + 1, in->n - i - 1);
    in->kid[i + 1] = y;
    in->n++;
    refresh(t, x, i + 1, d);
  } else {
    imove(z, 0, in, s, IB - s);
    z->n = IB - s;
    in->n = s;
    k = i + 1 - s;
    imove(z, k + 1, z, k, z->n - k);
    z->kid[k] = y;
    z->n++;
    refresh(t, zx, k, d);
  }
  return zx;
}

/* A root to insert into, and room in the path; 0, or -1 out of memory. */
static int ready(sh_tree *t) {
  if (t->lused == 0) {
    if (reserve(t, 0) != 0) return -1;
    t->root = new_leaf(t);
    t->height = 0;
  }
  return t->height + 1 >= MAXH ? -1 : 0;    /* unreachable in 2^32 entries; paths stay in bounds */
}

/* The entry goes in at j of a leaf with room. */
static void put(sh_tree *t, struct shT_leaf *l, uint32_t j, uint64_t key, uint64_t size,
                uint64_t a, uint64_t b) {
  lmove(l, j + 1, l, j, l->n - j);
  l->key[j] = key;
  l->size[j] = size;
  l->a[j] = a;
  l->b[j] = b;
  l->n++;
  t->count++;
}

/* A full leaf passes entries to a sibling with room rather than split, so
** leaves stay fuller (a B*-tree's rule): nodes are most of a record's host
** memory. On success p and *j name where the new entry goes, *sib the
** other leaf that changed (both children of the path's last inner node). */
static int spill(sh_tree *t, path *p, uint32_t *j, uint32_t *sib) {
  uint32_t h = t->height - 1, i = p->idx[h], k, was;
  const struct shT_inner *in = &t->in[p->node[h]];
  struct shT_leaf *l = &t->lf[p->leaf], *s;
  if (i + 1 < in->n && t->lf[in->kid[i + 1]].n < LB - 1) {
    s = &t->lf[in->kid[i + 1]];
    k = (LB - s->n + 1) / 2;
    lmove(s, k, s, 0, s->n);
    lmove(s, 0, l, l->n - k, k);
    s->n += k;
    l->n -= k;
    *sib = i + 1;
    if (*j > l->n) {
      *j -= l->n;
      p->idx[h] = i + 1;
      p->leaf = in->kid[i + 1];
      *sib = i;
    }
    return 1;
  }
  if (i > 0 && t->lf[in->kid[i - 1]].n < LB - 1) {
    s = &t->lf[in->kid[i - 1]];
    k = (LB - s->n + 1) / 2;
    was = s->n;
    lmove(s, was, l, 0, k);
    lmove(l, 0, l, k, l->n - k);
    s->n += k;
    l->n -= k;
    *sib = i - 1;
    if (*j <= k) {
      *j += was;
      p->idx[h] = i - 1;
      p->leaf = in->kid[i - 1];
      *sib = i;
    } else {
      *j -= k;
    }
    return 1;
  }
  return 0;
}

/* Put an entry at place j of p's leaf, splitting nodes up the path as needed. */
static int insert_at(sh_tree *t, path *p, uint32_t j, uint64_t key, uint64_t size, uint64_t a,
                     uint64_t b) {
  struct shT_leaf *l, *r;
  uint32_t s, y = NONE, d, x, sib;
  int edge[MAXH + 1];
  t->stamp++;
  x = p->leaf;
  edge[0] = 1;
  for (d = 0; d < t->height; d++)
    edge[d + 1] = edge[d] && p->idx[d] + 1 == t->in[p->node[d]].n;
  if (t->lf[x].n == LB && t->height > 0 && !(edge[t->height] && j == LB) &&
      spill(t, p, &j, &sib)) {
    put(t, &t->lf[p->leaf], j, key, size, a, b);
    d = t->height - 1;
    refresh(t, p->node[d], sib, d);
    for (d = t->height; d-- > 0;) refresh(t, p->node[d], p->idx[d], d);
    return 0;
  }
  if (t->lf[x].n == LB && reserve(t, t->height + 1) != 0) return -1;
  l = &t->lf[x];
  if (l->n == LB) {
    s = edge[t->height] && j == LB ? LB : (LB + 1) / 2;
    y = new_leaf(t);
    l = &t->lf[x];
    r = &t->lf[y];
    if (j < s) {
      lmove(r, 0, l, s - 1, LB - s + 1);
      r->n = LB - s + 1;
      l->n = s - 1;
    } else {
      lmove(r, 0, l, s, LB - s);
      r->n = LB - s;
      l->n = s;
      j -= s;
      l = r;
    }
  }
  put(t, l, j, key, size, a, b);
  if (y == NONE) {
    retell(t, p, j, 1, 0, size, 0);
    return 0;
  }
  for (d = t->height; d-- > 0;) {
    refresh(t, p->node[d], p->idx[d], d);
    if (y != NONE) y = put_child(t, p->node[d], p->idx[d], y, d, edge[d]);
  }
  if (y != NONE) {             /* the root split: a new root above both halves */
    uint32_t nr = new_inner(t);
    struct shT_inner *in = &t->in[nr];
    in->kid[0] = t->root;
    in->kid[1] = y;
    in->n = 2;
    t->root = nr;
    t->height++;
    refresh(t, nr, 0, 0);
    refresh(t, nr, 1, 0);
  }
  return 0;
}

int shT_insert(sh_tree *t, uint64_t key, uint64_t size, uint64_t a, uint64_t b) {
  path p;
  uint32_t j;
  if (ready(t) != 0) return -1;
  j = seek(t, key, a, &p);
  return insert_at(t, &p, j, key, size, a, b);
}

/* One descent both checks and inserts: a heap's record of live blocks does
** this on every allocation. */
int shT_insert_span(sh_tree *t, uint64_t key, uint64_t size, uint64_t a, uint64_t b,
                    shT_node *clash) {
  path p;
  shT_node x, y;
  uint32_t j;
  int got;
  if (ready(t) != 0) return -1;
  j = seek(t, key, 0, &p);
  got = neighbours(t, &p, j, &x, &y);
  if ((got & 1) && x.key + x.size > key) { if (clash) *clash = x; return 1; }
  if ((got & 2) && y.key < key + size) { if (clash) *clash = y; return 1; }
  return insert_at(t, &p, j, key, size, a, b);
}

/* ---- removal ---- */

/* Nodes at depth d, leaves or inner nodes alike. */
static uint32_t size_of(const sh_tree *t, uint32_t x, uint32_t d) {
  return d == t->height ? t->lf[x].n : t->in[x].n;
}

static void set_size(sh_tree *t, uint32_t x, uint32_t d, uint32_t n) {
  if (d == t->height) t->lf[x].n = n; else t->in[x].n = n;
}

static void nmove(sh_tree *t, uint32_t d, uint32_t dx, uint32_t dj, uint32_t sx, uint32_t sj,
                  uint32_t n) {
  if (d == t->height) lmove(&t->lf[dx], dj, &t->lf[sx], sj, n);
  else imove(&t->in[dx], dj, &t->in[sx], sj, n);
}

static void free_node(sh_tree *t, uint32_t x, uint32_t d) {
  if (d == t->height) free_leaf(t, x); else free_inner(t, x);
}

/* Children i and i + 1 of inner node x (at depth d + 1) share their
** entries evenly, or become one when they are few. */
static void rebalance(sh_tree *t, uint32_t x, uint32_t i, uint32_t d) {
  struct shT_inner *in = &t->in[x];
  uint32_t lx = in->kid[i], rx = in->kid[i + 1], ln, rn, want, k;
  ln = size_of(t, lx, d + 1);
  rn = size_of(t, rx, d + 1);
  if (ln + rn <= MERGE(d + 1 == t->height ? LB : IB)) {
    nmove(t, d + 1, lx, ln, rx, 0, rn);
    set_size(t, lx, d + 1, ln + rn);
    free_node(t, rx, d + 1);
    imove(in, i + 1, in, i + 2, in->n - i - 2);
    in->n--;
    refresh(t, x, i, d);
    return;
  }
  want = (ln + rn) / 2;
  if (ln < want) {
    k = want - ln;
    nmove(t, d + 1, lx, ln, rx, 0, k);
    nmove(t, d + 1, rx, 0, rx, k, rn - k);
  } else {
    k = ln - want;
    nmove(t, d + 1, rx, k, rx, 0, rn);
    nmove(t, d + 1, rx, 0, lx, want, k);
  }
  set_size(t, lx, d + 1, want);
  set_size(t, rx, d + 1, ln + rn - want);
  refresh(t, x, i, d);
  refresh(t, x, i + 1, d);
}

static void clear(sh_tree *t) {   /* keep the pools, drop every node */
  t->lfree = t->ifree = NONE;
  t->nlfree = t->nifree = 0;
  t->lused = t->iused = 0;
  t->root = new_leaf(t);
  t->height = 0;
}

/* Take entry j out of p's leaf, merging or rebalancing nodes up the path. */
static void remove_at(sh_tree *t, path *p, uint32_t j) {
  struct shT_leaf *l = &t->lf[p->leaf];
  uint32_t d;
  uint64_t was;
  t->stamp++;
  was = l->size[j];
  lmove(l, j, l, j + 1, l->n - j - 1);
  l->n--;
  if (--t->count == 0) {
    clear(t);
    return;
  }
  if (t->height == 0 || (l->n > 0 && (l->n >= FEW(LB) || t->in[p->node[t->height - 1]].n == 1))) {
    retell(t, p, j, -1, was, 0, 1);   /* no node changes shape */
    return;
  }
  for (d = t->height; d-- > 0;) {
    uint32_t x = p->node[d], i = p->idx[d], c = t->in[x].kid[i];
    struct shT_inner *in = &t->in[x];
    uint32_t n = size_of(t, c, d + 1);
    if (n == 0) {              /* an emptied child leaves; its parent may follow */
      free_node(t, c, d + 1);
      imove(in, i, in, i + 1, in->n - i - 1);
      in->n--;
    } else if (n < FEW(d + 1 == t->height ? LB : IB) && in->n > 1) {
      rebalance(t, x, i > 0 ? i - 1 : i, d);
    } else {
      refresh(t, x, i, d);
    }
  }
  while (t->height > 0 && t->in[t->root].n == 1) {
    uint32_t old = t->root;
    t->root = t->in[old].kid[0];
    free_inner(t, old);
    t->height--;
  }
}

int shT_remove2(sh_tree *t, uint64_t key, uint64_t a) {
  return shT_remove_spot(t, NULL, key, a);
}

int shT_take_le(sh_tree *t, uint64_t key, uint64_t a, shT_node *out) {
  path p;
  uint32_t j;
  if (t->count == 0) return 0;
  j = upper(t, &t->lf[descend(t, key, UINT64_MAX, &p)], key, UINT64_MAX);
  if (j == 0 || t->lf[p.leaf].a[j - 1] != a) return 0;
  get(&t->lf[p.leaf], j - 1, out);
  remove_at(t, &p, j - 1);
  return 1;
}

int shT_remove(sh_tree *t, uint64_t key) {
  return shT_remove2(t, key, 0);
}

/* ---- changes in place ---- */

/* The path a spot names, when it is fresh and names entry (key, a). */
static int from_spot(const sh_tree *t, const shT_spot *sp, uint64_t key, uint64_t a, path *p,
                     uint32_t *j) {
  const struct shT_leaf *l;
  uint32_t d;
  if (sp == NULL || sp->tree != t || sp->stamp != t->stamp || t->count == 0) return 0;
  l = &t->lf[sp->leaf];
  if (sp->j >= l->n || l->key[sp->j] != key || (t->composite && l->a[sp->j] != a)) return 0;
  for (d = 0; d < t->height; d++) {
    p->node[d] = sp->node[d];
    p->idx[d] = sp->idx[d];
  }
  p->leaf = sp->leaf;
  *j = sp->j;
  return 1;
}

static void update_at(sh_tree *t, const path *p, uint32_t j, const shT_node *nv) {
  struct shT_leaf *l = &t->lf[p->leaf];
  uint64_t was = l->size[j];
  t->stamp++;
  l->key[j] = nv->key;
  l->size[j] = nv->size;
  l->a[j] = nv->a;
  l->b[j] = nv->b;
  retell(t, p, j, 0, was, nv->size, 0);
}

int shT_update(sh_tree *t, uint64_t key, uint64_t a, const shT_node *nv) {
  return shT_update_spot(t, NULL, key, a, nv);
}

int shT_update_spot(sh_tree *t, const shT_spot *sp, uint64_t key, uint64_t a,
                    const shT_node *nv) {
  path p;
  uint32_t j;
  if (!from_spot(t, sp, key, a, &p, &j) && !at_seek(t, key, a, &p, &j)) return 0;
  update_at(t, &p, j, nv);
  return 1;
}

int shT_remove_spot(sh_tree *t, const shT_spot *sp, uint64_t key, uint64_t a) {
  path p;
  uint32_t j;
  if (!from_spot(t, sp, key, a, &p, &j) && !at_seek(t, key, a, &p, &j)) return 0;
  remove_at(t, &p, j);
  return 1;
}

void shT_set_size(sh_tree *t, uint64_t key, uint64_t size) {
  path p;
  uint32_t j;
  uint64_t was;
  if (!at_seek(t, key, 0, &p, &j)) return;
  was = t->lf[p.leaf].size[j];
  t->stamp++;
  t->lf[p.leaf].size[j] = size;
  retell(t, &p, j, 0, was, size, 0);
}

/* ---- walking ---- */

static int walk(const sh_tree *t, uint32_t x, uint32_t d,
                int (*fn)(void *, const shT_node *), void *ud) {
  uint32_t i;
  int rc;
  if (d == t->height) {
    const struct shT_leaf *l = &t->lf[x];
    shT_node e;
    for (i = 0; i < l->n; i++) {
      get(l, i, &e);
      if ((rc = fn(ud, &e)) != 0) return rc;
    }
    return 0;
  }
  for (i = 0; i < t->in[x].n; i++)
    if ((rc = walk(t, t->in[x].kid[i], d + 1, fn, ud)) != 0) return rc;
  return 0;
}

int shT_walk(const sh_tree *t, int (*fn)(void *, const shT_node *), void *ud) {
  return t->count ? walk(t, t->root, 0, fn, ud) : 0;
}

/* ---- self-check, for tests ---- */

typedef struct chk { uint64_t key, a, max, cnt; int have_last; uint64_t lk, la; } chk;

/* Subtree x at depth d: entries in order, and the summary its parent must hold. */
static int check(const sh_tree *t, uint32_t x, uint32_t d, chk *c, int root) {
  uint32_t i;
  if (d == t->height) {
    const struct shT_leaf *l = &t->lf[x];
    if (l->n > LB || (l->n == 0 && !root)) return -1;
    c->cnt = l->n;
    c->max = 0;
    for (i = 0; i < l->n; i++) {
      if (c->have_last && !lt2(t, c->lk, c->la, l->key[i], l->a[i])) return -1;
      c->have_last = 1;
      c->lk = l->key[i];
      c->la = l->a[i];
      if (l->size[i] > c->max) c->max = l->size[i];
    }
    if (l->n) { c->key = l->key[0]; c->a = l->a[0]; }
    return 0;
  } else {
    const struct shT_inner *in = &t->in[x];
    uint64_t cnt = 0, max = 0, key = 0, a = 0;
    if (in->n == 0 || in->n > IB || (root && in->n < 2)) return -1;
    for (i = 0; i < in->n; i++) {
      if (check(t, in->kid[i], d + 1, c, 0) != 0) return -1;
      if (c->cnt == 0 || c->cnt != in->cnt[i] || (!t->unsized && c->max != in->max[i]) ||
          c->key != in->key[i] || c->a != in->a[i]) return -1;
      if (i == 0) { key = c->key; a = c->a; }
      cnt += c->cnt;
      if (c->max > max) max = c->max;
    }
    c->cnt = cnt;
    c->max = max;
    c->key = key;
    c->a = a;
    return 0;
  }
}

int shT_check(const sh_tree *t) {
  chk c;
  memset(&c, 0, sizeof c);
  if (t->lused == 0) return t->count == 0 ? 0 : -1;
  if (check(t, t->root, 0, &c, 1) != 0) return -1;
  return c.cnt == t->count ? 0 : -1;
}
