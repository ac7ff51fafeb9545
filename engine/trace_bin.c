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

/* A varint at the buffer's front; 1, or 0 when the input ends inside it. */
static int get(sh_trace *t, uint64_t *v, int *bad) {
  const uint8_t *p;
  size_t n = shR_ensure(t, 10), i;
  uint64_t x = 0;
  p = shR_at(t);
  for (i = 0; i < n && i < 10; i++) {
    x |= (uint64_t)(p[i] & 0x7f) << (7 * i);
    if (!(p[i] & 0x80)) {
      if (i == 9 && p[i] > 1) { *bad = 1; return 0; }
      t->beg += i + 1;
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
    uint64_t tag, d, len;
    int bad = 0;
    if (!t->started) {
      if (shR_ensure(t, SHB_HEADER) < SHB_HEADER || memcmp(shR_at(t), SHB_MAGIC, SHB_MAGIC_LEN))
        return corrupt(t, "no header");
      t->beg += SHB_HEADER;
      t->started = 1;
    }
    if (shR_ensure(t, 1) == 0) return corrupt(t, "it ends without its end record: truncated");
    tag = shR_at(t)[0];
    t->beg++;
    if (!get(t, &d, &bad)) return corrupt(t, bad ? "a bad number" : "truncated inside a record");
    t->line += d;
    op->line = t->line;
    op->size = 0;
    switch (tag) {
    case SHB_ALLOC: case SHB_REALLOC:
      if (!get(t, &op->id, &bad) || !get(t, &op->size, &bad))
        return corrupt(t, bad ? "a bad number" : "truncated inside a record");
      op->kind = tag == SHB_ALLOC ? SH_OP_ALLOC : SH_OP_REALLOC;
      if (op->id == SH_ID_NULL) return corrupt(t, "an alloc of the NULL id");
      return SH_OK;
    case SHB_FREE:
      if (!get(t, &op->id, &bad)) return corrupt(t, bad ? "a bad number" : "truncated inside a record");
      op->kind = SH_OP_FREE;
      return SH_OK;
    case SHB_FREE_NULL:
      op->kind = SH_OP_FREE;
      op->id = SH_ID_NULL;
      return SH_OK;
    case SHB_WARN: {
      char msg[520];
      if (!get(t, &len, &bad) || len > 512) return corrupt(t, "a bad warning");
      if (shR_ensure(t, (size_t)len) < len) return corrupt(t, "truncated inside a warning");
      memcpy(msg, shR_at(t), (size_t)len);
      msg[len] = '\0';
      t->beg += (size_t)len;
      shR_warn(t, "%s", msg);
      continue;
    }
    case SHB_END:
      if (!get(t, &d, &bad)) return corrupt(t, "a bad end record");
      if (d != t->ops) return corrupt(t, "its operation count does not match");
      if (shR_ensure(t, 1) != 0) return corrupt(t, "bytes after the end record");
      op->kind = SH_OP_END;
      op->id = 0;
      return SH_OK;
    default:
      return corrupt(t, "an unknown record");
    }
  }
}
