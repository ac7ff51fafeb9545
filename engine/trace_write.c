/* trace_write.c -- writing operations in every trace format, for `gen`, conversions and caches.
** mtrace gets invented addresses and .rep dense ids; a .rep header needs counts, so its body waits in a temporary file. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "trace.h"

#define U(x) ((unsigned long long)(x))

struct sh_trace_writer {
  FILE *f, *body;              /* body: a .rep's operations until the header is known */
  sh_trace_format fmt;
  int code;
  char msg[512];
  shI_map map;                 /* mtrace: id -> address; rep: id -> (rep id, size) */
  uint64_t next;               /* the next invented address or rep id */
  uint64_t nops, live, peak;
  int null_free;
  uint64_t last_line;
  shB_source src;
  int started;
};

static int werr(sh_trace_writer *w, int code, const char *fmt, ...) {
  va_list ap;
  if (w->code != SH_OK) return w->code;    /* the first error is the one worth telling */
  va_start(ap, fmt);
  vsnprintf(w->msg, sizeof w->msg, fmt, ap);
  va_end(ap);
  w->code = code;
  return code;
}

int sh_trace_writer_open(sh_trace_writer **out, const char *path, sh_trace_format fmt) {
  sh_trace_writer *w = calloc(1, sizeof *w);
  *out = w;
  if (w == NULL) return SH_ERR_NOMEM;
  shI_init(&w->map);
  w->fmt = fmt;
  w->next = fmt == SH_TRACE_MTRACE ? 0x555555559000ull : 0;
  if (fmt < SH_TRACE_MTRACE || fmt > SH_TRACE_BIN)
    return werr(w, SH_ERR_ARG, "write: unknown trace format %d", (int)fmt);
  if (strcmp(path, "-") == 0) {
    w->f = stdout;
  } else if ((w->f = fopen(path, fmt == SH_TRACE_BIN ? "wb" : "w")) == NULL) {
    return werr(w, SH_ERR_ARG, "cannot write %s: %s", path, strerror(errno));
  }
  if (fmt == SH_TRACE_REP && (w->body = tmpfile()) == NULL)
    return werr(w, SH_ERR_ARG, "cannot make a temporary file for %s", path);
  if (fmt == SH_TRACE_MTRACE) fputs("= Start\n", w->f);
  return SH_OK;
}

void shB_set_source(sh_trace_writer *w, const shB_source *src) {
  w->src = *src;
}

static void bin_header(sh_trace_writer *w) {
  uint8_t h[SHB_HEADER];
  uint64_t ms = (uint64_t)w->src.mtime_s;
  int i;
  memcpy(h, SHB_MAGIC, SHB_MAGIC_LEN);
  for (i = 0; i < 8; i++) h[SHB_MAGIC_LEN + i] = (uint8_t)(w->src.size >> (8 * i));
  for (i = 0; i < 8; i++) h[SHB_MAGIC_LEN + 8 + i] = (uint8_t)(ms >> (8 * i));
  for (i = 0; i < 4; i++) h[SHB_MAGIC_LEN + 16 + i] = (uint8_t)(w->src.mtime_ns >> (8 * i));
  h[SHB_MAGIC_LEN + 20] = w->src.fmt;
  fwrite(h, 1, sizeof h, w->f);
  w->started = 1;
}

/* Lines only grow, except after an mtrace realloc's extra op; a backward
** step is stored as a zero delta then (messages are then a line early at worst). */
static size_t put_line(sh_trace_writer *w, uint8_t *b, uint64_t line) {
  uint64_t d = line >= w->last_line ? line - w->last_line : 0;
  if (line > w->last_line) w->last_line = line;
  return shB_put(b, d);
}

static int write_bin(sh_trace_writer *w, const sh_op *op) {
  uint8_t b[32];
  size_t n = 1;
  if (!w->started) bin_header(w);
  switch (op->kind) {
  case SH_OP_ALLOC: b[0] = SHB_ALLOC; break;
  case SH_OP_REALLOC: b[0] = SHB_REALLOC; break;
  case SH_OP_FREE: b[0] = op->id == SH_ID_NULL ? SHB_FREE_NULL : SHB_FREE; break;
  default: b[0] = SHB_END; break;
  }
  n += put_line(w, b + n, op->line);
  if (b[0] == SHB_END) {
    n += shB_put(b + n, w->nops);
  } else {
    if (b[0] != SHB_FREE_NULL) n += shB_put(b + n, op->id);
    if (b[0] == SHB_ALLOC || b[0] == SHB_REALLOC) n += shB_put(b + n, op->size);
    w->nops++;
  }
  fwrite(b, 1, n, w->f);
  return SH_OK;
}

int sh_trace_write_warning(sh_trace_writer *w, uint64_t line, const char *msg) {
  uint8_t b[32];
  size_t n = 1, len = strlen(msg);
  if (w->code != SH_OK) return w->code;
  if (w->fmt != SH_TRACE_BIN) return SH_OK;
  if (!w->started) bin_header(w);
  b[0] = SHB_WARN;
  n += put_line(w, b + n, line);
  n += shB_put(b + n, len);
  fwrite(b, 1, n, w->f);
  fwrite(msg, 1, len, w->f);
  return SH_OK;
}

static int notlive(sh_trace_writer *w, const sh_op *op) {
  return werr(w, SH_ERR_INPUT, "write: line %llu: %s of id %llu, which is not live", U(op->line),
              op->kind == SH_OP_FREE ? "free" : "realloc", U(op->id));
}

static int write_mtrace(sh_trace_writer *w, const sh_op *op) {
  shI_slot *x;
  int fresh;
  if (op->kind == SH_OP_FREE && op->id == SH_ID_NULL) return SH_OK;  /* glibc does not log it */
  if (op->kind == SH_OP_ALLOC) {
    if ((x = shI_put(&w->map, op->id, &fresh)) == NULL) return werr(w, SH_ERR_NOMEM, "write: out of memory");
    if (!fresh)
      return werr(w, SH_ERR_INPUT, "write: line %llu: alloc of id %llu, which is live", U(op->line),
                  U(op->id));
    x->a = w->next;
    w->next += 16 + (op->size + 15) / 16 * 16;
    fprintf(w->f, "+ 0x%llx %#llx\n", U(x->a), U(op->size));
    return SH_OK;
  }
  if ((x = shI_get(&w->map, op->id)) == NULL) return notlive(w, op);
  if (op->kind == SH_OP_FREE || op->size == 0) {
    /* realloc(p, 0) frees, and glibc logs it as a free. */
    fprintf(w->f, "- 0x%llx\n", U(x->a));
    shI_del(&w->map, op->id);
    return SH_OK;
  }
  fprintf(w->f, "< 0x%llx\n> 0x%llx %#llx\n", U(x->a), U(w->next), U(op->size));
  x->a = w->next;
  w->next += 16 + (op->size + 15) / 16 * 16;
  return SH_OK;
}

static int write_rep(sh_trace_writer *w, const sh_op *op) {
  shI_slot *x;
  int fresh;
  if (op->kind == SH_OP_FREE && op->id == SH_ID_NULL) {
    w->null_free = 1;
    fputs("f -1\n", w->body);
    w->nops++;
    return SH_OK;
  }
  if (op->kind == SH_OP_ALLOC) {
    if ((x = shI_put(&w->map, op->id, &fresh)) == NULL) return werr(w, SH_ERR_NOMEM, "write: out of memory");
    if (!fresh)
      return werr(w, SH_ERR_INPUT, "write: line %llu: alloc of id %llu, which is live", U(op->line),
                  U(op->id));
    x->a = w->next++;          /* malloc-lab ids index an array: make them dense */
    x->b = op->size;
    w->live += op->size;
    fprintf(w->body, "a %llu %llu\n", U(x->a), U(op->size));
  } else {
    if ((x = shI_get(&w->map, op->id)) == NULL) return notlive(w, op);
    w->live -= x->b;
    if (op->kind == SH_OP_FREE) {
      fprintf(w->body, "f %llu\n", U(x->a));
      shI_del(&w->map, op->id);
    } else {
      fprintf(w->body, "r %llu %llu\n", U(x->a), U(op->size));
      w->live += op->size;
      x->b = op->size;
      if (op->size == 0) shI_del(&w->map, op->id);
    }
  }
  if (w->live > w->peak) w->peak = w->live;
  w->nops++;
  return SH_OK;
}

int sh_trace_write(sh_trace_writer *w, const sh_op *op) {
  if (w->code != SH_OK) return w->code;
  switch (w->fmt) {
  case SH_TRACE_BIN: return write_bin(w, op);
  case SH_TRACE_MTRACE: return op->kind == SH_OP_END ? SH_OK : write_mtrace(w, op);
  case SH_TRACE_REP: return op->kind == SH_OP_END ? SH_OK : write_rep(w, op);
  default:
    switch (op->kind) {
    case SH_OP_ALLOC:
      fprintf(w->f, "{\"op\":\"alloc\",\"id\":%llu,\"size\":%llu}\n", U(op->id), U(op->size));
      break;
    case SH_OP_REALLOC:
      fprintf(w->f, "{\"op\":\"realloc\",\"id\":%llu,\"size\":%llu}\n", U(op->id), U(op->size));
      break;
    case SH_OP_FREE:
      if (op->id == SH_ID_NULL) fputs("{\"op\":\"free\",\"id\":-1}\n", w->f);
      else fprintf(w->f, "{\"op\":\"free\",\"id\":%llu}\n", U(op->id));
      break;
    default:
      break;
    }
    return SH_OK;
  }
}

static void finish_rep(sh_trace_writer *w) {
  char buf[1 << 14];
  size_t n;
  /* The classic header unless the body frees NULL, which only the newer
  ** form's drivers understand. */
  if (w->null_free)
    fprintf(w->f, "1\n%llu\n%llu\n0\n", U(w->next), U(w->nops));
  else
    fprintf(w->f, "%llu\n%llu\n%llu\n1\n", U(w->peak > 3 ? w->peak : 4), U(w->next), U(w->nops));
  rewind(w->body);
  while ((n = fread(buf, 1, sizeof buf, w->body)) > 0) fwrite(buf, 1, n, w->f);
}

int sh_trace_writer_close(sh_trace_writer *w, char *msg, size_t cap) {
  int rc;
  if (w == NULL) {
    if (msg && cap) snprintf(msg, cap, "out of memory");
    return SH_ERR_NOMEM;
  }
  if (w->f && w->code == SH_OK) {
    if (w->fmt == SH_TRACE_REP) finish_rep(w);
    else if (w->fmt == SH_TRACE_MTRACE) fputs("= End\n", w->f);
    else if (w->fmt == SH_TRACE_BIN && !w->started) bin_header(w);
  }
  if (w->f && (ferror(w->f) || (w->body && ferror(w->body))))
    werr(w, SH_ERR_ARG, "write: an I/O error (disk full?)");
  if (w->f && w->f != stdout) {
    if (fclose(w->f) != 0) werr(w, SH_ERR_ARG, "write: an I/O error when closing");
  } else if (w->f) {
    fflush(w->f);
  }
  if (w->body) fclose(w->body);
  shI_free(&w->map);
  rc = w->code;
  if (msg && cap) snprintf(msg, cap, "%s", rc == SH_OK ? "no error" : w->msg);
  free(w);
  return rc;
}

const char *sh_trace_writer_errmsg(const sh_trace_writer *w) {
  if (w == NULL) return "out of memory";
  return w->msg[0] ? w->msg : "no error";
}
