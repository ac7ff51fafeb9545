/* space.c -- a sparse simulated address space: 4 KiB pages backed on first write.
** A 64-bit address space costs only the pages a scenario touches. */
#include <stdlib.h>
#include <string.h>
#include "internal.h"

void shP_init(sh_space *s) {
  memset(s, 0, sizeof *s);
}

void shP_free(sh_space *s) {
  size_t i;
  for (i = 0; i < s->cap; i++) free(s->slots[i]);
  free(s->slots);
  shP_init(s);
}

static size_t hashpage(uint64_t no, size_t cap) {
  no *= 0x9e3779b97f4a7c15ull;     /* Fibonacci hashing spreads neighbouring pages */
  return (size_t)(no >> 20) & (cap - 1);
}

static sh_page *lookup(sh_space *s, uint64_t no) {
  size_t i;
  if (s->last && s->last->no == no) return s->last;
  if (s->cap == 0) return NULL;
  for (i = hashpage(no, s->cap); s->slots[i]; i = (i + 1) & (s->cap - 1))
    if (s->slots[i]->no == no) return s->last = s->slots[i];
  return NULL;
}

static int rehash(sh_space *s) {
  size_t ncap = s->cap ? s->cap * 2 : 64, i, j;
  sh_page **ns = calloc(ncap, sizeof *ns);
  if (ns == NULL) return SH_ERR_NOMEM;
  for (i = 0; i < s->cap; i++) {
    if (s->slots[i] == NULL) continue;
    for (j = hashpage(s->slots[i]->no, ncap); ns[j]; j = (j + 1) & (ncap - 1)) {}
    ns[j] = s->slots[i];
  }
  free(s->slots);
  s->slots = ns;
  s->cap = ncap;
  return SH_OK;
}

/* The page for writing, created zeroed on first touch. */
static sh_page *touch(sh_space *s, uint64_t no) {
  sh_page *p = lookup(s, no);
  size_t i;
  if (p) return p;
  if ((s->count + 1) * 2 > s->cap && rehash(s) != SH_OK) return NULL;
  p = calloc(1, sizeof *p);
  if (p == NULL) return NULL;
  p->no = no;
  for (i = hashpage(no, s->cap); s->slots[i]; i = (i + 1) & (s->cap - 1)) {}
  s->slots[i] = p;
  s->count++;
  return s->last = p;
}

int shP_read(sh_space *s, uint64_t addr, void *buf, size_t n) {
  uint8_t *out = buf;
  while (n > 0) {
    uint64_t off = addr & (SH_PAGE_SIZE - 1);
    size_t k = (size_t)(SH_PAGE_SIZE - off);
    sh_page *p = lookup(s, addr >> SH_PAGE_BITS);
    if (k > n) k = n;
    if (p) memcpy(out, p->data + off, k);
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
    sh_page *p = touch(s, addr >> SH_PAGE_BITS);
    if (p == NULL) return SH_ERR_NOMEM;
    if (k > n) k = n;
    memcpy(p->data + off, in, k);
    in += k; addr += k; n -= k;
  }
  return SH_OK;
}

/* Word accesses inside one page skip the copy loop: they are most of the traffic. */
uint64_t shP_get(sh_space *s, uint64_t addr, int width) {
  uint8_t tmp[8];
  const uint8_t *b = tmp;
  uint64_t v = 0, off = addr & (SH_PAGE_SIZE - 1);
  int i;
  if (off + (uint64_t)width <= SH_PAGE_SIZE) {
    sh_page *p = lookup(s, addr >> SH_PAGE_BITS);
    if (p == NULL) return 0;
    b = p->data + off;
  } else {
    shP_read(s, addr, tmp, (size_t)width);
  }
  for (i = width - 1; i >= 0; i--) v = (v << 8) | b[i];
  return v;
}

int shP_put(sh_space *s, uint64_t addr, uint64_t v, int width) {
  uint8_t tmp[8], *b = tmp;
  uint64_t off = addr & (SH_PAGE_SIZE - 1);
  int i, direct = off + (uint64_t)width <= SH_PAGE_SIZE;
  if (direct) {
    sh_page *p = touch(s, addr >> SH_PAGE_BITS);
    if (p == NULL) return SH_ERR_NOMEM;
    b = p->data + off;
  }
  for (i = 0; i < width; i++) { b[i] = (uint8_t)v; v >>= 8; }
  return direct ? SH_OK : shP_write(s, addr, tmp, (size_t)width);
}

/* Up to n bytes at addr that lie in one page, in place: the checker's shadow
** is edited through this.  NULL for an unbacked page unless create. */
uint8_t *shP_span(sh_space *s, uint64_t addr, size_t n, size_t *len, int create) {
  uint64_t off = addr & (SH_PAGE_SIZE - 1);
  sh_page *p = create ? touch(s, addr >> SH_PAGE_BITS) : lookup(s, addr >> SH_PAGE_BITS);
  *len = SH_PAGE_SIZE - off < n ? (size_t)(SH_PAGE_SIZE - off) : n;
  return p ? p->data + off : NULL;
}
