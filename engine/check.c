/* check.c -- misuse reports: recorded on the machine or returned as errors.
** The checker never absorbs a misuse silently; the machine's `check` flag picks which. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"

static const char *const kinds[] = {
  "double_free", "invalid_free", "use_after_free", "out_of_bounds",
  "uninitialised", "use_after_return", "leak"
};

const char *sh_error_kind_name(sh_error_kind k) {
  return (unsigned)k < sizeof kinds / sizeof kinds[0] ? kinds[k] : "?";
}

void shC_free(sh_reports *r) {
  int i;
  for (i = 0; i < r->n; i++) free((char *)r->list[i].message);
  free(r->list);
  memset(r, 0, sizeof *r);
}

int shC_misuse(sh_machine *m, sh_error_kind k, uint64_t addr, int code,
               const char *fmt, ...) {
  sh_reports *r = &m->reports;
  va_list ap;
  char *msg;
  va_start(ap, fmt);
  vsnprintf(m->msg, sizeof m->msg, fmt, ap);
  va_end(ap);
  if (!m->cfg.check) return code;
  if (r->n == r->cap) {
    int cap = r->cap ? r->cap * 2 : 16;
    sh_report *nl = realloc(r->list, (size_t)cap * sizeof *nl);
    if (nl == NULL) return shM_err(m, SH_ERR_NOMEM, "checker: out of host memory");
    r->list = nl;
    r->cap = cap;
  }
  if ((msg = malloc(strlen(m->msg) + 1)) == NULL)
    return shM_err(m, SH_ERR_NOMEM, "checker: out of host memory");
  strcpy(msg, m->msg);
  r->list[r->n].kind = k;
  r->list[r->n].addr = addr;
  r->list[r->n].op = m->ops ? m->ops - 1 : 0;
  r->list[r->n].message = msg;
  r->n++;
  return SH_OK;
}

int sh_report_count(const sh_machine *m) {
  return m->reports.n;
}

int sh_report_get(const sh_machine *m, int i, sh_report *out) {
  if (i < 0 || i >= m->reports.n) return SH_ERR_ARG;
  *out = m->reports.list[i];
  return SH_OK;
}
