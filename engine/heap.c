/* heap.c -- the heap driver: every policy's answer is checked against its own record.
** It grows the heap, keeps live blocks and free history, and does the metrics' bookkeeping. */
#include <stdlib.h>
#include <string.h>
#include "internal.h"

#define U(x) ((unsigned long long)(x))

static const sh_policy_ops *const policies[] = {
  &shF_first_fit, &shF_next_fit, &shF_best_fit, &shF_worst_fit, &shF_segregated,
  &shF_buddy, &shF_tlsf, &shF_bump, &shF_csapp_implicit
};

const char *sh_policy_name(int i) {
  if (i < 0 || (size_t)i >= sizeof policies / sizeof policies[0]) return NULL;
  return policies[i]->name;
}

static int pow2(uint64_t x) { return x && (x & (x - 1)) == 0; }

int shH_log2(uint64_t x) {
  int k = 0;
  if (!pow2(x)) return -1;
  while (x > 1) { x >>= 1; k++; }
  return k;
}

static int resolve(sh_machine *m, const sh_heap_config *in, sh_heap_config *c) {
  uint64_t w = (uint64_t)m->cfg.word;
  int rc;
  *c = *in;
  if (m->heap.ops->defaults && (rc = m->heap.ops->defaults(m, c)) != SH_OK) return rc;
  if (c->base == 0) c->base = 0x1000;
  if (c->size == 0 && in->size == 0 && in->external == NULL) c->size = 4096;
  if (c->max == 0) c->max = (uint64_t)1 << 30;
  if (c->extend < 0) c->extend = 4096;
  if (c->align == 0) c->align = 2 * w;
  if (c->header < 0) c->header = (int64_t)w;
  if (c->footer < 0) c->footer = 0;
  if (!pow2(c->align) || c->align > 4096)
    return shM_err(m, SH_ERR_ARG, "heap: align must be a power of two up to 4096, not %llu", U(c->align));
  if (c->align < w && c->header > 0)
    return shM_err(m, SH_ERR_ARG, "heap: align %llu is smaller than a word", U(c->align));
  if (c->header > 64 || c->footer > 64)
    return shM_err(m, SH_ERR_ARG, "heap: header and footer are at most 64 bytes");
  if (c->min_block == 0) {
    uint64_t mb = (uint64_t)c->header + (uint64_t)c->footer + 2 * w;  /* room for two links */
    c->min_block = (mb + c->align - 1) & ~(c->align - 1);
  }
  if (c->min_block % c->align != 0)
    return shM_err(m, SH_ERR_ARG, "heap: min_block %llu is not a multiple of align %llu",
                   U(c->min_block), U(c->align));
  if (c->size > c->max)
    return shM_err(m, SH_ERR_ARG, "heap: size %llu is larger than max %llu", U(c->size), U(c->max));
  if (c->base % SH_PAGE_SIZE != 0 || c->base < SH_PAGE_SIZE)
    return shM_err(m, SH_ERR_ARG, "heap: base 0x%llx must be page-aligned and above the null page",
                   U(c->base));
  if (c->base + c->max < c->base ||
      (m->cfg.word == 4 && c->base + c->max > 0xffffffffull))
    return shM_err(m, SH_ERR_ARG, "heap: base + max does not fit in a %d-bit address space",
                   m->cfg.word * 8);
  return SH_OK;
}

int shH_init(sh_machine *m, const sh_heap_config *in) {
  sh_heap *h = &m->heap;
  const char *name = in->policy ? in->policy : "first_fit";
  size_t i;
  int rc;
  shT_init_unsized(&h->live);  /* searched by address only */
  h->recent = NULL;
  if (in->external && (rc = shF_external_open(m, in->external, &h->ops)) != SH_OK) return rc;
  for (i = 0; !in->external && i < sizeof policies / sizeof policies[0]; i++)
    if (strcmp(policies[i]->name, name) == 0) h->ops = policies[i];
  if (h->ops == NULL)
    return shM_err(m, SH_ERR_ARG, "heap: unknown policy '%s' (known: first_fit, next_fit, "
                   "best_fit, worst_fit, segregated, buddy, tlsf, bump, csapp_implicit)", name);
  if ((rc = resolve(m, in, &h->cfg)) != SH_OK) {
    if (in->external) h->ops->destroy((void *)h->ops);   /* the ops are its state */
    h->ops = NULL;
    return rc;
  }
  h->brk = h->cfg.base + h->cfg.size;
  m->c.peak_heap_bytes = h->cfg.size;
  if ((rc = h->ops->init(m, &h->state)) != SH_OK) {
    h->ops->destroy(h->state);
    h->ops = NULL;
    return rc;
  }
  return SH_OK;
}

void shH_free(sh_machine *m) {
  sh_heap *h = &m->heap;
  if (h->ops) h->ops->destroy(h->state);
  h->ops = NULL;
  shT_free(&h->live);
  free(h->recent);
  h->recent = NULL;
}

uint64_t shH_live_before(const sh_machine *m, uint64_t addr) {
  return shT_rank2(&m->heap.live, addr, 0);
}

uint64_t shH_brk(const sh_machine *m) {
  return m->heap.brk;
}

int shH_in_heap(const sh_machine *m, uint64_t addr, uint64_t n) {
  return addr >= m->heap.cfg.base && addr + n <= m->heap.brk && addr + n >= addr;
}

int shH_grow(sh_machine *m, uint64_t n, uint64_t *old) {
  sh_heap *h = &m->heap;
  if (h->cfg.extend == 0 || n > h->cfg.max - (h->brk - h->cfg.base)) return SH_ERR_OOM;
  *old = h->brk;
  h->brk += n;
  m->c.grows++;
  return SH_OK;
}

typedef struct walkctx { sh_block_fn fn; void *ud; } walkctx;

static int each_free(void *ud, const shT_node *x) {
  walkctx *w = ud;
  sh_block b = { x->key, x->size, 0, 0, 0 };
  return w->fn(w->ud, &b);
}

int shH_walk_free_tree(const sh_tree *t, sh_block_fn fn, void *ud) {
  walkctx w;
  w.fn = fn;
  w.ud = ud;
  return shT_walk(t, each_free, &w);
}

void shH_meta_load(sh_machine *m, uint64_t addr, int width) {
  m->c.meta_loads++;
  shM_price(m, addr, (uint64_t)width, SH_COST_META, 0);
}

void shH_meta_store(sh_machine *m, uint64_t addr, uint64_t v, int width) {
  m->c.meta_stores++;
  shM_price(m, addr, (uint64_t)width, SH_COST_META, 1);
  shP_put(&m->space, addr, v, width);
}

/* Examining a block is a compare (an instruction) and a read of its header.
** The headers' addresses are not known here (the search that stands in for
** the walk is logarithmic), so the reads are priced as first-level hits. */
void shH_step(sh_machine *m, uint64_t n) {
  m->c.searched += n;
  m->c.meta_loads += n;
  shM_charge(m, SH_COST_ALLOC, n * m->cfg.cost.step);
  shM_price_hits(m, n, SH_COST_META);
}

static void sample(sh_machine *m, uint64_t hb) {
  uint64_t n = m->c.allocs + m->c.frees + m->c.reallocs + 1;
  sh_series_point *p;
  if (m->cfg.series == 0 || n % m->cfg.series != 0) return;
  if (m->nseries == m->cseries) {
    size_t cap = m->cseries ? m->cseries * 2 : 256;
    sh_series_point *ns = realloc(m->series, cap * sizeof *ns);
    if (ns == NULL) return;                 /* a shorter series, not a failed operation */
    m->series = ns;
    m->cseries = cap;
  }
  p = &m->series[m->nseries++];
  p->op = m->ops ? m->ops - 1 : 0;
  p->heap_bytes = hb;
  p->live_bytes = m->c.live_bytes;
}

void shM_heap_changed(sh_machine *m) {
  sh_counts *c = &m->c;
  uint64_t hb = m->heap.brk - m->heap.cfg.base;
  if (c->live_bytes > c->peak_live_bytes) c->peak_live_bytes = c->live_bytes;
  if (hb > c->peak_heap_bytes) {
    c->peak_heap_bytes = hb;
    c->live_at_peak_heap = c->live_bytes;
  }
  sample(m, hb);
}

const sh_series_point *sh_series(const sh_machine *m, size_t *n) {
  *n = m->nseries;
  return m->series;
}

static int bucket(uint64_t x) {
  int k = 0;
  while (k < 63 && ((uint64_t)2 << k) <= x) k++;
  return k;
}

static int profile_block(void *ud, const sh_block *b) {
  sh_heap_profile *p = ud;
  if (b->used) {
    int k = bucket(b->requested);
    p->used_count[k]++;
    p->waste[k] += b->size - b->requested;
  } else {
    int k = bucket(b->size);
    p->free_count[k]++;
    p->free_bytes[k] += b->size;
  }
  return 0;
}

int sh_heap_profile_get(sh_machine *m, sh_heap_profile *out) {
  memset(out, 0, sizeof *out);
  return sh_blocks(m, profile_block, out);
}

/* ---- checking what the policy says ---- */

/* ---- the recent frees ---- */

static struct shH_recent *recent_slot(const sh_heap *h, uint64_t payload) {
  return &h->recent[((payload * 0x9E3779B97F4A7C15ull) >> 32) & (SH_RECENT - 1)];
}

/* Best effort: without host memory for the table the history is shorter,
** never wrong. */
static void remember(sh_machine *m, uint64_t payload, uint64_t op) {
  sh_heap *h = &m->heap;
  struct shH_recent *s;
  if (m->chk) return;
  if (h->recent == NULL && (h->recent = calloc(SH_RECENT, sizeof *h->recent)) == NULL) return;
  s = recent_slot(h, payload);
  s->payload = payload;
  s->op = op;
}

static void unremember(sh_heap *h, uint64_t payload) {
  struct shH_recent *s;
  if (h->recent != NULL && (s = recent_slot(h, payload))->payload == payload) s->payload = 0;
}

/* Was p the payload of a block freed since? The op that freed it in *op. */
static int freed_at(sh_machine *m, uint64_t p, uint64_t *op) {
  const struct shH_recent *s;
  uint64_t fp;
  if (m->chk) return shK_freed_payload(m, p, &fp, op) && fp == p;
  if (m->heap.recent == NULL || (s = recent_slot(&m->heap, p))->payload != p) return 0;
  *op = s->op;
  return 1;
}

/* Check the policy's answer against the live record and, when it holds,
** add it there: a payload inside its block, aligned, in the heap, meeting no
** live block (one descent of the record both checks and inserts). */
static int admit(sh_machine *m, const char *op, uint64_t size, uint64_t align, uint64_t p,
                 uint64_t b, uint64_t bs) {
  sh_heap *h = &m->heap;
  shT_node x;
  const char *why = NULL;
  int rc = 0;
  if (p % align != 0) why = "is not aligned";
  else if (b > p || p + size > b + bs || b + bs < b) why = "lies outside the block it reports";
  else if (!shH_in_heap(m, b, bs)) why = "is outside the heap";
  else if ((rc = shT_insert_span(&h->live, b, bs, p, size, &x)) == 1)
    why = "overlaps a live block";
  if (rc < 0) return shM_err(m, SH_ERR_NOMEM, "%s: out of host memory", op);
  if (why != NULL)
    return shM_err(m, SH_ERR_POLICY,
                   "%s: policy '%s' answered 0x%llx (block 0x%llx, %llu bytes) for %llu bytes "
                   "aligned to %llu, which %s",
                   op, h->ops->name, U(p), U(b), U(bs), U(size), U(align), why);
  unremember(h, p);
  m->c.live_bytes += size;
  m->c.live_blocks++;
  m->c.used_block_bytes += bs;
  return SH_OK;
}

/* The record of a block that is no longer live is gone: count it out. */
static void count_out(sh_machine *m, const shT_node *x) {
  m->c.live_bytes -= x->b;
  m->c.live_blocks--;
  m->c.used_block_bytes -= x->size;
}

/* Allocate and record; `note` updates the peaks now (a moving realloc
** notes them after the old block is gone, as malloc-lab counts it). */
static int place(sh_machine *m, uint64_t size, uint64_t align, uint64_t *addr, int note) {
  sh_heap *h = &m->heap;
  uint64_t p = 0, b = 0, bs = 0;
  int rc;
  if (align == 0) align = h->cfg.align;
  if (!pow2(align) || align > h->cfg.max)
    return shM_err(m, SH_ERR_ARG, "alloc: alignment %llu is not a power of two", U(align));
  if (size > h->cfg.max)
    rc = SH_ERR_OOM;
  else
    rc = h->ops->alloc(m, h->state, size, align, &p, &b, &bs);
  /* The checker's quarantine never makes an allocation fail: give the
  ** held blocks back and ask again. */
  if (rc == SH_ERR_OOM && m->chk && m->chk->qn > 0 && (rc = shK_drain(m, 0)) == SH_OK)
    rc = h->ops->alloc(m, h->state, size, align, &p, &b, &bs);
  if (rc == SH_ERR_OOM) {
    m->c.failed++;
    return shM_err(m, SH_ERR_OOM, "out of memory");
  }
  if (rc != SH_OK) return rc;
  if (m->chk) shK_prefetch(m, p);           /* its record and shadow, while the record is checked */
  if ((rc = admit(m, "alloc", size, align, p, b, bs)) != SH_OK) return rc;
  if (m->chk && (rc = shK_alloc(m, p, size, b, bs)) != SH_OK) return rc;
  if (note) shM_heap_changed(m);
  *addr = p;
  return SH_OK;
}

int sh_alloc(sh_machine *m, uint64_t size, uint64_t align, uint64_t *addr) {
  int rc;
  if ((rc = shF_external_busy(m, "alloc")) != SH_OK) return rc;
  m->ops++;
  shM_charge(m, SH_COST_ALLOC, m->cfg.cost.alloc);
  if ((rc = place(m, size, align, addr, 1)) == SH_OK) m->c.allocs++;
  return rc;
}

/* The live block whose payload starts at p into *x, or 0 (with a message
** that tells a double free from a wild one). */
static int find_live(sh_machine *m, const char *op, uint64_t p, int *code, shT_node *x) {
  sh_heap *h = &m->heap;
  int got = shT_le(&h->live, p, x);
  uint64_t fp, fop;
  if (got && x->a == p) return 1;
  if (freed_at(m, p, &fop)) {
    *code = shC_misuse(m, SH_E_DOUBLE_FREE, p, SH_ERR_FREE,
                       "%s: 0x%llx is not the start of a live block (freed at op %llu)",
                       op, U(p), U(fop));
  } else if (got && p < x->key + x->size) {
    *code = shC_misuse(m, SH_E_INVALID_FREE, p, SH_ERR_FREE,
                       "%s: 0x%llx is not the start of a live block (it is %llu bytes into "
                       "the block whose payload starts at 0x%llx)",
                       op, U(p), U(p - x->a), U(x->a));
  } else if (m->chk && shK_freed_payload(m, p, &fp, &fop)) {
    *code = shC_misuse(m, SH_E_INVALID_FREE, p, SH_ERR_FREE,
                       "%s: 0x%llx is not the start of a live block (it is %llu bytes into "
                       "the block at 0x%llx, freed at op %llu)", op, U(p), U(p - fp), U(fp), U(fop));
  } else if (m->chk) {
    *code = shC_misuse(m, SH_E_INVALID_FREE, p, SH_ERR_FREE,
                       "%s: 0x%llx is not the start of a live block (never allocated)", op, U(p));
  } else {
    *code = shC_misuse(m, SH_E_INVALID_FREE, p, SH_ERR_FREE,
                       "%s: 0x%llx is not the start of a live block (never allocated, or not "
                       "among the last %d frees; check = true keeps every block's history)",
                       op, U(p), SH_RECENT);
  }
  return 0;
}

/* Free the block whose live record was just taken out. */
static int release(sh_machine *m, const shT_node *x, uint64_t op) {
  sh_heap *h = &m->heap;
  count_out(m, x);
  remember(m, x->a, op);
  if (m->chk) return shK_free(m, x->a, x->key, x->size, op);
  return h->ops->free(m, h->state, x->key, x->size);
}

/* The live block whose payload starts at addr, out of the record: 1, or 0
** with *rc saying why not. */
static int take_live(sh_machine *m, const char *op, uint64_t addr, int *rc, shT_node *x) {
  return shT_take_le(&m->heap.live, addr, addr, x) || find_live(m, op, addr, rc, x);
}

int sh_free(sh_machine *m, uint64_t addr) {
  uint64_t op;
  shT_node x;
  int rc;
  if ((rc = shF_external_busy(m, "free")) != SH_OK) return rc;
  op = m->ops++;
  shM_charge(m, SH_COST_ALLOC, m->cfg.cost.free);
  if (addr == 0) return SH_OK;               /* free(NULL) does nothing, as in C */
  if (m->chk) shK_prefetch(m, addr);
  if (!take_live(m, "free", addr, &rc, &x)) return rc;
  if ((rc = release(m, &x, op)) == SH_OK) {
    shM_heap_changed(m);
    m->c.frees++;
  }
  return rc;
}

/* A policy with its own realloc (an external one) moves the bytes itself:
** the old record goes first, so the answer may overlap only the old block;
** refused, it comes back. */
static int moved(sh_machine *m, shT_node old, uint64_t size, uint64_t op, uint64_t *out) {
  sh_heap *h = &m->heap;
  uint64_t np = 0;
  int rc;
  shT_remove(&h->live, old.key);
  count_out(m, &old);
  rc = shF_external_move(m, old.a, old.b, size, &np);
  if (rc != SH_OK) {
    int back = admit(m, "realloc", old.b, 1, old.a, old.key, old.size);
    if (back != SH_OK) return back;
    if (rc == SH_ERR_OOM) {
      m->c.failed++;
      return shM_err(m, SH_ERR_OOM, "out of memory");
    }
    return rc;
  }
  if ((rc = admit(m, "realloc", size, h->cfg.align, np, np, size ? size : 1)) != SH_OK) return rc;
  if (np != old.a) remember(m, old.a, op);
  shM_heap_changed(m);
  m->c.reallocs++;
  *out = np;
  return SH_OK;
}

int sh_realloc(sh_machine *m, uint64_t addr, uint64_t size, uint64_t *out) {
  sh_heap *h = &m->heap;
  uint64_t op, np, keep, nbs;
  shT_node x, old;
  int rc;
  if ((rc = shF_external_busy(m, "realloc")) != SH_OK) return rc;
  op = m->ops++;
  shM_charge(m, SH_COST_ALLOC, m->cfg.cost.alloc);
  *out = 0;
  if (addr == 0) {
    if ((rc = place(m, size, 0, out, 1)) == SH_OK) m->c.reallocs++;
    return rc;
  }
  if (!find_live(m, "realloc", addr, &rc, &x)) return rc == SH_OK ? SH_ERR_FREE : rc;
  if (size == 0) {
    shT_remove(&h->live, x.key);
    if ((rc = release(m, &x, op)) == SH_OK) m->c.reallocs++;
    return rc;
  }
  old = x;
  if (shF_external_moves(m)) return moved(m, old, size, op, out);
  if (h->ops->resize &&
      h->ops->resize(m, h->state, old.key, old.size, old.a, size, &nbs) == SH_OK) {
    /* in place: the record changes extent, and is checked like a new answer */
    shT_remove(&h->live, old.key);
    count_out(m, &old);
    if ((rc = admit(m, "realloc", size, 1, old.a, old.key, nbs)) != SH_OK) return rc;
    if (m->chk && (rc = shK_resize(m, old.a, size, old.key, nbs)) != SH_OK) return rc;
    shM_heap_changed(m);
    m->c.reallocs++;
    *out = addr;
    return SH_OK;
  }
  if ((rc = place(m, size, 0, &np, 0)) != SH_OK) return rc;
  keep = old.b < size ? old.b : size;
  {
    /* The copy is the program's traffic, priced a word at a time. */
    uint8_t buf[4096];
    uint64_t done = 0;
    shM_price_range(m, addr, keep, SH_COST_ALLOC, 0);
    shM_price_range(m, np, keep, SH_COST_ALLOC, 1);
    while (done < keep) {
      size_t k = keep - done > sizeof buf ? sizeof buf : (size_t)(keep - done);
      shP_read(&m->space, addr + done, buf, k);
      if (shP_write(&m->space, np + done, buf, k) != SH_OK)
        return shM_err(m, SH_ERR_NOMEM, "realloc: out of host memory");
      done += k;
    }
    if (m->chk) shK_copy(m, np, addr, keep);
  }
  shT_take_le(&h->live, addr, addr, &x);
  if ((rc = release(m, &x, op)) != SH_OK) return rc;
  shM_heap_changed(m);
  m->c.reallocs++;
  *out = np;
  return SH_OK;
}

/* ---- walking ---- */

typedef struct collect { sh_block *v; size_t n, cap; int oom; } collect;

static int push(collect *c, const sh_block *b) {
  if (c->n == c->cap) {
    size_t cap = c->cap ? c->cap * 2 : 64;
    sh_block *nv = realloc(c->v, cap * sizeof *nv);
    if (nv == NULL) { c->oom = 1; return 1; }
    c->v = nv;
    c->cap = cap;
  }
  c->v[c->n++] = *b;
  return 0;
}

static int add_used(void *ud, const shT_node *x) {
  sh_block b;
  b.addr = x->key; b.size = x->size; b.used = 1; b.payload = x->a; b.requested = x->b;
  return push(ud, &b);
}

static int add_free(void *ud, const sh_block *b) {
  return push(ud, b);
}

static int byaddr(const void *a, const void *b) {
  uint64_t x = ((const sh_block *)a)->addr, y = ((const sh_block *)b)->addr;
  return (x > y) - (x < y);
}

/* Used blocks come from the driver's record, free ones from the policy, each
** in address order (sorted here if a policy walks its lists otherwise);
** merging the two is linear. */
int sh_blocks(sh_machine *m, sh_block_fn fn, void *ud) {
  collect used = { NULL, 0, 0, 0 }, fr = { NULL, 0, 0, 0 };
  size_t i = 0, j = 0, k;
  shT_walk(&m->heap.live, add_used, &used);
  if (m->heap.ops->walk_free) m->heap.ops->walk_free(m, m->heap.state, add_free, &fr);
  if (m->chk) shK_walk_quarantine(m, add_free, &fr);     /* free to the program */
  if (used.oom || fr.oom) {
    free(used.v);
    free(fr.v);
    return shM_err(m, SH_ERR_NOMEM, "blocks: out of host memory");
  }
  for (k = 1; k < fr.n; k++)
    if (fr.v[k].addr < fr.v[k - 1].addr) { qsort(fr.v, fr.n, sizeof *fr.v, byaddr); break; }
  while (i < used.n || j < fr.n) {
    const sh_block *b = j >= fr.n || (i < used.n && used.v[i].addr < fr.v[j].addr)
                        ? &used.v[i++] : &fr.v[j++];
    if (fn(ud, b) != 0) break;
  }
  free(used.v);
  free(fr.v);
  return SH_OK;
}

int sh_free_lists(sh_machine *m, sh_list_fn fn, void *ud) {
  const sh_policy_ops *ops = m->heap.ops;
  if (ops->walk_lists == NULL || ops->walk_lists(m, m->heap.state, fn, ud) < 0)
    return shM_err(m, SH_ERR_ARG, "free_lists: policy '%s' keeps no free list", ops->name);
  return SH_OK;
}

/* Every live block becomes freed history, then the policy forgets them all. */
static int forget(void *ud, const shT_node *x) {
  sh_machine *m = ud;
  if (m->chk && shK_forget(m, x->a, x->key, x->size, m->ops) != SH_OK) return 1;
  remember(m, x->a, m->ops);
  return 0;
}

int sh_heap_reset(sh_machine *m) {
  sh_heap *h = &m->heap;
  int rc;
  if (h->ops->reset == NULL)
    return shM_err(m, SH_ERR_ARG, "reset: policy '%s' cannot free everything at once "
                   "(only bump can)", h->ops->name);
  if (m->chk && (rc = shK_drain(m, 0)) != SH_OK) return rc;
  if (shT_walk(&h->live, forget, m) != 0) return shM_err(m, SH_ERR_NOMEM, "reset: out of host memory");
  if ((rc = h->ops->reset(m, h->state)) != SH_OK) return rc;
  m->c.frees += m->c.live_blocks;
  m->c.live_bytes = m->c.live_blocks = m->c.used_block_bytes = 0;
  shT_free(&h->live);
  m->ops++;
  return SH_OK;
}
