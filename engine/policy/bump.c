/* bump.c -- an arena: allocation moves a pointer, free reclaims nothing, reset frees it all.
** The cheapest allocator there is, and the one whose waste grows with every free. */
#include <stdlib.h>
#include "../internal.h"

typedef struct bump {
  uint64_t A, H, F, start, next;
  sh_tree dead;                /* freed blocks: still occupied, never reused */
  uint64_t dead_bytes;
} bump;

static uint64_t up(uint64_t x, uint64_t a) { return (x + a - 1) & ~(a - 1); }

static int defaults(sh_machine *m, sh_heap_config *c) {
  if (c->order || c->coalesce || c->fit || c->classes || c->min_order || c->max_order || c->sli)
    return shM_err(m, SH_ERR_ARG, "heap: bump takes no free-list, class or order keys");
  if (c->header < 0) c->header = 0;          /* an arena needs no per-block size */
  if (c->min_block == 0) c->min_block = c->align ? c->align : (uint64_t)m->cfg.word * 2;
  return SH_OK;
}

static int init(sh_machine *m, void **state) {
  const sh_heap_config *c = &m->heap.cfg;
  bump *s = calloc(1, sizeof *s);
  if (s == NULL) return shM_err(m, SH_ERR_NOMEM, "heap: out of host memory");
  *state = s;
  shT_init(&s->dead);
  s->A = c->align; s->H = (uint64_t)c->header; s->F = (uint64_t)c->footer;
  s->start = s->next = c->base;
  return SH_OK;
}

static int room(sh_machine *m, uint64_t end) {
  const sh_heap_config *c = &m->heap.cfg;
  uint64_t brk = shH_brk(m), old, g;
  if (end <= brk) return SH_OK;
  g = end - brk;
  if (c->extend > 0) {
    uint64_t step = (uint64_t)c->extend, rounded = (g + step - 1) / step * step;
    if (shH_grow(m, rounded, &old) == SH_OK) return SH_OK;
  }
  return c->extend == 0 ? SH_ERR_OOM : shH_grow(m, g, &old);
}

static int alloc(sh_machine *m, void *st, uint64_t n, uint64_t align,
                 uint64_t *payload, uint64_t *block, uint64_t *bsize) {
  bump *s = st;
  uint64_t al = align > s->A ? align : s->A;
  uint64_t pay = up(s->next + s->H, al), end = pay + (n ? n : 1) + s->F;
  if (end < pay || room(m, end) != SH_OK) return SH_ERR_OOM;
  if (s->H) shH_meta_store(m, pay - s->H, n, s->H >= 8 ? 8 : s->H >= 4 ? 4 : s->H >= 2 ? 2 : 1);
  *block = s->next;
  *bsize = end - s->next;
  *payload = pay;
  s->next = end;
  return SH_OK;
}

static int release(sh_machine *m, void *st, uint64_t b, uint64_t size) {
  bump *s = st;
  if (shT_insert(&s->dead, b, size, 0, 0) == SHT_NIL)
    return shM_err(m, SH_ERR_NOMEM, "heap: out of host memory");
  s->dead_bytes += size;
  return SH_OK;
}

/* The last block can move its end; any block can shrink within itself. */
static int resize(sh_machine *m, void *st, uint64_t b, uint64_t bsize, uint64_t payload,
                  uint64_t n, uint64_t *nbsize) {
  bump *s = st;
  uint64_t end = payload + (n ? n : 1) + s->F;
  if (b + bsize == s->next) {
    if (room(m, end) != SH_OK) return SH_ERR_OOM;
    s->next = end;
    *nbsize = end - b;
    return SH_OK;
  }
  if (end > b + bsize) return SH_ERR_OOM;
  *nbsize = bsize;
  return SH_OK;
}

/* Freed blocks are listed as free (nothing holds them) though never reused;
** the untouched tail up to the break is the arena's one reusable block. */
static int walk_free(sh_machine *m, void *st, sh_block_fn fn, void *ud) {
  bump *s = st;
  int rc;
  if ((rc = shH_walk_free_tree(&s->dead, fn, ud)) != 0) return rc;
  if (shH_brk(m) > s->next) {
    sh_block b = { s->next, shH_brk(m) - s->next, 0, 0, 0 };
    return fn(ud, &b);
  }
  return 0;
}

static void summary(sh_machine *m, void *st, uint64_t *bytes, uint64_t *blocks,
                    uint64_t *largest) {
  bump *s = st;
  uint64_t tail = shH_brk(m) - s->next;
  *bytes = s->dead_bytes + tail;
  *blocks = shT_count(&s->dead) + (tail > 0);
  *largest = shT_max(&s->dead) > tail ? shT_max(&s->dead) : tail;
}

static int reset(sh_machine *m, void *st) {
  bump *s = st;
  (void)m;
  shT_free(&s->dead);
  s->dead_bytes = 0;
  s->next = s->start;
  return SH_OK;
}

static void destroy(void *st) {
  bump *s = st;
  if (s == NULL) return;
  shT_free(&s->dead);
  free(s);
}

const sh_policy_ops shF_bump = {
  "bump", defaults, init, alloc, release, resize, walk_free, summary, reset, destroy, NULL
};
