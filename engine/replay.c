/* replay.c -- applying a trace's operations to a machine, checked as the malloc-lab driver checks.
** Trace ids map to simulated payloads in a hash map; payloads hold bytes derived from their id, verified on realloc and free. */
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "trace.h"

#define U(x) ((unsigned long long)(x))
#define KEEP 16                 /* failed checks whose messages are kept */
#define IDCHUNK 4096            /* live-id slots allocated at a time */

struct sh_replay {
  sh_machine *m;
  char *name;
  int flags;
  shI_slot **dense;             /* live ids below ndense: [id / IDCHUNK][id % IDCHUNK], */
  size_t ndense, ndlive;        /* key = id + 1 when live; chunks NULL until used */
  shI_map live;                 /* the other live ids -> a payload, b requested size */
  FILE *log;
  uint64_t ops, errors;
  char *errs[KEEP];
  int nerrs;
  char msg[640];
  uint64_t perh;                /* the hash whose bytes per holds, when perok */
  int perok;
  uint8_t per[2048 + SH_PAGE_SIZE];  /* a period and a page: any page's span at any phase */
};

int sh_replay_new(sh_replay **out, sh_machine *m, const char *name, int flags) {
  sh_replay *r = calloc(1, sizeof *r);
  *out = r;
  if (r == NULL) return SH_ERR_NOMEM;
  r->m = m;
  r->flags = flags;
  shI_init(&r->live);
  r->name = malloc(strlen(name) + 1);
  if (r->name == NULL) {
    snprintf(r->msg, sizeof r->msg, "replay: out of memory");
    return SH_ERR_NOMEM;
  }
  strcpy(r->name, name);
  return SH_OK;
}

void sh_replay_free(sh_replay *r) {
  size_t k;
  int i;
  if (r == NULL) return;
  for (i = 0; i < r->nerrs; i++) free(r->errs[i]);
  shI_free(&r->live);
  for (k = 0; k < r->ndense / IDCHUNK; k++) free(r->dense[k]);
  free(r->dense);
  free(r->name);
  free(r);
}

const char *sh_replay_errmsg(const sh_replay *r) {
  if (r == NULL) return "out of memory";
  return r->msg[0] ? r->msg : "no error";
}

void sh_replay_log(sh_replay *r, void *file) {
  r->log = file;
}

uint64_t sh_replay_ops(const sh_replay *r) { return r->ops; }
uint64_t sh_replay_error_count(const sh_replay *r) { return r->errors; }

const char *sh_replay_error(const sh_replay *r, int i) {
  return i >= 0 && i < r->nerrs ? r->errs[i] : NULL;
}

static int bad(sh_replay *r, const sh_op *op, const char *fmt, unsigned long long a,
               unsigned long long b) {
  int k = snprintf(r->msg, sizeof r->msg, "%s:%llu: ", r->name, U(op->line));
  if (k < 0 || (size_t)k >= sizeof r->msg) k = 0;
  snprintf(r->msg + k, sizeof r->msg - (size_t)k, fmt, a, b);
  return SH_ERR_INPUT;
}

/* A failed check: counted, the first few kept; the replay goes on. */
static void failed(sh_replay *r, const sh_op *op, const char *text) {
  char buf[700];
  r->errors++;
  if (r->nerrs < KEEP) {
    int n = snprintf(buf, sizeof buf, "%s:%llu: %s", r->name, U(op->line), text);
    char *s = malloc((size_t)(n < 0 ? 0 : n) + 1);
    if (s != NULL) { strcpy(s, n < 0 ? "" : buf); r->errs[r->nerrs++] = s; }
  }
}

/* ---- live ids ---- */

/* Readers give small ids (malloc-lab's are dense, mtrace's are reused after
** a free), so most live in an array indexed by id: no hashing, and the slots
** of ids in use sit together.  Ids far beyond the live count go to the hash
** map, so a trace of ever-growing ids still replays in constant memory. */
static shI_slot *dense(const sh_replay *r, uint64_t id) {
  shI_slot *c = id < r->ndense ? r->dense[id / IDCHUNK] : NULL;
  return c && c[id % IDCHUNK].key == id + 1 ? &c[id % IDCHUNK] : NULL;
}

static shI_slot *get(sh_replay *r, uint64_t id) {
  shI_slot *x = dense(r, id);
  return x || !r->live.n ? x : shI_get(&r->live, id);
}

/* The array comes in chunks allocated when an id first reaches them: it
** grows without copying, and a dense slot's key is its id + 1, so a zeroed
** chunk is all empty slots. */
static shI_slot *put(sh_replay *r, uint64_t id, int *fresh) {
  shI_slot *x = get(r, id), **c;
  if (x != NULL) { *fresh = 0; return x; }
  if (id >= r->ndense && id < 2 * (r->ndlive + r->live.n) + 1024) {
    size_t n = r->ndense ? r->ndense / IDCHUNK * 2 : 1, i;
    while (n * IDCHUNK <= id) n *= 2;
    if ((c = realloc(r->dense, n * sizeof *c)) == NULL) return NULL;
    for (i = r->ndense / IDCHUNK; i < n; i++) c[i] = NULL;
    r->dense = c;
    r->ndense = n * IDCHUNK;
  }
  if (id >= r->ndense) return shI_put(&r->live, id, fresh);
  c = &r->dense[id / IDCHUNK];
  if (*c == NULL && (*c = calloc(IDCHUNK, sizeof **c)) == NULL) return NULL;
  x = &(*c)[id % IDCHUNK];
  x->key = id + 1;
  x->a = x->b = 0;
  r->ndlive++;
  *fresh = 1;
  return x;
}

static void del(sh_replay *r, uint64_t id) {
  shI_slot *x = dense(r, id);
  if (x != NULL) {
    x->key = 0;
    r->ndlive--;
  } else {
    shI_del(&r->live, id);
  }
}

/* ---- payload integrity ---- */

/* Byte i of a payload is byte i % 8 of the id's hash plus i / 8, so a block
** shifted by a multiple of 8 bytes reads wrong; the period is 2048 bytes.
** A word of 8 such bytes is the hash plus j in every byte, added without
** carries between bytes: the pattern is made and checked a word at a time. */
#define LOW7 0x7F7F7F7F7F7F7F7Full
#define ONES 0x0101010101010101ull
#define PERIOD 2048

static uint64_t mix(uint64_t id) {
  uint64_t h = id + 0x9E3779B97F4A7C15ull;
  h = (h ^ (h >> 30)) * 0xBF58476D1CE4E5B9ull;
  h = (h ^ (h >> 27)) * 0x94D049BB133111EBull;
  return h ^ (h >> 31);
}

/* Word j of the payload whose hash is h, its byte k the payload's byte 8j+k. */
static uint64_t word(uint64_t h, uint64_t j) {
  uint64_t add = (j & 0xff) * ONES;
  return ((h & LOW7) + (add & LOW7)) ^ ((h ^ add) & ~LOW7);
}

static uint8_t byte(uint64_t h, uint64_t i) {
  return (uint8_t)((h >> ((i & 7) * 8)) + (i >> 3));
}

/* Bytes [from, from + n) of the payload, into p. */
static void make(uint8_t *p, uint64_t h, uint64_t from, size_t n) {
  size_t i = 0;
  for (; i < n && (from + i) % 8 != 0; i++) p[i] = byte(h, from + i);
  for (; i + 8 <= n; i += 8) shP_store_le(p + i, word(h, (from + i) >> 3));
  for (; i < n; i++) p[i] = byte(h, from + i);
}

/* The first of the n bytes at p (NULL: an unbacked page, all zero) that is
** not the payload's byte from + i, or n. */
static size_t differs(const uint8_t *p, uint64_t h, uint64_t from, size_t n) {
  size_t i = 0;
  if (p == NULL) {
    while (i < n && byte(h, from + i) == 0) i++;
    return i;
  }
  for (; i < n && (from + i) % 8 != 0; i++)
    if (p[i] != byte(h, from + i)) return i;
  for (; i + 32 <= n; i += 32) {      /* four words, one branch */
    uint64_t j = (from + i) >> 3;
    if (((shP_load_le(p + i) ^ word(h, j)) | (shP_load_le(p + i + 8) ^ word(h, j + 1)) |
         (shP_load_le(p + i + 16) ^ word(h, j + 2)) | (shP_load_le(p + i + 24) ^ word(h, j + 3))) != 0)
      break;
  }
  for (; i + 8 <= n; i += 8)
    if (shP_load_le(p + i) != word(h, (from + i) >> 3)) break;
  for (; i < n; i++)
    if (p[i] != byte(h, from + i)) return i;
  return n;
}

void shY_pattern(uint8_t *p, uint64_t id, size_t n) {
  make(p, mix(id), 0, n);
}

/* The machine's seed picks the bytes too, so a grader's payloads cannot be
** known in advance (a policy that writes the expected bytes back still fails). */
static uint64_t seeded(const sh_replay *r, uint64_t id) {
  return mix(id ^ (r->m->cfg.seed * 0xD1B54A32D192ED03ull));
}

/* The part of [at, end) of the payload at addr that lies in one page. */
static uint8_t *span(sh_replay *r, uint64_t addr, uint64_t at, uint64_t end, size_t *len,
                     int create) {
  uint64_t n = end - at;
  return shP_span(&r->m->space, addr + at, (size_t)(n < SH_PAGE_SIZE ? n : SH_PAGE_SIZE), len,
                  create);
}

/* Long payloads (Lua's growing tables and buffers, re-verified at every
** realloc) are copied and compared from one period of the pattern made
** once: memcpy and memcmp outrun the word loop by far. */
static const uint8_t *period(sh_replay *r, uint64_t h, uint64_t n) {
  if (r->perok && r->perh == h) return r->per;
  if (n < 2 * PERIOD) return NULL;
  make(r->per, h, 0, sizeof r->per);
  r->perh = h;
  r->perok = 1;
  return r->per;
}

/* Fill [from, to) of the payload at addr with id's bytes, in place.  Out of
** host memory the rest stays unwritten, as a failed poke left it. */
static void fill(sh_replay *r, uint64_t id, uint64_t addr, uint64_t from, uint64_t to) {
  uint64_t h = seeded(r, id);
  const uint8_t *per = period(r, h, to - from);
  while (from < to) {
    size_t len;
    uint8_t *p = span(r, addr, from, to, &len, 1);
    if (p == NULL) return;
    if (per) memcpy(p, per + from % PERIOD, len);
    else make(p, h, from, len);
    from += len;
  }
}

/* The first byte of [0, n) at addr that is not id's, or n. */
static uint64_t verify(sh_replay *r, uint64_t id, uint64_t addr, uint64_t n) {
  uint64_t h = seeded(r, id), done = 0;
  const uint8_t *per = period(r, h, n);
  while (done < n) {
    size_t len, at;
    const uint8_t *p = span(r, addr, done, n, &len, 0);
    if ((!per || !p || memcmp(p, per + done % PERIOD, len) != 0) &&
        (at = differs(p, h, done, len)) < len)
      return done + at;
    done += len;
  }
  return n;
}

static void check_payload(sh_replay *r, const sh_op *op, uint64_t id, uint64_t addr, uint64_t n,
                          const char *when) {
  char text[300];
  uint64_t at = verify(r, id, addr, n);
  if (at == n) return;
  snprintf(text, sizeof text, "the payload of id %llu (0x%llx, %llu bytes) changed %s: byte %llu "
           "is not what was written", U(id), U(addr), U(n), when, U(at));
  failed(r, op, text);
}

/* ---- the driver's placement checks ---- */

/* Aligned and inside the heap.  No overlap is the third of malloc-lab's
** checks: heap.c already makes it on every answer, against its own record of
** live blocks (a payload must lie inside its block, blocks must not meet), so
** a second ordered record here would double a replay's cost for nothing; the
** payload bytes would show an overlap that slipped through anyway. */
static void place(sh_replay *r, const sh_op *op, uint64_t id, uint64_t p, uint64_t n) {
  sh_machine *m = r->m;
  uint64_t align = m->heap.cfg.align;
  char text[300];
  const char *why = NULL;
  if (p % align != 0) why = "is not aligned";
  else if (p < m->heap.cfg.base || p + n > m->heap.brk || p + n < p) why = "lies outside the heap";
  if (why == NULL) return;
  snprintf(text, sizeof text, "the payload for id %llu at 0x%llx (%llu bytes, align %llu) %s "
           "[0x%llx, 0x%llx)", U(id), U(p), U(n), U(align), why, U(m->heap.cfg.base),
           U(m->heap.brk));
  failed(r, op, text);
}

/* ---- operations ---- */

static void logop(sh_replay *r, const sh_op *op, uint64_t addr, int ok, uint64_t searched) {
  static const char *const names[] = { "end", "alloc", "free", "realloc" };
  fprintf(r->log, "{\"i\":%llu,\"op\":\"%s\",", U(r->ops), names[op->kind]);
  if (op->id == SH_ID_NULL) fputs("\"id\":-1", r->log);
  else fprintf(r->log, "\"id\":%llu", U(op->id));
  if (op->kind != SH_OP_FREE) fprintf(r->log, ",\"size\":%llu", U(op->size));
  if (ok) fprintf(r->log, ",\"addr\":%llu", U(addr));
  else fputs(",\"addr\":null", r->log);
  fprintf(r->log, ",\"searched\":%llu}\n", U(searched));
}

/* A call the machine refused: out of memory, or a policy's impossible answer. */
static int refused(sh_replay *r, const sh_op *op, int rc, const char *what) {
  char text[400];
  if (rc == SH_ERR_NOMEM) {
    snprintf(r->msg, sizeof r->msg, "%s", sh_errmsg(r->m));
    return rc;
  }
  snprintf(text, sizeof text, "%s failed: %s", what, sh_errmsg(r->m));
  failed(r, op, text);
  return SH_OK;
}

int sh_replay_op(sh_replay *r, const sh_op *op) {
  sh_machine *m = r->m;
  int check = r->flags & SH_REPLAY_CHECK, fresh, rc = SH_OK, ok = 1;
  uint64_t searched = m->c.searched, addr = 0;
  shI_slot *x;
  char what[120];
  switch (op->kind) {
  case SH_OP_END:
    return SH_OK;
  case SH_OP_ALLOC:
    if (op->id == SH_ID_NULL) return bad(r, op, "an alloc needs a real id, not -1", 0, 0);
    if ((x = put(r, op->id, &fresh)) == NULL) {
      snprintf(r->msg, sizeof r->msg, "replay: out of host memory");
      return SH_ERR_NOMEM;
    }
    if (!fresh) return bad(r, op, "alloc of id %llu, which is still live (never freed)", U(op->id), 0);
    rc = sh_alloc(m, op->size, 0, &addr);
    if (rc != SH_OK) {
      snprintf(what, sizeof what, "alloc of %llu bytes for id %llu", U(op->size), U(op->id));
      x->a = x->b = 0;            /* the program got NULL: later uses are of NULL */
      ok = 0;
      if ((rc = refused(r, op, rc, what)) != SH_OK) return rc;
      break;
    }
    x->a = addr;
    x->b = op->size;
    if (check) {
      place(r, op, op->id, addr, op->size);
      fill(r, op->id, addr, 0, op->size);
    }
    break;
  case SH_OP_FREE:
    if (op->id == SH_ID_NULL) {
      rc = sh_free(m, 0);
      break;
    }
    if ((x = get(r, op->id)) == NULL)
      return bad(r, op, "free of id %llu, which is not live (never allocated, or freed already)",
                 U(op->id), 0);
    addr = x->a;
    if (check && addr) {
      check_payload(r, op, op->id, addr, x->b, "before its free");
    }
    del(r, op->id);
    if (addr && (rc = sh_free(m, addr)) != SH_OK) {
      snprintf(what, sizeof what, "free of id %llu", U(op->id));
      if ((rc = refused(r, op, rc, what)) != SH_OK) return rc;
    }
    break;
  case SH_OP_REALLOC: {
    uint64_t old, oldn, keep;
    if (op->id == SH_ID_NULL || (x = get(r, op->id)) == NULL)
      return bad(r, op, "realloc of id %llu, which is not live (never allocated, or freed "
                 "already)", U(op->id), 0);
    old = x->a;
    oldn = x->b;
    rc = sh_realloc(m, old, op->size, &addr);
    if (rc != SH_OK) {
      snprintf(what, sizeof what, "realloc of id %llu to %llu bytes", U(op->id), U(op->size));
      ok = 0;
      if ((rc = refused(r, op, rc, what)) != SH_OK) return rc;
      break;                     /* the old block is untouched, as in C */
    }
    x = get(r, op->id);
    if (op->size == 0 && addr == 0) {
      del(r, op->id); /* realloc(p, 0) freed it */
      break;
    }
    x->a = addr;
    x->b = op->size;
    if (check) {
      place(r, op, op->id, addr, op->size);
      keep = oldn < op->size ? oldn : op->size;
      if (old) check_payload(r, op, op->id, addr, keep, "across its realloc");
      fill(r, op->id, addr, old ? keep : 0, op->size);
    }
    break;
  }
  }
  if (rc != SH_OK) return rc;
  if (r->log) logop(r, op, addr, ok, m->c.searched - searched);
  r->ops++;
  return SH_OK;
}
