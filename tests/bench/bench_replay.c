/* bench_replay.c -- replay speed against the C library's malloc on the same trace, in the same run.
** Usage: bench_replay TRACE [POLICY...]: text parsing rate, then native and simulated replays from the parsed form. */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "stackheap.h"
#include "trace.h"

#define U(x) ((unsigned long long)(x))

/* CPU time, not wall time: the machine is shared, and time spent waiting
** for a core is not the code's. */
static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what, const char *msg) {
  fprintf(stderr, "bench_replay: %s: %s\n", what, msg);
  exit(2);
}

static void quiet(void *ud, const char *msg) { (void)ud; (void)msg; }

/* The payload bytes are the replayer's (shY_pattern), so both sides do the
** same integrity work: fill on alloc, verify on realloc and free. */
static uint8_t pat[1 << 16];

static int fill_verify(uint8_t *p, uint64_t id, uint64_t from, uint64_t to, int verify) {
  uint64_t i = from;
  int bad = 0;
  while (i < to) {
    uint64_t off = i % sizeof pat, n = sizeof pat - off;
    if (n > to - i) n = to - i;
    shY_pattern(pat, id, (size_t)(off + n));
    if (verify) bad |= memcmp(p + i, pat + off, (size_t)n) != 0;
    else memcpy(p + i, pat + off, (size_t)n);
    i += n;
  }
  return bad;
}

/* The native replay through malloc.  Its ids index a plain array (the
** readers give small ids, mtrace's reused after a free): the cheapest record
** a replayer can keep, so the ratio does not flatter the engine's. */
typedef struct { uint8_t *p; uint64_t n; } nslot;

static nslot *nat_slot(nslot **v, size_t *cap, uint64_t id) {
  if (id >= *cap) {
    size_t c = *cap ? *cap : 1024;
    while (c <= id) c *= 2;
    if ((*v = realloc(*v, c * sizeof **v)) == NULL) die("native", "out of memory");
    memset(*v + *cap, 0, (c - *cap) * sizeof **v);
    *cap = c;
  }
  return &(*v)[id];
}

static uint64_t native(const char *bin, uint64_t *errors) {
  sh_trace *t;
  sh_op op;
  nslot *live = NULL;
  size_t cap = 0, i;
  uint64_t n = 0;
  if (sh_trace_open(&t, bin, SH_TRACE_BIN) != SH_OK) die(bin, sh_trace_errmsg(t));
  sh_trace_on_warning(t, quiet, NULL);
  while (sh_trace_next(t, &op) == SH_OK && op.kind != SH_OP_END) {
    nslot *x;
    n++;
    if (op.id == SH_ID_NULL) { if (op.kind == SH_OP_FREE) free(NULL); continue; }
    x = nat_slot(&live, &cap, op.id);
    if (op.kind == SH_OP_ALLOC) {
      uint8_t *p = malloc(op.size ? op.size : 1);
      x->p = p;
      x->n = op.size;
      if (((uintptr_t)p & 15) != 0) (*errors)++;
      fill_verify(p, op.id, 0, op.size, 0);
    } else if (op.kind == SH_OP_FREE) {
      if (x->p == NULL) continue;
      *errors += (uint64_t)fill_verify(x->p, op.id, 0, x->n, 1);
      free(x->p);
      x->p = NULL;
    } else {
      uint8_t *p;
      uint64_t keep;
      if (x->p == NULL) continue;
      p = realloc(x->p, op.size ? op.size : 1);
      keep = x->n < op.size ? x->n : op.size;
      *errors += (uint64_t)fill_verify(p, op.id, 0, keep, 1);
      fill_verify(p, op.id, keep, op.size, 0);
      x->p = p;
      x->n = op.size;
    }
  }
  for (i = 0; i < cap; i++) free(live[i].p);
  free(live);
  sh_trace_close(t);
  return n;
}

static uint64_t simulated(const char *bin, const char *policy, int flags, int cache,
                          uint64_t *errors) {
  sh_config c;
  sh_machine *m;
  sh_replay *r;
  sh_trace *t;
  sh_op op;
  uint64_t n = 0;
  sh_config_init(&c);
  c.heap.policy = policy;
  c.cache.enabled = cache;
  if (sh_open(&m, &c) != SH_OK) die(policy, sh_errmsg(m));
  if (sh_replay_new(&r, m, bin, flags) != SH_OK) die(policy, "out of memory");
  if (sh_trace_open(&t, bin, SH_TRACE_BIN) != SH_OK) die(bin, sh_trace_errmsg(t));
  sh_trace_on_warning(t, quiet, NULL);
  while (sh_trace_next(t, &op) == SH_OK && op.kind != SH_OP_END) {
    if (sh_replay_op(r, &op) != SH_OK) die(policy, sh_replay_errmsg(r));
    n++;
  }
  *errors = sh_replay_error_count(r);
  sh_trace_close(t);
  sh_replay_free(r);
  sh_close(m);
  return n;
}

static void too_slow(int sig) {
  static const char msg[] = "\nbench_replay: a replay ran past its time limit (a policy that loops?)\n";
  (void)sig;
  if (write(2, msg, sizeof msg - 1) < 0) {}
  _exit(1);
}

#define RUNS 3

int main(int argc, char **argv) {
  static const char *const def[] = { "first_fit", "best_fit", "segregated", "tlsf" };
  const char *const *pol = def;
  int npol = 4, i, k;
  char bin[4096];
  sh_trace *t;
  sh_trace_writer *w;
  sh_op op;
  uint64_t lines = 0, ops = 0, errs = 0, nops = 0;
  double best = 1e30, tnat = 1e30, t0;
  if (argc < 2) {
    fprintf(stderr, "usage: bench_replay TRACE [POLICY...]\n");
    return 2;
  }
  if (argc > 2) { pol = (const char *const *)argv + 2; npol = argc - 2; }
  snprintf(bin, sizeof bin, "%s.bench.shbin", argv[1]);
  signal(SIGALRM, too_slow);

  /* Text parsing: the reader alone, best of three. */
  for (k = 0; k < RUNS; k++) {
    sh_trace_info in;
    t0 = now();
    if (sh_trace_open(&t, argv[1], SH_TRACE_AUTO) != SH_OK) die(argv[1], sh_trace_errmsg(t));
    sh_trace_on_warning(t, quiet, NULL);
    while (sh_trace_next(t, &op) == SH_OK && op.kind != SH_OP_END) {}
    if (sh_trace_errmsg(t)[0] && strcmp(sh_trace_errmsg(t), "no error") != 0)
      die(argv[1], sh_trace_errmsg(t));
    sh_trace_info_get(t, &in);
    lines = in.lines;
    ops = in.ops;
    sh_trace_close(t);
    if (now() - t0 < best) best = now() - t0;
  }
  printf("trace %s: %llu lines, %llu operations\n", argv[1], U(lines), U(ops));
  printf("parse text: %.3f s, %.2f M lines/s, %.2f M ops/s (best of %d)\n", best,
         (double)lines / best / 1e6, (double)ops / best / 1e6, RUNS);

  /* The parsed form, written once. */
  if (sh_trace_open(&t, argv[1], SH_TRACE_AUTO) != SH_OK) die(argv[1], sh_trace_errmsg(t));
  sh_trace_on_warning(t, quiet, NULL);
  if (sh_trace_writer_open(&w, bin, SH_TRACE_BIN) != SH_OK) die(bin, sh_trace_writer_errmsg(w));
  do {
    if (sh_trace_next(t, &op) != SH_OK) die(argv[1], sh_trace_errmsg(t));
    sh_trace_write(w, &op);
  } while (op.kind != SH_OP_END);
  sh_trace_close(t);
  if (sh_trace_writer_close(w, NULL, 0) != SH_OK) die(bin, "cannot write");

  for (k = 0; k < RUNS; k++) {
    uint64_t e = 0;
    t0 = now();
    nops = native(bin, &e);
    if (now() - t0 < tnat) tnat = now() - t0;
    errs = e;
  }
  printf("\nfrom the parsed form, checks on (fill on alloc, verify on realloc and free), best of %d:\n",
         RUNS);
  printf("%-40s %10s %12s %10s %8s\n", "replay", "seconds", "M ops/s", "vs native", "errors");
  printf("%-40s %10.3f %12.2f %10.2f %8llu\n", "native (glibc malloc)", tnat, (double)nops / tnat / 1e6, 1.0,
         U(errs));
  /* Each policy as `stackheap replay` runs it, then the first without the
  ** cache model and without the checks, to show where the time goes. */
  for (i = 0; i < npol + 2; i++) {
    const char *p = i < npol ? pol[i] : pol[0];
    int flags = i == npol + 1 ? 0 : SH_REPLAY_CHECK, cache = i < npol;
    char label[64];
    double ts = 1e30;
    snprintf(label, sizeof label, "%s%s", p, i == npol ? " (no cache model)" :
             i == npol + 1 ? " (no cache model, no checks)" : "");
    for (k = 0; k < RUNS; k++) {
      uint64_t e = 0, n;
      alarm(120);
      t0 = now();
      n = simulated(bin, p, flags, cache, &e);
      if (now() - t0 < ts) ts = now() - t0;
      alarm(0);
      errs = e;
      nops = n;
    }
    printf("%-40s %10.3f %12.2f %10.2f %8llu\n", label, ts, (double)nops / ts / 1e6, ts / tnat,
           U(errs));
    fflush(stdout);
  }
  remove(bin);
  return 0;
}
