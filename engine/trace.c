/* trace.c -- opening traces: files, memory, caches; format detection; lines; messages.
** Input is streamed through one fixed buffer, so a trace's size never bounds memory. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "trace.h"

static const char *const fmtnames[] = { "auto", "mtrace", "rep", "jsonl", "bin" };

const char *sh_trace_format_name(sh_trace_format f) {
  return (unsigned)f < sizeof fmtnames / sizeof fmtnames[0] ? fmtnames[f] : "unknown";
}

int sh_trace_format_parse(const char *name) {
  int i;
  for (i = 0; i < (int)(sizeof fmtnames / sizeof fmtnames[0]); i++)
    if (name && strcmp(name, fmtnames[i]) == 0) return i;
  return -1;
}

/* ---- messages ---- */

const char *shR_quote(char *buf, size_t cap, const char *s, size_t n) {
  size_t o = 0, i;
  int cut = n > 40;
  if (cut) n = 40;
  buf[o++] = '\'';
  for (i = 0; i < n && o + 6 < cap; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c >= 0x20 && c < 0x7f && c != '\\') buf[o++] = (char)c;
    else o += (size_t)snprintf(buf + o, cap - o, "\\x%02x", c);
  }
  if (cut && o + 5 < cap) { memcpy(buf + o, "...", 3); o += 3; }
  buf[o++] = '\'';
  buf[o] = '\0';
  return buf;
}

static int vfail(sh_trace *t, uint64_t line, const char *fmt, va_list ap) {
  int k = line ? snprintf(t->msg, sizeof t->msg, "%s:%llu: ", t->name, (unsigned long long)line)
               : snprintf(t->msg, sizeof t->msg, "%s: ", t->name);
  if (k < 0 || (size_t)k >= sizeof t->msg) k = 0;
  vsnprintf(t->msg + k, sizeof t->msg - (size_t)k, fmt, ap);
  t->failed = 1;
  t->code = SH_ERR_INPUT;
  return SH_ERR_INPUT;
}

int shR_fail(sh_trace *t, const char *fmt, ...) {
  va_list ap;
  int rc;
  va_start(ap, fmt);
  rc = vfail(t, t->line, fmt, ap);
  va_end(ap);
  return rc;
}

int shR_fail_at(sh_trace *t, uint64_t line, const char *fmt, ...) {
  va_list ap;
  int rc;
  va_start(ap, fmt);
  rc = vfail(t, line, fmt, ap);
  va_end(ap);
  return rc;
}

static int syserr(sh_trace *t, int code, const char *what) {
  snprintf(t->msg, sizeof t->msg, "%s: %s: %s", t->name, what, strerror(errno));
  t->failed = 1;
  t->code = code;
  return code;
}

void shR_warn(sh_trace *t, const char *fmt, ...) {
  char msg[640];
  va_list ap;
  int k = snprintf(msg, sizeof msg, "%s:%llu: warning: ", t->name, (unsigned long long)t->line);
  if (k < 0 || (size_t)k >= sizeof msg) k = 0;
  va_start(ap, fmt);
  vsnprintf(msg + k, sizeof msg - (size_t)k, fmt, ap);
  va_end(ap);
  t->warnings++;
  if (t->warn) t->warn(t->warn_ud, msg);
  /* A cache must say the same warnings when it is read instead of the text. */
  if (t->tee) sh_trace_write_warning(t->tee, t->line, msg + k);
}

void shR_push(sh_trace *t, const sh_op *op) {
  if (t->npending < SHR_PENDING) t->pending[t->npending++] = *op;
}

/* ---- numbers ---- */

int shR_space(const char **p, const char *e) {
  const char *s = *p;
  while (*p < e && (**p == ' ' || **p == '\t')) (*p)++;
  return (int)(*p - s);
}

int shR_dec(const char **p, const char *e, uint64_t *v) {
  const char *s = *p;
  uint64_t x = 0;
  while (*p < e && **p >= '0' && **p <= '9') {
    unsigned d = (unsigned)(**p - '0');
    if (x > (UINT64_MAX - d) / 10) return -1;
    x = x * 10 + d;
    (*p)++;
  }
  *v = x;
  return *p > s;
}

int shR_hex(const char **p, const char *e, uint64_t *v) {
  const char *s = *p;
  uint64_t x = 0;
  while (*p < e) {
    char c = **p;
    unsigned d;
    if (c >= '0' && c <= '9') d = (unsigned)(c - '0');
    else if (c >= 'a' && c <= 'f') d = (unsigned)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') d = (unsigned)(c - 'A' + 10);
    else break;
    if (x >> 60) return -1;
    x = x << 4 | d;
    (*p)++;
  }
  *v = x;
  return *p > s;
}

/* ---- lines ---- */

static int fill(sh_trace *t) {
  size_t got;
  if (t->eof) return SH_OK;
  if (t->beg > 0) {
    memmove(t->buf, t->buf + t->beg, t->end - t->beg);
    t->end -= t->beg;
    t->beg = 0;
  }
  got = fread(t->buf + t->end, 1, SHR_BUF - t->end, t->f);
  t->end += got;
  t->bytes_read += got;
  if (got == 0 || t->end < SHR_BUF) {
    if (ferror(t->f)) return syserr(t, SH_ERR_INPUT, "read error");
    if (feof(t->f)) t->eof = 1;
  }
  return SH_OK;
}

int shR_line(sh_trace *t, const char **s, size_t *n) {
  for (;;) {
    const uint8_t *b = t->mem ? t->mem : t->buf;
    const uint8_t *nl = t->end > t->beg ? memchr(b + t->beg, '\n', t->end - t->beg) : NULL;
    size_t len;
    int rc;
    if (nl != NULL || (t->eof && t->end > t->beg)) {
      len = nl ? (size_t)(nl - (b + t->beg)) : t->end - t->beg;
      *s = (const char *)b + t->beg;
      t->beg += len + (nl != NULL);
      if (len > 0 && (*s)[len - 1] == '\r') len--;
      *n = len;
      t->line++;
      return 1;
    }
    if (t->eof) return 0;
    if (t->beg == 0 && t->end == SHR_BUF) {
      t->line++;
      shR_fail(t, "a line longer than %u bytes (is this a trace?)", SHR_BUF);
      return -1;
    }
    if ((rc = fill(t)) != SH_OK) return -1;
  }
}

/* At least need bytes at t->beg unless the input ends first; how many there are. */
size_t shR_ensure(sh_trace *t, size_t need) {
  while (!t->mem && !t->eof && t->end - t->beg < need)
    if (fill(t) != SH_OK) break;
  return t->end - t->beg;
}

const uint8_t *shR_at(const sh_trace *t) {
  return (t->mem ? t->mem : t->buf) + t->beg;
}

/* ---- detection ---- */

/* Enough bytes to see the first line (or the binary magic). */
static int peek(sh_trace *t, const uint8_t **p, size_t *n) {
  int rc;
  if (!t->mem) {
    while (!t->eof && t->end < 4096 && t->end < SHR_BUF)
      if ((rc = fill(t)) != SH_OK) return rc;
  }
  *p = (t->mem ? t->mem : t->buf) + t->beg;
  *n = t->end - t->beg;
  return SH_OK;
}

static int detect(sh_trace *t) {
  const uint8_t *p, *e;
  size_t n;
  char q[200];
  int rc;
  if ((rc = peek(t, &p, &n)) != SH_OK) return rc;
  if (n >= SHB_MAGIC_LEN && memcmp(p, SHB_MAGIC, SHB_MAGIC_LEN) == 0) return SH_TRACE_BIN;
  e = p + n;
  while (p < e && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')) p++;
  if (p == e) return SH_TRACE_JSONL;     /* empty: no ops in any format */
  if (*p == '{') return SH_TRACE_JSONL;
  if (*p >= '0' && *p <= '9') return SH_TRACE_REP;
  if (e - p >= 2 && strchr("=@+-<>!", *p) && p[1] == ' ') return SH_TRACE_MTRACE;
  {
    const uint8_t *nl = memchr(p, '\n', (size_t)(e - p)), *c;
    size_t len = nl ? (size_t)(nl - p) : (size_t)(e - p);
    unsigned long long line = 1;
    for (c = (t->mem ? t->mem : t->buf) + t->beg; c < p; c++) line += *c == '\n';
    snprintf(t->msg, sizeof t->msg,
             "%s:%llu: cannot tell the trace's format from its first line %s: expected an mtrace "
             "line ('= Start', '@ ...', '+ 0x...'), a .rep header number or a JSON object "
             "(name one with --format)",
             t->name, line, shR_quote(q, sizeof q, (const char *)p, len));
  }
  t->failed = 1;
  t->code = SH_ERR_INPUT;
  return -1;
}

static int setup(sh_trace *t, sh_trace_format f) {
  int d;
  if (f == SH_TRACE_AUTO) {
    if ((d = detect(t)) < 0) return t->code;
    f = (sh_trace_format)d;
  }
  t->fmt = f;
  switch (f) {
  case SH_TRACE_MTRACE: t->next = shRm_next; break;
  case SH_TRACE_REP: t->next = shRr_next; break;
  case SH_TRACE_JSONL: t->next = shRj_next; break;
  case SH_TRACE_BIN: t->next = shRb_next; break;
  default:
    snprintf(t->msg, sizeof t->msg, "%s: unknown trace format %d", t->name, (int)f);
    t->failed = 1;
    t->code = SH_ERR_ARG;
    return SH_ERR_ARG;
  }
  return SH_OK;
}

static sh_trace *make(const char *name) {
  sh_trace *t = calloc(1, sizeof *t);
  if (t == NULL) return NULL;
  t->name = malloc(strlen(name) + 1);
  if (t->name == NULL) { free(t); return NULL; }
  strcpy(t->name, name);
  shI_init(&t->map);
  return t;
}

int sh_trace_open(sh_trace **out, const char *path, sh_trace_format f) {
  sh_trace *t;
  struct stat st;
  *out = t = make(strcmp(path, "-") == 0 ? "(stdin)" : path);
  if (t == NULL) return SH_ERR_NOMEM;
  if ((t->buf = malloc(SHR_BUF)) == NULL) return syserr(t, SH_ERR_NOMEM, "out of memory");
  if (strcmp(path, "-") == 0) {
    t->f = stdin;
  } else {
    if ((t->f = fopen(path, "rb")) == NULL) return syserr(t, SH_ERR_INPUT, "cannot open");
    t->own_f = 1;
  }
  if (fstat(fileno(t->f), &st) == 0) {
    if (S_ISDIR(st.st_mode)) { errno = EISDIR; return syserr(t, SH_ERR_INPUT, "cannot read"); }
    if (S_ISREG(st.st_mode)) t->bytes_total = (uint64_t)st.st_size;
  }
  return setup(t, f);
}

int sh_trace_open_mem(sh_trace **out, const char *name, const void *data, size_t n,
                      sh_trace_format f) {
  sh_trace *t;
  *out = t = make(name);
  if (t == NULL) return SH_ERR_NOMEM;
  t->mem = data;
  t->end = n;
  t->eof = 1;
  t->bytes_read = t->bytes_total = n;
  return setup(t, f);
}

int shB_stat(const char *path, shB_source *src) {
  struct stat st;
  memset(src, 0, sizeof *src);
  if (stat(path, &st) != 0) return 0;
  src->size = (uint64_t)st.st_size;
  src->mtime_s = (int64_t)st.st_mtim.tv_sec;
  src->mtime_ns = (uint32_t)st.st_mtim.tv_nsec;
  return 1;
}

int sh_trace_open_cached(sh_trace **out, const char *path, const char *cache_path,
                         sh_trace_format f) {
  shB_source now, then;
  size_t n;
  int rc;
  sh_trace *t;
  if (shB_stat(path, &now) && shB_read_source(cache_path, &then) &&
      now.size == then.size && now.mtime_s == then.mtime_s && now.mtime_ns == then.mtime_ns &&
      (f == SH_TRACE_AUTO || (uint8_t)f == then.fmt)) {
    if ((rc = sh_trace_open(out, cache_path, SH_TRACE_BIN)) != SH_OK) return rc;
    t = *out;
    /* Messages name the text the lines belong to, not the cache. */
    free(t->name);
    t->name = malloc(strlen(path) + 1);
    if (t->name == NULL) return syserr(t, SH_ERR_NOMEM, "out of memory");
    strcpy(t->name, path);
    t->cached = 1;
    /* Report the text's format: the cache is how it was read, not what it is. */
    if (then.fmt >= SH_TRACE_MTRACE && then.fmt <= SH_TRACE_JSONL) t->fmt = (sh_trace_format)then.fmt;
    return SH_OK;
  }
  if ((rc = sh_trace_open(out, path, f)) != SH_OK) return rc;
  t = *out;
  if (t->fmt == SH_TRACE_BIN) return SH_OK;
  n = strlen(cache_path);
  t->tee_path = malloc(n + 1);
  t->tee_tmp = malloc(n + 8);
  if (t->tee_path == NULL || t->tee_tmp == NULL) return syserr(t, SH_ERR_NOMEM, "out of memory");
  strcpy(t->tee_path, cache_path);
  snprintf(t->tee_tmp, n + 8, "%s.tmp", cache_path);
  if (sh_trace_writer_open(&t->tee, t->tee_tmp, SH_TRACE_BIN) != SH_OK) {
    /* An unwritable cache is no reason not to replay: go on without it. */
    sh_trace_writer_close(t->tee, NULL, 0);
    t->tee = NULL;
    remove(t->tee_tmp);
    return SH_OK;
  }
  now.fmt = (uint8_t)t->fmt;
  shB_set_source(t->tee, &now);
  t->cached = 2;
  return SH_OK;
}

static void drop_tee(sh_trace *t) {
  if (t->tee) {
    sh_trace_writer_close(t->tee, NULL, 0);
    t->tee = NULL;
    remove(t->tee_tmp);
  }
}

int sh_trace_next(sh_trace *t, sh_op *op) {
  int rc;
  if (t->failed) {
    op->kind = SH_OP_END;
    return t->code;
  }
  if (t->ipending < t->npending) {
    *op = t->pending[t->ipending++];
  } else {
    t->npending = t->ipending = 0;
    if ((rc = t->next(t, op)) != SH_OK) {
      op->kind = SH_OP_END;
      drop_tee(t);
      return rc;
    }
  }
  if (op->kind != SH_OP_END) {
    t->ops++;
  } else if (t->tee) {
    sh_trace_writer *w = t->tee;
    sh_op end = *op;
    end.line = t->line;
    t->tee = NULL;
    int ok = sh_trace_write(w, &end) == SH_OK;
    if (sh_trace_writer_close(w, NULL, 0) == SH_OK && ok)
      rename(t->tee_tmp, t->tee_path);
    else
      remove(t->tee_tmp);
    return SH_OK;
  }
  if (t->tee && sh_trace_write(t->tee, op) != SH_OK) drop_tee(t);
  return SH_OK;
}

const char *sh_trace_errmsg(const sh_trace *t) {
  if (t == NULL) return "out of memory";
  return t->msg[0] ? t->msg : "no error";
}

void sh_trace_on_warning(sh_trace *t, sh_warn_fn fn, void *ud) {
  t->warn = fn;
  t->warn_ud = ud;
}

void sh_trace_info_get(const sh_trace *t, sh_trace_info *out) {
  memset(out, 0, sizeof *out);
  out->name = t->name;
  out->format = t->fmt;
  out->cached = t->cached;
  out->lines = t->line;
  out->ops = t->ops;
  out->warnings = t->warnings;
  out->bytes_read = t->mem ? t->beg : t->bytes_read - (t->end - t->beg);
  out->bytes_total = t->bytes_total;
}

void sh_trace_close(sh_trace *t) {
  if (t == NULL) return;
  drop_tee(t);
  if (t->own_f) fclose(t->f);
  free(t->buf);
  free(t->name);
  free(t->tee_tmp);
  free(t->tee_path);
  shI_free(&t->map);
  free(t->spare);
  free(t);
}
