/* first_fit.c -- first fit over an address-ordered free list, splitting, immediate coalescing.
** The list is a treap, so the search is O(log n) while `searched` still counts every block a list walk passes. */
#include <stdlib.h>
#include "../internal.h"

typedef struct ff {
  sh_tree free;                /* key block address, size block size */
  uint64_t A, H, F, MB, split; /* align, header, footer, min block, split minimum */
  uint64_t end;                /* one past the last block: blocks tile [start, end) */
  uint64_t free_bytes;
} ff;

static uint64_t up(uint64_t x, uint64_t a) { return (x + a - 1) & ~(a - 1); }

/* Blocks start where a header before an aligned payload starts. */
static uint64_t grid_up(const ff *s, uint64_t x) { return up(x + s->H, s->A) - s->H; }
static uint64_t grid_down(const ff *s, uint64_t x) {
  return x + s->H < s->A ? 0 : ((x + s->H) & ~(s->A - 1)) - s->H;
}

static int tagw(uint64_t n) { return n >= 8 ? 8 : n >= 4 ? 4 : n >= 2 ? 2 : 1; }

/* Boundary tags: size with the low bit marking "in use", as the textbook heap does. */
static void tag(sh_machine *m, const ff *s, uint64_t b, uint64_t size, int used) {
  if (s->H) shH_meta_store(m, b + s->H - (uint64_t)tagw(s->H), size | (uint64_t)used, tagw(s->H));
  if (s->F) shH_meta_store(m, b + size - s->F, size | (uint64_t)used, tagw(s->F));
}

static int add_free(sh_machine *m, ff *s, uint64_t b, uint64_t size) {
  if (shT_insert(&s->free, b, size, 0, 0) == SHT_NIL)
    return shM_err(m, SH_ERR_NOMEM, "heap: out of host memory");
  tag(m, s, b, size, 0);
  return SH_OK;
}

static int init(sh_machine *m, void **state) {
  const sh_heap_config *c = &m->heap.cfg;
  ff *s = calloc(1, sizeof *s);
  uint64_t start, end;
  if (s == NULL) return shM_err(m, SH_ERR_NOMEM, "heap: out of host memory");
  *state = s;
  shT_init(&s->free);
  s->A = c->align; s->H = (uint64_t)c->header; s->F = (uint64_t)c->footer;
  s->MB = c->min_block;
  s->split = c->split_min > s->MB ? c->split_min : s->MB;
  start = grid_up(s, c->base);
  end = grid_down(s, shH_brk(m));
  s->end = start;
  if (end > start && end - start >= s->MB) {
    s->end = end;
    s->free_bytes = end - start;
    return add_free(m, s, start, end - start);
  }
  return SH_OK;
}

static void destroy(void *st) {
  ff *s = st;
  if (s == NULL) return;
  shT_free(&s->free);
  free(s);
}

/* Extend the heap so that a block of `need` bytes fits at its end. */
static int grow(sh_machine *m, ff *s, uint64_t need) {
  const sh_heap_config *c = &m->heap.cfg;
  uint32_t last = s->end ? shT_le(&s->free, s->end - 1) : SHT_NIL;
  uint64_t have = 0, brk = shH_brk(m), target, g, old, b, size;
  if (last != SHT_NIL && s->free.n[last].key + s->free.n[last].size == s->end)
    have = s->free.n[last].size;
  target = s->end + (need - have) + s->A;      /* + A: the grid may lose a sliver at the break */
  g = target > brk ? target - brk : 0;
  if (c->extend > 0) {
    uint64_t step = (uint64_t)c->extend, rounded = (g + step - 1) / step * step;
    if (shH_grow(m, rounded, &old) != SH_OK && shH_grow(m, g, &old) != SH_OK) return SH_ERR_OOM;
  } else if (shH_grow(m, g, &old) != SH_OK) {
    return SH_ERR_OOM;
  }
  b = s->end;
  size = grid_down(s, shH_brk(m)) - b;
  s->end += size;
  s->free_bytes += size;
  if (have) {                                   /* the old tail and the new space merge */
    b = s->free.n[last].key;
    size += have;
    shT_remove(&s->free, b);
  }
  return add_free(m, s, b, size);
}

static int alloc(sh_machine *m, void *st, uint64_t n, uint64_t align,
                 uint64_t *payload, uint64_t *block, uint64_t *bsize) {
  ff *s = st;
  uint64_t bs = up(s->H + (n ? n : 1) + s->F, s->A), need, rank = 0, b, size, lead = 0;
  uint32_t x;
  int rc;
  if (bs < s->MB) bs = s->MB;
  /* A stricter alignment may need a leading fragment big enough to stay a free block. */
  need = align > s->A ? bs + align + s->MB : bs;
  while ((x = shT_first_fit(&s->free, need, &rank)) == SHT_NIL) {
    shH_step(m, shT_count(&s->free));           /* a failed walk passes every block */
    if ((rc = grow(m, s, need)) != SH_OK) return rc;
  }
  shH_step(m, rank + 1);
  b = s->free.n[x].key;
  size = s->free.n[x].size;
  shT_remove(&s->free, b);
  s->free_bytes -= size;
  if (align > s->A) {
    uint64_t p = up(b + s->H, align);
    if (p - s->H - b != 0 && p - s->H - b < s->MB) p = up(b + s->H + s->MB, align);
    lead = p - s->H - b;
  }
  if (lead) {
    if ((rc = add_free(m, s, b, lead)) != SH_OK) return rc;
    s->free_bytes += lead;
    b += lead;
    size -= lead;
  }
  if (size - bs >= s->split) {
    if ((rc = add_free(m, s, b + bs, size - bs)) != SH_OK) return rc;
    s->free_bytes += size - bs;
    m->c.splits++;
    size = bs;
  }
  tag(m, s, b, size, 1);
  *block = b;
  *bsize = size;
  *payload = b + s->H;
  return SH_OK;
}

static int release(sh_machine *m, void *st, uint64_t b, uint64_t size) {
  ff *s = st;
  uint32_t x;
  s->free_bytes += size;
  shH_meta_load(m, b, tagw(s->H));              /* read our own size */
  if (b + size < s->end) {
    shH_meta_load(m, b + size, tagw(s->H));     /* is the next block free? */
    if ((x = shT_find(&s->free, b + size)) != SHT_NIL) {
      uint64_t next = b + size;
      size += s->free.n[x].size;
      shT_remove(&s->free, next);
      m->c.coalesces++;
    }
  }
  if (b > grid_up(s, m->heap.cfg.base)) {
    shH_meta_load(m, b - (s->F ? s->F : (uint64_t)tagw(s->H)), tagw(s->H));  /* the previous block */
    if ((x = shT_le(&s->free, b - 1)) != SHT_NIL &&
        s->free.n[x].key + s->free.n[x].size == b) {
      b = s->free.n[x].key;
      size += s->free.n[x].size;
      shT_remove(&s->free, b);
      m->c.coalesces++;
    }
  }
  return add_free(m, s, b, size);
}

typedef struct walkctx { sh_block_fn fn; void *ud; } walkctx;

static int each(void *ud, const shT_node *x) {
  walkctx *w = ud;
  sh_block b = { x->key, x->size, 0, 0, 0 };
  return w->fn(w->ud, &b);
}

static int walk_free(void *st, sh_block_fn fn, void *ud) {
  walkctx w;
  w.fn = fn; w.ud = ud;
  return shT_walk(&((ff *)st)->free, each, &w);
}

static void summary(void *st, uint64_t *bytes, uint64_t *blocks, uint64_t *largest) {
  ff *s = st;
  *bytes = s->free_bytes;
  *blocks = shT_count(&s->free);
  *largest = shT_max(&s->free);
}

const sh_policy_ops shF_first_fit = {
  "first_fit", init, alloc, release, walk_free, summary, destroy
};
