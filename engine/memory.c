/* memory.c -- the program's loads and stores: region checks, pricing, byte order.
** An access outside the stack and the heap is a segfault, reported, never performed. */
#include <string.h>
#include "internal.h"

static const char *where(const sh_machine *m, uint64_t addr) {
  if (addr < SH_PAGE_SIZE) return "in the null page";
  if (addr >= m->stack.limit_lo && addr < m->cfg.stack_top) return "below the stack pointer";
  if (addr >= m->heap.cfg.base && addr < m->heap.cfg.base + m->heap.cfg.max)
    return "past the heap's break";
  return "outside the stack and the heap";
}

/* The whole stack region is mapped, as on a real machine: the bytes below
** sp hold what popped frames left there (the checker's business, not a fault). */
static int mapped(const sh_machine *m, uint64_t addr, uint64_t n) {
  uint64_t end = addr + n;
  if (end < addr) return 0;
  if (addr >= m->stack.limit_lo && end <= m->cfg.stack_top) return 1;
  return shH_in_heap(m, addr, n);
}

int shM_check(sh_machine *m, const char *op, uint64_t addr, uint64_t n) {
  if (mapped(m, addr, n)) return SH_OK;
  return shM_err(m, SH_ERR_ACCESS, "%s: 0x%llx (%llu bytes) is %s: segmentation fault",
                 op, (unsigned long long)addr, (unsigned long long)n, where(m, addr));
}

/* Every access the machine makes is priced here, with its address: the
** cache hierarchy says which level served it and what that took.  With the
** cache disabled an access costs cost.access cycles whatever its address. */
void shM_price(sh_machine *m, uint64_t addr, uint64_t n, int cat, int write) {
  uint64_t cy;
  /* A program access is a stack access when it lands in the stack (a
  ** slot), heap payload otherwise: the categories the cache counts apart. */
  if (cat == SH_COST_MEMORY && addr >= m->stack.limit_lo && addr < m->cfg.stack_top)
    cat = SH_COST_STACK;
  cy = m->cache
    ? sh_cache_access(m->cache, addr, (uint32_t)(n > 4096 ? 4096 : n), write ? SH_WRITE : SH_READ, cat)
    : m->cfg.cost.access;
  m->c.cost[cat] += cy;
  m->c.lat[cat] += cy;
}

void shM_price_hits(sh_machine *m, uint64_t n, int cat) {
  uint64_t cy = m->cache ? sh_cache_assume_hits(m->cache, n, cat) : n * m->cfg.cost.access;
  m->c.cost[cat] += cy;
  m->c.lat[cat] += cy;
}

/* A copy of n bytes: one access per word it touches. */
void shM_price_range(sh_machine *m, uint64_t addr, uint64_t n, int cat, int write) {
  uint64_t w = (uint64_t)m->cfg.word, end = addr + n, a;
  for (a = addr; a < end; a = (a / w + 1) * w)
    shM_price(m, a, (a / w + 1) * w < end ? (a / w + 1) * w - a : end - a, cat, write);
}

int shM_access(sh_machine *m, const char *op, uint64_t addr, uint64_t n, int cat, int write) {
  int rc = shM_check(m, op, addr, n);
  if (rc == SH_OK) shM_price(m, addr, n, cat, write);
  return rc;
}

static int width_ok(sh_machine *m, const char *op, int width) {
  if (width == 1 || width == 2 || width == 4 || width == 8) return SH_OK;
  return shM_err(m, SH_ERR_ARG, "%s: width must be 1, 2, 4 or 8, not %d", op, width);
}

int sh_load(sh_machine *m, uint64_t addr, int width, uint64_t *v) {
  int rc;
  if ((rc = width_ok(m, "load", width)) != SH_OK) return rc;
  if ((rc = shM_access(m, "load", addr, (uint64_t)width, SH_COST_MEMORY, 0)) != SH_OK)
    return rc;
  m->ops++;
  m->c.loads++;
  if (m->chk && (rc = shK_access(m, "load", addr, (uint64_t)width, 0)) != SH_OK) return rc;
  *v = shP_get(&m->space, addr, width);
  return SH_OK;
}

int sh_store(sh_machine *m, uint64_t addr, uint64_t v, int width) {
  int rc;
  if ((rc = width_ok(m, "store", width)) != SH_OK) return rc;
  if ((rc = shM_access(m, "store", addr, (uint64_t)width, SH_COST_MEMORY, 1)) != SH_OK)
    return rc;
  m->ops++;
  m->c.stores++;
  if (m->chk && (rc = shK_access(m, "store", addr, (uint64_t)width, 1)) != SH_OK) return rc;
  if (shP_put(&m->space, addr, v, width) != SH_OK)
    return shM_err(m, SH_ERR_NOMEM, "store: out of host memory");
  return SH_OK;
}

/* Bulk copies are priced per word touched, as a memcpy loop would be. */
uint64_t shM_words(const sh_machine *m, uint64_t addr, uint64_t n) {
  uint64_t w = (uint64_t)m->cfg.word;
  if (n == 0) return 0;
  return (addr + n + w - 1) / w - addr / w;
}

int sh_read(sh_machine *m, uint64_t addr, void *buf, size_t n) {
  int rc;
  if ((rc = shM_check(m, "read", addr, n)) != SH_OK) return rc;
  shM_price_range(m, addr, n, SH_COST_MEMORY, 0);
  m->ops++;
  m->c.loads += shM_words(m, addr, n);
  if (m->chk && (rc = shK_access(m, "read", addr, n, 0)) != SH_OK) return rc;
  return shP_read(&m->space, addr, buf, n);
}

int sh_write(sh_machine *m, uint64_t addr, const void *buf, size_t n) {
  int rc;
  if ((rc = shM_check(m, "write", addr, n)) != SH_OK) return rc;
  shM_price_range(m, addr, n, SH_COST_MEMORY, 1);
  m->ops++;
  m->c.stores += shM_words(m, addr, n);
  if (m->chk && (rc = shK_access(m, "write", addr, n, 1)) != SH_OK) return rc;
  if (shP_write(&m->space, addr, buf, n) != SH_OK)
    return shM_err(m, SH_ERR_NOMEM, "write: out of host memory");
  return SH_OK;
}

void sh_peek(sh_machine *m, uint64_t addr, void *buf, size_t n) {
  shP_read(&m->space, addr, buf, n);
}

void sh_poke(sh_machine *m, uint64_t addr, const void *buf, size_t n) {
  shP_write(&m->space, addr, buf, n);
}
