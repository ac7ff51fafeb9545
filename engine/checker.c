/* checker.c -- the checker: shadow state (two bits a heap byte, a byte a stack byte), block history, quarantine.
** It sees every access and heap and stack event through hooks the engine calls only when check is on. */
#include <stdlib.h>
#include <string.h>
#include "internal.h"

#define U(x) ((unsigned long long)(x))
#define HS_SPAN ((uint64_t)1 << 32)   /* the most heap the compact shadow covers */

int shK_open(sh_machine *m) {
  sh_checker *k = calloc(1, sizeof *k);
  if (k == NULL) return shM_err(m, SH_ERR_NOMEM, "checker: out of host memory");
  shP_init(&k->shadow);
  k->nsites = 1;                      /* site 0 is unknown */
  k->qlimit = m->cfg.quarantine;
  /* The heap lies below the stack (the machine checked). Its first 4 GiB,
  ** in whole pages, have the compact shadow, whose directory is as long as
  ** the heap is high; a heap configured higher keeps byte shadow above. */
  k->hlo = m->heap.cfg.base;
  k->hspan = (m->heap.cfg.max < HS_SPAN ? m->heap.cfg.max : HS_SPAN) & ~(SH_PAGE_SIZE - 1);
  m->chk = k;
  return SH_OK;
}

void shK_close(sh_machine *m) {
  sh_checker *k = m->chk;
  uint32_t i;
  if (k == NULL) return;
  shP_free(&k->shadow);
  free(k->blk);
  for (i = 0; i < k->hn; i++) free(k->hdir[i]);
  free(k->hdir);
  free(k->q);
  free(k->push);
  for (i = 1; i < k->nsites; i++) free(k->sites[i]);
  free(k->sites);
  free(k->sitetab);
  shC_free(&k->leaks);
  free(k);
  m->chk = NULL;
}

void sh_set_site_fn(sh_machine *m, sh_site_fn fn, void *ud) {
  m->site_fn = fn;
  m->site_ud = ud;
}

int sh_machine_checked(const sh_machine *m) {
  return m->chk != NULL;
}

void sh_own_access(sh_machine *m, int own) {
  if (m->chk) m->chk->own = own;
}

/* ---- sites: "file:line" strings, interned ---- */

static uint32_t strhash(const char *s) {
  uint32_t h = 2166136261u;           /* FNV-1a */
  while (*s) { h ^= (unsigned char)*s++; h *= 16777619u; }
  return h;
}

static int site_grow(sh_checker *k) {
  size_t cap = k->sitecap ? k->sitecap * 2 : 64, i, j;
  uint32_t *t = calloc(cap, sizeof *t);
  if (t == NULL) return 0;
  for (i = 0; i < k->sitecap; i++) {
    if (k->sitetab[i] == 0) continue;
    for (j = strhash(k->sites[k->sitetab[i]]) & (cap - 1); t[j]; j = (j + 1) & (cap - 1)) {}
    t[j] = k->sitetab[i];
  }
  free(k->sitetab);
  k->sitetab = t;
  k->sitecap = cap;
  return 1;
}

/* The site of the operation running now; 0 when the host names none (or
** host memory ran out: a report without a line, never a failed operation). */
uint32_t shK_site(sh_machine *m) {
  sh_checker *k = m->chk;
  const char *s;
  size_t i;
  char *copy;
  if (k == NULL || m->site_fn == NULL || (s = m->site_fn(m->site_ud)) == NULL) return 0;
  if (k->lastsite && strcmp(k->sites[k->lastsite], s) == 0) return k->lastsite;
  if ((k->nsites + 1) * 2 > k->sitecap && !site_grow(k)) return 0;
  for (i = strhash(s) & (k->sitecap - 1); k->sitetab[i]; i = (i + 1) & (k->sitecap - 1))
    if (strcmp(k->sites[k->sitetab[i]], s) == 0) return k->lastsite = k->sitetab[i];
  if (k->nsites >= k->csites) {
    uint32_t cap = k->csites ? k->csites * 2 : 64;
    char **ns = realloc(k->sites, cap * sizeof *ns);
    if (ns == NULL) return 0;
    k->sites = ns;
    k->csites = cap;
  }
  if ((copy = malloc(strlen(s) + 1)) == NULL) return 0;
  strcpy(copy, s);
  k->sites[k->nsites] = copy;
  k->sitetab[i] = k->nsites;
  return k->lastsite = k->nsites++;
}

const char *shK_site_name(const sh_machine *m, uint32_t site) {
  return m->chk && site > 0 && site < m->chk->nsites ? m->chk->sites[site] : NULL;
}

/* ---- the shadow ---- */

/* A heap byte is in one of four states (nothing, freed, allocated,
** allocated and written: the other bits are the stack's), so the heap's
** shadow keeps two bits a byte, Memcheck's compact form, in pages of the
** checker's own found by index from the heap's base: a block's shadow is a
** quarter of the bytes the host touches, and no page table is hashed. The
** stack keeps a byte a byte in a sparse space (it needs every bit). */
enum { HS_NONE, HS_FREED, HS_UNDEF, HS_DEF };     /* HS_UNDEF and up: addressable */
#define HS_BYTES (SH_PAGE_SIZE / 4)               /* a heap shadow page */
#define HS_ALL(c) ((uint8_t)((c) * 0x55u))        /* four bytes in state c */
static const uint8_t hs_byte[4] = { 0, SHK_F, SHK_A, SHK_A | SHK_D };

static unsigned hs_code(uint8_t s) {
  return s & SHK_A ? (s & SHK_D ? HS_DEF : HS_UNDEF) : (s & SHK_F ? HS_FREED : HS_NONE);
}

static int in_heap(const sh_checker *k, uint64_t a) {
  return a - k->hlo < k->hspan;
}

static uint8_t *hs_new(sh_checker *k, size_t i) {
  if (i >= k->hn) {
    size_t n = k->hn ? k->hn : 64;
    uint8_t **d;
    while (n <= i) n *= 2;
    if ((d = realloc(k->hdir, n * sizeof *d)) == NULL) return NULL;
    memset(d + k->hn, 0, (n - k->hn) * sizeof *d);
    k->hdir = d;
    k->hn = n;
  }
  return k->hdir[i] = calloc(1, HS_BYTES);
}

/* The shadow page of heap address a; NULL when none was needed yet (and
** create is 0, or host memory ran out). */
static inline uint8_t *hs_page(sh_checker *k, uint64_t a, int create) {
  size_t i = (size_t)((a - k->hlo) >> SH_PAGE_BITS);
  if (i < k->hn && k->hdir[i] != NULL) return k->hdir[i];
  return create ? hs_new(k, i) : NULL;
}

/* Eight shadow bytes as a number, the first lowest (one load where the host is little-endian). */
static uint64_t le64(const uint8_t *p) {
  return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
         (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 | (uint64_t)p[7] << 56;
}

static unsigned hs_at(const uint8_t *pg, uint64_t off) {
  return (pg[off >> 2] >> ((off & 3) * 2)) & 3u;
}

static void hs_set(uint8_t *pg, uint64_t off, unsigned c) {
  unsigned sh = (unsigned)(off & 3) * 2;
  pg[off >> 2] = (uint8_t)((pg[off >> 2] & ~(3u << sh)) | (c << sh));
}

/* Heap bytes [a, a+n) all become state c: the shadow bytes they fill
** whole are stored whole (a block's are a few dozen: no memset call). */
static int hs_fill(sh_checker *k, uint64_t a, uint64_t n, unsigned c) {
  uint8_t all = HS_ALL(c);
  while (n > 0) {
    uint64_t off = a & (SH_PAGE_SIZE - 1), len = SH_PAGE_SIZE - off, o, e, q, qe;
    uint8_t *pg = hs_page(k, a, 1);
    if (pg == NULL) return SH_ERR_NOMEM;
    if (len > n) len = n;
    for (o = off, e = off + len; o < e && (o & 3); o++) hs_set(pg, o, c);
    for (q = o >> 2, qe = e >> 2; q < qe; q++) pg[q] = all;
    for (o = o > qe << 2 ? o : qe << 2; o < e; o++) hs_set(pg, o, c);
    a += len; n -= len;
  }
  return SH_OK;
}

static uint8_t state(sh_checker *k, uint64_t a) {
  size_t len;
  uint8_t *b;
  if (in_heap(k, a)) {
    const uint8_t *pg = hs_page(k, a, 0);
    return pg ? hs_byte[hs_at(pg, a & (SH_PAGE_SIZE - 1))] : 0;
  }
  b = shP_span(&k->shadow, a, 1, &len, 0);
  return b ? *b : 0;
}

static int set_state(sh_checker *k, uint64_t a, uint8_t v) {
  size_t len;
  uint8_t *b;
  if (in_heap(k, a)) {
    uint8_t *pg = hs_page(k, a, 1);
    if (pg == NULL) return SH_ERR_NOMEM;
    hs_set(pg, a & (SH_PAGE_SIZE - 1), hs_code(v));
    return SH_OK;
  }
  if ((b = shP_span(&k->shadow, a, 1, &len, 1)) == NULL) return SH_ERR_NOMEM;
  *b = v;
  return SH_OK;
}

/* Does [a, a+n) miss the compact shadow's range altogether? */
static int outside(const sh_checker *k, uint64_t a, uint64_t n) {
  return a + n <= k->hlo || a >= k->hlo + k->hspan;
}

static int fill(sh_checker *k, uint64_t a, uint64_t n, uint8_t v) {
  uint64_t i;
  if (n > 0 && in_heap(k, a) && in_heap(k, a + n - 1)) return hs_fill(k, a, n, hs_code(v));
  if (!outside(k, a, n)) {            /* across its edge: a byte at a time */
    for (i = 0; i < n; i++)
      if (set_state(k, a + i, v) != SH_OK) return SH_ERR_NOMEM;
    return SH_OK;
  }
  while (n > 0) {
    size_t len;
    uint8_t *b = shP_span(&k->shadow, a, (size_t)(n > SH_PAGE_SIZE ? SH_PAGE_SIZE : n), &len, 1);
    if (b == NULL) return SH_ERR_NOMEM;
    memset(b, v, len);
    a += len; n -= len;
  }
  return SH_OK;
}

/* Every shadow byte in [a, a+n) becomes (b & keep) | set. */
static int recolour(sh_checker *k, uint64_t a, uint64_t n, uint8_t keep, uint8_t set) {
  uint64_t i;
  if (!outside(k, a, n)) {            /* the slow path's few bytes: one at a time */
    for (i = 0; i < n; i++)
      if (set_state(k, a + i, (uint8_t)((state(k, a + i) & keep) | set)) != SH_OK)
        return SH_ERR_NOMEM;
    return SH_OK;
  }
  while (n > 0) {
    size_t len, j;
    uint8_t *b = shP_span(&k->shadow, a, (size_t)(n > SH_PAGE_SIZE ? SH_PAGE_SIZE : n), &len, 1);
    if (b == NULL) return SH_ERR_NOMEM;
    for (j = 0; j < len; j++) b[j] = (uint8_t)((b[j] & keep) | set);
    a += len; n -= len;
  }
  return SH_OK;
}

uint8_t shK_state(sh_machine *m, uint64_t a) {
  return state(m->chk, a);
}

static int in_stack(const sh_machine *m, uint64_t a) {
  return a >= m->stack.limit_lo && a < m->cfg.stack_top;
}

/* ---- block history ---- */

/* Payloads are multiples of the alignment: a multiplicative hash spreads
** them. Its top bits pick the slot, so a doubled table sends slot s to 2s or
** 2s + 1 and blk_grow writes the new table front to back. */
static size_t bslot(const sh_checker *k, uint64_t p) {
  return (size_t)((p * 0x9E3779B97F4A7C15ull) >> (64 - __builtin_ctzll(k->bcap)));
}

static shK_hist *blk_get(const sh_checker *k, uint64_t p) {
  size_t i;
  if (k->bcap == 0 || p == SHK_EMPTY) return NULL;
  for (i = bslot(k, p);; i = (i + 1) & (k->bcap - 1)) {
    if (k->blk[i].payload == p) return &k->blk[i];
    if (k->blk[i].payload == SHK_EMPTY) return NULL;
  }
}

static int blk_grow(sh_checker *k) {
  size_t cap = k->bcap ? k->bcap * 2 : 256, i, j, old = k->bcap;
  shK_hist *t = calloc(cap, sizeof *t), *o = k->blk;
  if (t == NULL) return 0;
  k->blk = t;
  k->bcap = cap;
  for (i = 0; i < old; i++) {
    if (o[i].payload == SHK_EMPTY) continue;
    for (j = bslot(k, o[i].payload); t[j].payload != SHK_EMPTY; j = (j + 1) & (cap - 1)) {}
    t[j] = o[i];
  }
  free(o);
  return 1;
}

/* The record for payload p: the one there (live or freed) or a new one. */
static shK_hist *blk_put(sh_checker *k, uint64_t p) {
  shK_hist *h = blk_get(k, p);
  size_t i;
  if (h != NULL) return h;
  /* At most 5/8 full: probes stay short without wasting much memory. */
  if ((k->bn + 1) * 8 > k->bcap * 5 && !blk_grow(k)) return NULL;
  for (i = bslot(k, p); k->blk[i].payload != SHK_EMPTY; i = (i + 1) & (k->bcap - 1)) {}
  k->bn++;
  k->blk[i].payload = p;
  k->blk[i].free_op = SH_NO_OP;
  return &k->blk[i];
}

/* Backward-shift deletion: no tombstones, however long the run. */
static void blk_del(sh_checker *k, shK_hist *h) {
  size_t i = (size_t)(h - k->blk), j, mask = k->bcap - 1;
  for (j = (i + 1) & mask; k->blk[j].payload != SHK_EMPTY; j = (j + 1) & mask) {
    size_t home = bslot(k, k->blk[j].payload);
    if (((j - home) & mask) >= ((j - i) & mask)) {
      k->blk[i] = k->blk[j];
      i = j;
    }
  }
  k->blk[i].payload = SHK_EMPTY;
  k->bn--;
}

static shK_hist *live_hist(const sh_checker *k, uint64_t payload) {
  shK_hist *h = blk_get(k, payload);
  return h && h->free_op == SH_NO_OP ? h : NULL;
}

static const shK_hist *freed_at_payload(const sh_checker *k, uint64_t payload) {
  const shK_hist *h = blk_get(k, payload);
  return h && h->free_op != SH_NO_OP ? h : NULL;
}

/* A free is coming for p: its record and shadow start on their way to the
** cache while the heap finds the block (both are cold by then, as a rule). */
void shK_prefetch(sh_machine *m, uint64_t p) {
  sh_checker *k = m->chk;
  if (k->bcap) __builtin_prefetch(&k->blk[bslot(k, p)], 1);
  if (in_heap(k, p)) {
    uint8_t *pg = hs_page(k, p, 0);
    if (pg) __builtin_prefetch(pg + ((p & (SH_PAGE_SIZE - 1)) >> 2), 1);
  }
}

const shK_hist *shK_live(const sh_machine *m, uint64_t p) {
  return live_hist(m->chk, p);
}

static void drop_freed(sh_checker *k, uint64_t payload) {
  shK_hist *h = blk_get(k, payload);
  if (h && h->free_op != SH_NO_OP) {
    if (h->size == 0) k->nzero--;
    blk_del(k, h);
  }
}

/* Forget the freed blocks whose payloads start in [b, b+bs): their bytes are
** reused.  A freed payload is a run of F bytes, so its start is found in the
** shadow without a search (one that began below b keeps its history: the
** bytes of it still freed are still its). */
static void forget_freed(sh_checker *k, uint64_t b, uint64_t bs) {
  uint64_t a = b, e = b + bs;
  unsigned prev = b > 0 && (state(k, b - 1) & SHK_F);
  /* A record at b without a freed byte there: a zero-size block's, or one
  ** inside a run (headerless blocks side by side). Otherwise the scan
  ** below finds it, or there is none: the probe would only miss the cache. */
  if (prev || k->nzero > 0) drop_freed(k, b);
  if (bs == 0) return;
  if (!in_heap(k, b) || !in_heap(k, e - 1)) {
    for (; a < e; a++) {
      unsigned f = (state(k, a) & SHK_F) != 0;
      if (f && !prev) drop_freed(k, a);
      prev = f;
    }
    return;
  }
  while (a < e) {
    uint64_t off = a & (SH_PAGE_SIZE - 1), len = SH_PAGE_SIZE - off, o, end;
    const uint8_t *pg = hs_page(k, a, 0);
    if (len > e - a) len = e - a;
    if (pg == NULL) { a += len; prev = 0; continue; }
    for (o = off, end = off + len; o < end;) {
      unsigned c, fb, st, j;
      if ((o & 3) == 0 && end - o >= 32) {         /* 32 bytes at once */
        uint64_t w = le64(pg + (o >> 2)), wf = w & ~(w >> 1) & 0x5555555555555555ull;
        uint64_t ws = wf & ~((wf << 2) | prev);      /* a bit where a run starts */
        for (; ws != 0; ws &= ws - 1)
          drop_freed(k, a + (o - off) + (uint64_t)__builtin_ctzll(ws) / 2);
        prev = (unsigned)(wf >> 62);
        o += 32;
        continue;
      }
      if ((o & 3) != 0 || end - o < 4) {             /* a part of a shadow byte */
        unsigned f = hs_at(pg, o) == HS_FREED;
        if (f && !prev) drop_freed(k, a + (o - off));
        prev = f;
        o++;
        continue;
      }
      c = pg[o >> 2];                                /* four bytes at once */
      fb = c & ~(c >> 1) & 0x55u;
      st = fb & ~((fb << 2) | prev);                 /* where a run starts */
      for (j = 0; st != 0; j++, st >>= 2)
        if (st & 1) drop_freed(k, a + (o - off) + j);
      prev = (fb >> 6) & 1;
      o += 4;
    }
    a += len;
  }
}

/* The freed block whose payload holds a: the start of the run of F bytes a
** is in (blocks without headers make one run of several: step through). */
static const shK_hist *freed_hist(sh_checker *k, uint64_t a) {
  const shK_hist *h = freed_at_payload(k, a);
  uint64_t p = a;
  if (h) return h;
  if (!(state(k, a) & SHK_F)) return NULL;
  while (p > 0 && (state(k, p - 1) & SHK_F)) p--;
  while ((h = freed_at_payload(k, p)) != NULL && h->size > 0) {
    if (a < p + h->size) return h;
    p += h->size;
  }
  return NULL;
}

int shK_freed_payload(sh_machine *m, uint64_t addr, uint64_t *payload, uint64_t *op) {
  const shK_hist *h = freed_hist(m->chk, addr);
  if (h == NULL) return 0;
  *payload = h->payload;
  *op = h->free_op;
  return 1;
}

/* ---- heap events ---- */

int shK_alloc(sh_machine *m, uint64_t p, uint64_t size, uint64_t b, uint64_t bs) {
  sh_checker *k = m->chk;
  shK_hist *h;
  if (k->bcap) __builtin_prefetch(&k->blk[bslot(k, p)], 1);   /* while the shadow is scanned */
  forget_freed(k, b, bs);
  /* A freed record still at p (its bytes reused without its start) is replaced. */
  if (fill(k, b, bs, 0) != SH_OK || fill(k, p, size, SHK_A) != SH_OK ||
      (h = blk_put(k, p)) == NULL)
    return shM_err(m, SH_ERR_NOMEM, "checker: out of host memory");
  if (h->free_op != SH_NO_OP && h->size == 0) k->nzero--;   /* replaced */
  h->size = size;
  h->alloc_op = m->ops - 1;
  h->free_op = SH_NO_OP;
  h->alloc_site = shK_site(m);
  h->free_site = 0;
  return SH_OK;
}

int shK_resize(sh_machine *m, uint64_t p, uint64_t size, uint64_t b, uint64_t bs) {
  sh_checker *k = m->chk;
  shK_hist *h;
  int rc;
  if (live_hist(k, p) == NULL) return SH_OK;
  forget_freed(k, b, bs);
  h = live_hist(k, p);                /* the forgetting may have moved it in the table */
  if (size > h->size) rc = fill(k, p + h->size, size - h->size, SHK_A);
  else rc = fill(k, p + size, h->size - size, 0);
  if (rc != SH_OK) return shM_err(m, SH_ERR_NOMEM, "checker: out of host memory");
  h->size = size;
  return SH_OK;
}

/* realloc's copy moves definedness with the bytes: copying is not a use. */
void shK_copy(sh_machine *m, uint64_t dst, uint64_t src, uint64_t n) {
  sh_checker *k = m->chk;
  uint64_t i = 0;
  if (((dst | src | n) & 3) == 0 && in_heap(k, dst) && in_heap(k, dst + n - 1) &&
      in_heap(k, src) && in_heap(k, src + n - 1)) {
    for (; i < n; i += 4) {           /* a shadow byte at a time: defined stays, the rest A */
      const uint8_t *sp = hs_page(k, src + i, 0);
      uint8_t *dp = hs_page(k, dst + i, 1), c;
      if (dp == NULL) return;
      c = sp ? sp[((src + i) & (SH_PAGE_SIZE - 1)) >> 2] : 0;
      dp[((dst + i) & (SH_PAGE_SIZE - 1)) >> 2] = (uint8_t)(0xaa | (c & (c >> 1) & 0x55));
    }
    return;
  }
  for (; i < n; i++)
    if (set_state(k, dst + i, (uint8_t)(SHK_A | (state(k, src + i) & SHK_D))) != SH_OK) return;
}

static int qpush(sh_checker *k, uint64_t b, uint64_t bs) {
  if (k->qn == k->qcap) {
    size_t cap = k->qcap ? k->qcap * 2 : 64, i;
    uint64_t *nq = malloc(cap * 2 * sizeof *nq);
    if (nq == NULL) return 0;
    for (i = 0; i < k->qn; i++) {
      nq[2 * i] = k->q[2 * ((k->qhead + i) % k->qcap)];
      nq[2 * i + 1] = k->q[2 * ((k->qhead + i) % k->qcap) + 1];
    }
    free(k->q);
    k->q = nq;
    k->qcap = cap;
    k->qhead = 0;
  }
  k->q[2 * ((k->qhead + k->qn) % k->qcap)] = b;
  k->q[2 * ((k->qhead + k->qn) % k->qcap) + 1] = bs;
  k->qn++;
  k->qbytes += bs;
  return 1;
}

int shK_drain(sh_machine *m, uint64_t keep) {
  sh_checker *k = m->chk;
  int rc;
  while (k->qn > 0 && k->qbytes > keep) {
    uint64_t b = k->q[2 * k->qhead], bs = k->q[2 * k->qhead + 1];
    k->qhead = (k->qhead + 1) % k->qcap;
    k->qn--;
    k->qbytes -= bs;
    if ((rc = m->heap.ops->free(m, m->heap.state, b, bs)) != SH_OK) return rc;
  }
  return SH_OK;
}

int shK_walk_quarantine(sh_machine *m, sh_block_fn fn, void *ud) {
  sh_checker *k = m->chk;
  size_t i;
  for (i = 0; i < k->qn; i++) {
    sh_block bl;
    memset(&bl, 0, sizeof bl);
    bl.addr = k->q[2 * ((k->qhead + i) % k->qcap)];
    bl.size = k->q[2 * ((k->qhead + i) % k->qcap) + 1];
    if (fn(ud, &bl) != 0) return 1;
  }
  return 0;
}

/* A block's payload becomes freed history (bump's reset forgets all this way). */
int shK_forget(sh_machine *m, uint64_t p, uint64_t b, uint64_t bs, uint64_t op) {
  shK_hist *h = live_hist(m->chk, p);
  (void)b;
  (void)bs;
  if (h == NULL) return SH_OK;
  h->free_op = op;                    /* the live record becomes the freed one */
  if (h->size == 0) m->chk->nzero++;
  h->free_site = shK_site(m);
  if (fill(m->chk, p, h->size, SHK_F) != SH_OK)
    return shM_err(m, SH_ERR_NOMEM, "checker: out of host memory");
  return SH_OK;
}

int shK_free(sh_machine *m, uint64_t p, uint64_t b, uint64_t bs, uint64_t op) {
  sh_checker *k = m->chk;
  int rc = shK_forget(m, p, b, bs, op);
  if (rc != SH_OK) return rc;
  if (k->qlimit == 0 || bs > k->qlimit || !qpush(k, b, bs))
    return m->heap.ops->free(m, m->heap.state, b, bs);
  return shK_drain(m, k->qlimit);
}

/* ---- stack events ---- */

int shK_push(sh_machine *m, const sh_frame_rec *f) {
  sh_checker *k = m->chk;
  int d = m->stack.depth;
  uint64_t w = (uint64_t)m->cfg.word, a;
  if (d > k->cpush) {
    int cap = k->cpush ? k->cpush * 2 : 64;
    struct shK_push *np;
    while (cap < d) cap *= 2;
    if ((np = realloc(k->push, (size_t)cap * sizeof *np)) == NULL)
      return shM_err(m, SH_ERR_NOMEM, "checker: out of host memory");
    k->push = np;
    k->cpush = cap;
  }
  k->push[d - 1].op = m->ops - 1;     /* no site: reports name where frames returned */
  /* A byte a popped frame leaked (its address was taken) now dangles. */
  for (a = f->sp; a < f->top;) {
    size_t len, i;
    uint8_t *b = shP_span(&k->shadow, a, (size_t)(f->top - a), &len, 1);
    if (b == NULL) return shM_err(m, SH_ERR_NOMEM, "checker: out of host memory");
    for (i = 0; i < len; i++) b[i] = (uint8_t)(SHK_A | (b[i] & (SHK_E | SHK_G) ? SHK_G : 0));
    a += len;
  }
  /* The return address and the saved frame pointer were written by the call. */
  return recolour(m->chk, f->fp, 2 * w, 0, SHK_A | SHK_D) == SH_OK ? SH_OK
         : shM_err(m, SH_ERR_NOMEM, "checker: out of host memory");
}

void shK_pop(sh_machine *m, const sh_frame_rec *f) {
  sh_checker *k = m->chk;
  shK_popped *r = &k->ring[k->nring++ % SHK_RING];
  int d = m->stack.depth;            /* still counts f */
  uint64_t a;
  r->id = f->id;
  r->sp = f->sp;
  r->top = f->top;
  r->anchor = f->anchor;
  r->name = f->name;
  r->layout = f->layout;
  r->push_op = d > 0 && d <= k->cpush ? k->push[d - 1].op : SH_NO_OP;
  r->pop_op = m->ops - 1;
  r->pop_site = shK_site(m);
  for (a = f->sp; a < f->top;) {
    size_t len, i;
    uint8_t *b = shP_span(&k->shadow, a, (size_t)(f->top - a), &len, 1);
    if (b == NULL) return;
    for (i = 0; i < len; i++) b[i] = (uint8_t)(SHK_P | (b[i] & (SHK_E | SHK_G) ? SHK_E : 0));
    a += len;
  }
}

void sh_escape(sh_machine *m, uint64_t addr, uint64_t n) {
  sh_checker *k = m->chk;
  uint64_t a;
  if (k == NULL || !in_stack(m, addr)) return;
  for (a = addr; a < addr + n;) {
    size_t len, i;
    uint8_t *b = shP_span(&k->shadow, a, (size_t)(addr + n - a), &len, 0);
    if (b == NULL) return;
    for (i = 0; i < len; i++)
      if (b[i] & SHK_A) b[i] = (uint8_t)((b[i] & ~SHK_G) | SHK_E);
    a += len;
  }
}

/* ---- describing the memory at an address ---- */

static const shK_popped *popped_at(const sh_checker *k, uint64_t a) {
  uint64_t i, n = k->nring < SHK_RING ? k->nring : SHK_RING;
  for (i = 1; i <= n; i++) {
    const shK_popped *r = &k->ring[(k->nring - i) % SHK_RING];
    if (a >= r->sp && a < r->top) return r;
  }
  return NULL;
}

/* The slot of a layout anchored at anchor that holds a, or NULL. */
static const sh_slot_info *slot_at(const sh_layout *l, uint64_t anchor, uint64_t a) {
  int i;
  for (i = 0; l && i < l->n; i++) {
    uint64_t s = anchor + l->slots[i].addr;
    if (a >= s && a < s + l->slots[i].size) return &l->slots[i];
  }
  return NULL;
}

static const sh_frame_rec *live_frame_at(const sh_machine *m, uint64_t a) {
  int i;
  for (i = m->stack.depth - 1; i >= 0; i--)
    if (a >= m->stack.frames[i].sp && a < m->stack.frames[i].top) return &m->stack.frames[i];
  return NULL;
}

static void use_hist(sh_machine *m, sh_report *r, const shK_hist *h) {
  r->block = h->payload;
  r->block_size = h->size;
  r->alloc_op = h->alloc_op;
  r->alloc_site = shK_site_name(m, h->alloc_site);
  r->free_op = h->free_op;
  r->free_site = shK_site_name(m, h->free_site);
}

/* The live block nearest a heap address: the one holding it, else the
** nearer of the blocks before and after (by distance to their payloads). */
static const shK_hist *near_block(sh_machine *m, uint64_t a) {
  const sh_tree *t = &m->heap.live;
  shT_node lo, hi, p;
  int has_lo = shT_le(t, a, &lo), has_hi = shT_ge(t, a + 1, &hi);
  uint64_t dlo = UINT64_MAX, dhi = UINT64_MAX;
  if (has_lo) {
    if (a >= lo.a && a < lo.a + lo.b) return live_hist(m->chk, lo.a);
    dlo = a >= lo.a + lo.b ? a - (lo.a + lo.b) : 0;
    if (a < lo.a) {              /* in its header: compare with the block before */
      if (lo.key > 0 && shT_le(t, lo.key - 1, &p) && a - (p.a + p.b) < lo.a - a)
        return live_hist(m->chk, p.a);
      return live_hist(m->chk, lo.a);
    }
  }
  if (has_hi) dhi = hi.a - a;
  if (!has_lo && !has_hi) return NULL;
  return live_hist(m->chk, has_lo && dlo <= dhi ? lo.a : hi.a);
}

void shK_describe(sh_machine *m, sh_report *r) {
  sh_checker *k = m->chk;
  const shK_hist *h = NULL;
  uint64_t a = r->addr;
  if (in_stack(m, a)) {
    const shK_popped *p = popped_at(k, a);
    const sh_frame_rec *f = live_frame_at(m, a);
    if (p && (r->kind == SH_E_USE_AFTER_RETURN || f == NULL)) {
      r->frame = p->name;
      r->frame_pop_op = p->pop_op;
      r->pop_site = shK_site_name(m, p->pop_site);
    } else if (f) {
      r->frame = f->name;
    }
    return;
  }
  if (r->kind == SH_E_DOUBLE_FREE || r->kind == SH_E_USE_AFTER_FREE) {
    h = freed_hist(k, a);
  } else if (r->kind == SH_E_INVALID_FREE) {
    shT_node x;
    if (shT_le(&m->heap.live, a, &x) && a < x.key + x.size)
      h = live_hist(k, x.a);
    else
      h = freed_hist(k, a);
  } else {
    h = live_hist(k, a);
    if (h == NULL) h = near_block(m, a);
    if (h == NULL) h = freed_hist(k, a);
  }
  if (h) use_hist(m, r, h);
}

/* ---- accesses ---- */

static const char *slot_name_at(const sh_machine *m, uint64_t a, const char **frame) {
  const sh_frame_rec *f = live_frame_at(m, a);
  const sh_slot_info *s = f ? slot_at(f->layout, f->anchor, a) : NULL;
  *frame = f ? f->name : "?";
  return s ? s->name : NULL;
}

/* Say where a heap address lies relative to the block r names. */
static void heap_where(const sh_machine *m, const sh_report *r, uint64_t a, char *buf, size_t n) {
  const sh_tree *t = &m->heap.live;
  shT_node x;
  int header = shT_le(t, a, &x) && a < x.a;
  if (r->alloc_op == SH_NO_OP) { snprintf(buf, n, "outside every block"); return; }
  if (a < r->block)
    snprintf(buf, n, "%llu bytes before the %llu-byte block at 0x%llx%s",
             U(r->block - a), U(r->block_size), U(r->block),
             header ? " (in the allocator's header)" : "");
  else if (a >= r->block + r->block_size)
    snprintf(buf, n, "%llu bytes past the end of the %llu-byte block at 0x%llx",
             U(a - (r->block + r->block_size)), U(r->block_size), U(r->block));
  else
    snprintf(buf, n, "%llu bytes into the %llu-byte block at 0x%llx",
             U(a - r->block), U(r->block_size), U(r->block));
}

/* What the bytes past a block's end are: padding of that block, a header, another block. */
static const char *beyond(const sh_machine *m, uint64_t a) {
  const sh_tree *t = &m->heap.live;
  shT_node x;
  if (shT_le(t, a, &x) && a < x.key + x.size) {
    const shT_node *b = &x;
    if (a >= b->a + b->b) return "; the block's padding hides it: the allocator rounded the "
                                 "block up, so a real program would not crash here";
    if (a < b->a) return "; it lands in the next block's header";
    return "; it lands in the next block";
  }
  if (freed_hist(m->chk, a)) return "; it lands in a freed block";
  return "; it lands in free heap space";
}

static int bad_access(sh_machine *m, const char *op, uint64_t addr, uint64_t n, int write,
                      uint64_t at, uint8_t s) {
  sh_checker *k = m->chk;
  sh_report r;
  char where[200];
  const char *verb = write ? "write" : "read";
  if (s & SHK_F) {
    shC_begin(m, &r, SH_E_USE_AFTER_FREE, at, n);
    heap_where(m, &r, at, where, sizeof where);
    snprintf(m->msg, sizeof m->msg, "%s: %s of %llu byte%s at 0x%llx, %s, which was freed at op %llu",
             op, verb, U(n), n == 1 ? "" : "s", U(addr), where, U(r.free_op));
  } else if (s & (SHK_P | SHK_G)) {
    const shK_popped *p = popped_at(k, at);
    const sh_slot_info *ps = p ? slot_at(p->layout, p->anchor, at) : NULL;
    shC_begin(m, &r, SH_E_USE_AFTER_RETURN, at, n);
    if (p) {
      r.frame = p->name;
      r.frame_pop_op = p->pop_op;
      r.pop_site = shK_site_name(m, p->pop_site);
    }
    if (s & SHK_G) {
      const char *fname, *sname = slot_name_at(m, at, &fname);
      snprintf(m->msg, sizeof m->msg,
               "%s: %s of %llu byte%s at 0x%llx through a dangling pointer: it was %s%s%s of frame "
               "'%s' (popped at op %llu); the bytes now belong to %s%s%s of frame '%s', which "
               "never gave out its address", op, verb, U(n), n == 1 ? "" : "s", U(addr),
               ps ? "slot '" : "", ps ? ps->name : "a slot", ps ? "'" : "",
               p ? p->name : "?", U(p ? p->pop_op : 0),
               sname ? "slot '" : "", sname ? sname : "part", sname ? "'" : "", fname);
    } else {
      snprintf(m->msg, sizeof m->msg,
               "%s: %s of %llu byte%s at 0x%llx, %s%s%s of frame '%s', which returned at op %llu",
               op, verb, U(n), n == 1 ? "" : "s", U(addr), ps ? "slot '" : "",
               ps ? ps->name : "a slot",
               ps ? "'" : "", p ? p->name : "?", U(p ? p->pop_op : 0));
    }
  } else if (in_stack(m, at)) {
    const char *fname, *sname;
    shC_begin(m, &r, SH_E_OUT_OF_BOUNDS, at, n);
    if (s & SHK_A) {           /* from a slot whose address was taken into one whose was not */
      const char *from = slot_name_at(m, addr, &fname);
      sname = slot_name_at(m, at, &fname);
      snprintf(m->msg, sizeof m->msg,
               "%s: %s of %llu byte%s at 0x%llx runs from slot '%s' into %s%s%s of frame '%s'",
               op, verb, U(n), n == 1 ? "" : "s", U(addr), from ? from : "?",
               sname ? "slot '" : "the frame's own bookkeeping (saved frame pointer, return "
               "address) or padding", sname ? sname : "", sname ? "'" : "", fname);
    } else {
      snprintf(m->msg, sizeof m->msg,
               "%s: %s of %llu byte%s at 0x%llx is below the stack pointer, in memory no frame holds",
               op, verb, U(n), n == 1 ? "" : "s", U(addr));
    }
  } else {
    shC_begin(m, &r, SH_E_OUT_OF_BOUNDS, at, n);
    heap_where(m, &r, at, where, sizeof where);
    snprintf(m->msg, sizeof m->msg, "%s: %s of %llu byte%s at 0x%llx: byte 0x%llx is %s%s",
             op, verb, U(n), n == 1 ? "" : "s", U(addr), U(at), where,
             r.alloc_op == SH_NO_OP || at < r.block ? "" : beyond(m, at));
  }
  return shC_keep(m, &r);
}

static int undefined(sh_machine *m, const char *op, uint64_t addr, uint64_t n, uint64_t at,
                     uint64_t count) {
  sh_report r;
  char where[200];
  shC_begin(m, &r, SH_E_UNINITIALISED, at, n);
  if (in_stack(m, at)) {
    const char *fname, *sname = slot_name_at(m, at, &fname);
    snprintf(where, sizeof where, "%s%s%s of frame '%s'", sname ? "slot '" : "",
             sname ? sname : "a frame's padding", sname ? "'" : "", fname);
  } else {
    heap_where(m, &r, at, where, sizeof where);
  }
  snprintf(m->msg, sizeof m->msg,
           "%s: read of %llu byte%s at 0x%llx uses %llu uninitialised byte%s, %s, never written",
           op, U(n), n == 1 ? "" : "s", U(addr), U(count), count == 1 ? "" : "s", where);
  return shC_keep(m, &r);
}

/* After a bad write the bytes it could reach hold what it wrote. */
static void written(sh_checker *k, uint64_t addr, uint64_t n) {
  uint64_t i;
  for (i = 0; i < n; i++) {
    uint8_t s = state(k, addr + i);
    if (s & SHK_A) set_state(k, addr + i, (uint8_t)(s | SHK_D));
  }
}

/* The slow path: find the first byte that is wrong and say what it is. */
static int judge(sh_machine *m, const char *op, uint64_t addr, uint64_t n, int write) {
  sh_checker *k = m->chk;
  uint64_t i, count = 0, first = 0;
  uint8_t e0 = state(k, addr) & SHK_E;
  int rc, stack = in_stack(m, addr);
  for (i = 0; i < n; i++) {
    uint8_t s = state(k, addr + i);
    if (!(s & SHK_A) || (!k->own && (s & SHK_G)) || (!k->own && stack && (s & SHK_E) != e0)) {
      rc = bad_access(m, op, addr, n, write, addr + i, s);
      if (write) written(k, addr, n);
      return rc;
    }
  }
  if (write) return recolour(k, addr, n, 0xff, SHK_D);
  for (i = 0; i < n; i++)
    if (!(state(k, addr + i) & SHK_D) && count++ == 0) first = addr + i;
  if (count == 0) return SH_OK;
  rc = undefined(m, op, addr, n, first, count);
  /* Once said, the bytes count as defined: one report, not one per use. */
  recolour(k, addr, n, 0xff, SHK_D);
  return rc;
}

/* The shadow of [addr, addr+n) when it lies in one backed page, else NULL.
** Accesses alternate between a few pages (a frame, a block or two): a
** direct-mapped cache of four spares the page table's hash. Pages never
** move or go before the machine does, so keeping their addresses is safe. */
static uint8_t *shadow_at(sh_checker *k, uint64_t addr, uint64_t n) {
  uint64_t no = addr >> SH_PAGE_BITS, off = addr & (SH_PAGE_SIZE - 1);
  struct shK_page *c = &k->pages[no & 3];
  size_t len;
  uint8_t *b;
  if (off + n > SH_PAGE_SIZE) return NULL;
  if (c->data != NULL && c->no == no) return c->data + off;
  if ((b = shP_span(&k->shadow, addr, (size_t)n, &len, 0)) == NULL) return NULL;
  c->no = no;
  c->data = b - off;
  return b;
}

int shK_access(sh_machine *m, const char *op, uint64_t addr, uint64_t n, int write) {
  sh_checker *k = m->chk;
  uint8_t all = 0xff, any = 0, need = write ? SHK_A : SHK_A | SHK_D;
  size_t len = (size_t)n, i;
  uint8_t *b;
  if (n == 0) return SH_OK;
  if (in_heap(k, addr)) {             /* heap bytes: two bits each, no stack marks */
    uint64_t off = addr & (SH_PAGE_SIZE - 1), o;
    unsigned least = write ? HS_UNDEF : HS_DEF;
    uint8_t *pg;
    if (n <= 16 && off + n <= SH_PAGE_SIZE && (pg = hs_page(k, addr, 0)) != NULL) {
      if (((off | n) & 3) == 0) {     /* whole shadow bytes: an aligned word or two */
        uint64_t q, qe = (off + n) >> 2;
        for (q = off >> 2; q < qe && (write ? (pg[q] & 0xaa) == 0xaa : pg[q] == 0xff); q++) {}
        if (q == qe) {
          if (write) for (q = off >> 2; q < qe; q++) pg[q] = 0xff;
          return SH_OK;
        }
        return judge(m, op, addr, n, write);
      }
      for (o = off; o < off + n && hs_at(pg, o) >= least; o++) {}
      if (o == off + n) {
        if (write) for (o = off; o < off + n; o++) pg[o >> 2] |= (uint8_t)(3u << ((o & 3) * 2));
        return SH_OK;
      }
    }
    return judge(m, op, addr, n, write);
  }
  if (n <= 16 && (b = shadow_at(k, addr, n)) != NULL) {
    for (i = 0; i < len; i++) { all &= b[i]; any |= b[i]; }
    if ((all & need) == need &&
        (k->own || (!(any & SHK_G) && ((any ^ all) & SHK_E) == 0))) {
      if (write) for (i = 0; i < len; i++) b[i] |= SHK_D;
      return SH_OK;
    }
  }
  return judge(m, op, addr, n, write);
}
