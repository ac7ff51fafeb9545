/* trace_jsonl.c -- stackheap's JSONL traces: {"op":"alloc","id":1,"size":24} one per line.
** Keys may come in any order and others are skipped, so a replay's --log output reads back as a trace. */
#include <string.h>
#include "trace.h"

#define U(x) ((unsigned long long)(x))
#define DEPTH 32

typedef struct jp { sh_trace *t; const char *p, *e, *line; size_t n; } jp;

static void ws(jp *j) {
  while (j->p < j->e && (*j->p == ' ' || *j->p == '\t' || *j->p == '\r' || *j->p == '\n')) j->p++;
}

static int expected(jp *j, const char *what) {
  char q[200];
  if (j->p >= j->e) return shR_fail(j->t, "expected %s, but the line ends", what);
  return shR_fail(j->t, "expected %s at column %llu, got %s", what,
                  U(j->p - j->line + 1), shR_quote(q, sizeof q, j->p, (size_t)(j->e - j->p)));
}

/* A string; *s, *n get its raw contents (escapes left as written). */
static int string(jp *j, const char **s, size_t *n) {
  if (j->p >= j->e || *j->p != '"') return expected(j, "a string");
  *s = ++j->p;
  while (j->p < j->e && *j->p != '"') {
    unsigned char c = (unsigned char)*j->p;
    if (c < 0x20) return expected(j, "a string character (control bytes must be escaped)");
    if (c == '\\') {
      j->p++;
      if (j->p >= j->e) break;
      if (*j->p == 'u') {
        int i;
        for (i = 1; i <= 4; i++)
          if (j->p + i >= j->e || !strchr("0123456789abcdefABCDEF", j->p[i]) || j->p[i] == '\0') {
            j->p += i;
            return expected(j, "four hex digits after \\u");
          }
        j->p += 4;
      } else if (!strchr("\"\\/bfnrt", *j->p) || *j->p == '\0') {
        return expected(j, "an escape (\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)");
      }
    }
    j->p++;
  }
  if (j->p >= j->e) return shR_fail(j->t, "a string is not closed before the line ends");
  *n = (size_t)(j->p - *s);
  j->p++;
  return SH_OK;
}

/* A number: *isint when it is an integer (optionally negative) that fits. */
static int number(jp *j, int64_t *v, int *isint) {
  const char *s = j->p;
  uint64_t x = 0;
  int neg = 0, ok = 1, r;
  if (j->p < j->e && *j->p == '-') { neg = 1; j->p++; }
  if (j->p >= j->e || *j->p < '0' || *j->p > '9') { j->p = s; return expected(j, "a value"); }
  if (*j->p == '0' && j->p + 1 < j->e && j->p[1] >= '0' && j->p[1] <= '9') {
    j->p++;
    return expected(j, "no leading zeros in a number");
  }
  if ((r = shR_dec(&j->p, j->e, &x)) < 0 || x > (uint64_t)INT64_MAX) ok = 0;
  if (r < 0) while (j->p < j->e && *j->p >= '0' && *j->p <= '9') j->p++;
  if (j->p < j->e && *j->p == '.') {
    ok = 0;
    j->p++;
    if (j->p >= j->e || *j->p < '0' || *j->p > '9') return expected(j, "digits after '.'");
    while (j->p < j->e && *j->p >= '0' && *j->p <= '9') j->p++;
  }
  if (j->p < j->e && (*j->p == 'e' || *j->p == 'E')) {
    ok = 0;
    j->p++;
    if (j->p < j->e && (*j->p == '+' || *j->p == '-')) j->p++;
    if (j->p >= j->e || *j->p < '0' || *j->p > '9') return expected(j, "digits in the exponent");
    while (j->p < j->e && *j->p >= '0' && *j->p <= '9') j->p++;
  }
  *isint = ok;
  *v = neg ? -(int64_t)x : (int64_t)x;
  return SH_OK;
}

static int lit(jp *j, const char *w) {
  size_t n = strlen(w);
  if ((size_t)(j->e - j->p) >= n && memcmp(j->p, w, n) == 0) { j->p += n; return SH_OK; }
  return expected(j, "a value");
}

/* Any value, skipped (for keys a trace does not use). */
static int skip(jp *j, int depth) {
  const char *s;
  size_t n;
  int64_t v;
  int isint, rc;
  if (depth > DEPTH) return shR_fail(j->t, "values nested more than %d deep", DEPTH);
  if (j->p >= j->e) return expected(j, "a value");
  switch (*j->p) {
  case '"': return string(j, &s, &n);
  case 't': return lit(j, "true");
  case 'f': return lit(j, "false");
  case 'n': return lit(j, "null");
  case '{': case '[': {
    char close = *j->p == '{' ? '}' : ']';
    j->p++;
    ws(j);
    if (j->p < j->e && *j->p == close) { j->p++; return SH_OK; }
    for (;;) {
      if (close == '}') {
        if ((rc = string(j, &s, &n)) != SH_OK) return rc;
        ws(j);
        if (j->p >= j->e || *j->p != ':') return expected(j, "':'");
        j->p++;
        ws(j);
      }
      if ((rc = skip(j, depth + 1)) != SH_OK) return rc;
      ws(j);
      if (j->p < j->e && *j->p == ',') { j->p++; ws(j); continue; }
      if (j->p < j->e && *j->p == close) { j->p++; return SH_OK; }
      return expected(j, close == '}' ? "',' or '}'" : "',' or ']'");
    }
  }
  default:
    return number(j, &v, &isint);
  }
}

static int is(const char *s, size_t n, const char *w) {
  return strlen(w) == n && memcmp(s, w, n) == 0;
}

/* The integer value of key k: ids may be -1 or null (free(NULL)). */
static int intval(jp *j, const char *k, int allow_null, uint64_t *out) {
  const char *at = j->p;
  int64_t v;
  int isint, rc;
  char q[200];
  if (allow_null && (size_t)(j->e - j->p) >= 4 && memcmp(j->p, "null", 4) == 0) {
    j->p += 4;
    *out = SH_ID_NULL;
    return SH_OK;
  }
  if (j->p >= j->e || (*j->p != '-' && (*j->p < '0' || *j->p > '9')))
    return expected(j, allow_null ? "an integer id" : "an integer size");
  if ((rc = number(j, &v, &isint)) != SH_OK) return rc;
  if (allow_null && isint && v == -1) { *out = SH_ID_NULL; return SH_OK; }
  if (!isint || v < 0)
    return shR_fail(j->t, "\"%s\" must be a %sinteger below 2^63, got %s", k,
                    allow_null ? "non-negative (or -1 for NULL) " : "non-negative ",
                    shR_quote(q, sizeof q, at, (size_t)(j->p - at)));
  *out = (uint64_t)v;
  return SH_OK;
}

int shRj_next(sh_trace *t, sh_op *op) {
  const char *s, *k;
  size_t n, kn;
  int rc, have_op, have_id, have_size;
  jp j;
  for (;;) {
    if ((rc = shR_line(t, &s, &n)) < 0) return t->code;
    if (rc == 0) {
      op->kind = SH_OP_END; op->id = op->size = 0; op->line = t->line;
      return SH_OK;
    }
    j.t = t; j.p = j.line = s; j.e = s + n; j.n = n;
    ws(&j);
    if (j.p < j.e) break;
  }
  have_op = have_id = have_size = 0;
  op->line = t->line;
  op->size = 0;
  if (*j.p != '{') return expected(&j, "a JSON object '{...}'");
  j.p++;
  ws(&j);
  if (j.p < j.e && *j.p == '}') { j.p++; goto closed; }
  for (;;) {
    if ((rc = string(&j, &k, &kn)) != SH_OK) return rc;
    ws(&j);
    if (j.p >= j.e || *j.p != ':') return expected(&j, "':'");
    j.p++;
    ws(&j);
    if (is(k, kn, "op")) {
      const char *v;
      size_t vn;
      char q[200];
      if (have_op++) return shR_fail(t, "the key \"op\" appears twice");
      if ((rc = string(&j, &v, &vn)) != SH_OK) return rc;
      if (is(v, vn, "alloc")) op->kind = SH_OP_ALLOC;
      else if (is(v, vn, "free")) op->kind = SH_OP_FREE;
      else if (is(v, vn, "realloc")) op->kind = SH_OP_REALLOC;
      else return shR_fail(t, "expected \"op\" to be \"alloc\", \"free\" or \"realloc\", got %s",
                           shR_quote(q, sizeof q, v - 1, vn + 2));
    } else if (is(k, kn, "id")) {
      if (have_id++) return shR_fail(t, "the key \"id\" appears twice");
      if ((rc = intval(&j, "id", 1, &op->id)) != SH_OK) return rc;
    } else if (is(k, kn, "size")) {
      if (have_size++) return shR_fail(t, "the key \"size\" appears twice");
      if ((rc = intval(&j, "size", 0, &op->size)) != SH_OK) return rc;
    } else if ((rc = skip(&j, 0)) != SH_OK) {
      return rc;
    }
    ws(&j);
    if (j.p < j.e && *j.p == ',') { j.p++; ws(&j); continue; }
    if (j.p < j.e && *j.p == '}') { j.p++; break; }
    return expected(&j, "',' or '}'");
  }
closed:
  ws(&j);
  if (j.p != j.e) return expected(&j, "the end of the line after the object");
  if (!have_op) return shR_fail(t, "the object has no \"op\" (\"alloc\", \"free\" or \"realloc\")");
  if (!have_id) return shR_fail(t, "the object has no \"id\"");
  if (op->kind != SH_OP_FREE && !have_size)
    return shR_fail(t, "an \"%s\" needs a \"size\"", op->kind == SH_OP_ALLOC ? "alloc" : "realloc");
  if (op->kind != SH_OP_FREE && op->id == SH_ID_NULL)
    return shR_fail(t, "an \"%s\" needs a real id, not -1 or null",
                    op->kind == SH_OP_ALLOC ? "alloc" : "realloc");
  return SH_OK;
}
