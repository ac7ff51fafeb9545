/* test_tree.c -- the augmented treap against a brute-force model.
** Random inserts and removes; every query is compared with a linear scan. */
#include <stdlib.h>
#include "check.h"
#include "../../engine/tree.h"

#define NKEYS 2000

static uint64_t rng = 88172645463325252ull;
static uint64_t next(void) { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return rng; }

static uint64_t sizes[NKEYS];     /* 0 = absent; key i is stored as i * 16 */

static void model_first_fit(uint64_t need, int *idx, uint64_t *rank) {
  int i;
  *rank = 0;
  for (i = 0; i < NKEYS; i++) {
    if (!sizes[i]) continue;
    if (sizes[i] >= need) { *idx = i; return; }
    (*rank)++;
  }
  *idx = -1;
}

static int count_walk(void *ud, const shT_node *x) {
  uint64_t *prev = ud;
  CHECK(x->key > prev[0] || prev[1] == 0);
  prev[0] = x->key;
  prev[1]++;
  return 0;
}

int main(void) {
  sh_tree t;
  int step, i, present = 0;
  shT_init(&t);
  CHECK_U64(shT_count(&t), 0);
  CHECK(shT_find(&t, 5) == SHT_NIL);
  CHECK(shT_first_fit(&t, 1, NULL) == SHT_NIL);
  CHECK(shT_remove(&t, 5) == 0);
  for (step = 0; step < 20000; step++) {
    int k = (int)(next() % NKEYS);
    if (sizes[k]) {
      CHECK(shT_remove(&t, (uint64_t)k * 16) == 1);
      sizes[k] = 0;
      present--;
    } else {
      sizes[k] = 1 + next() % 1000;
      CHECK(shT_insert(&t, (uint64_t)k * 16, sizes[k], (uint64_t)k, 0) != SHT_NIL);
      present++;
    }
    if (step % 97 == 0) {
      uint64_t need = 1 + next() % 1100, rank = 0, mrank;
      int idx;
      uint32_t x = shT_first_fit(&t, need, &rank);
      model_first_fit(need, &idx, &mrank);
      if (idx < 0) CHECK(x == SHT_NIL);
      else {
        CHECK(x != SHT_NIL);
        if (x != SHT_NIL) { CHECK_U64(t.n[x].key, (uint64_t)idx * 16); CHECK_U64(rank, mrank); }
      }
    }
    if (step % 101 == 0) {
      uint64_t q = next() % (NKEYS * 16), best = UINT64_MAX;
      uint32_t x = shT_le(&t, q);
      for (i = 0; i < NKEYS; i++) if (sizes[i] && (uint64_t)i * 16 <= q) best = (uint64_t)i * 16;
      if (best == UINT64_MAX) CHECK(x == SHT_NIL);
      else CHECK(x != SHT_NIL && t.n[x].key == best);
    }
  }
  CHECK_U64(shT_count(&t), (uint64_t)present);
  {
    uint64_t mx = 0, w[2] = { 0, 0 };
    for (i = 0; i < NKEYS; i++) if (sizes[i] > mx) mx = sizes[i];
    CHECK_U64(shT_max(&t), mx);
    shT_walk(&t, count_walk, w);
    CHECK_U64(w[1], (uint64_t)present);
    for (i = 0; i < NKEYS && !sizes[i]; i++) {}
    if (i < NKEYS) {
      shT_set_size(&t, (uint64_t)i * 16, 5000);
      CHECK_U64(shT_max(&t), 5000);
    }
  }
  /* first fit from a position, and ranks, against the model */
  for (step = 0; step < 2000; step++) {
    uint64_t from = next() % (NKEYS * 16), need = 1 + next() % 1100, rank = 0, mrank = 0;
    int idx = -1;
    uint32_t x = shT_first_fit_from(&t, from, 0, need, &rank);
    for (i = 0; i < NKEYS; i++) {
      if (!sizes[i]) continue;
      if ((uint64_t)i * 16 >= from && sizes[i] >= need) { idx = i; break; }
      mrank++;
    }
    if (idx < 0) CHECK(x == SHT_NIL);
    else {
      CHECK(x != SHT_NIL);
      if (x != SHT_NIL) { CHECK_U64(t.n[x].key, (uint64_t)idx * 16); CHECK_U64(rank, mrank); }
    }
    {
      uint64_t r = 0;
      for (i = 0; i < NKEYS; i++) if (sizes[i] && (uint64_t)i * 16 < from) r++;
      CHECK_U64(shT_rank2(&t, from, 0), r);
      if (r < shT_count(&t)) CHECK(shT_at(&t, r) == shT_ge(&t, from));
    }
  }
  shT_free(&t);

  /* a composite tree orders by (key, a): equal sizes fall back to the address */
  shT_init2(&t);
  CHECK(shT_insert(&t, 64, 64, 0x3000, 0) != SHT_NIL);
  CHECK(shT_insert(&t, 64, 64, 0x1000, 0) != SHT_NIL);
  CHECK(shT_insert(&t, 32, 32, 0x2000, 0) != SHT_NIL);
  CHECK(shT_insert(&t, 64, 64, 0x2000, 0) != SHT_NIL);
  CHECK_U64(t.n[shT_at(&t, 0)].a, 0x2000);
  CHECK_U64(t.n[shT_at(&t, 1)].a, 0x1000);
  CHECK_U64(t.n[shT_ge2(&t, 64, 0x1001)].a, 0x2000);
  CHECK_U64(shT_rank2(&t, 64, 0x3000), 3);
  CHECK(shT_find2(&t, 64, 0x2000) != SHT_NIL);
  CHECK(shT_remove2(&t, 64, 0x2000) == 1);
  CHECK(shT_remove2(&t, 64, 0x2000) == 0);
  CHECK(shT_find2(&t, 32, 0x2000) != SHT_NIL);
  CHECK_U64(shT_count(&t), 3);
  shT_free(&t);
  return check_done("tree");
}
