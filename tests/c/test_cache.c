/* test_cache.c -- the cache hierarchy on small traces whose answers are worked out by hand.
** Replacement (lru, fifo, random), write-back and write-through, latencies, batches, the machine's use. */
#include <stdio.h>
#include <string.h>
#include "check.h"
#include "stackheap.h"

static sh_cache_level level(const char *name, uint64_t size, uint32_t ways, uint32_t line,
                            uint32_t latency, sh_replace r) {
  sh_cache_level l;
  memset(&l, 0, sizeof l);
  snprintf(l.name, sizeof l.name, "%s", name);
  l.size = size; l.ways = ways; l.line = line; l.latency = latency; l.replace = r;
  l.kind = SH_LEVEL_UNIFIED;
  return l;
}

static sh_cache *one(uint64_t size, uint32_t ways, uint32_t line, sh_replace r,
                     sh_write_policy w, int allocate, uint64_t seed) {
  sh_cache_config c;
  sh_cache *k = NULL;
  char err[200];
  memset(&c, 0, sizeof c);
  c.enabled = 1; c.nlevels = 1; c.memory = 100; c.write = w; c.allocate = allocate;
  c.levels[0] = level("L1", size, ways, line, 2, r);
  if (sh_cache_open(&k, &c, seed, err, sizeof err) != SH_OK) fprintf(stderr, "open: %s\n", err);
  return k;
}

static sh_cache_stats st(sh_cache *k, int i) {
  sh_cache_stats s;
  sh_cache_stats_get(k, i, &s);
  return s;
}

/* Lines of 16 bytes: block n is address 16n. */
#define B(n) ((uint64_t)(n) * 16)

static void replacement(void) {
  sh_cache *k;
  /* One set of two ways; A B A C A.  LRU: C evicts B (A was used since),
  ** so the last A hits: 3 misses, 2 hits, 1 eviction. */
  k = one(32, 2, 16, SH_REPLACE_LRU, SH_WRITE_BACK, 1, 1);
  CHECK_U64(sh_cache_access(k, B(1), 8, SH_READ, SH_COST_MEMORY), 100);
  CHECK_U64(sh_cache_access(k, B(2), 8, SH_READ, SH_COST_MEMORY), 100);
  CHECK_U64(sh_cache_access(k, B(1), 8, SH_READ, SH_COST_MEMORY), 2);
  CHECK_U64(sh_cache_access(k, B(3), 8, SH_READ, SH_COST_MEMORY), 100);
  CHECK_U64(sh_cache_access(k, B(1), 8, SH_READ, SH_COST_MEMORY), 2);
  CHECK_U64(st(k, 0).misses, 3);
  CHECK_U64(st(k, 0).hits, 2);
  CHECK_U64(st(k, 0).evictions, 1);
  sh_cache_close(k);

  /* FIFO on the same trace: the hit on A does not renew it, so C evicts A
  ** (filled first) and the last A misses and evicts B: 4 misses, 2 evictions. */
  k = one(32, 2, 16, SH_REPLACE_FIFO, SH_WRITE_BACK, 1, 1);
  sh_cache_access(k, B(1), 8, SH_READ, SH_COST_MEMORY);
  sh_cache_access(k, B(2), 8, SH_READ, SH_COST_MEMORY);
  sh_cache_access(k, B(1), 8, SH_READ, SH_COST_MEMORY);
  sh_cache_access(k, B(3), 8, SH_READ, SH_COST_MEMORY);
  CHECK_U64(sh_cache_access(k, B(1), 8, SH_READ, SH_COST_MEMORY), 100);
  CHECK_U64(sh_cache_access(k, B(3), 8, SH_READ, SH_COST_MEMORY), 2);   /* C stayed */
  CHECK_U64(sh_cache_access(k, B(2), 8, SH_READ, SH_COST_MEMORY), 100); /* B went */
  CHECK_U64(st(k, 0).misses, 5);
  CHECK_U64(st(k, 0).hits, 2);
  CHECK_U64(st(k, 0).evictions, 3);
  sh_cache_close(k);

  /* Direct mapped, 4 sets: blocks 0 and 4 share set 0 and thrash. */
  k = one(64, 1, 16, SH_REPLACE_LRU, SH_WRITE_BACK, 1, 1);
  sh_cache_access(k, B(0), 4, SH_READ, SH_COST_MEMORY);
  sh_cache_access(k, B(4), 4, SH_READ, SH_COST_MEMORY);
  sh_cache_access(k, B(0), 4, SH_READ, SH_COST_MEMORY);
  sh_cache_access(k, B(1), 4, SH_READ, SH_COST_MEMORY);
  sh_cache_access(k, B(1) + 8, 4, SH_READ, SH_COST_MEMORY);
  CHECK_U64(st(k, 0).misses, 4);
  CHECK_U64(st(k, 0).hits, 1);
  CHECK_U64(st(k, 0).evictions, 2);
  sh_cache_close(k);
}

/* Random replacement: the victim follows the machine's seed, so a run is
** reproducible; over many evictions each way is picked about equally. */
static uint64_t random_run(uint64_t seed, uint64_t *hist) {
  sh_cache *k = one(48, 3, 16, SH_REPLACE_RANDOM, SH_WRITE_BACK, 1, seed);
  uint64_t i, misses;
  /* Three ways in one set: blocks 1..3 fill it; then each new block evicts
  ** one way; probing the old three afterwards tells which survived. */
  for (i = 0; i < 30000; i++) {
    uint64_t b = 10 + i, w, before;
    sh_cache_access(k, B(1), 1, SH_READ, SH_COST_MEMORY);
    sh_cache_access(k, B(2), 1, SH_READ, SH_COST_MEMORY);
    sh_cache_access(k, B(3), 1, SH_READ, SH_COST_MEMORY);
    sh_cache_invalidate(k);
    sh_cache_access(k, B(1), 1, SH_READ, SH_COST_MEMORY);
    sh_cache_access(k, B(2), 1, SH_READ, SH_COST_MEMORY);
    sh_cache_access(k, B(3), 1, SH_READ, SH_COST_MEMORY);
    sh_cache_access(k, B(b), 1, SH_READ, SH_COST_MEMORY);
    for (w = 1; w <= 3; w++) {
      before = st(k, 0).misses;
      sh_cache_access(k, B(w), 1, SH_READ, SH_COST_MEMORY);
      if (st(k, 0).misses > before) { if (hist) hist[w - 1]++; break; }
    }
  }
  misses = st(k, 0).misses;
  sh_cache_close(k);
  return misses;
}

static void random_replacement(void) {
  uint64_t hist[3] = { 0, 0, 0 }, a, b, c;
  int i;
  a = random_run(7, hist);
  b = random_run(7, NULL);
  c = random_run(8, NULL);
  CHECK_U64(a, b);                         /* same seed, same run */
  CHECK(a != c);                           /* another seed, another run */
  for (i = 0; i < 3; i++) CHECK(hist[i] > 9400 && hist[i] < 10600);   /* 10000 +- 6% */

  /* A hand-sized case: one set of two ways, A B C.  C evicts A or B, never
  ** both, and with seed 1 the choice is pinned (a regression check). */
  {
    sh_cache *k = one(32, 2, 16, SH_REPLACE_RANDOM, SH_WRITE_BACK, 1, 1);
    uint64_t m;
    sh_cache_access(k, B(1), 1, SH_READ, SH_COST_MEMORY);
    sh_cache_access(k, B(2), 1, SH_READ, SH_COST_MEMORY);
    sh_cache_access(k, B(3), 1, SH_READ, SH_COST_MEMORY);
    CHECK_U64(st(k, 0).evictions, 1);
    m = st(k, 0).misses;
    sh_cache_access(k, B(3), 1, SH_READ, SH_COST_MEMORY);
    CHECK_U64(st(k, 0).misses, m);          /* C is in */
    sh_cache_access(k, B(1), 1, SH_READ, SH_COST_MEMORY);
    sh_cache_access(k, B(2), 1, SH_READ, SH_COST_MEMORY);
    CHECK(st(k, 0).misses >= m + 1);        /* one of A, B was evicted */
    sh_cache_close(k);
  }
}

static void write_back(void) {
  sh_cache_config c;
  sh_cache *k;
  char err[200];
  /* Direct mapped, one line: store A (miss, dirty), load B (evicts dirty A:
  ** one write-back), load A (evicts clean B: none). */
  k = one(16, 1, 16, SH_REPLACE_LRU, SH_WRITE_BACK, 1, 1);
  sh_cache_access(k, B(1), 8, SH_WRITE, SH_COST_MEMORY);
  sh_cache_access(k, B(2), 8, SH_READ, SH_COST_MEMORY);
  sh_cache_access(k, B(1), 8, SH_READ, SH_COST_MEMORY);
  CHECK_U64(st(k, 0).evictions, 2);
  CHECK_U64(st(k, 0).writebacks, 1);
  CHECK_U64(st(k, 1).kind_accesses[SH_READ], 3);    /* memory: three line fills */
  CHECK_U64(st(k, 1).kind_accesses[SH_WRITE], 1);   /* and one dirty line */
  /* stores that hit a dirty line write nothing more */
  sh_cache_access(k, B(1), 8, SH_WRITE, SH_COST_MEMORY);
  sh_cache_access(k, B(1) + 8, 8, SH_WRITE, SH_COST_MEMORY);
  sh_cache_access(k, B(3), 8, SH_READ, SH_COST_MEMORY);
  CHECK_U64(st(k, 0).writebacks, 2);
  CHECK_U64(st(k, 1).kind_accesses[SH_WRITE], 2);
  sh_cache_close(k);

  /* Two levels: L1's dirty victim goes into L2 (no demand access there),
  ** and leaves L2 dirty: L2 writes it to memory when it is evicted in turn. */
  memset(&c, 0, sizeof c);
  c.enabled = 1; c.nlevels = 2; c.memory = 100; c.write = SH_WRITE_BACK; c.allocate = 1;
  c.levels[0] = level("L1", 16, 1, 16, 1, SH_REPLACE_LRU);
  c.levels[1] = level("L2", 32, 1, 16, 10, SH_REPLACE_LRU);    /* two sets */
  CHECK(sh_cache_open(&k, &c, 1, err, sizeof err) == SH_OK);
  sh_cache_access(k, B(0), 8, SH_WRITE, SH_COST_MEMORY);   /* L1 {0*}, L2 {0} */
  sh_cache_access(k, B(1), 8, SH_READ, SH_COST_MEMORY);    /* L1 {1}: 0 written back: L2 {0*, 1} */
  CHECK_U64(st(k, 0).writebacks, 1);
  CHECK_U64(st(k, 1).accesses, 2);                         /* the two misses only */
  CHECK_U64(st(k, 2).kind_accesses[SH_WRITE], 0);
  CHECK_U64(sh_cache_access(k, B(0), 8, SH_READ, SH_COST_MEMORY), 10);  /* from L2 */
  sh_cache_access(k, B(2), 8, SH_READ, SH_COST_MEMORY);    /* L2 set 0: dirty 0 goes */
  CHECK_U64(st(k, 1).writebacks, 1);
  CHECK_U64(st(k, 2).kind_accesses[SH_WRITE], 1);
  sh_cache_close(k);
}

static void write_through(void) {
  sh_cache *k = one(32, 2, 16, SH_REPLACE_LRU, SH_WRITE_THROUGH, 1, 1);
  /* Every store goes to memory and waits for it; lines are never dirty. */
  CHECK_U64(sh_cache_access(k, B(1), 8, SH_WRITE, SH_COST_MEMORY), 100);
  CHECK_U64(sh_cache_access(k, B(1), 8, SH_WRITE, SH_COST_MEMORY), 100);
  CHECK_U64(sh_cache_access(k, B(1), 8, SH_READ, SH_COST_MEMORY), 2);   /* allocated */
  sh_cache_access(k, B(2), 8, SH_READ, SH_COST_MEMORY);
  sh_cache_access(k, B(3), 8, SH_READ, SH_COST_MEMORY);                /* evicts 1 */
  CHECK_U64(st(k, 0).writebacks, 0);
  CHECK_U64(st(k, 0).hits, 2);                   /* the second store and the load */
  CHECK_U64(st(k, 1).kind_accesses[SH_WRITE], 2);
  CHECK_U64(st(k, 1).kind_accesses[SH_READ], 3); /* fills of 1, 2, 3 */
  sh_cache_close(k);

  /* Without write-allocate a store that misses leaves the cache alone. */
  k = one(32, 2, 16, SH_REPLACE_LRU, SH_WRITE_THROUGH, 0, 1);
  sh_cache_access(k, B(1), 8, SH_WRITE, SH_COST_MEMORY);
  CHECK_U64(sh_cache_access(k, B(1), 8, SH_READ, SH_COST_MEMORY), 100);
  CHECK_U64(st(k, 0).misses, 2);
  CHECK_U64(st(k, 1).kind_accesses[SH_READ], 1);
  CHECK_U64(st(k, 1).kind_accesses[SH_WRITE], 1);
  sh_cache_close(k);
}

static void straddles_and_latency(void) {
  sh_cache_config c;
  sh_cache *k;
  char err[200];
  /* An access across a line boundary looks up both lines, counts once. */
  k = one(64, 4, 16, SH_REPLACE_LRU, SH_WRITE_BACK, 1, 1);
  sh_cache_access(k, B(1) + 12, 8, SH_READ, SH_COST_MEMORY);
  CHECK_U64(st(k, 0).accesses, 1);
  CHECK_U64(st(k, 0).misses, 1);
  CHECK_U64(sh_cache_access(k, B(2), 4, SH_READ, SH_COST_MEMORY), 2);   /* both are in */
  CHECK_U64(sh_cache_access(k, B(1), 4, SH_READ, SH_COST_MEMORY), 2);
  sh_cache_close(k);

  /* The default hierarchy: 4 cycles from L1, 14 from L2, 200 from memory. */
  sh_cache_config_default(&c);
  CHECK(sh_cache_open(&k, &c, 1, err, sizeof err) == SH_OK);
  CHECK_U64(sh_cache_access(k, 0x10000, 8, SH_READ, SH_COST_STACK), 200);
  CHECK_U64(sh_cache_access(k, 0x10008, 8, SH_READ, SH_COST_STACK), 4);
  /* 9 lines at a 4 KiB stride share an 8-way L1 set: the first is evicted */
  {
    int i;
    for (i = 1; i <= 8; i++) sh_cache_access(k, 0x10000 + (uint64_t)i * 4096, 8, SH_READ, SH_COST_MEMORY);
  }
  CHECK_U64(sh_cache_access(k, 0x10000, 8, SH_READ, SH_COST_STACK), 14);
  CHECK_U64(st(k, 0).cat_accesses[SH_COST_STACK], 3);
  CHECK_U64(st(k, 0).cat_misses[SH_COST_STACK], 2);
  CHECK_U64(st(k, 0).cat_accesses[SH_COST_MEMORY], 8);
  sh_cache_close(k);

  /* configurations the model cannot hold are refused with a reason */
  sh_cache_config_default(&c);
  c.levels[0].line = 48;
  CHECK(sh_cache_open(&k, &c, 1, err, sizeof err) == SH_ERR_ARG);
  CHECK_HAS(err, "line 48 is not a power of two");
  sh_cache_config_default(&c);
  c.levels[1].size = 1000;
  CHECK(sh_cache_open(&k, &c, 1, err, sizeof err) == SH_ERR_ARG);
  CHECK_HAS(err, "cache level L2: size 1000 is not a multiple of line * ways (1024)");
  sh_cache_config_default(&c);
  snprintf(c.levels[1].name, sizeof c.levels[1].name, "L1");
  CHECK(sh_cache_open(&k, &c, 1, err, sizeof err) == SH_ERR_ARG);
  CHECK_HAS(err, "two levels are named 'L1'");
  c.nlevels = 0;
  CHECK(sh_cache_open(&k, &c, 1, err, sizeof err) == SH_ERR_ARG);
  /* 12 ways and a set count that is not a power of two are fine */
  sh_cache_config_default(&c);
  c.levels[0].size = 48 << 10; c.levels[0].ways = 12;
  c.levels[1].size = 3 * 64 * 16; c.levels[1].ways = 16;
  CHECK(sh_cache_open(&k, &c, 1, err, sizeof err) == SH_OK);
  sh_cache_close(k);
}

/* A sweep is exactly the loop of single accesses it stands for. */
static void sweep_equals_loop(void) {
  static const struct { int64_t stride; uint32_t width; sh_access_kind k; } cases[] = {
    { 8, 8, SH_READ }, { 4, 8, SH_READ }, { 24, 8, SH_WRITE }, { 64, 4, SH_READ },
    { -8, 8, SH_READ }, { 1, 1, SH_WRITE }, { 60, 8, SH_READ }, { 4096, 8, SH_WRITE },
    { 0, 8, SH_READ }
  };
  size_t t;
  for (t = 0; t < sizeof cases / sizeof cases[0]; t++) {
    sh_cache_config c;
    sh_cache *a, *b;
    char err[200];
    uint64_t i, la = 0, lb, base = 0x100000 + 3;
    int lv;
    sh_cache_config_default(&c);
    c.levels[0].size = 4096; c.levels[0].ways = 2;
    sh_cache_open(&a, &c, 1, err, sizeof err);
    sh_cache_open(&b, &c, 1, err, sizeof err);
    for (i = 0; i < 5000; i++)
      la += sh_cache_access(a, base + (uint64_t)((int64_t)i * cases[t].stride), cases[t].width,
                            cases[t].k, SH_COST_MEMORY);
    lb = sh_cache_sweep(b, base, 5000, cases[t].stride, cases[t].width, cases[t].k, SH_COST_MEMORY);
    CHECK_U64(lb, la);
    for (lv = 0; lv <= 2; lv++) {
      sh_cache_stats x = st(a, lv), y = st(b, lv);
      CHECK_U64(y.accesses, x.accesses);
      CHECK_U64(y.misses, x.misses);
      CHECK_U64(y.evictions, x.evictions);
      CHECK_U64(y.writebacks, x.writebacks);
    }
    sh_cache_close(a);
    sh_cache_close(b);
  }
}

static void machine(void) {
  sh_machine *m;
  sh_config cfg;
  sh_stats s;
  sh_cache_stats l1;
  uint64_t a, sum, n, last, v;
  int i;
  /* A sum over an array: one miss per 64-byte line, 7 hits after it. */
  CHECK(sh_open(&m, NULL) == SH_OK);
  CHECK(sh_machine_cache(m) != NULL);
  CHECK(sh_alloc(m, 8 * 1024, 0, &a) == SH_OK);
  CHECK(sh_sweep(m, a, 1024, 8, 8, 1, 3, &sum) == SH_OK);
  sh_cache_invalidate(sh_machine_cache(m));
  sh_stats_reset(m);
  CHECK(sh_sweep(m, a, 1024, 8, 8, 0, 0, &sum) == SH_OK);
  CHECK_U64(sum, 3 * 1024);
  sh_stats_get(m, &s);
  sh_cache_stats_get(sh_machine_cache(m), 0, &l1);
  CHECK_U64(l1.accesses, 1024);
  CHECK_U64(l1.misses, (a % 64 ? 129 : 128));
  CHECK_U64(s.loads, 1024);
  CHECK_U64(s.cost[SH_COST_MEMORY], s.access_cycles[SH_COST_MEMORY]);
  CHECK_U64(s.cycles, l1.misses * 200 + (1024 - l1.misses) * 4);
  /* sums read in blocks agree with loads one at a time, across pages too */
  {
    uint64_t b, want = 0, got, j;
    CHECK(sh_alloc(m, 40000, 0, &b) == SH_OK);
    for (j = 0; j < 40000; j += 8) CHECK(sh_store(m, b + j, j * 2654435761u, 8) == SH_OK);
    for (j = 0; j < 9000; j++) {
      CHECK(sh_load(m, b + 1 + 3 * j, 4, &v) == SH_OK);
      want += v;
    }
    CHECK(sh_sweep(m, b + 1, 9000, 3, 4, 0, 0, &got) == SH_OK);
    CHECK_U64(got, want);
    want = 0;
    for (j = 0; j < 9; j++) {
      CHECK(sh_load(m, b + 4090 * j, 8, &v) == SH_OK);
      want += v;
    }
    CHECK(sh_sweep(m, b, 9, 4090, 8, 0, 0, &got) == SH_OK);
    CHECK_U64(got, want);
  }
  /* a sweep past the break performs nothing */
  CHECK(sh_sweep(m, a, 100000, 8, 8, 0, 0, &sum) == SH_ERR_ACCESS);
  CHECK_HAS(sh_errmsg(m), "sweep: 0x");
  CHECK(sh_sweep(m, a, 2, INT64_MAX, 8, 0, 0, &sum) == SH_ERR_ACCESS);
  CHECK(sh_sweep(m, a, 2, 8, 3, 0, 0, &sum) == SH_ERR_ARG);
  /* a list of 3 nodes {value, next} */
  for (i = 0; i < 3; i++) {
    CHECK(sh_store(m, a + 16 * (uint64_t)i, 10 + (uint64_t)i, 8) == SH_OK);
    CHECK(sh_store(m, a + 16 * (uint64_t)i + 8, i < 2 ? a + 16 * (uint64_t)(i + 1) : 0, 8) == SH_OK);
  }
  CHECK(sh_chase(m, a, 8, 100, 0, 8, &sum, &n, &last) == SH_OK);
  CHECK_U64(sum, 33);
  CHECK_U64(n, 3);
  CHECK_U64(last, 0);
  CHECK(sh_chase(m, a, 8, 2, 0, 0, &sum, &n, &last) == SH_OK);
  CHECK_U64(n, 2);
  CHECK_U64(last, a + 32);
  CHECK(sh_store(m, a + 40, 8, 8) == SH_OK);          /* the last next points at 8 */
  CHECK(sh_chase(m, a, 8, 100, 0, 8, &sum, &n, &last) == SH_ERR_ACCESS);
  CHECK_HAS(sh_errmsg(m), "chase: 0x8 (8 bytes) is in the null page");
  CHECK_U64(n, 3);
  sh_close(m);

  /* the flat model: no hierarchy, cost.access a time */
  sh_config_init(&cfg);
  cfg.cache.enabled = 0;
  CHECK(sh_open(&m, &cfg) == SH_OK);
  CHECK(sh_machine_cache(m) == NULL);
  CHECK(sh_alloc(m, 64, 0, &a) == SH_OK);
  sh_stats_reset(m);
  CHECK(sh_load(m, a, 8, &v) == SH_OK);
  CHECK(sh_sweep(m, a, 8, 8, 8, 0, 0, &sum) == SH_OK);
  sh_stats_get(m, &s);
  CHECK_U64(s.cycles, 9 * 4);
  sh_close(m);

  /* a bad hierarchy is the machine's error */
  sh_config_init(&cfg);
  cfg.cache.levels[0].ways = 0;
  CHECK(sh_open(&m, &cfg) == SH_ERR_ARG);
  CHECK_HAS(sh_errmsg(m), "cache level L1: ways must be at least 1");
  sh_close(m);
}

int main(void) {
  replacement();
  random_replacement();
  write_back();
  write_through();
  straddles_and_latency();
  sweep_equals_loop();
  machine();
  return check_done("cache");
}
