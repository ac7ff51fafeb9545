/* cache.c -- a set-associative cache hierarchy that prices every access by where it hits.
** Levels of any geometry, lru/fifo/random, write-back/through/none, write-allocate or not. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"

#define NOLINE UINT64_MAX      /* an empty way's tag: no block number reaches it */
#define DIRTY 0x80
#define LOW7 0x7f7f7f7f7f7f7f7full
#define ONES 0x0101010101010101ull

typedef struct level {
  uint64_t *tag;               /* sets * ways block numbers (address >> shift) */
  /* A byte a way: the dirty bit (DIRTY) and a 7-bit fingerprint of the
  ** block, 0 when the way is empty; a miss is told from eight ways' bytes
  ** at a time, without reading their tags. */
  uint8_t *meta;
  /* lru and fifo keep each set as a ring, newest first from the way head[set]
  ** names: a miss evicts the oldest way and makes it the newest by moving
  ** head back one, with no lines moved.  NULL for random (ways stay put). */
  uint32_t *head;
  uint64_t sets, mask;         /* mask = sets - 1 when sets is a power of two, else 0 */
  /* The block touched last and its slot: it is the most recent line of its
  ** set, so touching it again changes nothing but counters (any policy). */
  uint64_t last, last_slot;
  uint32_t ways, shift, latency;
  uint32_t setbits;            /* log2 sets when a power of two, else 0 */
  int below;                   /* the level this one's dirty lines go to (n: memory) */
  sh_replace replace;
  sh_level_kind kind;
  char name[16];
  uint64_t acc[SH_ACCESS_KINDS], miss[SH_ACCESS_KINDS];
  uint64_t cacc[SH_COST_N], cmiss[SH_COST_N];
  uint64_t evictions, writebacks;
} level;

struct sh_cache {
  int n;
  level lv[SH_CACHE_MAX_LEVELS];
  int first[SH_ACCESS_KINDS];  /* the first level each kind of access looks in, or n */
  /* Per kind: whether a miss inside one line may take quick() (it fills
  ** and no store passes on down), and whether it leaves lines dirty. */
  uint8_t quick[SH_ACCESS_KINDS], dirties[SH_ACCESS_KINDS];
  uint32_t minshift;           /* the smallest line of any level, log2 */
  uint32_t memory;
  sh_write_policy write;
  int allocate;
  uint64_t rng;
  uint64_t mem_reads, mem_writes;
};

static int pow2(uint64_t x) { return x && (x & (x - 1)) == 0; }

static uint32_t log2u(uint64_t x) {
  uint32_t k = 0;
  while ((x >>= 1) != 0) k++;
  return k;
}

void sh_cache_config_default(sh_cache_config *c) {
  static const struct { const char *name; uint64_t size; uint32_t ways, latency; } def[] = {
    /* Load-to-use latencies of a current x86 core: ~4 cycles L1, ~14 L2,
    ** ~200 to DRAM.  Each is the whole latency of an access served there. */
    { "L1", 32u << 10, 8, 4 }, { "L2", 1u << 20, 16, 14 }
  };
  int i;
  memset(c, 0, sizeof *c);
  c->enabled = 1;
  c->nlevels = 2;
  for (i = 0; i < 2; i++) {
    sh_cache_level *l = &c->levels[i];
    snprintf(l->name, sizeof l->name, "%s", def[i].name);
    l->size = def[i].size;
    l->ways = def[i].ways;
    l->line = 64;
    l->latency = def[i].latency;
    l->replace = SH_REPLACE_LRU;
    l->kind = SH_LEVEL_UNIFIED;
  }
  c->memory = 200;
  c->write = SH_WRITE_BACK;
  c->allocate = 1;
}

/* ---- configuration ---- */

static int refuse(char *err, size_t len, const char *fmt, ...) {
  va_list ap;
  if (err && len) {
    va_start(ap, fmt);
    vsnprintf(err, len, fmt, ap);
    va_end(ap);
  }
  return SH_ERR_ARG;
}

static int checklevel(const sh_cache_level *l, char *err, size_t len) {
  const char *nm = l->name[0] ? l->name : "?";
  if (l->line == 0 || !pow2(l->line))
    return refuse(err, len, "cache level %s: line %u is not a power of two", nm, (unsigned)l->line);
  if (l->ways == 0)
    return refuse(err, len, "cache level %s: ways must be at least 1", nm);
  if (l->size == 0 || l->size % ((uint64_t)l->line * l->ways) != 0)
    return refuse(err, len, "cache level %s: size %llu is not a multiple of line * ways (%llu)",
                  nm, (unsigned long long)l->size, (unsigned long long)l->line * l->ways);
  if (l->size / l->line > ((uint64_t)1 << 24))   /* the host keeps 9 bytes a line, 4 a set */
    return refuse(err, len, "cache level %s: %llu lines are more than this model keeps (16 Mi)",
                  nm, (unsigned long long)(l->size / l->line));
  if ((unsigned)l->replace > SH_REPLACE_RANDOM || (unsigned)l->kind > SH_LEVEL_DATA)
    return refuse(err, len, "cache level %s: unknown replacement or kind", nm);
  return SH_OK;
}

static int setup(sh_cache *c, const sh_cache_config *cfg, char *err, size_t len) {
  int i, k, rc;
  if (cfg->nlevels < 1 || cfg->nlevels > SH_CACHE_MAX_LEVELS)
    return refuse(err, len, "cache: %d levels; between 1 and %d are allowed",
                  cfg->nlevels, SH_CACHE_MAX_LEVELS);
  if ((unsigned)cfg->write > SH_WRITE_NONE)
    return refuse(err, len, "cache: unknown write policy %d", (int)cfg->write);
  c->n = cfg->nlevels;
  c->memory = cfg->memory;
  c->write = cfg->write;
  c->allocate = cfg->allocate != 0;
  for (i = 0; i < c->n; i++) {
    const sh_cache_level *src = &cfg->levels[i];
    level *l = &c->lv[i];
    if ((rc = checklevel(src, err, len)) != SH_OK) return rc;
    for (k = 0; k < i; k++)
      if (strcmp(cfg->levels[k].name, src->name) == 0)
        return refuse(err, len, "cache: two levels are named '%s'", src->name);
    l->ways = src->ways;
    l->shift = log2u(src->line);
    l->sets = src->size / src->line / src->ways;
    l->mask = pow2(l->sets) ? l->sets - 1 : 0;
    l->setbits = pow2(l->sets) ? log2u(l->sets) : 0;
    l->latency = src->latency;
    l->replace = src->replace;
    l->kind = src->kind;
    snprintf(l->name, sizeof l->name, "%s", src->name[0] ? src->name : "L?");
    l->tag = malloc(l->sets * l->ways * sizeof *l->tag);
    l->meta = calloc(l->sets * l->ways, 1);
    l->head = l->replace != SH_REPLACE_RANDOM ? calloc(l->sets, sizeof *l->head) : NULL;
    if (!l->tag || !l->meta || (!l->head && l->replace != SH_REPLACE_RANDOM)) {
      if (err && len) snprintf(err, len, "cache: out of host memory");
      return SH_ERR_NOMEM;
    }
  }
  for (i = 0; i < c->n; i++)
    for (c->lv[i].below = i + 1; c->lv[i].below < c->n &&
         c->lv[c->lv[i].below].kind == SH_LEVEL_INSTR; c->lv[i].below++) {}
  c->minshift = 63;
  for (i = 0; i < c->n; i++)
    if (c->lv[i].shift < c->minshift) c->minshift = c->lv[i].shift;
  for (k = 0; k < SH_ACCESS_KINDS; k++) {
    c->first[k] = c->n;
    for (i = c->n - 1; i >= 0; i--)
      if (c->lv[i].kind == SH_LEVEL_UNIFIED ||
          c->lv[i].kind == (k == SH_FETCH ? SH_LEVEL_INSTR : SH_LEVEL_DATA))
        c->first[k] = i;
    c->quick[k] = (uint8_t)(c->first[k] < c->n && (k != SH_WRITE ||
                            (c->allocate && c->write != SH_WRITE_THROUGH)));
    c->dirties[k] = (uint8_t)(k == SH_WRITE && c->write == SH_WRITE_BACK);
  }
  return SH_OK;
}

int sh_cache_open(sh_cache **out, const sh_cache_config *cfg, uint64_t seed,
                  char *err, size_t errlen) {
  sh_cache *c = calloc(1, sizeof *c);
  int rc;
  *out = NULL;
  if (err && errlen) err[0] = '\0';
  if (c == NULL) {
    if (err && errlen) snprintf(err, errlen, "cache: out of host memory");
    return SH_ERR_NOMEM;
  }
  /* splitmix64 of the seed: seeds 0, 1, 2 give unrelated streams, never 0 */
  seed += 0x9e3779b97f4a7c15ull;
  seed = (seed ^ (seed >> 30)) * 0xbf58476d1ce4e5b9ull;
  seed = (seed ^ (seed >> 27)) * 0x94d049bb133111ebull;
  c->rng = (seed ^ (seed >> 31)) | 1;
  if ((rc = setup(c, cfg, err, errlen)) != SH_OK) { sh_cache_close(c); return rc; }
  sh_cache_invalidate(c);
  *out = c;
  return SH_OK;
}

void sh_cache_close(sh_cache *c) {
  int i;
  if (c == NULL) return;
  for (i = 0; i < SH_CACHE_MAX_LEVELS; i++) {
    free(c->lv[i].tag);
    free(c->lv[i].meta);
    free(c->lv[i].head);
  }
  free(c);
}

void sh_cache_invalidate(sh_cache *c) {
  int i;
  uint64_t k;
  for (i = 0; i < c->n; i++) {
    level *l = &c->lv[i];
    for (k = 0; k < l->sets * l->ways; k++) l->tag[k] = NOLINE;
    memset(l->meta, 0, l->sets * l->ways);
    if (l->head) memset(l->head, 0, l->sets * sizeof *l->head);
    l->last = NOLINE;
  }
}

void sh_cache_reset_stats(sh_cache *c) {
  int i;
  for (i = 0; i < c->n; i++) {
    level *l = &c->lv[i];
    memset(l->acc, 0, sizeof l->acc);
    memset(l->miss, 0, sizeof l->miss);
    memset(l->cacc, 0, sizeof l->cacc);
    memset(l->cmiss, 0, sizeof l->cmiss);
    l->evictions = l->writebacks = 0;
  }
  c->mem_reads = c->mem_writes = 0;
}

/* ---- one set ---- */

static uint64_t xorshift(uint64_t *s) {
  uint64_t x = *s;
  x ^= x << 13; x ^= x >> 7; x ^= x << 17;
  return *s = x;
}

/* Uniform in [0, n) for any n: Lemire's multiply with rejection, so no way
** is favoured when n does not divide 2^32. */
static uint32_t uniform(uint64_t *s, uint32_t n) {
  uint32_t threshold = (uint32_t)(-n) % n;
  for (;;) {
    uint64_t m = (xorshift(s) >> 32) * (uint64_t)n;
    if ((uint32_t)m >= threshold) return (uint32_t)(m >> 32);
  }
}

/* The way n places after way h in a ring of ways. */
static uint32_t step(uint32_t h, uint32_t n, uint32_t ways) {
  return h + n < ways ? h + n : h + n - ways;
}

/* A block's fingerprint: 1 to 127 (0 marks an empty way).  Hashed from
** the bits above the set index, so neighbouring lines that share a set
** (a run of heap, say) get well spread fingerprints. */
static uint8_t print(const level *l, uint64_t block) {
  uint8_t f = (uint8_t)(((block >> l->setbits) * 0x9e3779b97f4a7c15ull) >> 57);
  return f ? f : 1;
}

/* The way of a set (tags t, meta bytes m) that holds block, or ways when
** none does.  Eight ways' fingerprints are compared in one word: only a
** group where one matches has its tags read. */
static uint32_t find(const level *l, const uint64_t *t, const uint8_t *m, uint64_t block) {
  uint64_t want = print(l, block) * ONES;
  uint32_t ways = l->ways, w = 0, j;
  for (; w + 8 <= ways; w += 8) {
    uint64_t x;
    memcpy(&x, m + w, 8);
    x = (x & LOW7) ^ want;                        /* a zero byte: a match */
    if ((~((x + LOW7) | x) & ~LOW7) != 0)
      for (j = w; j < w + 8; j++)
        if (t[j] == block) return j;
  }
  for (; w < ways; w++)
    if (t[w] == block) return w;
  return ways;
}

/* lru: the line in way w becomes the newest (way h); the lines that were
** newer than it move one place older. */
static void promote(uint64_t *t, uint8_t *m, uint32_t ways, uint32_t h, uint32_t w) {
  uint64_t tw = t[w];
  uint8_t mw = m[w];
  while (w != h) {
    uint32_t prev = w == 0 ? ways - 1 : w - 1;
    t[w] = t[prev];
    m[w] = m[prev];
    w = prev;
  }
  t[h] = tw;
  m[h] = mw;
}

/* random: an empty way first, else one drawn uniformly. */
static uint32_t draw(sh_cache *c, const uint64_t *t, uint32_t ways) {
  uint32_t w;
  for (w = 0; w < ways && t[w] != NOLINE; w++) {}
  return w < ways ? w : uniform(&c->rng, ways);
}

/* Look block up at level l; dirty: a store that leaves the line dirty.
** Returns 1 on a hit.  On a miss the block is brought in when fill is
** set; a dirty line it pushes out is left in *wb.  A set is kept in
** order: by recency (lru) or by fill time (fifo), newest first, so the
** victim is always the oldest way and empty ways are the oldest; random
** keeps ways in place and picks one uniformly. */
static int lookup(sh_cache *c, level *l, uint64_t block, uint64_t set, uint32_t h,
                  int dirty, int fill, uint64_t *wb) {
  uint32_t w, ways = l->ways;
  uint64_t base = set * ways, *t = l->tag + base;
  uint8_t *m = l->meta + base;
  w = find(l, t, m, block);
  if (w < ways) {
    if (w != h && l->replace == SH_REPLACE_LRU) {
      promote(t, m, ways, h, w);
      w = h;
    }
    if (dirty) m[w] |= DIRTY;
    l->last = block;
    l->last_slot = base + w;
    return 1;
  }
  if (!fill) return 0;
  if (l->head) {                       /* the oldest way becomes the newest */
    w = h = (h ? h : ways) - 1;
    l->head[set] = h;
  } else {
    w = draw(c, t, ways);
  }
  if (t[w] != NOLINE) {
    l->evictions++;
    if (m[w] & DIRTY) { l->writebacks++; *wb = t[w]; }
  }
  t[w] = block;
  m[w] = (uint8_t)(print(l, block) | (dirty ? DIRTY : 0));
  l->last = block;
  l->last_slot = base + w;
  return 0;
}

/* The line touched last, then the newest way of the set, then lookup(). */
static int ref(sh_cache *c, level *l, uint64_t block, int dirty, int fill, uint64_t *wb) {
  uint64_t set, slot;
  uint32_t h;
  if (block == l->last) {
    if (dirty) l->meta[l->last_slot] |= DIRTY;
    return 1;
  }
  set = l->mask ? block & l->mask : block % l->sets;
  h = l->head ? l->head[set] : 0;
  slot = set * l->ways + h;
  if (l->tag[slot] != block) return lookup(c, l, block, set, h, dirty, fill, wb);
  if (dirty) l->meta[slot] |= DIRTY;
  l->last = block;
  l->last_slot = slot;
  return 1;
}

static int serves(const level *l, int kind) {
  return l->kind == SH_LEVEL_UNIFIED ||
         l->kind == (kind == SH_FETCH ? SH_LEVEL_INSTR : SH_LEVEL_DATA);
}

/* A dirty line of level i goes to the next data level down (or memory).
** It is traffic, not a demand access: it moves lines and may push out
** further dirty lines, but is not counted in accesses, hits or misses. */
static void writeback(sh_cache *c, int i, uint64_t block);

static void pushed(sh_cache *c, int i, uint64_t block) {
  if (c->lv[i].below == c->n) c->mem_writes++;   /* the usual case, without a call */
  else writeback(c, i, block);
}

static void writeback(sh_cache *c, int i, uint64_t block) {
  int j = c->lv[i].below;
  uint32_t from = c->lv[i].shift, to = c->lv[j].shift;
  uint64_t b, last, wb;
  /* The lines of level j that level i's line covers: one unless j's are smaller. */
  b = to >= from ? block >> (to - from) : block << (from - to);
  last = to >= from ? b : b + ((uint64_t)1 << (from - to)) - 1;
  for (;; b++) {
    wb = NOLINE;
    ref(c, &c->lv[j], b, c->write == SH_WRITE_BACK, 1, &wb);
    if (wb != NOLINE) pushed(c, j, wb);
    if (b == last) break;
  }
}

/* The general path.  At each level the access looks up every line it
** touches; it counts once, and is a miss when any line missed, in which
** case the whole access goes on to the next level (cachegrind's rule for
** accesses that straddle lines).  The latency is that of the deepest level
** reached: where the data came from, or, writing through, memory. */
static uint32_t slow(sh_cache *c, uint64_t addr, uint32_t size, int kind, int cat) {
  int write = kind == SH_WRITE, i, served = 0;
  int fill = !write || c->allocate, dirty = write && c->write == SH_WRITE_BACK;
  uint64_t end = addr + (size ? size : 1) - 1;
  if (end < addr) end = UINT64_MAX;
  for (i = c->first[kind]; i < c->n; i++) {
    level *l = &c->lv[i];
    uint64_t b, last = end >> l->shift;
    int miss = 0;
    if (!serves(l, kind)) continue;
    l->acc[kind]++;
    l->cacc[cat]++;
    for (b = addr >> l->shift; ; b++) {
      uint64_t wb = NOLINE;
      miss |= !ref(c, l, b, dirty, fill, &wb);
      if (wb != NOLINE) pushed(c, i, wb);
      if (b == last) break;
    }
    if (miss) {
      l->miss[kind]++;
      l->cmiss[cat]++;
    } else if (!(write && c->write == SH_WRITE_THROUGH)) {
      return l->latency;
    } else {
      served = 1;                  /* written here, and on through to memory */
    }
  }
  /* What memory sees: a line fetched for a miss that fills, and a store
  ** that writes through or that no level took. */
  if (!served && fill) c->mem_reads++;
  if (write && (c->write == SH_WRITE_THROUGH || !fill)) c->mem_writes++;
  return c->memory;
}

/* slow() for the common case: an access inside one line of every level,
** that fills on a miss and that no level passes on (not a store writing
** through), so it looks up one line a level and memory is only read. */
static uint32_t quick(sh_cache *c, uint64_t addr, int kind, int cat, uint64_t set, uint32_t h) {
  int i, dirty = c->dirties[kind];
  for (i = c->first[kind]; i < c->n; i++) {
    level *l = &c->lv[i];
    uint64_t wb = NOLINE;
    int hit;
    if (!serves(l, kind)) continue;
    l->acc[kind]++;
    l->cacc[cat]++;
    /* The first level's shortcuts have missed: its set and newest way are known. */
    hit = i == c->first[kind] ? lookup(c, l, addr >> l->shift, set, h, dirty, 1, &wb)
                              : ref(c, l, addr >> l->shift, dirty, 1, &wb);
    if (wb != NOLINE) pushed(c, i, wb);
    if (hit) return l->latency;
    l->miss[kind]++;
    l->cmiss[cat]++;
  }
  c->mem_reads++;
  return c->memory;
}

uint32_t sh_cache_access(sh_cache *c, uint64_t addr, uint32_t size, sh_access_kind k, int cat) {
  int i;
  if ((unsigned)k >= SH_ACCESS_KINDS) k = SH_READ;
  if ((unsigned)cat >= SH_COST_N) cat = SH_COST_MEMORY;
  i = c->first[k];
  if (i < c->n && (k != SH_WRITE || c->write != SH_WRITE_THROUGH)) {
    level *l = &c->lv[i];
    uint64_t b = addr >> l->shift, end = addr + size - (size != 0), slot;
    if ((end >> l->shift) == b) {
      /* The shortcuts, for an access inside one line that no store must
      ** carry on past this level: the line touched last, or the newest
      ** line of its set, is a hit that changes no replacement state. */
      if (b == l->last) {
        slot = l->last_slot;
      } else {
        uint64_t set = l->mask ? b & l->mask : b % l->sets;
        uint32_t h = l->head ? l->head[set] : 0;
        slot = set * l->ways + h;
        if (l->tag[slot] != b) {
          if (c->quick[k] && ((addr ^ end) >> c->minshift) == 0)
            return quick(c, addr, (int)k, cat, set, h);
          return slow(c, addr, size, (int)k, cat);
        }
        l->last = b;
        l->last_slot = slot;
      }
      if (c->dirties[k]) l->meta[slot] |= DIRTY;
      l->acc[k]++;
      l->cacc[cat]++;
      return l->latency;
    }
  }
  return slow(c, addr, size, (int)k, cat);
}

uint64_t sh_cache_sweep(sh_cache *c, uint64_t addr, uint64_t count, int64_t stride,
                        uint32_t width, sh_access_kind k, int cat) {
  uint64_t total = 0, i = 0;
  int f;
  if ((unsigned)k >= SH_ACCESS_KINDS || (unsigned)cat >= SH_COST_N) return 0;
  f = c->first[k];
  while (i < count) {
    uint64_t a = addr + (uint64_t)((int64_t)i * stride);
    total += sh_cache_access(c, a, width, k, cat);
    i++;
    /* The accesses that follow inside the line just touched are hits that
    ** change nothing but counters: count them in one step. */
    if (f < c->n && stride > 0 && (k != SH_WRITE || c->write != SH_WRITE_THROUGH)) {
      level *l = &c->lv[f];
      uint64_t next = a + (uint64_t)stride, end, run;
      if (l->last != (next >> l->shift) || next < a) continue;
      end = (l->last + 1) << l->shift;                 /* one past the line */
      if (end == 0 || next + (width ? width : 1) > end) continue;
      run = (end - (width ? width : 1) - next) / (uint64_t)stride + 1;
      if (run > count - i) run = count - i;
      if (k == SH_WRITE && c->write == SH_WRITE_BACK) l->meta[l->last_slot] |= DIRTY;
      l->acc[k] += run;
      l->cacc[cat] += run;
      total += run * l->latency;
      i += run;
    }
  }
  return total;
}

uint64_t sh_cache_assume_hits(sh_cache *c, uint64_t n, int cat) {
  int i = c->first[SH_READ];
  if (i >= c->n) return n * c->memory;
  if ((unsigned)cat >= SH_COST_N) cat = SH_COST_META;
  c->lv[i].acc[SH_READ] += n;
  c->lv[i].cacc[cat] += n;
  return n * c->lv[i].latency;
}

/* ---- statistics ---- */

int sh_cache_levels(const sh_cache *c) {
  return c->n;
}

int sh_cache_lines(const sh_cache *c, int i, sh_line_fn fn, void *ud) {
  const level *l;
  uint64_t set;
  if (i < 0 || i >= c->n) return SH_ERR_ARG;
  l = &c->lv[i];
  for (set = 0; set < l->sets; set++) {
    uint32_t h = l->head ? l->head[set] : 0, p;
    for (p = 0; p < l->ways; p++) {
      uint64_t k = set * l->ways + step(h, p, l->ways);
      if (l->tag[k] != NOLINE && fn(ud, l->tag[k] << l->shift, (l->meta[k] & DIRTY) != 0) != 0) return SH_OK;
    }
  }
  return SH_OK;
}

int sh_cache_stats_get(const sh_cache *c, int i, sh_cache_stats *out) {
  int k;
  memset(out, 0, sizeof *out);
  if (i < 0 || i > c->n) return SH_ERR_ARG;
  if (i == c->n) {
    out->name = "memory";
    out->latency = c->memory;
    out->kind_accesses[SH_READ] = c->mem_reads;
    out->kind_accesses[SH_WRITE] = c->mem_writes;
    out->accesses = out->hits = c->mem_reads + c->mem_writes;
    return SH_OK;
  }
  {
    const level *l = &c->lv[i];
    out->name = l->name;
    out->latency = l->latency;
    for (k = 0; k < SH_ACCESS_KINDS; k++) {
      out->kind_accesses[k] = l->acc[k];
      out->kind_misses[k] = l->miss[k];
      out->accesses += l->acc[k];
      out->misses += l->miss[k];
    }
    for (k = 0; k < SH_COST_N; k++) {
      out->cat_accesses[k] = l->cacc[k];
      out->cat_misses[k] = l->cmiss[k];
    }
    out->hits = out->accesses - out->misses;
    out->evictions = l->evictions;
    out->writebacks = l->writebacks;
  }
  return SH_OK;
}
