/* batch.c -- many program accesses in one call: strided sweeps and pointer chases.
** A scenario walks a million elements without a host call per access; each access is still priced. */
#include <stdint.h>
#include "internal.h"

#define U(x) ((unsigned long long)(x))

static int width_ok(sh_machine *m, const char *op, int width) {
  if (width == 1 || width == 2 || width == 4 || width == 8) return SH_OK;
  return shM_err(m, SH_ERR_ARG, "%s: width must be 1, 2, 4 or 8, not %d", op, width);
}

/* The lowest and one-past-highest byte a sweep touches, or 0 on overflow. */
static int span(uint64_t addr, uint64_t count, int64_t stride, int width,
                uint64_t *lo, uint64_t *hi) {
  uint64_t mag = stride < 0 ? (uint64_t)0 - (uint64_t)stride : (uint64_t)stride, reach;
  if (mag != 0 && count - 1 > UINT64_MAX / mag) return 0;
  reach = (count - 1) * mag;
  if (stride < 0) {
    if (reach > addr) return 0;
    *lo = addr - reach;
    *hi = addr + (uint64_t)width;
  } else {
    *lo = addr;
    *hi = addr + reach + (uint64_t)width;
    if (*hi < addr) return 0;
  }
  return *hi >= *lo;
}

int sh_sweep(sh_machine *m, uint64_t addr, uint64_t count, int64_t stride, int width,
             int store, uint64_t value, uint64_t *sum) {
  const char *op = store ? "sweep (store)" : "sweep";
  uint64_t lo, hi, i, s = 0, cy;
  int rc, cat;
  *sum = 0;
  if ((rc = width_ok(m, op, width)) != SH_OK) return rc;
  if (count == 0) return SH_OK;
  if (!span(addr, count, stride, width, &lo, &hi))
    return shM_err(m, SH_ERR_ACCESS, "%s: %llu accesses %lld bytes apart from 0x%llx run off "
                   "the address space", op, U(count), (long long)stride, U(addr));
  /* Checked as one span: the stack and the heap are each contiguous. */
  if ((rc = shM_check(m, op, lo, hi - lo)) != SH_OK) return rc;
  cat = lo >= m->stack.limit_lo ? SH_COST_STACK : SH_COST_MEMORY;   /* as shM_price says */
  if (m->cache)
    cy = sh_cache_sweep(m->cache, addr, count, stride, (uint32_t)width,
                        store ? SH_WRITE : SH_READ, cat);
  else
    cy = count * m->cfg.cost.access;
  m->c.cost[cat] += cy;
  m->c.lat[cat] += cy;
  m->ops += count;
  /* The checker sees each element as the access it is. */
  if (m->chk)
    for (i = 0; i < count; i++)
      if ((rc = shK_access(m, op, addr + (uint64_t)((int64_t)i * stride), (uint64_t)width,
                           store)) != SH_OK)
        return rc;
  if (store) {
    m->c.stores += count;
    for (i = 0; i < count; i++)
      if (shP_put(&m->space, addr + (uint64_t)((int64_t)i * stride), value, width) != SH_OK)
        return shM_err(m, SH_ERR_NOMEM, "%s: out of host memory", op);
  } else if (stride > 0 && stride <= 4096) {
    /* Forward sweeps copy the span a block at a time: one page lookup per
    ** block instead of one per element. */
    uint8_t buf[8192];
    uint64_t from = addr, to = addr;             /* buf holds [from, to) */
    m->c.loads += count;
    for (i = 0; i < count; i++) {
      uint64_t a = addr + i * (uint64_t)stride, v = 0;
      const uint8_t *b;
      int k;
      if (a + (uint64_t)width > to) {
        uint64_t n = hi - a < sizeof buf ? hi - a : sizeof buf;
        shP_read(&m->space, a, buf, (size_t)n);
        from = a;
        to = a + n;
      }
      b = buf + (a - from);
      for (k = width - 1; k >= 0; k--) v = v << 8 | b[k];
      s += v;
    }
  } else {
    m->c.loads += count;
    for (i = 0; i < count; i++) s += shP_get(&m->space, addr + (uint64_t)((int64_t)i * stride), width);
  }
  *sum = s;
  return SH_OK;
}

/* One load of a list walk, checked and priced like m:load. */
static int load(sh_machine *m, uint64_t a, int width, uint64_t *v) {
  int rc = shM_access(m, "chase", a, (uint64_t)width, SH_COST_MEMORY, 0);
  if (rc != SH_OK) return rc;
  m->ops++;
  m->c.loads++;
  if (m->chk && (rc = shK_access(m, "chase", a, (uint64_t)width, 0)) != SH_OK) return rc;
  *v = shP_get(&m->space, a, width);
  return SH_OK;
}

int sh_chase(sh_machine *m, uint64_t addr, int64_t next_off, uint64_t count,
             int64_t val_off, int width, uint64_t *sum, uint64_t *visited, uint64_t *last) {
  uint64_t p = addr, v, n = 0, s = 0;
  int rc = SH_OK, w = m->cfg.word;
  if (width != 0 && (rc = width_ok(m, "chase", width)) != SH_OK) return rc;
  while (p != 0 && n < count) {
    if (width != 0) {
      if ((rc = load(m, p + (uint64_t)val_off, width, &v)) != SH_OK) break;
      s += v;
    }
    if ((rc = load(m, p + (uint64_t)next_off, w, &v)) != SH_OK) break;
    n++;
    p = v;
  }
  *sum = s;
  *visited = n;
  *last = p;
  return rc;
}
