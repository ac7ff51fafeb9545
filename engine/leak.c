/* leak.c -- the leak scan: which live blocks can the program still reach, Memcheck's way.
** Roots are the live frames' pointer slots; reachable blocks are scanned for aligned words pointing into blocks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"

#define U(x) ((unsigned long long)(x))

/* A block's reachedness, Memcheck's names. */
enum { UNREACHED, POSSIBLE, REACHABLE, INDIRECT, DEFINITE };

typedef struct lblock {
  uint64_t payload, size, alloc_op;   /* SH_NO_OP: no history */
  uint32_t site, leader;              /* site: of the allocation, 0 when unnamed */
  int state;
} lblock;

typedef struct scan {
  sh_machine *m;
  lblock *b;
  size_t n, nb;
  uint32_t *stack;
  size_t sn;
  int oom;
} scan;

static int collect(void *ud, const shT_node *x) {
  scan *s = ud;
  const shK_hist *h = shK_live(s->m, x->a);
  lblock *b = &s->b[s->n++];
  b->payload = x->a;
  b->size = x->b;
  b->alloc_op = h ? h->alloc_op : SH_NO_OP;
  b->site = h ? h->alloc_site : 0;
  b->leader = 0;
  b->state = UNREACHED;
  return 0;
}

/* The block a value points into (its payload, or a zero-size block's
** address), or -1.  Blocks are in address order. */
static long target(const scan *s, uint64_t v) {
  size_t lo = 0, hi = s->n;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (s->b[mid].payload <= v) lo = mid + 1; else hi = mid;
  }
  if (lo == 0) return -1;
  lo--;
  if (v == s->b[lo].payload || v < s->b[lo].payload + s->b[lo].size) return (long)lo;
  return -1;
}

static void push(scan *s, uint32_t i) {
  s->stack[s->sn++] = i;     /* a block is pushed at most twice (possible, then reachable) */
}

/* Memcheck's rule: reachable only along start pointers from a root or a
** reachable block; anything reached otherwise is possibly lost. */
static void mark(scan *s, uint64_t v, int definite) {
  long j = target(s, v);
  lblock *b;
  if (j < 0) return;
  b = &s->b[j];
  if (b->state == REACHABLE) return;
  if (definite && v == b->payload) { b->state = REACHABLE; push(s, (uint32_t)j); }
  else if (b->state == UNREACHED) { b->state = POSSIBLE; push(s, (uint32_t)j); }
}

/* Every aligned, defined word of [a, a+n) that points into a block. */
static void words(scan *s, uint64_t a, uint64_t n, void (*fn)(scan *, uint64_t, uint32_t),
                  uint32_t arg) {
  sh_machine *m = s->m;
  uint64_t w = (uint64_t)m->cfg.word, p = (a + w - 1) / w * w;
  for (; p + w <= a + n; p += w) {
    uint64_t i;
    int def = 1;
    for (i = 0; i < w && def; i++) def = (shK_state(m, p + i) & SHK_D) != 0;
    if (def) fn(s, shP_get(&m->space, p, (int)w), arg);
  }
}

static void mark_definite(scan *s, uint64_t v, uint32_t definite) {
  mark(s, v, (int)definite);
}

/* Clique pass: what a lost block reaches is indirectly lost, Memcheck's way. */
static void mark_clique(scan *s, uint64_t v, uint32_t leader) {
  long j = target(s, v);
  lblock *b;
  if (j < 0 || (uint32_t)j == leader) return;
  b = &s->b[j];
  if (b->state == UNREACHED || b->state == DEFINITE) {
    b->state = INDIRECT;
    b->leader = leader;
    push(s, (uint32_t)j);
  }
}

static void drain(scan *s, void (*fn)(scan *, uint64_t, uint32_t), int clique, uint32_t leader) {
  while (s->sn > 0) {
    uint32_t i = s->stack[--s->sn];
    words(s, s->b[i].payload, s->b[i].size, fn,
          clique ? leader : (uint32_t)(s->b[i].state == REACHABLE));
  }
}

static const char *const leak_words[] = { "definitely", "indirectly", "possibly" };

static const char *const leak_explain[] = {
  NULL,                      /* definitely: shC_explain's */
  "The block is reachable only through blocks that are themselves lost: it was "
  "lost along with them. Freeing the lost block that points to it would have "
  "needed to free this one first.",
  "The only pointers left point into the middle of the block, not at its start. "
  "The program might still work out the start from them, but free needs the start "
  "address: usually this is a leak, or a pointer that was moved and never moved back."
};

static int report(sh_machine *m, scan *s, int kind, const uint32_t *idx, size_t n) {
  sh_report r;
  uint64_t bytes = 0;
  size_t i;
  char *msg;
  for (i = 0; i < n; i++) bytes += s->b[idx[i]].size;
  memset(&r, 0, sizeof r);
  r.kind = SH_E_LEAK;
  r.addr = r.block = s->b[idx[0]].payload;
  r.block_size = s->b[idx[0]].size;
  r.size = bytes;
  r.blocks = n;
  r.op = m->ops ? m->ops - 1 : 0;
  r.alloc_op = s->b[idx[0]].alloc_op;
  r.alloc_site = shK_site_name(m, s->b[idx[0]].site);
  r.free_op = r.frame_pop_op = SH_NO_OP;
  r.leak = leak_words[kind];
  r.explain = leak_explain[kind] ? leak_explain[kind] : shC_explain[SH_E_LEAK];
  snprintf(m->msg, sizeof m->msg,
           "%llu byte%s in %llu block%s %s lost (%s0x%llx, allocated at op %llu)",
           U(bytes), bytes == 1 ? "" : "s", U(n), n == 1 ? "" : "s", leak_words[kind],
           n == 1 ? "the block at " : "the first at ", U(r.block), U(r.alloc_op));
  if ((msg = malloc(strlen(m->msg) + 1)) == NULL) return SH_ERR_NOMEM;
  strcpy(msg, m->msg);
  r.message = msg;
  if (shC_push(&m->chk->leaks, &r) != SH_OK) { free(msg); return SH_ERR_NOMEM; }
  return SH_OK;
}

/* One record per kind and allocation site (per block when the host names
** no sites), in the order of each record's first block's allocation. */
static int records(sh_machine *m, scan *s) {
  static const int states[] = { DEFINITE, INDIRECT, POSSIBLE };
  uint32_t *idx = malloc((s->n ? s->n : 1) * sizeof *idx);
  uint8_t *done = calloc(s->n ? s->n : 1, 1);
  int kind, rc = SH_OK;
  if (idx == NULL || done == NULL) { free(idx); free(done); return SH_ERR_NOMEM; }
  for (kind = 0; kind < 3 && rc == SH_OK; kind++) {
    size_t i, j;
    for (i = 0; i < s->n && rc == SH_OK; i++) {
      size_t k = 0;
      uint32_t site;
      if (done[i] || s->b[i].state != states[kind]) continue;
      site = s->b[i].site;
      for (j = i; j < s->n; j++) {
        uint32_t sj;
        if (done[j] || s->b[j].state != states[kind]) continue;
        sj = s->b[j].site;
        if (j == i || (site != 0 && sj == site)) { done[j] = 1; idx[k++] = (uint32_t)j; }
      }
      rc = report(m, s, kind, idx, k);
    }
  }
  free(idx);
  free(done);
  return rc;
}

int sh_leak_scan(sh_machine *m, int *count) {
  scan s;
  int d, i, rc;
  *count = 0;
  if (m->chk == NULL)
    return shM_err(m, SH_ERR_ARG, "leaks: the machine was made without check = true");
  shC_free(&m->chk->leaks);
  memset(&s, 0, sizeof s);
  s.m = m;
  s.nb = shT_count(&m->heap.live);
  s.b = malloc((s.nb ? s.nb : 1) * sizeof *s.b);
  s.stack = malloc((2 * s.nb + 1) * sizeof *s.stack);
  if (s.b == NULL || s.stack == NULL) {
    free(s.b);
    free(s.stack);
    return shM_err(m, SH_ERR_NOMEM, "leaks: out of host memory");
  }
  shT_walk(&m->heap.live, collect, &s);
  /* Roots: pointer slots exactly, aggregates (fat pointers, structs) word by word. */
  for (d = 0; d < m->stack.depth; d++) {
    const sh_frame_rec *f = &m->stack.frames[d];
    for (i = 0; i < f->layout->n; i++) {
      const sh_slot_info *si = &f->layout->slots[i];
      if (si->kind != SH_K_PTR && si->kind != SH_K_AGG) continue;
      words(&s, f->anchor + si->addr, si->size, mark_definite, 1);
    }
  }
  drain(&s, mark_definite, 0, 0);
  for (i = 0; (size_t)i < s.n; i++) {
    if (s.b[i].state != UNREACHED) continue;
    s.b[i].state = DEFINITE;
    s.b[i].leader = (uint32_t)i;
    push(&s, (uint32_t)i);
    drain(&s, mark_clique, 1, (uint32_t)i);
  }
  rc = records(m, &s);
  free(s.b);
  free(s.stack);
  if (rc != SH_OK) return shM_err(m, SH_ERR_NOMEM, "leaks: out of host memory");
  *count = m->chk->leaks.n;
  return SH_OK;
}

int sh_leak_get(const sh_machine *m, int i, sh_report *out) {
  if (m->chk == NULL || i < 0 || i >= m->chk->leaks.n) return SH_ERR_ARG;
  *out = m->chk->leaks.list[i];
  return SH_OK;
}
