/* trace_rep.c -- malloc-lab .rep traces: a four-number header, then 'a ID SIZE', 'r ID SIZE', 'f ID'.
** Both headers are read: the classic (heap size, ids, ops, weight) and the newer (weight, ids, ops, ignore-ranges, with 'f -1'). */
#include <string.h>
#include "trace.h"

#define U(x) ((unsigned long long)(x))

static const char *const hdrname[4] = {
  "the suggested heap size (or the weight)", "the number of ids", "the number of operations",
  "the weight (or the ignore-ranges flag)"
};

/* The header's numbers may share lines or not: fscanf reads them either way. */
static int header(sh_trace *t) {
  const char *s, *p, *e;
  size_t n;
  char q[200];
  int k = 0, rc;
  while (k < 4) {
    if ((rc = shR_line(t, &s, &n)) < 0) return t->code;
    if (rc == 0)
      return shR_fail(t, "the header ends after %d number%s; expected %s", k, k == 1 ? "" : "s",
                      hdrname[k]);
    p = s; e = s + n;
    for (;;) {
      const char *at;
      shR_space(&p, e);
      if (p == e) break;
      if (k == 4)
        return shR_fail(t, "expected the first operation after the four header numbers, got %s",
                        shR_quote(q, sizeof q, p, (size_t)(e - p)));
      at = p;
      if ((rc = shR_dec(&p, e, &t->hdr[k])) <= 0 || (p < e && *p != ' ' && *p != '\t'))
        return shR_fail(t, rc < 0 ? "%s %s is too large" : "expected %s (a number), got %s",
                        hdrname[k], shR_quote(q, sizeof q, at, (size_t)(e - at)));
      k++;
    }
  }
  t->started = 1;
  return SH_OK;
}

static int number(sh_trace *t, const char **p, const char *e, const char *what, uint64_t *v) {
  char q[200];
  const char *s = *p;
  int rc;
  if (shR_space(p, e) == 0)
    return shR_fail(t, "expected a space before %s, got %s", what,
                    shR_quote(q, sizeof q, s, (size_t)(e - s)));
  s = *p;
  if (s < e && *s == '-')
    return shR_fail(t, "%s must not be negative, got %s", what,
                    shR_quote(q, sizeof q, s, (size_t)(e - s)));
  if ((rc = shR_dec(p, e, v)) <= 0 || (*p < e && **p != ' ' && **p != '\t'))
    return shR_fail(t, rc < 0 ? "%s %s is too large" : "expected %s (a number), got %s", what,
                    shR_quote(q, sizeof q, s, (size_t)(e - s)));
  return SH_OK;
}

int shRr_next(sh_trace *t, sh_op *op) {
  const char *s, *p, *e;
  size_t n;
  char q[200];
  int rc;
  if (!t->started && (rc = header(t)) != SH_OK) return rc;
  for (;;) {
    if ((rc = shR_line(t, &s, &n)) < 0) return t->code;
    if (rc == 0) {
      if (t->nops < t->hdr[2])
        return shR_fail(t, "the trace ends after %llu operation%s, but its header says %llu "
                        "(truncated?)", U(t->nops), t->nops == 1 ? "" : "s", U(t->hdr[2]));
      op->kind = SH_OP_END; op->id = op->size = 0; op->line = t->line;
      return SH_OK;
    }
    p = s; e = s + n;
    shR_space(&p, e);
    if (p == e) continue;
    break;
  }
  op->line = t->line;
  op->size = 0;
  switch (*p) {
  case 'a': op->kind = SH_OP_ALLOC; break;
  case 'r': op->kind = SH_OP_REALLOC; break;
  case 'f': op->kind = SH_OP_FREE; break;
  default:
    return shR_fail(t, "expected an operation 'a ID SIZE', 'r ID SIZE' or 'f ID', got %s",
                    shR_quote(q, sizeof q, s, n));
  }
  p++;
  if (++t->nops > t->hdr[2])
    return shR_fail(t, "more operations than the %llu the header announces", U(t->hdr[2]));
  if (op->kind == SH_OP_FREE) {
    const char *at = p;
    shR_space(&p, e);
    if (e - p >= 2 && p[0] == '-' && p[1] == '1' && (e - p == 2 || p[2] == ' ' || p[2] == '\t')) {
      op->id = SH_ID_NULL;        /* the newer traces' free(NULL) */
      p += 2;
    } else {
      p = at;
      if ((rc = number(t, &p, e, "the id", &op->id)) != SH_OK) return rc;
    }
  } else {
    if ((rc = number(t, &p, e, "the id", &op->id)) != SH_OK ||
        (rc = number(t, &p, e, "the size", &op->size)) != SH_OK)
      return rc;
  }
  if (op->id != SH_ID_NULL && op->id >= t->hdr[1])
    return shR_fail(t, "id %llu is not below the header's number of ids (%llu)", U(op->id),
                    U(t->hdr[1]));
  shR_space(&p, e);
  if (p != e)
    return shR_fail(t, "unexpected text after the operation: %s",
                    shR_quote(q, sizeof q, p, (size_t)(e - p)));
  return SH_OK;
}
