/* cache_bench.c -- accesses per second through one cache level, against a plain reference simulator.
** Run by hand (cmake --build build --target bench); figures go to docs/PERFORMANCE.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "stackheap.h"

/* The straightforward simulator a course would write (csim's shape): lines
** with a valid bit, a tag and a use stamp; a linear search; LRU by stamp. */
typedef struct ref_line { int valid; uint64_t tag, used; } ref_line;
typedef struct ref_cache {
  ref_line *lines;
  uint64_t sets, ways, line_bits, clock, hits, misses, evictions;
} ref_cache;

static void ref_init(ref_cache *c, uint64_t size, uint64_t ways, uint64_t line) {
  memset(c, 0, sizeof *c);
  c->ways = ways;
  c->sets = size / line / ways;
  while ((1ull << c->line_bits) < line) c->line_bits++;
  c->lines = calloc(c->sets * ways, sizeof *c->lines);
}

static void ref_access(ref_cache *c, uint64_t addr) {
  uint64_t block = addr >> c->line_bits, set = block % c->sets, tag = block / c->sets, w;
  ref_line *s = &c->lines[set * c->ways], *victim = NULL;
  c->clock++;
  for (w = 0; w < c->ways; w++) {
    if (s[w].valid && s[w].tag == tag) {
      s[w].used = c->clock;
      c->hits++;
      return;
    }
  }
  c->misses++;
  for (w = 0; w < c->ways; w++) {
    if (!s[w].valid) { victim = &s[w]; break; }
    if (victim == NULL || s[w].used < victim->used) victim = &s[w];
  }
  if (victim->valid) c->evictions++;
  victim->valid = 1;
  victim->tag = tag;
  victim->used = c->clock;
}

static double now(void) {
  struct timespec ts;
  timespec_get(&ts, TIME_UTC);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static sh_cache *level(void) {
  sh_cache_config c;
  sh_cache *k;
  char err[200];
  memset(&c, 0, sizeof c);
  c.enabled = 1;
  c.nlevels = 1;
  snprintf(c.levels[0].name, sizeof c.levels[0].name, "L1");
  c.levels[0].size = 32768;
  c.levels[0].ways = 8;
  c.levels[0].line = 64;
  c.levels[0].latency = 4;
  c.levels[0].replace = SH_REPLACE_LRU;
  c.memory = 200;
  c.write = SH_WRITE_BACK;
  c.allocate = 1;
  if (sh_cache_open(&k, &c, 1, err, sizeof err) != SH_OK) {
    fprintf(stderr, "cache_bench: %s\n", err);
    exit(1);
  }
  return k;
}

typedef struct result { double rate; uint64_t misses; } result;

/* Best of three: the least disturbed run is the closest to what the code costs. */
#define BEST_OF_3(stmt_setup, stmt_run, stmt_misses, out) do {         \
    int rep_; (out).rate = 0;                                           \
    for (rep_ = 0; rep_ < 3; rep_++) {                                  \
      double t0_, t_;                                                   \
      stmt_setup;                                                       \
      t0_ = now();                                                      \
      stmt_run;                                                         \
      t_ = now() - t0_;                                                 \
      if (dn / t_ > (out).rate) (out).rate = dn / t_;                   \
      (out).misses = (stmt_misses);                                     \
    } } while (0)

static uint64_t misses_of(sh_cache *k) {
  sh_cache_stats s;
  sh_cache_stats_get(k, 0, &s);
  return s.misses;
}

int main(int argc, char **argv) {
  uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 20000000ull, i, x = 88172645463325252ull;
  uint64_t *seq = malloc(n * sizeof *seq), *rnd = malloc(n * sizeof *rnd);
  sh_cache *k = NULL;
  ref_cache r;
  result c_seq, c_rnd, sw_seq, ref_seq, ref_rnd;
  double dn = (double)n;
  if (seq == NULL || rnd == NULL) return 1;
  memset(&r, 0, sizeof r);
  /* sequential: 8-byte words in order; random: words anywhere in 1 MiB
  ** (32 times the cache, so most accesses miss) */
  for (i = 0; i < n; i++) {
    seq[i] = 0x100000 + 8 * i;
    x ^= x << 13; x ^= x >> 7; x ^= x << 17;
    rnd[i] = 0x100000 + (x % (1u << 20)) / 8 * 8;
  }
  BEST_OF_3(sh_cache_close(k); k = level(),
            for (i = 0; i < n; i++) sh_cache_access(k, seq[i], 8, SH_READ, SH_COST_MEMORY),
            misses_of(k), c_seq);
  BEST_OF_3(sh_cache_close(k); k = level(),
            for (i = 0; i < n; i++) sh_cache_access(k, rnd[i], 8, SH_READ, SH_COST_MEMORY),
            misses_of(k), c_rnd);
  BEST_OF_3(sh_cache_close(k); k = level(),
            sh_cache_sweep(k, seq[0], n, 8, 8, SH_READ, SH_COST_MEMORY),
            misses_of(k), sw_seq);
  BEST_OF_3(free(r.lines); ref_init(&r, 32768, 8, 64),
            for (i = 0; i < n; i++) ref_access(&r, seq[i]),
            r.misses, ref_seq);
  BEST_OF_3(free(r.lines); ref_init(&r, 32768, 8, 64),
            for (i = 0; i < n; i++) ref_access(&r, rnd[i]),
            r.misses, ref_rnd);
  sh_cache_close(k);
  free(r.lines);
  printf("one level, 32 KiB, 8-way, 64-byte lines, LRU; %llu accesses of 8 bytes, best of 3\n",
         (unsigned long long)n);
  printf("%-44s %10s %10s %8s\n", "case", "M acc/s", "misses", "vs ref");
  printf("%-44s %10.1f %10llu %8s\n", "reference simulator, sequential", ref_seq.rate / 1e6,
         (unsigned long long)ref_seq.misses, "1.00");
  printf("%-44s %10.1f %10llu %8.2f\n", "sh_cache_access, sequential", c_seq.rate / 1e6,
         (unsigned long long)c_seq.misses, c_seq.rate / ref_seq.rate);
  printf("%-44s %10.1f %10llu %8.2f\n", "sh_cache_sweep (one call), sequential", sw_seq.rate / 1e6,
         (unsigned long long)sw_seq.misses, sw_seq.rate / ref_seq.rate);
  printf("%-44s %10.1f %10llu %8s\n", "reference simulator, random in 1 MiB", ref_rnd.rate / 1e6,
         (unsigned long long)ref_rnd.misses, "1.00");
  printf("%-44s %10.1f %10llu %8.2f\n", "sh_cache_access, random in 1 MiB", c_rnd.rate / 1e6,
         (unsigned long long)c_rnd.misses, c_rnd.rate / ref_rnd.rate);
  /* the same answers, or the speed means nothing */
  if (c_seq.misses != ref_seq.misses || sw_seq.misses != ref_seq.misses ||
      c_rnd.misses != ref_rnd.misses) {
    fprintf(stderr, "cache_bench: the simulators disagree on the misses\n");
    return 1;
  }
  free(seq);
  free(rnd);
  return 0;
}
