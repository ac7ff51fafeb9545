/* buddy.c -- the binary buddy system: power-of-two blocks at aligned offsets.
** A split hands out the lower half; a freed block merges with its buddy while the buddy is free. */
#include <stdlib.h>
#include "../internal.h"

#define U(x) ((unsigned long long)(x))
#define MAXORD 40

typedef struct buddy {
  int lo, hi;                  /* min_order, max_order */
  uint64_t H, A, base, end;    /* chunks of 2^hi tile [base, end) */
  sh_tree free[MAXORD + 1];    /* per order: key address, lowest first */
  uint64_t free_bytes, free_blocks;
} buddy;

static uint64_t up(uint64_t x, uint64_t a) { return (x + a - 1) & ~(a - 1); }

static int ceil_log2(uint64_t x) {
  int k = 0;
  while (((uint64_t)1 << k) < x) k++;
  return k;
}

static int defaults(sh_machine *m, sh_heap_config *c) {
  int lg;
  if (c->order || c->coalesce || c->fit || c->classes || c->sli || c->split_min)
    return shM_err(m, SH_ERR_ARG,
                   "heap: buddy takes min_order and max_order, not free-list or class keys");
  if (c->footer > 0)
    return shM_err(m, SH_ERR_ARG, "heap: buddy blocks carry no footer (footer must be 0)");
  c->footer = 0;
  lg = shH_log2(c->size);
  if (c->max_order == 0) c->max_order = c->size && lg >= 0 ? lg : 20;
  if (c->min_order == 0) c->min_order = 5;
  if (c->max_order > MAXORD || c->min_order < 1 || c->min_order > c->max_order)
    return shM_err(m, SH_ERR_ARG,
                   "heap: buddy needs 1 <= min_order <= max_order <= %d (got min_order %d, "
                   "max_order %d)", MAXORD, c->min_order, c->max_order);
  if (c->size == 0) c->size = (uint64_t)1 << c->max_order;
  if (c->size % ((uint64_t)1 << c->max_order) != 0)
    return shM_err(m, SH_ERR_ARG,
                   "heap: buddy's size must be a multiple of 2^max_order = %llu, not %llu",
                   U((uint64_t)1 << c->max_order), U(c->size));
  return SH_OK;
}

static int add(sh_machine *m, buddy *s, uint64_t b, int k) {
  if (shT_insert(&s->free[k], b, (uint64_t)1 << k, 0, 0) == SHT_NIL)
    return shM_err(m, SH_ERR_NOMEM, "heap: out of host memory");
  s->free_bytes += (uint64_t)1 << k;
  s->free_blocks++;
  if (s->H) shH_meta_store(m, b, (uint64_t)k << 1, s->H >= 8 ? 8 : s->H >= 4 ? 4 : 2);
  return SH_OK;
}

static void take(buddy *s, uint64_t b, int k) {
  shT_remove(&s->free[k], b);
  s->free_bytes -= (uint64_t)1 << k;
  s->free_blocks--;
}

static int init(sh_machine *m, void **state) {
  const sh_heap_config *c = &m->heap.cfg;
  buddy *s = calloc(1, sizeof *s);
  uint64_t b;
  int k, rc;
  if (s == NULL) return shM_err(m, SH_ERR_NOMEM, "heap: out of host memory");
  *state = s;
  for (k = 0; k <= MAXORD; k++) shT_init(&s->free[k]);
  s->lo = c->min_order; s->hi = c->max_order;
  s->H = (uint64_t)c->header; s->A = c->align;
  s->base = s->end = c->base;
  if (up(s->H, s->A) >= (uint64_t)1 << s->lo)
    return shM_err(m, SH_ERR_ARG, "heap: min_order %d leaves no room after a %llu-byte header",
                   s->lo, U(s->H));
  for (b = s->base; b < shH_brk(m); b += (uint64_t)1 << s->hi) {
    if ((rc = add(m, s, b, s->hi)) != SH_OK) return rc;
    s->end = b + ((uint64_t)1 << s->hi);
  }
  return SH_OK;
}

static int alloc(sh_machine *m, void *st, uint64_t n, uint64_t align,
                 uint64_t *payload, uint64_t *block, uint64_t *bsize) {
  buddy *s = st;
  uint64_t al = align > s->A ? align : s->A, off = up(s->H, al), b, old;
  int k = ceil_log2(off + (n ? n : 1)), j;
  if (k < s->lo) k = s->lo;
  if ((uint64_t)1 << k < al) k = ceil_log2(al);     /* blocks are aligned to their size */
  if (k > s->hi || n > ((uint64_t)1 << s->hi)) return SH_ERR_OOM;
  for (;;) {
    for (j = k; j <= s->hi && shT_count(&s->free[j]) == 0; j++) {}
    shH_step(m, (uint64_t)(j - k + (j <= s->hi)));   /* each order's list looked at */
    if (j <= s->hi) break;
    if (m->heap.cfg.extend == 0 || shH_grow(m, (uint64_t)1 << s->hi, &old) != SH_OK)
      return SH_ERR_OOM;
    if (add(m, s, s->end, s->hi) != SH_OK) return SH_ERR_NOMEM;
    s->end += (uint64_t)1 << s->hi;
  }
  b = s->free[j].n[shT_ge(&s->free[j], 0)].key;
  take(s, b, j);
  while (j > k) {                                     /* keep the lower half, free the upper */
    j--;
    if (add(m, s, b + ((uint64_t)1 << j), j) != SH_OK) return SH_ERR_NOMEM;
    m->c.splits++;
  }
  if (s->H) shH_meta_store(m, b, ((uint64_t)k << 1) | 1, s->H >= 8 ? 8 : s->H >= 4 ? 4 : 2);
  *block = b;
  *bsize = (uint64_t)1 << k;
  *payload = b + off;
  return SH_OK;
}

static int release(sh_machine *m, void *st, uint64_t b, uint64_t size) {
  buddy *s = st;
  int k = shH_log2(size);
  while (k < s->hi) {
    uint64_t bud = s->base + ((b - s->base) ^ ((uint64_t)1 << k));
    if (s->H) shH_meta_load(m, bud, s->H >= 8 ? 8 : s->H >= 4 ? 4 : 2);
    if (shT_find(&s->free[k], bud) == SHT_NIL) break;
    take(s, bud, k);
    if (bud < b) b = bud;
    k++;
    m->c.coalesces++;
  }
  return add(m, s, b, k);
}

/* A block keeps its size: it shrinks in place, and grows only within itself. */
static int resize(sh_machine *m, void *st, uint64_t b, uint64_t bsize, uint64_t payload,
                  uint64_t n, uint64_t *nbsize) {
  (void)m; (void)st;
  if (payload + (n ? n : 1) > b + bsize) return SH_ERR_OOM;
  *nbsize = bsize;
  return SH_OK;
}

static int walk_free(sh_machine *m, void *st, sh_block_fn fn, void *ud) {
  buddy *s = st;
  int k, rc;
  (void)m;
  for (k = 0; k <= MAXORD; k++)
    if ((rc = shH_walk_free_tree(&s->free[k], fn, ud)) != 0) return rc;
  return 0;
}

typedef struct listwalk { sh_list_fn fn; void *ud; int list; } listwalk;

static int list_block(void *ud, const sh_block *b) {
  listwalk *w = ud;
  return w->fn(w->ud, w->list, b);
}

/* One list per order, smallest first, each kept in address order. */
static int walk_lists(sh_machine *m, void *st, sh_list_fn fn, void *ud) {
  buddy *s = st;
  listwalk w;
  int rc;
  (void)m;
  w.fn = fn;
  w.ud = ud;
  for (w.list = 0; w.list <= MAXORD; w.list++)
    if ((rc = shH_walk_free_tree(&s->free[w.list], list_block, &w)) != 0) return rc;
  return 0;
}

static void summary(sh_machine *m, void *st, uint64_t *bytes, uint64_t *blocks,
                    uint64_t *largest) {
  buddy *s = st;
  int k;
  (void)m;
  *bytes = s->free_bytes;
  *blocks = s->free_blocks;
  *largest = 0;
  for (k = MAXORD; k >= 0; k--)
    if (shT_count(&s->free[k])) { *largest = (uint64_t)1 << k; break; }
}

static void destroy(void *st) {
  buddy *s = st;
  int k;
  if (s == NULL) return;
  for (k = 0; k <= MAXORD; k++) shT_free(&s->free[k]);
  free(s);
}

const sh_policy_ops shF_buddy = {
  "buddy", defaults, init, alloc, release, resize, walk_free, summary, NULL, destroy, walk_lists
};
