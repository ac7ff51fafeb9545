/* cache_trace.c -- address traces through a cache: valgrind lackey's and Dinero IV's din format.
** Streaming (a line at a time, whatever the file's size); bad input is an error naming file and line. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"

#define LINE_MAX_BYTES 1024

typedef struct reader {
  FILE *f;
  const char *path;
  uint64_t lineno;
  char buf[LINE_MAX_BYTES];
  char block[1 << 16];         /* read in blocks; lines are cut from here */
  size_t pos, len;
  sh_atrace_result *r;
} reader;

static int fail(reader *rd, const char *fmt, ...) {
  char what[200];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  snprintf(rd->r->error, sizeof rd->r->error, "%s:%llu: %s", rd->path,
           (unsigned long long)rd->lineno, what);
  return SH_ERR_ARG;
}

/* The text of a bad line, shortened and with control bytes shown as '?',
** so a binary file's "line" makes a readable message. */
static const char *shown(const char *s, char *out, size_t n) {
  size_t i;
  for (i = 0; i + 1 < n && s[i] && s[i] != '\n' && s[i] != '\r'; i++)
    out[i] = (unsigned char)s[i] < 32 || (unsigned char)s[i] > 126 ? '?' : s[i];
  out[i] = '\0';
  if (s[i] && s[i] != '\n' && s[i] != '\r' && i > 3) memcpy(out + i - 3, "...", 3);
  return out;
}

static int fill(reader *rd) {
  rd->pos = 0;
  rd->len = fread(rd->block, 1, sizeof rd->block, rd->f);
  if (rd->len > 0) return 1;
  return ferror(rd->f) ? -1 : 0;
}

/* Next line into rd->buf: 1, or 0 at the end, or -1 (message set).  Read in
** blocks (fgets cannot tell a NUL byte from the end of a line).  Lines too
** long for the buffer are errors unless they are valgrind's own chatter
** (banner lines like "==123== Command: ..."), which is skipped whole. */
static int next_line(reader *rd, int *skip) {
  size_t n = 0;
  int any = 0, nul = 0, cut = 0;
  *skip = 0;
  for (;;) {
    const char *start, *nl;
    size_t avail, take, room;
    if (rd->pos == rd->len) {
      int got = fill(rd);
      if (got < 0) return fail(rd, "read error: %s", strerror(errno)), -1;
      if (got == 0) break;
    }
    start = rd->block + rd->pos;
    avail = rd->len - rd->pos;
    nl = memchr(start, '\n', avail);
    take = nl ? (size_t)(nl - start) : avail;
    any = 1;
    if (memchr(start, '\0', take)) nul = 1;
    room = sizeof rd->buf - 1 - n;
    if (take > room) cut = 1;
    memcpy(rd->buf + n, start, take > room ? room : take);
    n += take > room ? room : take;
    rd->pos += take + (nl != NULL);
    if (nl) break;
  }
  if (!any) return 0;
  rd->buf[n] = '\0';
  rd->lineno++;
  if (nul) return fail(rd, "a NUL byte: this is not a text trace"), -1;
  if (cut) {
    char s[48];
    if (rd->buf[0] == '=' && rd->buf[1] == '=') { *skip = 1; return 1; }
    fail(rd, "line longer than %d bytes: '%s'", LINE_MAX_BYTES - 1, shown(rd->buf, s, sizeof s));
    return -1;
  }
  return 1;
}

static int hexval(int ch) {
  if (ch >= '0' && ch <= '9') return ch - '0';
  if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
  if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
  return -1;
}

/* A hexadecimal number (optional 0x); returns the end, or NULL. */
static const char *hexnum(const char *p, uint64_t *v) {
  uint64_t x = 0;
  int d, n = 0;
  if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X') && hexval(p[2]) >= 0) p += 2;
  while ((d = hexval(*p)) >= 0) {
    if (n++ == 16) return NULL;             /* more than 64 bits */
    x = x << 4 | (uint64_t)d;
    p++;
  }
  if (n == 0) return NULL;
  *v = x;
  return p;
}

static const char *decnum(const char *p, uint64_t *v) {
  uint64_t x = 0;
  int n = 0;
  while (*p >= '0' && *p <= '9') {
    if (x > (UINT64_MAX - 9) / 10) return NULL;
    x = x * 10 + (uint64_t)(*p - '0');
    p++;
    n++;
  }
  if (n == 0) return NULL;
  *v = x;
  return p;
}

static const char *blanks(const char *p) {
  while (*p == ' ' || *p == '\t') p++;
  return p;
}

static int at_end(const char *p) {
  p = blanks(p);
  return *p == '\0' || *p == '\n' || (*p == '\r' && (p[1] == '\0' || p[1] == '\n'));
}

static uint32_t clamp(const sh_atrace_opts *o, uint64_t size) {
  if (o->clamp && size > o->clamp) size = o->clamp;
  if (size > 4096) size = 4096;
  return (uint32_t)size;
}

/* ---- the cache lab's simulator: one reference, its verdict appended ---- */

static void csim_ref(sh_cache *c, uint64_t addr, sh_access_kind k, sh_atrace_result *r,
                     char *verdict, size_t n) {
  sh_cache_stats before, after;
  size_t len = strlen(verdict);
  sh_cache_stats_get(c, 0, &before);
  sh_cache_access(c, addr, 1, k, SH_COST_MEMORY);
  sh_cache_stats_get(c, 0, &after);
  if (after.misses > before.misses) {
    r->misses++;
    snprintf(verdict + len, n - len, " miss%s", after.evictions > before.evictions ? " eviction" : "");
  } else {
    r->hits++;
    snprintf(verdict + len, n - len, " hit");
  }
  if (after.evictions > before.evictions) r->evictions++;
}

/* ---- lackey: "I  04016b0,3", " L 1ffefffd78,8", " S ...", " M ..." ---- */

static int lackey_line(reader *rd, sh_cache *c, const sh_atrace_opts *o) {
  const char *p = blanks(rd->buf), *a, *ae, *sz, *se;
  uint64_t addr, size;
  char op, s[48];
  if (at_end(p)) return SH_OK;
  if (p[0] == '=' && p[1] == '=') return SH_OK;       /* valgrind's ==PID== lines */
  op = *p;
  if ((op != 'I' && op != 'L' && op != 'S' && op != 'M') || (p[1] != ' ' && p[1] != '\t'))
    return fail(rd, "expected 'I', 'L', 'S' or 'M' then address,size, got '%s'",
                shown(rd->buf, s, sizeof s));
  a = blanks(p + 1);
  if ((ae = hexnum(a, &addr)) == NULL || *ae != ',')
    return fail(rd, "expected a hexadecimal address then ',size', got '%s'",
                shown(rd->buf, s, sizeof s));
  sz = ae + 1;
  if ((se = decnum(sz, &size)) == NULL || !at_end(se))
    return fail(rd, "expected a decimal size after the address, got '%s'",
                shown(rd->buf, s, sizeof s));
  rd->r->accesses++;
  if (o->csim) {
    char verdict[128];
    if (op == 'I') return SH_OK;
    snprintf(verdict, sizeof verdict, "%c %.*s,%.*s", op, (int)(ae - a < 40 ? ae - a : 40), a,
             (int)(se - sz < 20 ? se - sz : 20), sz);
    csim_ref(c, addr, op == 'S' ? SH_WRITE : SH_READ, rd->r, verdict, sizeof verdict);
    if (op == 'M') csim_ref(c, addr, SH_WRITE, rd->r, verdict, sizeof verdict);
    if (o->verbose) o->verbose(o->ud, verdict);
    return SH_OK;
  }
  /* A modify is one access, counted as a read, as cachegrind counts it. */
  rd->r->cycles += sh_cache_access(c, addr, clamp(o, size),
                                   op == 'I' ? SH_FETCH : op == 'S' ? SH_WRITE : SH_READ,
                                   SH_COST_MEMORY);
  return SH_OK;
}

/* ---- din: "label address [size]"; 0 read, 1 write, 2 fetch, 3 unknown
** (read), 4 flush the caches ---- */

static int din_line(reader *rd, sh_cache *c, const sh_atrace_opts *o) {
  const char *p = blanks(rd->buf), *e;
  uint64_t label, addr, size = 1;
  char s[48];
  static const sh_access_kind kinds[] = { SH_READ, SH_WRITE, SH_FETCH, SH_READ };
  if (at_end(p)) return SH_OK;
  if ((e = decnum(p, &label)) == NULL || label > 4 || (*e != ' ' && *e != '\t'))
    return fail(rd, "expected a label 0-4 then an address, got '%s'", shown(rd->buf, s, sizeof s));
  if ((e = hexnum(blanks(e), &addr)) == NULL)
    return fail(rd, "expected a hexadecimal address after the label, got '%s'",
                shown(rd->buf, s, sizeof s));
  if (!at_end(e)) {
    if ((*e != ' ' && *e != '\t') || (e = hexnum(blanks(e), &size)) == NULL || !at_end(e))
      return fail(rd, "expected at most a hexadecimal size after the address, got '%s'",
                  shown(rd->buf, s, sizeof s));
  }
  rd->r->accesses++;
  if (label == 4) { sh_cache_invalidate(c); return SH_OK; }
  if (o->csim) {
    char verdict[128];
    if (label == 2) return SH_OK;
    snprintf(verdict, sizeof verdict, "%c %llx,%llu", label == 1 ? 'S' : 'L',
             (unsigned long long)addr, (unsigned long long)size);
    csim_ref(c, addr, kinds[label], rd->r, verdict, sizeof verdict);
    if (o->verbose) o->verbose(o->ud, verdict);
    return SH_OK;
  }
  rd->r->cycles += sh_cache_access(c, addr, clamp(o, size), kinds[label], SH_COST_MEMORY);
  return SH_OK;
}

int sh_cache_trace(sh_cache *c, const char *path, const sh_atrace_opts *o, sh_atrace_result *r) {
  reader *rd;
  int rc = SH_OK, got, skip;
  memset(r, 0, sizeof *r);
  if ((unsigned)o->format > SH_ATRACE_DIN) {
    snprintf(r->error, sizeof r->error, "%s: unknown trace format %d", path, (int)o->format);
    return SH_ERR_ARG;
  }
  if ((rd = calloc(1, sizeof *rd)) == NULL) {     /* 64 KiB of buffer: not on the stack */
    snprintf(r->error, sizeof r->error, "%s: out of host memory", path);
    return SH_ERR_NOMEM;
  }
  rd->path = path;
  rd->r = r;
  if ((rd->f = fopen(path, "rb")) == NULL) {
    snprintf(r->error, sizeof r->error, "cannot open %s: %s", path, strerror(errno));
    free(rd);
    return SH_ERR_ARG;
  }
  while ((got = next_line(rd, &skip)) == 1) {
    if (skip) continue;
    rc = o->format == SH_ATRACE_LACKEY ? lackey_line(rd, c, o) : din_line(rd, c, o);
    if (rc != SH_OK) break;
  }
  if (got < 0) rc = SH_ERR_ARG;
  r->lines = rd->lineno;
  fclose(rd->f);
  free(rd);
  return rc;
}
