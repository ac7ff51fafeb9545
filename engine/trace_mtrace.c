/* trace_mtrace.c -- glibc's mtrace(3) log, exactly as malloc/mtrace-impl.c writes it.
** Real addresses become ids; frees of pointers the trace never allocated are warnings, never errors. */
#include <stdlib.h>
#include <string.h>
#include "trace.h"

#define U(x) ((unsigned long long)(x))

/* "@ obj:(sym+off)[0xaddr] " or "@ [0xaddr] ": the last ']' ends it, since
** the object's path may hold anything but the operation after it holds no ']'. */
static int caller(sh_trace *t, const char **p, const char *e) {
  const char *s = *p, *close = NULL, *q;
  char b[200];
  for (q = e; q > s; q--)
    if (q[-1] == ']') { close = q - 1; break; }
  if (close == NULL || close + 1 >= e || close[1] != ' ' || memchr(s, '[', (size_t)(close - s)) == NULL)
    return shR_fail(t, "expected a caller '@ [0xADDR] ' before the operation, got %s",
                    shR_quote(b, sizeof b, s - 2, (size_t)(e - s + 2)));
  *p = close + 2;
  return SH_OK;
}

/* A %p: "0x..." or "(nil)" (0). */
static int pointer(sh_trace *t, const char **p, const char *e, const char *what, uint64_t *v) {
  char b[200];
  const char *s = *p;
  int r;
  if (e - s >= 5 && memcmp(s, "(nil)", 5) == 0) { *p += 5; *v = 0; return SH_OK; }
  if (e - s >= 2 && s[0] == '0' && s[1] == 'x') {
    *p += 2;
    if ((r = shR_hex(p, e, v)) > 0) return SH_OK;
    if (r < 0) return shR_fail(t, "%s %s does not fit in 64 bits", what,
                               shR_quote(b, sizeof b, s, (size_t)(e - s)));
  }
  return shR_fail(t, "expected %s (0x... or (nil)), got %s", what,
                  shR_quote(b, sizeof b, s, (size_t)(e - s)));
}

/* A %#lx: "0x..." or "0". */
static int size(sh_trace *t, const char **p, const char *e, uint64_t *v) {
  char b[200];
  const char *s = *p;
  int r;
  if (e - s >= 2 && s[0] == '0' && s[1] == 'x') {
    *p += 2;
    if ((r = shR_hex(p, e, v)) > 0) return SH_OK;
    if (r < 0) return shR_fail(t, "size %s does not fit in 64 bits",
                               shR_quote(b, sizeof b, s, (size_t)(e - s)));
  } else if (s < e && s[0] == '0' && (s + 1 == e || s[1] == ' ' || s[1] == '\t')) {
    *p += 1;
    *v = 0;
    return SH_OK;
  }
  return shR_fail(t, "expected a size in hex (0x... or 0), got %s",
                  shR_quote(b, sizeof b, s, (size_t)(e - s)));
}

static int sep(sh_trace *t, const char **p, const char *e, const char *what) {
  char b[200];
  if (shR_space(p, e) > 0) return SH_OK;
  return shR_fail(t, "expected a space before %s, got %s", what,
                  shR_quote(b, sizeof b, *p, (size_t)(e - *p)));
}

static int done(sh_trace *t, const char *p, const char *e) {
  char b[200];
  shR_space(&p, e);
  if (p == e) return SH_OK;
  return shR_fail(t, "unexpected text after the operation: %s",
                  shR_quote(b, sizeof b, p, (size_t)(e - p)));
}

/* Ids are reused after their block's free, like file descriptors: a replay
** can then keep its live blocks in an array indexed by id rather than a hash
** map, and the array never outgrows the peak live count. */
static uint64_t take_id(sh_trace *t) {
  return t->nspare ? t->spare[--t->nspare] : t->next_id++;
}

static int give_id(sh_trace *t, uint64_t id) {
  if (t->nspare == t->cspare) {
    size_t c = t->cspare ? t->cspare * 2 : 256;
    uint64_t *v = realloc(t->spare, c * sizeof *v);
    if (v == NULL) return shR_fail(t, "out of host memory");
    t->spare = v;
    t->cspare = c;
  }
  t->spare[t->nspare++] = id;
  return SH_OK;
}

/* Gives addr a fresh id; a live block already there lost its free somewhere
** the trace did not see (an untraced path), so it is freed first. */
static int bind(sh_trace *t, uint64_t addr, sh_op *first, int *have, uint64_t *id) {
  int fresh;
  shI_slot *x = shI_put(&t->map, addr, &fresh);
  if (x == NULL) return shR_fail(t, "out of host memory");
  if (!fresh) {
    sh_op fr;
    shR_warn(t, "0x%llx was allocated again while its block (id %llu) was live; its free "
             "was not traced, so the old block is freed first", U(addr), U(x->a));
    fr.kind = SH_OP_FREE; fr.id = x->a; fr.size = 0; fr.line = t->line;
    if (*have) shR_push(t, &fr); else { *first = fr; *have = 1; }
    if (give_id(t, x->a) != SH_OK) return t->code;
  }
  x->a = *id = take_id(t);
  x->b = t->line;
  return SH_OK;
}

static void emit(sh_trace *t, sh_op *first, int *have, sh_op_kind k, uint64_t id, uint64_t sz,
                 uint64_t line) {
  sh_op op;
  op.kind = k; op.id = id; op.size = sz; op.line = line;
  if (*have) shR_push(t, &op); else { *first = op; *have = 1; }
}

/* One op line (the caller prefix already skipped); sets *have when it made an op. */
static int opline(sh_trace *t, char c, const char *p, const char *e, sh_op *op, int *have) {
  uint64_t a, n, b;
  shI_slot *x;
  int rc;
  char q[200];
  switch (c) {
  case '+':
    if ((rc = pointer(t, &p, e, "a pointer", &a)) || (rc = sep(t, &p, e, "the size")) ||
        (rc = size(t, &p, e, &n)) || (rc = done(t, p, e)))
      return rc;
    if (a == 0) return SH_OK;                  /* a failed malloc: nothing happened */
    if ((rc = bind(t, a, op, have, &b)) != SH_OK) return rc;
    emit(t, op, have, SH_OP_ALLOC, b, n, t->line);
    return SH_OK;
  case '-':
    if ((rc = pointer(t, &p, e, "a pointer", &a)) || (rc = done(t, p, e))) return rc;
    if (a == 0) return SH_OK;                  /* realloc(NULL, 0) that failed */
    if ((x = shI_get(&t->map, a)) == NULL) {
      shR_warn(t, "free of 0x%llx, which the trace never allocated (ignored)", U(a));
      return SH_OK;
    }
    emit(t, op, have, SH_OP_FREE, x->a, 0, t->line);
    if ((rc = give_id(t, x->a)) != SH_OK) return rc;
    shI_del(&t->map, a);
    return SH_OK;
  case '!':
    if ((rc = pointer(t, &p, e, "a pointer", &a)) || (rc = sep(t, &p, e, "the size")) ||
        (rc = size(t, &p, e, &n)) || (rc = done(t, p, e)))
      return rc;
    return SH_OK;                              /* a failed realloc leaves the block as it was */
  case '<': {
    uint64_t at = t->line, id;
    const char *s;
    size_t len;
    if ((rc = pointer(t, &p, e, "a pointer", &a)) || (rc = done(t, p, e))) return rc;
    /* glibc writes the '>' half under the same lock, on the very next line. */
    if ((rc = shR_line(t, &s, &len)) < 0) return t->code;
    if (rc == 0)
      return shR_fail_at(t, at, "the realloc of 0x%llx has no '>' line after it (truncated?)", U(a));
    p = s; e = s + len;
    if (p + 1 < e && p[0] == '@' && p[1] == ' ') {
      p += 2;
      if ((rc = caller(t, &p, e)) != SH_OK) return rc;
    }
    if (e - p < 2 || p[0] != '>' || p[1] != ' ')
      return shR_fail(t, "expected '> NEW SIZE' completing the realloc of line %llu, got %s",
                      U(at), shR_quote(q, sizeof q, s, len));
    p += 2;
    if ((rc = pointer(t, &p, e, "a pointer", &b)) || (rc = sep(t, &p, e, "the size")) ||
        (rc = size(t, &p, e, &n)) || (rc = done(t, p, e)))
      return rc;
    if (b == 0) return shR_fail(t, "a realloc that succeeded cannot return (nil)");
    if ((x = shI_get(&t->map, a)) == NULL) {
      shR_warn(t, "realloc of 0x%llx, which the trace never allocated (replayed as a malloc)",
               U(a));
      if ((rc = bind(t, b, op, have, &id)) != SH_OK) return rc;
      emit(t, op, have, SH_OP_ALLOC, id, n, at);
      return SH_OK;
    }
    id = x->a;
    shI_del(&t->map, a);
    if (b != a && (x = shI_get(&t->map, b)) != NULL) {
      shR_warn(t, "realloc moved to 0x%llx, where block id %llu was live; its free was not "
               "traced, so the old block is freed first", U(b), U(x->a));
      emit(t, op, have, SH_OP_FREE, x->a, 0, t->line);
      if ((rc = give_id(t, x->a)) != SH_OK) return rc;
      shI_del(&t->map, b);
    }
    {
      int fresh;
      if ((x = shI_put(&t->map, b, &fresh)) == NULL) return shR_fail(t, "out of host memory");
      x->a = id;
      x->b = at;
    }
    emit(t, op, have, SH_OP_REALLOC, id, n, at);
    return SH_OK;
  }
  case '>':
    return shR_fail(t, "a '>' line without the '<' line that begins a realloc");
  default:
    return shR_fail(t, "expected an mtrace operation ('+', '-', '<', '>', '!'), got %s",
                    shR_quote(q, sizeof q, p - 2, (size_t)(e - p + 2)));
  }
}

int shRm_next(sh_trace *t, sh_op *op) {
  const char *s, *p, *e;
  size_t n;
  char q[200];
  int rc, have = 0;
  for (;;) {
    if ((rc = shR_line(t, &s, &n)) < 0) return t->code;
    if (rc == 0) {
      op->kind = SH_OP_END; op->id = op->size = 0; op->line = t->line;
      return SH_OK;
    }
    p = s; e = s + n;
    shR_space(&p, e);
    if (p == e) continue;
    if (*p == '=') {
      if ((size_t)(e - p) == 7 && memcmp(p, "= Start", 7) == 0) {
        /* Each Start begins a process's log: its addresses are a new space. */
        shI_clear(&t->map);
        continue;
      }
      if ((size_t)(e - p) == 5 && memcmp(p, "= End", 5) == 0) continue;
      return shR_fail(t, "expected '= Start' or '= End', got %s", shR_quote(q, sizeof q, s, n));
    }
    if (e - p >= 2 && p[0] == '@' && p[1] == ' ') {
      p += 2;
      if ((rc = caller(t, &p, e)) != SH_OK) return rc;
    }
    if (e - p < 2 || p[1] != ' ' || !strchr("+-<>!", p[0]) || p[0] == '\0')
      return shR_fail(t, "expected an mtrace operation ('+ PTR SIZE', '- PTR', '< PTR', "
                      "'> PTR SIZE', '! PTR SIZE'), got %s", shR_quote(q, sizeof q, s, n));
    if ((rc = opline(t, p[0], p + 2, e, op, &have)) != SH_OK) return rc;
    if (have) return SH_OK;
  }
}
