/* tree.c -- treap keyed by address with subtree counts and maxima.
** Lets a first-fit search over a million free blocks run in O(log n) and still tell how many it passed. */
#include <stdlib.h>
#include <string.h>
#include "tree.h"

#define N(t, i) ((t)->n[i])

void shT_init(sh_tree *t) {
  memset(t, 0, sizeof *t);
  t->rng = 0x9e3779b9u;
}

void shT_init2(sh_tree *t) {
  shT_init(t);
  t->composite = 1;
}

void shT_free(sh_tree *t) {
  int c = t->composite;
  free(t->n);
  shT_init(t);
  t->composite = c;
}

/* Does node x order before (key, a)? */
static int before(const sh_tree *t, uint32_t x, uint64_t key, uint64_t a) {
  const shT_node *p = &t->n[x];
  return p->key < key || (t->composite && p->key == key && p->a < a);
}

static int same(const sh_tree *t, uint32_t x, uint64_t key, uint64_t a) {
  return t->n[x].key == key && (!t->composite || t->n[x].a == a);
}

uint32_t shT_count(const sh_tree *t) {
  return t->n ? N(t, t->root).cnt : 0;
}

static uint32_t nextprio(sh_tree *t) {  /* xorshift32: cheap and reproducible */
  uint32_t x = t->rng;
  x ^= x << 13; x ^= x >> 17; x ^= x << 5;
  return t->rng = x;
}

static void pull(sh_tree *t, uint32_t x) {
  shT_node *p = &N(t, x);
  uint64_t m = p->size;
  if (N(t, p->l).max > m) m = N(t, p->l).max;
  if (N(t, p->r).max > m) m = N(t, p->r).max;
  p->max = m;
  p->cnt = 1 + N(t, p->l).cnt + N(t, p->r).cnt;
}

static uint32_t merge(sh_tree *t, uint32_t a, uint32_t b) {
  if (a == SHT_NIL) return b;
  if (b == SHT_NIL) return a;
  if (N(t, a).prio > N(t, b).prio) {
    N(t, a).r = merge(t, N(t, a).r, b);
    pull(t, a);
    return a;
  }
  N(t, b).l = merge(t, a, N(t, b).l);
  pull(t, b);
  return b;
}

static uint32_t newnode(sh_tree *t) {
  uint32_t i;
  if (t->freelist != SHT_NIL) {
    i = t->freelist;
    t->freelist = N(t, i).l;
    return i;
  }
  if (t->n == NULL || t->used == t->cap) {
    uint32_t cap = t->cap ? t->cap * 2 : 64;
    shT_node *n;
    if (cap <= t->cap) return SHT_NIL;
    n = realloc(t->n, (size_t)cap * sizeof *n);
    if (n == NULL) return SHT_NIL;
    if (t->n == NULL) { memset(&n[0], 0, sizeof n[0]); t->used = 1; }
    t->n = n;
    t->cap = cap;
  }
  return t->used++;
}

/* Insert by descent, rotating the new node up while its priority wins:
** one pass down and up the path, where split-and-merge would take three. */
static uint32_t ins(sh_tree *t, uint32_t x, uint32_t nw) {
  uint32_t y;
  if (x == SHT_NIL) return nw;
  if (before(t, x, N(t, nw).key, N(t, nw).a)) {
    N(t, x).r = ins(t, N(t, x).r, nw);
    if (N(t, N(t, x).r).prio > N(t, x).prio) {
      y = N(t, x).r;
      N(t, x).r = N(t, y).l;
      N(t, y).l = x;
      pull(t, x);
      pull(t, y);
      return y;
    }
  } else {
    N(t, x).l = ins(t, N(t, x).l, nw);
    if (N(t, N(t, x).l).prio > N(t, x).prio) {
      y = N(t, x).l;
      N(t, x).l = N(t, y).r;
      N(t, y).r = x;
      pull(t, x);
      pull(t, y);
      return y;
    }
  }
  pull(t, x);
  return x;
}

uint32_t shT_insert(sh_tree *t, uint64_t key, uint64_t size, uint64_t a, uint64_t b) {
  uint32_t x = newnode(t);
  shT_node *p;
  if (x == SHT_NIL) return SHT_NIL;
  p = &N(t, x);
  p->key = key; p->size = size; p->a = a; p->b = b;
  p->l = p->r = SHT_NIL;
  p->prio = nextprio(t);
  pull(t, x);
  t->root = ins(t, t->root, x);
  return x;
}

static uint32_t erase(sh_tree *t, uint32_t x, uint64_t key, uint64_t a, uint32_t *gone) {
  if (x == SHT_NIL) return SHT_NIL;
  if (same(t, x, key, a)) {
    *gone = x;
    return merge(t, N(t, x).l, N(t, x).r);
  }
  if (before(t, x, key, a)) N(t, x).r = erase(t, N(t, x).r, key, a, gone);
  else N(t, x).l = erase(t, N(t, x).l, key, a, gone);
  pull(t, x);
  return x;
}

int shT_remove2(sh_tree *t, uint64_t key, uint64_t a) {
  uint32_t gone = SHT_NIL;
  if (t->n == NULL) return 0;
  t->root = erase(t, t->root, key, a, &gone);
  if (gone == SHT_NIL) return 0;
  N(t, gone).l = t->freelist;
  t->freelist = gone;
  return 1;
}

int shT_remove(sh_tree *t, uint64_t key) {
  return shT_remove2(t, key, 0);
}

uint32_t shT_find2(const sh_tree *t, uint64_t key, uint64_t a) {
  uint32_t x = t->n ? t->root : SHT_NIL;
  while (x != SHT_NIL && !same(t, x, key, a))
    x = before(t, x, key, a) ? N(t, x).r : N(t, x).l;
  return x;
}

uint32_t shT_find(const sh_tree *t, uint64_t key) {
  return shT_find2(t, key, 0);
}

uint32_t shT_le(const sh_tree *t, uint64_t key) {
  uint32_t x = t->n ? t->root : SHT_NIL, best = SHT_NIL;
  while (x != SHT_NIL) {
    if (N(t, x).key <= key) { best = x; x = N(t, x).r; }
    else x = N(t, x).l;
  }
  return best;
}

uint32_t shT_ge(const sh_tree *t, uint64_t key) {
  uint32_t x = t->n ? t->root : SHT_NIL, best = SHT_NIL;
  while (x != SHT_NIL) {
    if (N(t, x).key >= key) { best = x; x = N(t, x).l; }
    else x = N(t, x).r;
  }
  return best;
}

uint32_t shT_ge2(const sh_tree *t, uint64_t key, uint64_t a) {
  uint32_t x = t->n ? t->root : SHT_NIL, best = SHT_NIL;
  while (x != SHT_NIL) {
    if (!before(t, x, key, a)) { best = x; x = N(t, x).l; }
    else x = N(t, x).r;
  }
  return best;
}

uint64_t shT_rank2(const sh_tree *t, uint64_t key, uint64_t a) {
  uint32_t x = t->n ? t->root : SHT_NIL;
  uint64_t r = 0;
  while (x != SHT_NIL) {
    if (before(t, x, key, a)) { r += N(t, N(t, x).l).cnt + 1; x = N(t, x).r; }
    else x = N(t, x).l;
  }
  return r;
}

uint32_t shT_at(const sh_tree *t, uint64_t i) {
  uint32_t x = t->n ? t->root : SHT_NIL;
  while (x != SHT_NIL) {
    uint64_t l = N(t, N(t, x).l).cnt;
    if (i < l) x = N(t, x).l;
    else if (i == l) return x;
    else { i -= l + 1; x = N(t, x).r; }
  }
  return SHT_NIL;
}

/* The leftmost fitting node of subtree x (whose max is known to fit). */
static uint32_t leftmost_fit(const sh_tree *t, uint32_t x, uint64_t need, uint64_t *before_n) {
  for (;;) {
    uint32_t l = N(t, x).l;
    if (l != SHT_NIL && N(t, l).max >= need) { x = l; continue; }
    *before_n += N(t, l).cnt;
    if (N(t, x).size >= need) return x;
    *before_n += 1;
    x = N(t, x).r;
  }
}

uint32_t shT_first_fit_from(const sh_tree *t, uint64_t key, uint64_t a, uint64_t need,
                            uint64_t *rank) {
  /* Walk down toward (key, a); right subtrees hanging off the path, nearest
  ** first, and the path's own nodes are the candidates at or after it. */
  uint32_t path[128], x = t->n ? t->root : SHT_NIL;
  uint64_t ranks[128], r = 0;
  int k = 0;
  while (x != SHT_NIL && k < 128) {
    if (before(t, x, key, a)) { r += N(t, N(t, x).l).cnt + 1; x = N(t, x).r; }
    else { path[k] = x; ranks[k] = r + N(t, N(t, x).l).cnt; k++; x = N(t, x).l; }
  }
  /* path holds, deepest last, the nodes at or after (key, a) whose left
  ** subtree reaches toward it; in order they come deepest first */
  while (k-- > 0) {
    uint32_t p = path[k], rt = N(t, p).r;
    if (N(t, p).size >= need) { if (rank) *rank = ranks[k]; return p; }
    if (rt != SHT_NIL && N(t, rt).max >= need) {
      uint64_t b = ranks[k] + 1;
      uint32_t f = leftmost_fit(t, rt, need, &b);
      if (rank) *rank = b;
      return f;
    }
  }
  return SHT_NIL;
}

uint32_t shT_first_fit(const sh_tree *t, uint64_t need, uint64_t *rank) {
  uint32_t x = t->n ? t->root : SHT_NIL;
  uint64_t before = 0;
  if (x == SHT_NIL || N(t, x).max < need) return SHT_NIL;
  for (;;) {
    uint32_t l = N(t, x).l;
    if (N(t, l).max >= need && l != SHT_NIL) { x = l; continue; }
    before += N(t, l).cnt;
    if (N(t, x).size >= need) break;
    before += 1;
    x = N(t, x).r;
  }
  if (rank) *rank = before;
  return x;
}

uint64_t shT_max(const sh_tree *t) {
  return t->n ? N(t, t->root).max : 0;
}

static void setsize(sh_tree *t, uint32_t x, uint64_t key, uint64_t size) {
  if (x == SHT_NIL) return;
  if (key == N(t, x).key) N(t, x).size = size;
  else setsize(t, key < N(t, x).key ? N(t, x).l : N(t, x).r, key, size);
  pull(t, x);
}

static int update(sh_tree *t, uint32_t x, uint64_t key, uint64_t a, const shT_node *nv) {
  int found;
  if (x == SHT_NIL) return 0;
  if (same(t, x, key, a)) {
    N(t, x).key = nv->key; N(t, x).size = nv->size; N(t, x).a = nv->a; N(t, x).b = nv->b;
    found = 1;
  } else {
    found = update(t, before(t, x, key, a) ? N(t, x).r : N(t, x).l, key, a, nv);
  }
  if (found) pull(t, x);
  return found;
}

int shT_update(sh_tree *t, uint64_t key, uint64_t a, const shT_node *nv) {
  return t->n ? update(t, t->root, key, a, nv) : 0;
}

void shT_set_size(sh_tree *t, uint64_t key, uint64_t size) {
  if (t->n) setsize(t, t->root, key, size);
}

static int walk(const sh_tree *t, uint32_t x,
                int (*fn)(void *, const shT_node *), void *ud) {
  int rc;
  if (x == SHT_NIL) return 0;
  if ((rc = walk(t, N(t, x).l, fn, ud)) != 0) return rc;
  if ((rc = fn(ud, &N(t, x))) != 0) return rc;
  return walk(t, N(t, x).r, fn, ud);
}

int shT_walk(const sh_tree *t, int (*fn)(void *, const shT_node *), void *ud) {
  return t->n ? walk(t, t->root, fn, ud) : 0;
}
