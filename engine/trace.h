/* trace.h -- what the trace readers, the writers and the replayer share; engine-private.
** Prefixes: shI_ the id map, shR_ the reader core (trace.c), shRm_/shRr_/shRj_/shRb_ the formats,
** shB_ the binary cache, shY_ the replayer (replay.c). */
#ifndef SH_TRACE_H
#define SH_TRACE_H

#include <stdio.h>
#include "stackheap.h"

/* ---- idmap.c: uint64 keys to two uint64 values, open addressing ----
** Linear probing with backward-shift deletion: no tombstones, so a map
** that sees billions of inserts and deletes never degrades. */
#define SHI_EMPTY UINT64_MAX

typedef struct shI_slot { uint64_t key, a, b; } shI_slot;
typedef struct shI_map { shI_slot *s; size_t cap, n; } shI_map;

void shI_init(shI_map *m);
void shI_free(shI_map *m);
void shI_clear(shI_map *m);
shI_slot *shI_get(const shI_map *m, uint64_t key);
/* The key's slot, created when absent (*fresh says which); NULL when out of memory. */
shI_slot *shI_put(shI_map *m, uint64_t key, int *fresh);
void shI_del(shI_map *m, uint64_t key);

/* ---- trace.c: the reader core ---- */
#define SHR_BUF (1u << 20)        /* also the longest line */
#define SHR_PENDING 4

struct sh_trace {
  char *name;
  sh_trace_format fmt;
  int (*next)(sh_trace *t, sh_op *op);    /* the format's reader */
  FILE *f;                                /* NULL when reading memory */
  int own_f;
  const uint8_t *mem;                     /* buf for memory input */
  uint8_t *buf;
  size_t beg, end;
  int eof;
  uint64_t bytes_read, bytes_total;
  uint64_t line;                          /* number of the last line returned */
  uint64_t ops, warnings;
  sh_warn_fn warn;
  void *warn_ud;
  int failed;                             /* sticky: every later next() fails again */
  int code;
  char msg[640];
  sh_op pending[SHR_PENDING];             /* ops a line produced beyond the first */
  int npending, ipending;
  /* format state */
  shI_map map;                            /* mtrace: address -> id */
  uint64_t next_id;
  uint64_t *spare;                        /* mtrace: ids whose blocks were freed, reused */
  size_t nspare, cspare;                  /* first, so ids stay below the peak live count */
  int started;                            /* rep: header read; bin: header read */
  uint64_t hdr[4];                        /* rep: the header's four numbers */
  uint64_t nops;                          /* rep: ops read */
  uint64_t max_id;
  int any_id;
  /* cache: the ops read are also written here */
  sh_trace_writer *tee;
  char *tee_tmp, *tee_path;
  int cached;
};

/* The next line without its end (\n, \r\n); 1, 0 at the end, -1 on an error
** (whose code is t->code). */
int shR_line(sh_trace *t, const char **s, size_t *n);
/* Byte access for the binary form: make need bytes readable at shR_at()
** (fewer only at the end or on an error); returns how many are. */
size_t shR_ensure(sh_trace *t, size_t need);
const uint8_t *shR_at(const sh_trace *t);
/* Fail with "name:line: " and the message; returns SH_ERR_INPUT.  The
** failure is sticky. */
int shR_fail(sh_trace *t, const char *fmt, ...);
int shR_fail_at(sh_trace *t, uint64_t line, const char *fmt, ...);
void shR_warn(sh_trace *t, const char *fmt, ...);
/* Text for a message: quoted, control bytes escaped, cut at 40 bytes. */
const char *shR_quote(char *buf, size_t cap, const char *s, size_t n);
/* Queue an op behind the one a reader returns now. */
void shR_push(sh_trace *t, const sh_op *op);

/* Number parsing over [*p, e): no sign, no spaces; 0 when there is no
** digit, -1 on overflow. */
int shR_dec(const char **p, const char *e, uint64_t *v);
int shR_hex(const char **p, const char *e, uint64_t *v);
int shR_space(const char **p, const char *e);   /* skips blanks; how many */

/* The formats. */
int shRm_next(sh_trace *t, sh_op *op);
int shRr_next(sh_trace *t, sh_op *op);
int shRj_next(sh_trace *t, sh_op *op);
int shRb_next(sh_trace *t, sh_op *op);

/* The binary form. */
#define SHB_MAGIC "SHTRACE\x01"
#define SHB_MAGIC_LEN 8
enum { SHB_ALLOC = 1, SHB_FREE, SHB_REALLOC, SHB_FREE_NULL, SHB_WARN, SHB_END,
       SHB_SOURCE };
/* LEB128: 7 bits a byte, low first; at most 10 bytes for 64 bits. */
static inline size_t shB_put(uint8_t *b, uint64_t v) {
  size_t n = 0;
  while (v >= 0x80) { b[n++] = (uint8_t)(v | 0x80); v >>= 7; }
  b[n++] = (uint8_t)v;
  return n;
}
#define SHB_HEADER (SHB_MAGIC_LEN + 21)

/* Where a cache came from: it is fresh when these still hold. */
typedef struct shB_source { uint64_t size; int64_t mtime_s; uint32_t mtime_ns; uint8_t fmt; } shB_source;
int shB_stat(const char *path, shB_source *src);
/* Set the source a bin writer records (before its first op). */
void shB_set_source(sh_trace_writer *w, const shB_source *src);
/* Read a cache's recorded source; 0 when it cannot be read. */
int shB_read_source(const char *path, shB_source *src);

/* ---- replay.c ---- */
/* Byte i of id's payload, as the replay fills and verifies it (the native
** replayer of tests/bench writes the same bytes). */
void shY_pattern(uint8_t *p, uint64_t id, size_t n);

#endif
