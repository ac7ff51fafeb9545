/* test_random.c -- Python's generator: the reference MT19937 outputs and CPython's random() values.
** The expected numbers were printed by CPython 3.11 (random.seed(N); random.random()) and by mt19937ar.c. */
#include "check.h"
#include "stackheap.h"

/* Exact equality: each literal is the shortest decimal that round-trips the
** double CPython printed, so any bit of difference fails. */
static void expect_doubles(sh_random *r, const double *want, int n) {
  int i;
  for (i = 0; i < n; i++) {
    double got = sh_random_double(r);
    check_run++;
    if (got != want[i]) {
      check_failed++;
      fprintf(stderr, "draw %d: got %.17g, expected %.17g\n", i, got, want[i]);
    }
  }
}

int main(void) {
  sh_random *r;
  int i;
  CHECK(sh_random_open(&r) == SH_OK);

  /* mt19937ar.c's own test: init_by_array({0x123, 0x234, 0x345, 0x456}). */
  {
    static const uint32_t key[] = { 0x123, 0x234, 0x345, 0x456 };
    static const uint32_t want[] = { 1067595299u, 955945823u, 477289528u, 4107218783u, 4228976476u };
    sh_random_seed_array(r, key, 4);
    for (i = 0; i < 5; i++) CHECK_U64(sh_random_u32(r), want[i]);
  }
  /* A fresh generator is seeded with 0, as random.seed(0). */
  {
    sh_random *fresh;
    static const double want[] = { 0.8444218515250481, 0.7579544029403025, 0.420571580830845 };
    CHECK(sh_random_open(&fresh) == SH_OK);
    expect_doubles(fresh, want, 3);
    sh_random_close(fresh);
  }
  {
    static const double want[] = { 0.13436424411240122, 0.8474337369372327, 0.763774618976614 };
    sh_random_seed(r, 1);
    expect_doubles(r, want, 3);
  }
  {
    static const double want[] = { 0.6394267984578837, 0.025010755222666936, 0.27502931836911926 };
    sh_random_seed(r, 42);
    expect_doubles(r, want, 3);
  }
  /* One word at its largest, then the first seed that needs two words. */
  {
    static const double want[] = { 0.6353574441341173, 0.20319993954407756, 0.6073666030347188 };
    sh_random_seed(r, 4294967295u);
    expect_doubles(r, want, 3);
  }
  {
    static const double want[] = { 0.11299430095636409, 0.41782886486292836, 0.0166763664992291 };
    sh_random_seed(r, 4294967296u);
    expect_doubles(r, want, 3);
  }
  /* Three words: 2^64 + 5. */
  {
    static const uint32_t key[] = { 5, 0, 1 };
    static const double want[] = { 0.5105783769365112, 0.8797586528012199, 0.5149365298491138 };
    sh_random_seed_array(r, key, 3);
    expect_doubles(r, want, 3);
  }
  {
    /* 12345678901234567890123 in 32-bit words, lowest first. */
    static const uint32_t key[] = { 0x714244cbu, 0x42b64e76u, 0x29du };
    static const double want[] = { 0.15803717805068784, 0.9863365111874665, 0.13242015726274725 };
    sh_random_seed_array(r, key, 3);
    expect_doubles(r, want, 3);
  }
  /* Past the first regeneration of the state (624 words = 312 doubles). */
  {
    static const double want[] = { 0.9486082995058949, 0.4804125346981437 };
    sh_random_seed(r, 0);
    for (i = 0; i < 998; i++) (void)sh_random_double(r);
    expect_doubles(r, want, 2);
  }
  /* Reseeding restarts the sequence. */
  {
    double a, b;
    sh_random_seed(r, 7);
    a = sh_random_double(r);
    sh_random_seed(r, 7);
    b = sh_random_double(r);
    CHECK(a == b);
  }
  sh_random_close(r);
  return check_done("random");
}
