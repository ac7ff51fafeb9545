/* test_policies.c -- every built-in policy: hand-computed answers, then 100,000 random operations.
** Defaults: header 8, align 16, min block 32, heap at 0x1000, so blocks tile [0x1008, 0x1ff8). */
#include <stdlib.h>
#include "check.h"
#include "stackheap.h"

static sh_machine *mk(const char *policy, const char *order, const char *coalesce,
                      uint64_t size, int64_t extend) {
  sh_config c;
  sh_machine *m;
  sh_config_init(&c);
  c.heap.policy = policy;
  c.heap.order = order;
  c.heap.coalesce = coalesce;
  c.heap.size = size;
  c.heap.extend = extend;
  if (sh_open(&m, &c) != SH_OK) {
    fprintf(stderr, "open %s: %s\n", policy, sh_errmsg(m));
    check_failed++;
  }
  return m;
}

static uint64_t A(sh_machine *m, uint64_t n) {
  uint64_t a = 0;
  if (sh_alloc(m, n, 0, &a) != SH_OK) return 0;
  return a;
}

static uint64_t searched(sh_machine *m) {
  sh_stats s;
  sh_stats_get(m, &s);
  return s.heap.searched;
}

/* a, b, c, d = 32, 112, 32, 208-byte blocks; then a and c are freed. */
static uint64_t holes(const char *policy, const char *order, uint64_t *steps) {
  sh_machine *m = mk(policy, order, NULL, 0, -1);
  uint64_t a = A(m, 24), c, r, before;
  A(m, 100);
  c = A(m, 24);
  A(m, 200);
  sh_free(m, a);
  sh_free(m, c);
  before = searched(m);
  r = A(m, 16);
  *steps = searched(m) - before;
  sh_close(m);
  return r;
}

static void hand_computed(void) {
  uint64_t steps;
  CHECK_U64(holes("first_fit", NULL, &steps), 0x1010); CHECK_U64(steps, 1);
  CHECK_U64(holes("best_fit", NULL, &steps), 0x1010);  CHECK_U64(steps, 3);
  CHECK_U64(holes("worst_fit", NULL, &steps), 0x1190); CHECK_U64(steps, 3);
  CHECK_U64(holes("next_fit", NULL, &steps), 0x1190);  CHECK_U64(steps, 1);
  CHECK_U64(holes("first_fit", "lifo", &steps), 0x10a0); CHECK_U64(steps, 1);
  CHECK_U64(holes("first_fit", "fifo", &steps), 0x1190); CHECK_U64(steps, 1);
  CHECK_U64(holes("first_fit", "size_asc", &steps), 0x1010);
  CHECK_U64(holes("first_fit", "size_desc", &steps), 0x1190);
  CHECK_U64(holes("best_fit", "lifo", &steps), 0x10a0);     /* ties: first in list order */
  CHECK_U64(holes("segregated", NULL, &steps), 0x1010);
  CHECK_U64(holes("tlsf", NULL, &steps), 0x10a0); CHECK_U64(steps, 1);  /* LIFO heads */

  /* coalescing: none keeps neighbours apart, deferred merges when a search fails */
  {
    const char *modes[3] = { "none", "deferred", "immediate" };
    uint64_t want[3] = { 0, 0x1010, 0x1010 };
    int i;
    for (i = 0; i < 3; i++) {
      sh_machine *m = mk("first_fit", NULL, modes[i], 512, 0);
      uint64_t a = A(m, 24), b = A(m, 100);
      A(m, 300);
      sh_free(m, a);
      sh_free(m, b);
      CHECK_U64(A(m, 130), want[i]);
      sh_close(m);
    }
  }

  /* split_min: no split when the remainder would be smaller */
  {
    sh_config c;
    sh_machine *m;
    sh_stats s;
    sh_config_init(&c);
    c.heap.split_min = 4096;
    CHECK(sh_open(&m, &c) == SH_OK);
    CHECK_U64(A(m, 24), 0x1010);
    sh_stats_get(m, &s);
    CHECK_U64(s.heap.splits, 0);
    CHECK_U64(s.heap.used_block_bytes, 4080);
    sh_close(m);
  }

  /* alignment: a leading fragment big enough to stay free is split off */
  {
    sh_machine *m = mk("first_fit", NULL, NULL, 0, -1);
    uint64_t a = 0;
    CHECK(sh_alloc(m, 10, 256, &a) == SH_OK);
    CHECK_U64(a, 0x1100);
    sh_close(m);
  }

  /* buddy: 4096 bytes split down to a 64-byte block, lower halves handed out */
  {
    sh_machine *m = mk("buddy", NULL, NULL, 4096, -1);
    sh_stats s;
    uint64_t a = A(m, 24), b = A(m, 24);
    CHECK_U64(a, 0x1010);
    CHECK_U64(b, 0x1050);
    sh_stats_get(m, &s);
    CHECK_U64(s.heap.splits, 6);
    sh_free(m, a);
    sh_free(m, b);
    sh_stats_get(m, &s);
    CHECK_U64(s.heap.free_blocks, 1);
    CHECK_U64(s.heap.largest_free, 4096);
    CHECK_U64(s.heap.heap_bytes, 4096);
    sh_close(m);
  }

  /* bump: the next address is the previous end rounded up; reset starts over */
  {
    sh_machine *m = mk("bump", NULL, NULL, 0, -1);
    sh_stats s;
    uint64_t a = A(m, 10);
    CHECK_U64(a, 0x1000);
    CHECK_U64(A(m, 10), 0x1010);
    CHECK(sh_free(m, a) == SH_OK);
    CHECK_U64(A(m, 1), 0x1020);                  /* nothing reclaimed */
    CHECK(sh_heap_reset(m) == SH_OK);
    sh_stats_get(m, &s);
    CHECK_U64(s.heap.live_blocks, 0);
    CHECK_U64(A(m, 10), 0x1000);
    sh_close(m);
    m = mk("first_fit", NULL, NULL, 0, -1);
    CHECK(sh_heap_reset(m) == SH_ERR_ARG);
    CHECK_HAS(sh_errmsg(m), "only bump");
    sh_close(m);
  }

  /* csapp_implicit: the textbook's heap, prologue walked first */
  {
    sh_machine *m = mk("csapp_implicit", NULL, NULL, 0, -1);
    sh_stats s;
    uint64_t a;
    sh_stats_get(m, &s);
    CHECK_U64(s.heap.heap_bytes, 4112);
    a = A(m, 24);
    CHECK_U64(a, 0x1010);
    CHECK_U64(searched(m), 2);
    CHECK_U64(A(m, 4096), 0x1030);               /* no fit: grows by 4104 and coalesces */
    CHECK_U64(searched(m), 2 + 3);
    sh_stats_get(m, &s);
    CHECK_U64(s.heap.heap_bytes, 4112 + 4104);
    sh_close(m);
  }

  /* realloc grows in place into a free neighbour, shrinks in place, else moves */
  {
    sh_machine *m = mk("first_fit", NULL, NULL, 0, -1);
    uint64_t a = A(m, 24), b = A(m, 24), r = 0;
    A(m, 24);
    sh_free(m, b);
    CHECK(sh_realloc(m, a, 50, &r) == SH_OK);
    CHECK_U64(r, a);                             /* took b's block */
    CHECK(sh_realloc(m, a, 8, &r) == SH_OK);
    CHECK_U64(r, a);
    CHECK(sh_realloc(m, a, 500, &r) == SH_OK);
    CHECK(r != a);
    sh_close(m);
  }

  /* parameters are checked and named */
  {
    sh_config c;
    sh_machine *m;
    sh_config_init(&c);
    c.heap.policy = "first_fit";
    c.heap.order = "random";
    CHECK(sh_open(&m, &c) == SH_ERR_ARG);
    CHECK_HAS(sh_errmsg(m), "order 'random' is not one of address, lifo, fifo, size_asc, size_desc");
    sh_close(m);
    sh_config_init(&c);
    c.heap.policy = "buddy";
    c.heap.min_order = 12;
    c.heap.max_order = 10;
    CHECK(sh_open(&m, &c) == SH_ERR_ARG);
    CHECK_HAS(sh_errmsg(m), "min_order <= max_order");
    sh_close(m);
    sh_config_init(&c);
    c.heap.policy = "csapp_implicit";
    c.heap.align = 16;
    CHECK(sh_open(&m, &c) == SH_ERR_ARG);
    CHECK_HAS(sh_errmsg(m), "takes only base and max");
    sh_close(m);
    sh_config_init(&c);
    c.heap.policy = "first_fit";
    c.heap.sli = 4;
    CHECK(sh_open(&m, &c) == SH_ERR_ARG);
    CHECK_HAS(sh_errmsg(m), "sli is tlsf's key");
    sh_close(m);
  }
}

/* ---- the property test ---- */

typedef struct walk {
  uint64_t next, frees_in_row, bytes;
  int ok, adjacent_free, prev_free;
  uint64_t prev_end;
} walk;

static int visit(void *ud, const sh_block *b) {
  walk *w = ud;
  if (w->next && b->addr < w->next) w->ok = 0;            /* overlap */
  if (w->next && b->addr > w->next) w->ok = 0;            /* a hole nobody owns */
  if (b->used && (b->payload < b->addr || b->payload + b->requested > b->addr + b->size)) w->ok = 0;
  if (!b->used && w->prev_free && w->prev_end == b->addr) w->adjacent_free = 1;
  w->prev_free = !b->used;
  w->prev_end = b->addr + b->size;
  w->next = b->addr + b->size;
  w->bytes += b->size;
  return 0;
}

static uint64_t rng = 0x2545F4914F6CDD1Dull;
static int64_t prop_extend = -1;   /* growth step of the property runs' heaps */
static uint64_t rnd(void) { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return rng; }

static void property(const char *policy, const char *order, const char *coalesce, int ops,
                     int merges) {
  sh_machine *m = mk(policy, order, coalesce, 0, prop_extend);
  uint64_t live[256], n = 0, i;
  int bad = 0, k;
  if (m == NULL) return;
  for (k = 0; k < ops && !bad; k++) {
    uint64_t r = rnd(), a = 0;
    if (n < 256 && (n == 0 || r % 100 < 55)) {
      uint64_t size = r >> 40;
      size = (r & 3) == 0 ? size % 4000 : size % 200;
      if (sh_alloc(m, size, (r & 0xf0) == 0 ? 64 : 0, &a) == SH_OK) live[n++] = a;
      else bad = 1;
    } else if (r % 100 < 90) {
      i = (r >> 8) % n;
      if (sh_free(m, live[i]) != SH_OK) bad = 1;
      live[i] = live[--n];
    } else {
      i = (r >> 8) % n;
      if (sh_realloc(m, live[i], (r >> 32) % 600 + 1, &a) != SH_OK) bad = 1;
      else live[i] = a;
    }
    if (bad) fprintf(stderr, "%s/%s: op %d failed: %s\n", policy, order ? order : "-", k, sh_errmsg(m));
    /* bump never reclaims, so its block count grows without bound: walk it
    ** at every 64th operation rather than make the test quadratic */
    if (strcmp(policy, "bump") != 0 || k % 64 == 0 || k == ops - 1) {
      walk w;
      sh_stats s;
      memset(&w, 0, sizeof w);
      w.ok = 1;
      sh_blocks(m, visit, &w);
      sh_stats_get(m, &s);
      if (!w.ok || (merges && w.adjacent_free) || s.heap.live_blocks != n) {
        fprintf(stderr, "%s/%s/%s: after op %d: tiling %d, unmerged neighbours %d, live %llu vs %llu\n",
                policy, order ? order : "-", coalesce ? coalesce : "-", k, w.ok, w.adjacent_free,
                (unsigned long long)s.heap.live_blocks, (unsigned long long)n);
        bad = 1;
      }
    }
  }
  CHECK(!bad);
  sh_close(m);
}

/* The sanitizer build runs the same test on a fifth of the operations. */
#if defined(__SANITIZE_ADDRESS__)
#define OPS 20000
#else
#define OPS 100000
#endif

int main(int argc, char **argv) {
  int ops = argc > 1 ? atoi(argv[1]) : OPS;
  hand_computed();
  property("first_fit", NULL, NULL, ops, 1);
  property("next_fit", NULL, NULL, ops, 1);
  property("best_fit", NULL, NULL, ops, 1);
  property("worst_fit", NULL, NULL, ops, 1);
  property("first_fit", "lifo", "deferred", ops / 4, 0);
  property("best_fit", "fifo", "none", ops / 4, 0);
  property("next_fit", "size_asc", NULL, ops / 4, 1);
  property("first_fit", "size_desc", NULL, ops / 4, 1);
  property("segregated", NULL, NULL, ops, 1);
  property("tlsf", NULL, NULL, ops, 1);
  property("buddy", NULL, NULL, ops, 0);
  property("bump", NULL, NULL, ops, 0);
  property("csapp_implicit", NULL, NULL, ops, 1);
  /* growth by the exact shortfall: a grown block must land where the next
  ** search looks (tlsf once grew a block one class too small, forever) */
  prop_extend = 16;
  property("tlsf", NULL, NULL, ops / 4, 1);
  property("segregated", NULL, NULL, ops / 4, 1);
  property("first_fit", NULL, "deferred", ops / 4, 0);
  return check_done("policies");
}
