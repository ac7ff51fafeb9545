/* bench_policies.c -- the simulation must not pay the cost it models: time per operation vs. list length,
** each policy's rate on a random workload next to the C library's malloc, and host bytes per live block. */
#define _GNU_SOURCE            /* clock_gettime, mallinfo2 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "internal.h"      /* to tell simulated pages from bookkeeping */

/* CPU time, not wall time: the machine is shared, and time spent waiting
** for a core is not the code's. */
static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int with_cache;

static sh_machine *open_policy(const char *policy) {
  sh_config c;
  sh_machine *m;
  sh_config_init(&c);
  c.cache.enabled = with_cache;
  c.heap.policy = policy;
  if (strcmp(policy, "csapp_implicit") != 0) c.heap.extend = 1 << 20;
  if (sh_open(&m, &c) != SH_OK) {
    fprintf(stderr, "%s: %s\n", policy, sh_errmsg(m));
    exit(1);
  }
  return m;
}

/* First fit with `holes` small free blocks in front: every search passes them all. */
static void scaling(void) {
  static const uint64_t sizes[] = { 1000, 10000, 100000, 1000000 };
  double base = 0;
  size_t i;
  printf("first_fit, address order: alloc(4096)+free with N 16-byte holes in front\n");
  printf("%10s  %14s  %12s  %10s\n", "holes", "searched/op", "ns/op", "vs 1,000");
  for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    sh_machine *m = open_policy("first_fit");
    uint64_t n = sizes[i], k, a, *small = malloc(n * sizeof *small), before;
    const int ops = 200000;
    sh_stats s;
    double t;
    for (k = 0; k < n; k++) { sh_alloc(m, 16, 0, &small[k]); sh_alloc(m, 16, 0, &a); }
    for (k = 0; k < n; k++) sh_free(m, small[k]);
    sh_stats_get(m, &s);
    before = s.heap.searched;
    t = now();
    for (k = 0; k < (uint64_t)ops; k++) { sh_alloc(m, 4096, 0, &a); sh_free(m, a); }
    t = (now() - t) / ops * 1e9;
    sh_stats_get(m, &s);
    if (i == 0) base = t;
    printf("%10llu  %14.0f  %12.1f  %9.2fx\n", (unsigned long long)n,
           (double)(s.heap.searched - before) / ops, t, t / base);
    free(small);
    sh_close(m);
  }
  printf("\n");
}

/* One deterministic random workload: a pool of live slots, sizes mostly small. */
#define POOL 4096
typedef struct op { unsigned char kind; uint32_t slot; uint32_t size; } op;

static op *workload(int n) {
  op *w = malloc((size_t)n * sizeof *w);
  uint64_t x = 88172645463325252ull;
  int live[POOL] = { 0 }, i;
  for (i = 0; i < n; i++) {
    uint32_t slot;
    x ^= x << 13; x ^= x >> 7; x ^= x << 17;
    slot = (uint32_t)(x >> 20) % POOL;
    w[i].slot = slot;
    w[i].size = (uint32_t)((x >> 40) % 8 == 0 ? (x >> 8) % 4096 + 1 : (x >> 8) % 128 + 1);
    if (!live[slot]) { w[i].kind = 0; live[slot] = 1; }
    else if ((x & 7) == 0) w[i].kind = 2;             /* realloc */
    else { w[i].kind = 1; live[slot] = 0; }
  }
  return w;
}

static double run_native(const op *w, int n) {
  void *p[POOL] = { 0 };
  double t = now();
  int i;
  for (i = 0; i < n; i++) {
    if (w[i].kind == 0) p[w[i].slot] = malloc(w[i].size);
    else if (w[i].kind == 1) { free(p[w[i].slot]); p[w[i].slot] = NULL; }
    else p[w[i].slot] = realloc(p[w[i].slot], w[i].size);
  }
  t = now() - t;
  for (i = 0; i < POOL; i++) free(p[i]);
  return t;
}

static double run_sim(const char *policy, const op *w, int n, double *bytes_per_live) {
  sh_machine *m = open_policy(policy);
  uint64_t p[POOL] = { 0 };
  struct mallinfo2 before = mallinfo2(), after;
  sh_stats s;
  double t = now();
  int i;
  for (i = 0; i < n; i++) {
    if (w[i].kind == 0) sh_alloc(m, w[i].size, 0, &p[w[i].slot]);
    else if (w[i].kind == 1) { sh_free(m, p[w[i].slot]); p[w[i].slot] = 0; }
    else sh_realloc(m, p[w[i].slot], w[i].size, &p[w[i].slot]);
  }
  t = now() - t;
  after = mallinfo2();
  sh_stats_get(m, &s);
  /* simulated memory pages are host memory too; count only the bookkeeping.
  ** Blocks above the mmap threshold (big pools, tables) are in hblkhd, not uordblks. */
  *bytes_per_live = s.heap.live_blocks
    ? ((double)(after.uordblks + after.hblkhd) - (double)(before.uordblks + before.hblkhd)
       - (double)shP_host_bytes(&m->space)) / (double)s.heap.live_blocks
    : 0;
  sh_close(m);
  return t;
}

int main(int argc, char **argv) {
  static const char *const policies[] = { "first_fit", "next_fit", "best_fit", "worst_fit",
    "segregated", "buddy", "tlsf", "bump", "csapp_implicit" };
  int n = argc > 1 ? atoi(argv[1]) : 2000000;
  op *w = workload(n);
  double native, t, bpl;
  size_t i;
  if (argc <= 2 || strcmp(argv[2], "noscale") != 0) scaling();
  native = run_native(w, n);
  printf("random workload, %d ops (allocs, frees, reallocs over %d slots); time vs. glibc\n",
         n, POOL);
  printf("%-16s %10s %12s %10s %12s %14s\n", "", "M ops/s", "vs malloc", "+cache", "vs malloc",
         "host B/live");
  printf("%-16s %10.2f %12s\n", "glibc malloc", n / native / 1e6, "1.00");
  for (i = 0; i < sizeof policies / sizeof policies[0]; i++) {
    double tc, b2;
    with_cache = 0;
    t = run_sim(policies[i], w, n, &bpl);
    with_cache = 1;
    tc = run_sim(policies[i], w, n, &b2);
    printf("%-16s %10.2f %11.1fx %10.2f %11.1fx %14.0f\n", policies[i], n / t / 1e6,
           t / native, n / tc / 1e6, tc / native, bpl);
  }
  free(w);
  return 0;
}
