/* machine.c -- the machine: configuration, lifetime, and the last error message.
** Everything a simulation owns hangs off one sh_machine; two machines share nothing. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"

const char *sh_version(void) {
  return "0.1.0";
}

void sh_config_init(sh_config *c) {
  memset(c, 0, sizeof *c);
  c->word = 8;
  c->stack_size = 8u << 20;
  c->stack_top = 0x7fff0000u;
  c->heap.policy = "first_fit";
  c->heap.extend = -1;
  c->heap.header = -1;
  c->heap.footer = -1;
  c->cost.access = 4;     /* an L1 hit on a current x86 core */
  c->cost.push = 2;       /* adjust sp, set fp */
  c->cost.pop = 2;
  c->cost.alloc = 20;     /* call, prologue, size-class arithmetic, return */
  c->cost.free = 10;
  c->cost.step = 2;       /* compare a size, follow a link */
  sh_cache_config_default(&c->cache);
  c->seed = 1;
  c->quarantine = 1u << 20;   /* 1 MiB: see docs/CHECKER.md for what it costs the policy */
}

int shM_err(sh_machine *m, int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(m->msg, sizeof m->msg, fmt, ap);
  va_end(ap);
  return code;
}

const char *sh_errmsg(const sh_machine *m) {
  if (m == NULL) return "out of memory";
  return m->msg[0] ? m->msg : "no error";
}

int sh_word(const sh_machine *m) {
  return m->cfg.word;
}

sh_cache *sh_machine_cache(sh_machine *m) {
  return m->cache;
}

uint64_t sh_opcount(const sh_machine *m) {
  return m->ops;
}

static int checkconfig(sh_machine *m, const sh_config *c) {
  if (c->word != 4 && c->word != 8)
    return shM_err(m, SH_ERR_ARG, "word must be 4 or 8, not %d", c->word);
  if (c->stack_size == 0 || c->stack_size % 16 != 0)
    return shM_err(m, SH_ERR_ARG,
                   "stack size must be a positive multiple of 16, not %llu",
                   (unsigned long long)c->stack_size);
  if (c->stack_top % 16 != 0 || c->stack_top < c->stack_size ||
      (c->word == 4 && c->stack_top > 0xffffffffull + 1))
    return shM_err(m, SH_ERR_ARG, "stack top 0x%llx does not fit the address space",
                   (unsigned long long)c->stack_top);
  return SH_OK;
}

/* An external policy is the machine's from sh_open on: a failure before
** the heap took it still lets it go, exactly once. */
static int early(const sh_config *c, int rc) {
  const sh_policy_def *d = c->heap.external;
  if (d && d->destroy) d->destroy(d->ud);
  return rc;
}

int sh_open(sh_machine **out, const sh_config *c) {
  sh_config def;
  sh_machine *m;
  int rc;
  *out = NULL;
  if (c == NULL) { sh_config_init(&def); c = &def; }
  m = calloc(1, sizeof *m);
  if (m == NULL) return early(c, SH_ERR_NOMEM);
  *out = m;
  m->cfg = *c;
  shP_init(&m->space);
  shS_init(&m->stack);
  m->stack.limit_lo = c->stack_top - c->stack_size;
  if ((rc = checkconfig(m, c)) != SH_OK) return early(c, rc);
  if (c->cache.enabled &&
      (rc = sh_cache_open(&m->cache, &c->cache, c->seed, m->msg, sizeof m->msg)) != SH_OK)
    return early(c, rc);
  if ((rc = shH_init(m, &c->heap)) != SH_OK) return rc;
  if (m->heap.brk > m->stack.limit_lo ||
      m->heap.cfg.base + m->heap.cfg.max > m->stack.limit_lo)
    return shM_err(m, SH_ERR_ARG,
                   "the heap (0x%llx + max %llu bytes) would run into the stack (from 0x%llx)",
                   (unsigned long long)m->heap.cfg.base,
                   (unsigned long long)m->heap.cfg.max,
                   (unsigned long long)m->stack.limit_lo);
  if (c->check && (rc = shK_open(m)) != SH_OK) return rc;
  m->cfg.heap = m->heap.cfg;
  m->cfg.heap.policy = m->heap.ops->name;
  return SH_OK;
}

void sh_close(sh_machine *m) {
  if (m == NULL) return;
  shH_free(m);
  shK_close(m);
  shS_free(&m->stack);
  shP_free(&m->space);
  shC_free(&m->reports);
  free(m->series);
  sh_cache_close(m->cache);
  free(m);
}
