/* trace_bin.c -- reading stackheap's compact parsed form: a header, then tagged LEB128 records.
** It carries the source lines and warnings, so a replay from it says what the text's would; an END record proves it whole. */
#include <string.h>
#include "trace.h"

#define U(x) ((unsigned long long)(x))

static uint64_t le(const uint8_t *p, int n) {
  uint64_t v = 0;
  int i;
  for (i = n - 1; i >= 0; i--) v = v << 8 | p[i];
  return v;
}

int shB_read_source(const char *path, shB_source *src) {
  uint8_t h[SHB_HEADER];
  FILE *f = fopen(path, "rb");
  size_t n;
  if (f == NULL) return 0;
  n = fread(h, 1, sizeof h, f);
  fclose(f);
  if (n != sizeof h || memcmp(h, SHB_MAGIC, SHB_MAGIC_LEN) != 0) return 0;
  src->size = le(h + SHB_MAGIC_LEN, 8);
  src->mtime_s = (int64_t)le(h + SHB_MAGIC_LEN + 8, 8);
  src->mtime_ns = (uint32_t)le(h + SHB_MAGIC_LEN + 16, 4);
  src->fmt = h[SHB_MAGIC_LEN + 20];
  return 1;
}

/* A record is a tag and at most three numbers of at most 10 bytes: made
** readable at once, so a record costs one buffer check, not one a number. */
#define RECORD_MAX 31

/* A varint at *p, before e; 1, or 0 when the input ends inside it (or *bad). */
static int num(const uint8_t **p, const uint8_t *e, uint64_t *v, int *bad) {
  const uint8_t *q = *p;
  uint64_t x = 0;
  size_t i, n = (size_t)(e - q);
  if (n > 0 && q[0] < 0x80) {       /* line steps and small ids: one byte */
    *p = q + 1;
    *v = q[0];
    return 1;
  }
  for (i = 0; i < n && i < 10; i++) {
    x |= (uint64_t)(q[i] & 0x7f) << (7 * i);
    if (!(q[i] & 0x80)) {
      if (i == 9 && q[i] > 1) { *bad = 1; return 0; }
      *p = q + i + 1;
      *v = x;
      return 1;
    }
  }
  *bad = i == 10;
  return 0;
}

static int corrupt(sh_trace *t, const char *what) {
  /* No line numbers here: the damage is in the binary file itself. */
  return shR_fail_at(t, 0, "the parsed trace is damaged (%s); delete it to parse the text again",
                     what);
}

int shRb_next(sh_trace *t, sh_op *op) {
  for (;;) {
    const uint8_t *p, *e, *start;
    uint64_t tag, d, len;
    int bad = 0;
    size_t n;
    if (!t->started) {
      if (shR_ensure(t, SHB_HEADER) < SHB_HEADER || memcmp(shR_at(t), SHB_MAGIC, SHB_MAGIC_LEN))
        return corrupt(t, "no header");
      t->beg += SHB_HEADER;
      t->started = 1;
    }
    if ((n = shR_ensure(t, RECORD_MAX)) == 0)
      return corrupt(t, "it ends without its end record: truncated");
    start = p = shR_at(t);
    e = p + n;
    tag = *p++;
    if (!num(&p, e, &d, &bad)) return corrupt(t, bad ? "a bad number" : "truncated inside a record");
    t->line += d;
    op->line = t->line;
    op->size = 0;
    switch (tag) {
    case SHB_ALLOC: case SHB_REALLOC:
      if (!num(&p, e, &op->id, &bad) || !num(&p, e, &op->size, &bad))
        return corrupt(t, bad ? "a bad number" : "truncated inside a record");
      t->beg += (size_t)(p - start);
      op->kind = tag == SHB_ALLOC ? SH_OP_ALLOC : SH_OP_REALLOC;
      if (op->id == SH_ID_NULL) return corrupt(t, "an alloc of the NULL id");
      return SH_OK;
    case SHB_FREE:
      if (!num(&p, e, &op->id, &bad)) return corrupt(t, bad ? "a bad number" : "truncated inside a record");
      t->beg += (size_t)(p - start);
      op->kind = SH_OP_FREE;
      return SH_OK;
    case SHB_FREE_NULL:
      t->beg += (size_t)(p - start);
      op->kind = SH_OP_FREE;
      op->id = SH_ID_NULL;
      return SH_OK;
    case SHB_WARN: {
      char msg[520];
      if (!num(&p, e, &len, &bad) || len > 512) return corrupt(t, "a bad warning");
      t->beg += (size_t)(p - start);
      if (shR_ensure(t, (size_t)len) < len) return corrupt(t, "truncated inside a warning");
      memcpy(msg, shR_at(t), (size_t)len);
      msg[len] = '\0';
      t->beg += (size_t)len;
      shR_warn(t, "%s", msg);
      continue;
    }
    case SHB_END:
      if (!num(&p, e, &d, &bad)) return corrupt(t, "a bad end record");
      t->beg += (size_t)(p - start);
      if (d != t->ops) return corrupt(t, "its operation count does not match");
      if (shR_ensure(t, 1) != 0) return corrupt(t, "bytes after the end record");
      op->kind = SH_OP_END;
      op->id = 0;
      return SH_OK;
    default:
      t->beg += (size_t)(p - start);
      return corrupt(t, "an unknown record");
    }
  }
}
