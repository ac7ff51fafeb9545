/* external.c -- a policy the embedder writes (sh_policy_def): the engine forwards each call.
** The driver checks every answer as it checks a built-in's; this file adds the heap handle and the errors. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"

#define U(x) ((unsigned long long)(x))

/* The ops table is the struct's first member, so the driver's ops pointer
** leads back to the policy: one allocation per machine, no global state. */
typedef struct ext {
  sh_policy_ops ops;
  sh_policy_def def;
  int busy;                    /* inside a callback: the heap handle is valid */
  char name[64];
} ext;

static ext *self(const sh_machine *m);
static int failed(sh_machine *m, ext *x, int rc, const char *op, const char *fmt, ...);

static int init(sh_machine *m, void **state) {
  ext *x = self(m);
  int rc = SH_OK;
  *state = x;
  if (x->def.init) {
    x->busy++;
    rc = x->def.init(x->def.ud, m);
    x->busy--;
    if (rc == SH_ERR_OOM) rc = shM_err(m, SH_ERR_POLICY, "init: policy '%s' ran out of heap", x->name);
    else if (rc != SH_OK) rc = failed(m, x, rc, "init", "its heap");
  }
  return rc;
}

/* A callback's failure, its message prefixed with what was asked. */
static int failed(sh_machine *m, ext *x, int rc, const char *op, const char *fmt, ...) {
  char what[96], why[sizeof m->msg];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  snprintf(why, sizeof why, "%s", m->msg[0] ? m->msg : "it returned an error");
  return shM_err(m, rc == SH_ERR_NOMEM ? rc : SH_ERR_POLICY, "%s: policy '%s' failed for %s "
                 "(op %llu): %s", op, x->name, what, U(m->ops ? m->ops - 1 : 0), why);
}

static int alloc(sh_machine *m, void *st, uint64_t size, uint64_t align,
                 uint64_t *payload, uint64_t *block, uint64_t *bsize) {
  ext *x = st;
  uint64_t a = 0;
  int rc;
  m->msg[0] = '\0';
  x->busy++;
  rc = x->def.alloc(x->def.ud, m, size, align, &a);
  x->busy--;
  if (rc == SH_ERR_OOM) return rc;
  if (rc != SH_OK) return failed(m, x, rc, "alloc", "%llu bytes aligned to %llu", U(size), U(align));
  *payload = *block = a;
  *bsize = size ? size : 1;    /* a zero-byte block still owns its address */
  return SH_OK;
}

static int release(sh_machine *m, void *st, uint64_t block, uint64_t bsize) {
  ext *x = st;
  int rc;
  m->msg[0] = '\0';
  x->busy++;
  rc = x->def.free(x->def.ud, m, block, bsize);
  x->busy--;
  if (rc != SH_OK) return failed(m, x, rc, "free", "0x%llx", U(block));
  return SH_OK;
}

static void destroy(void *st) {
  ext *x = st;
  if (x == NULL) return;
  if (x->def.destroy) x->def.destroy(x->def.ud);
  free(x);
}

int shF_external_open(sh_machine *m, const sh_policy_def *d, const sh_policy_ops **ops) {
  ext *x;
  int rc = SH_OK;
  if (d->alloc == NULL || d->free == NULL)
    rc = shM_err(m, SH_ERR_ARG, "heap: an external policy needs alloc and free");
  else if ((x = calloc(1, sizeof *x)) == NULL)
    rc = shM_err(m, SH_ERR_NOMEM, "heap: out of host memory");
  if (rc != SH_OK) {
    if (d->destroy) d->destroy(d->ud);
    return rc;
  }
  x->def = *d;
  snprintf(x->name, sizeof x->name, "%s", d->name && d->name[0] ? d->name : "external");
  x->ops.name = x->name;
  x->ops.init = init;
  x->ops.alloc = alloc;
  x->ops.free = release;
  x->ops.destroy = destroy;
  *ops = &x->ops;
  return SH_OK;
}

/* The heap's ops came from shF_external_open when their init is ours. */
static ext *self(const sh_machine *m) {
  const sh_policy_ops *ops = m->heap.ops;
  return ops && ops->init == init ? (ext *)(void *)ops : NULL;
}

int shF_external_busy(sh_machine *m, const char *op) {
  ext *x = self(m);
  if (x == NULL || x->busy == 0) return SH_OK;
  return shM_err(m, SH_ERR_POLICY, "%s: called from inside policy '%s' (a policy cannot use "
                 "the machine's heap while it is the heap)", op, x->name);
}

int shF_external_moves(const sh_machine *m) {
  ext *x = self(m);
  return x != NULL && x->def.realloc != NULL;
}

int shF_external_move(sh_machine *m, uint64_t addr, uint64_t old, uint64_t size, uint64_t *np) {
  ext *x = self(m);
  int rc;
  m->msg[0] = '\0';
  x->busy++;
  rc = x->def.realloc(x->def.ud, m, addr, old, size, np);
  x->busy--;
  if (rc == SH_OK || rc == SH_ERR_OOM) return rc;
  return failed(m, x, rc, "realloc", "0x%llx to %llu bytes", U(addr), U(size));
}

/* ---- the heap handle ---- */

static ext *inside(sh_machine *m, const char *op) {
  ext *x = self(m);
  if (x == NULL || x->busy == 0) {
    shM_err(m, SH_ERR_ARG, "%s: only an external policy's callbacks may use the heap handle", op);
    return NULL;
  }
  return x;
}

int sh_policy_sbrk(sh_machine *m, uint64_t n, uint64_t *old) {
  sh_heap *h = &m->heap;
  if (inside(m, "sbrk") == NULL) return SH_ERR_ARG;
  if (n > h->cfg.max - (h->brk - h->cfg.base))
    return shM_err(m, SH_ERR_OOM, "sbrk: %llu more bytes would pass max (%llu bytes, %llu in use)",
                   U(n), U(h->cfg.max), U(h->brk - h->cfg.base));
  *old = h->brk;
  h->brk += n;
  if (n) m->c.grows++;
  return SH_OK;
}

static int span(sh_machine *m, const char *op, uint64_t addr, uint64_t n) {
  if (shH_in_heap(m, addr, n)) return SH_OK;
  return shM_err(m, SH_ERR_ACCESS, "%s: 0x%llx (%llu bytes) is outside the heap [0x%llx, 0x%llx)",
                 op, U(addr), U(n), U(m->heap.cfg.base), U(m->heap.brk));
}

static int width_ok(sh_machine *m, const char *op, int w) {
  if (w == 1 || w == 2 || w == 4 || w == 8) return SH_OK;
  return shM_err(m, SH_ERR_ARG, "%s: the width must be 1, 2, 4 or 8, not %d", op, w);
}

int sh_policy_load(sh_machine *m, uint64_t addr, int width, uint64_t *v) {
  int rc;
  if (inside(m, "load") == NULL) return SH_ERR_ARG;
  if ((rc = width_ok(m, "load", width)) != SH_OK || (rc = span(m, "load", addr, (uint64_t)width)) != SH_OK)
    return rc;
  shH_meta_load(m, addr, width);
  *v = shP_get(&m->space, addr, width);
  return SH_OK;
}

int sh_policy_store(sh_machine *m, uint64_t addr, uint64_t v, int width) {
  int rc;
  if (inside(m, "store") == NULL) return SH_ERR_ARG;
  if ((rc = width_ok(m, "store", width)) != SH_OK || (rc = span(m, "store", addr, (uint64_t)width)) != SH_OK)
    return rc;
  shH_meta_store(m, addr, v, width);
  return SH_OK;
}

int sh_policy_copy(sh_machine *m, uint64_t dst, uint64_t src, uint64_t n) {
  uint8_t buf[4096];
  uint64_t done = 0;
  int rc;
  if (inside(m, "copy") == NULL) return SH_ERR_ARG;
  if ((rc = span(m, "copy", src, n)) != SH_OK || (rc = span(m, "copy", dst, n)) != SH_OK) return rc;
  shM_price_range(m, src, n, SH_COST_ALLOC, 0);
  shM_price_range(m, dst, n, SH_COST_ALLOC, 1);
  /* memmove's order, so overlapping ranges copy as C's memmove would */
  while (done < n) {
    size_t k = n - done > sizeof buf ? sizeof buf : (size_t)(n - done);
    uint64_t off = dst > src ? n - done - k : done;
    shP_read(&m->space, src + off, buf, k);
    if (shP_write(&m->space, dst + off, buf, k) != SH_OK)
      return shM_err(m, SH_ERR_NOMEM, "copy: out of host memory");
    done += k;
  }
  return SH_OK;
}

void sh_policy_step(sh_machine *m, uint64_t n) {
  if (inside(m, "step") != NULL) shH_step(m, n);
}

void sh_policy_bounds(const sh_machine *m, uint64_t *base, uint64_t *brk, uint64_t *max) {
  *base = m->heap.cfg.base;
  *brk = m->heap.brk;
  *max = m->heap.cfg.max;
}

const sh_heap_config *sh_policy_config(const sh_machine *m) {
  return &m->heap.cfg;
}

int sh_policy_fail(sh_machine *m, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(m->msg, sizeof m->msg, fmt, ap);
  va_end(ap);
  return SH_ERR_POLICY;
}
