/* space.c -- a sparse simulated address space: 4 KiB pages backed on first write.
** A 64-bit address space costs only the pages a scenario touches; they are cut from slabs. */
#include <stdlib.h>
#include <string.h>
#include "internal.h"

#define NOPAGE UINT64_MAX           /* no page has this number: addresses are 64-bit */
#define SLAB_MIN 4                  /* pages in the first slab: small machines stay small */
#define SLAB_MAX 256                /* 1 MiB: what a growing slab stops at */

/* A slab's pages follow this header; slabs are chained to be freed. */
typedef struct shP_slab {
  struct shP_slab *next;
  size_t pages;
  uint64_t pad[2];                  /* 32 bytes: the pages after it stay 16-byte aligned */
} shP_slab;

void shP_init(sh_space *s) {
  memset(s, 0, sizeof *s);
  s->lastno = NOPAGE;
}

void shP_free(sh_space *s) {
  while (s->slabs) {
    shP_slab *next = s->slabs->next;
    free(s->slabs);
    s->slabs = next;
  }
  free(s->slots);
  shP_init(s);
}

size_t shP_host_bytes(const sh_space *s) {
  const shP_slab *b;
  size_t n = s->cap * sizeof *s->slots;
  for (b = s->slabs; b; b = b->next) n += sizeof *b + b->pages * SH_PAGE_SIZE;
  return n;
}

/* Fibonacci hashing, top bits: neighbouring pages land far apart. */
static size_t hashpage(uint64_t no, int bits) {
  return (size_t)((no * 0x9e3779b97f4a7c15ull) >> (64 - bits));
}

static uint8_t *lookup(sh_space *s, uint64_t no) {
  size_t i, mask = s->cap - 1;
  if (s->lastno == no) return s->last;
  if (s->cap == 0) return NULL;
  for (i = hashpage(no, s->bits); s->slots[i].data; i = (i + 1) & mask)
    if (s->slots[i].no == no) {
      s->lastno = no;
      return s->last = s->slots[i].data;
    }
  return NULL;
}

static void place(sh_page *slots, size_t cap, int bits, sh_page pg) {
  size_t i;
  for (i = hashpage(pg.no, bits); slots[i].data; i = (i + 1) & (cap - 1)) {}
  slots[i] = pg;
}

static int rehash(sh_space *s) {
  size_t ncap = s->cap ? s->cap * 2 : 64, i;
  int nbits = s->cap ? s->bits + 1 : 6;
  sh_page *ns = calloc(ncap, sizeof *ns);
  if (ns == NULL) return SH_ERR_NOMEM;
  for (i = 0; i < s->cap; i++)
    if (s->slots[i].data) place(ns, ncap, nbits, s->slots[i]);
  free(s->slots);
  s->slots = ns;
  s->cap = ncap;
  s->bits = nbits;
  return SH_OK;
}

/* A zeroed page from the current slab; slabs double up to SLAB_MAX pages,
** which spares a host allocation (and its header) per page. */
static uint8_t *newpage(sh_space *s) {
  if (s->spare == 0) {
    size_t n = s->count < SLAB_MIN ? SLAB_MIN : s->count < SLAB_MAX ? s->count : SLAB_MAX;
    shP_slab *b = calloc(1, sizeof *b + n * SH_PAGE_SIZE);
    if (b == NULL) return NULL;
    b->pages = n;
    b->next = s->slabs;
    s->slabs = b;
    s->spare = n;
  }
  return (uint8_t *)(s->slabs + 1) + (s->slabs->pages - s->spare--) * SH_PAGE_SIZE;
}

/* The page for writing, created zeroed on first touch. */
static uint8_t *touch(sh_space *s, uint64_t no) {
  uint8_t *p = lookup(s, no);
  sh_page pg;
  if (p) return p;
  if ((s->count + 1) * 2 > s->cap && rehash(s) != SH_OK) return NULL;
  if ((p = newpage(s)) == NULL) return NULL;
  pg.no = no;
  pg.data = p;
  place(s->slots, s->cap, s->bits, pg);
  s->count++;
  s->lastno = no;
  return s->last = p;
}

int shP_read(sh_space *s, uint64_t addr, void *buf, size_t n) {
  uint8_t *out = buf;
  while (n > 0) {
    uint64_t off = addr & (SH_PAGE_SIZE - 1);
    size_t k = (size_t)(SH_PAGE_SIZE - off);
    const uint8_t *p = lookup(s, addr >> SH_PAGE_BITS);
    if (k > n) k = n;
    if (p) memcpy(out, p + off, k);
    else memset(out, 0, k);
    out += k; addr += k; n -= k;
  }
  return SH_OK;
}

int shP_write(sh_space *s, uint64_t addr, const void *buf, size_t n) {
  const uint8_t *in = buf;
  while (n > 0) {
    uint64_t off = addr & (SH_PAGE_SIZE - 1);
    size_t k = (size_t)(SH_PAGE_SIZE - off);
    uint8_t *p = touch(s, addr >> SH_PAGE_BITS);
    if (p == NULL) return SH_ERR_NOMEM;
    if (k > n) k = n;
    memcpy(p + off, in, k);
    in += k; addr += k; n -= k;
  }
  return SH_OK;
}

/* Little-endian values of 1, 2, 4 or 8 bytes: one copy on a little-endian host. */
static uint64_t getle(const uint8_t *b, int width) {
  uint64_t v = 0;
  int i;
  if (shP_host_le()) {
    switch (width) {
    case 8: return shP_load_le(b);
    case 4: { uint32_t x; memcpy(&x, b, 4); return x; }
    case 2: { uint16_t x; memcpy(&x, b, 2); return x; }
    case 1: return b[0];
    default: break;
    }
  }
  for (i = width - 1; i >= 0; i--) v = (v << 8) | b[i];
  return v;
}

static void putle(uint8_t *b, uint64_t v, int width) {
  int i;
  if (shP_host_le()) {
    switch (width) {
    case 8: shP_store_le(b, v); return;
    case 4: { uint32_t x = (uint32_t)v; memcpy(b, &x, 4); return; }
    case 2: { uint16_t x = (uint16_t)v; memcpy(b, &x, 2); return; }
    case 1: b[0] = (uint8_t)v; return;
    default: break;
    }
  }
  for (i = 0; i < width; i++) { b[i] = (uint8_t)v; v >>= 8; }
}

/* Word accesses inside one page skip the copy loop: they are most of the traffic. */
uint64_t shP_get(sh_space *s, uint64_t addr, int width) {
  uint8_t tmp[8];
  uint64_t off = addr & (SH_PAGE_SIZE - 1);
  if (off + (uint64_t)width <= SH_PAGE_SIZE) {
    const uint8_t *p = lookup(s, addr >> SH_PAGE_BITS);
    return p ? getle(p + off, width) : 0;
  }
  shP_read(s, addr, tmp, (size_t)width);
  return getle(tmp, width);
}

int shP_put(sh_space *s, uint64_t addr, uint64_t v, int width) {
  uint8_t tmp[8];
  uint64_t off = addr & (SH_PAGE_SIZE - 1);
  if (off + (uint64_t)width <= SH_PAGE_SIZE) {
    uint8_t *p = touch(s, addr >> SH_PAGE_BITS);
    if (p == NULL) return SH_ERR_NOMEM;
    putle(p + off, v, width);
    return SH_OK;
  }
  putle(tmp, v, width);
  return shP_write(s, addr, tmp, (size_t)width);
}

/* Up to n bytes at addr that lie in one page, in place: the checker's shadow
** and the replay's payloads are edited through this.  NULL for an unbacked
** page unless create. */
uint8_t *shP_span(sh_space *s, uint64_t addr, size_t n, size_t *len, int create) {
  uint64_t off = addr & (SH_PAGE_SIZE - 1);
  uint8_t *p = create ? touch(s, addr >> SH_PAGE_BITS) : lookup(s, addr >> SH_PAGE_BITS);
  *len = SH_PAGE_SIZE - off < n ? (size_t)(SH_PAGE_SIZE - off) : n;
  return p ? p + off : NULL;
}
