/* test_tree.c -- the augmented ordered map against a sorted array, operation by operation.
** Long random sequences (plain and composite keys, growing, shrinking, ascending runs); every answer compared. */
#include <stdlib.h>
#include "check.h"
#include "../../engine/tree.h"

static uint64_t rng = 88172645463325252ull;
static uint64_t next(void) { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return rng; }

/* ---- the reference: a sorted array ---- */

typedef struct model { shT_node *v; size_t n, cap; int composite; } model;

static int before(const model *m, uint64_t k1, uint64_t a1, uint64_t k2, uint64_t a2) {
  return k1 < k2 || (m->composite && k1 == k2 && a1 < a2);
}

static size_t m_lower(const model *m, uint64_t key, uint64_t a) {   /* entries before (key, a) */
  size_t lo = 0, hi = m->n;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (before(m, m->v[mid].key, m->v[mid].a, key, a)) lo = mid + 1; else hi = mid;
  }
  return lo;
}

static int m_has(const model *m, size_t i, uint64_t key, uint64_t a) {
  return i < m->n && m->v[i].key == key && (!m->composite || m->v[i].a == a);
}

static void m_insert(model *m, const shT_node *e) {
  size_t i = m_lower(m, e->key, e->a);
  if (m->n == m->cap) {
    m->cap = m->cap ? m->cap * 2 : 256;
    m->v = realloc(m->v, m->cap * sizeof *m->v);
  }
  memmove(&m->v[i + 1], &m->v[i], (m->n - i) * sizeof *m->v);
  m->v[i] = *e;
  m->n++;
}

static void m_erase(model *m, size_t i) {
  memmove(&m->v[i], &m->v[i + 1], (m->n - i - 1) * sizeof *m->v);
  m->n--;
}

static int same(const shT_node *x, const shT_node *y) {
  return x->key == y->key && x->size == y->size && x->a == y->a && x->b == y->b;
}

/* ---- comparing every query ---- */

typedef struct walker { const model *m; size_t i; int bad; } walker;

static int walk_one(void *ud, const shT_node *x) {
  walker *w = ud;
  if (w->i >= w->m->n || !same(x, &w->m->v[w->i])) w->bad = 1;
  w->i++;
  return 0;
}

static int stop_at_3(void *ud, const shT_node *x) {
  (void)x;
  return ++*(int *)ud == 3 ? 7 : 0;
}

/* A key near the model's keys, or anywhere in the key space. */
static uint64_t probe_key(const model *m, uint64_t span) {
  if (m->n && next() % 2) {
    uint64_t k = m->v[next() % m->n].key, d = next() % 3;
    return next() % 2 ? k + d : k - d;
  }
  return next() % span;
}

static void compare_queries(sh_tree *t, const model *m, uint64_t span, uint64_t amax) {
  uint64_t key = probe_key(m, span), a = next() % (amax + 2), need, rank, mrank;
  shT_node x;
  size_t i, j;
  int got;
  CHECK_U64(shT_count(t), m->n);
  /* find2 / find */
  i = m_lower(m, key, a);
  got = shT_find2(t, key, a, &x);
  CHECK(got == m_has(m, i, key, a));
  if (got && m_has(m, i, key, a)) CHECK(same(&x, &m->v[i]));
  if (!m->composite) {
    got = shT_find(t, key, &x);
    CHECK(got == m_has(m, i, key, a));
  }
  /* ge2, ge, rank2 */
  got = shT_ge2(t, key, a, &x);
  CHECK(got == (i < m->n));
  if (got && i < m->n) CHECK(same(&x, &m->v[i]));
  CHECK_U64(shT_rank2(t, key, a), i);
  j = m_lower(m, key, 0);
  got = shT_ge(t, key, &x);
  CHECK(got == (j < m->n));
  if (got && j < m->n) CHECK(same(&x, &m->v[j]));
  /* le: the last entry whose key is <= key */
  for (j = i; j < m->n && m->v[j].key <= key; j++) {}
  while (j > 0 && m->v[j - 1].key > key) j--;
  got = shT_le(t, key, &x);
  CHECK(got == (j > 0));
  if (got && j > 0) CHECK(same(&x, &m->v[j - 1]));
  /* around: the entries either side of (key, a) */
  {
    shT_node y;
    int want = (i > 0) | 2 * (i < m->n);
    got = shT_around(t, key, a, &x, &y);
    CHECK(got == want);
    if ((got & 1) && i > 0) CHECK(same(&x, &m->v[i - 1]));
    if ((got & 2) && i < m->n) CHECK(same(&y, &m->v[i]));
  }
  /* at */
  j = m->n ? next() % (m->n + 2) : 0;
  got = shT_at(t, j, &x);
  CHECK(got == (j < m->n));
  if (got && j < m->n) CHECK(same(&x, &m->v[j]));
  /* max, first fit, first fit from */
  {
    uint64_t mx = 0;
    for (j = 0; j < m->n; j++) if (m->v[j].size > mx) mx = m->v[j].size;
    CHECK_U64(shT_max(t), mx);
    need = next() % 4 == 0 ? mx : next() % (mx + 2);
    if (next() % 8 == 0) need = mx + 1;
  }
  for (j = 0; j < m->n && m->v[j].size < need; j++) {}
  rank = UINT64_MAX;
  got = shT_first_fit(t, need, &rank, &x);
  CHECK(got == (j < m->n));
  if (got && j < m->n) { CHECK(same(&x, &m->v[j])); CHECK_U64(rank, j); }
  CHECK(shT_first_fit(t, need, NULL, NULL) == got);
  for (j = i; j < m->n && m->v[j].size < need; j++) {}
  mrank = j;
  rank = UINT64_MAX;
  got = shT_first_fit_from(t, key, a, need, &rank, &x);
  CHECK(got == (j < m->n));
  if (got && j < m->n) { CHECK(same(&x, &m->v[j])); CHECK_U64(rank, mrank); }
}

static void compare_all(sh_tree *t, const model *m) {
  walker w;
  w.m = m;
  w.i = 0;
  w.bad = 0;
  CHECK(shT_check(t) == 0);
  CHECK(shT_walk(t, walk_one, &w) == 0);
  CHECK(!w.bad);
  CHECK_U64(w.i, m->n);
}

/* A new (key, a) for entry i strictly between its neighbours, or 0. */
static int move_within(const model *m, size_t i, uint64_t *key, uint64_t *a) {
  int tries;
  for (tries = 0; tries < 4; tries++) {
    uint64_t k = m->v[i].key + (next() % 5) - 2, na = m->composite ? m->v[i].a + (next() % 5) - 2 : next();
    if (i > 0 && !before(m, m->v[i - 1].key, m->v[i - 1].a, k, na)) continue;
    if (i + 1 < m->n && !before(m, k, na, m->v[i + 1].key, m->v[i + 1].a)) continue;
    *key = k;
    *a = na;
    return 1;
  }
  return 0;
}

/* One random run: grow toward `target` entries, then shrink to nothing.
** `run` > 0: keys mostly arrive in ascending runs, as addresses from a break do. */
static void random_run(int composite, int steps, size_t target, uint64_t span, uint64_t amax,
                       int run) {
  sh_tree t;
  model m = { NULL, 0, 0, 0 };
  uint64_t asc = 0;
  int s;
  m.composite = composite;
  if (composite) shT_init2(&t); else shT_init(&t);
  for (s = 0; s < steps || m.n > 0; s++) {
    int grow = s < steps && (m.n < target ? next() % 100 < 60 : next() % 100 < 40);
    uint64_t r = next() % 16;
    if (grow) {
      shT_node e;
      size_t i;
      e.key = run && next() % 4 ? (asc += 1 + next() % 3) % span : next() % span;
      e.a = next() % (amax + 1);
      e.size = next() % 8 == 0 ? next() % 100000 : next() % 200;
      e.b = next();
      i = m_lower(&m, e.key, e.a);
      if (m_has(&m, i, e.key, e.a)) continue;
      if (!composite && next() % 3 == 0) {
        /* a span meets its neighbours when the one before ends past its
        ** start or the one after begins before its end */
        shT_node clash;
        const shT_node *want = i > 0 && m.v[i - 1].key + m.v[i - 1].size > e.key ? &m.v[i - 1]
                             : i < m.n && m.v[i].key < e.key + e.size ? &m.v[i] : NULL;
        int got = shT_insert_span(&t, e.key, e.size, e.a, e.b, &clash);
        CHECK(got == (want != NULL));
        if (got == 1 && want) CHECK(same(&clash, want));
        if (got == 0) m_insert(&m, &e);
        continue;
      }
      CHECK(shT_insert(&t, e.key, e.size, e.a, e.b) == 0);
      m_insert(&m, &e);
    } else if (m.n && r < 12) {
      size_t i = next() % m.n;
      if (r == 0 && i + 1 < m.n) i = 0;         /* the front, as LIFO lists pop */
      if (composite) {
        CHECK(shT_remove2(&t, m.v[i].key, m.v[i].a) == 1);
      } else if (r < 4) {
        /* take the last entry at or before a key inside i's span, when its a matches */
        shT_node x;
        uint64_t key = m.v[i].key + (m.v[i].size ? next() % (m.v[i].size + 1) : 0);
        size_t j = i;
        while (j + 1 < m.n && m.v[j + 1].key <= key) j++;
        if (key < m.v[i].key) continue;               /* wrapped around */
        CHECK(shT_take_le(&t, key, m.v[j].a + (r == 1), &x) == (r != 1));
        if (r == 1) continue;
        CHECK(same(&x, &m.v[j]));
        i = j;
      } else {
        CHECK(shT_remove(&t, m.v[i].key) == 1);
      }
      m_erase(&m, i);
    } else if (m.n && r < 14) {                 /* rewrite in place */
      size_t i = next() % m.n;
      shT_node nv = m.v[i];
      nv.size = next() % 8 == 0 ? next() % 200000 : next() % 300;
      nv.b = next();
      if (r == 13 && !move_within(&m, i, &nv.key, &nv.a)) continue;
      CHECK(shT_update(&t, m.v[i].key, m.v[i].a, &nv) == 1);
      m.v[i] = nv;
    } else if (m.n && r == 15 && next() % 2) {  /* change what a first fit found, through its spot */
      shT_spot sp, stale;
      shT_node x, nv;
      uint64_t need = next() % 300;
      size_t i;
      int got = shT_first_fit_spot(&t, need, NULL, &x, &sp);
      stale = sp;
      for (i = 0; i < m.n && m.v[i].size < need; i++) {}
      CHECK(got == (i < m.n));
      if (!got) continue;
      CHECK(same(&x, &m.v[i]));
      if (next() % 3 == 0) {
        CHECK(shT_remove_spot(&t, &sp, x.key, x.a) == 1);
        m_erase(&m, i);
        /* the spot is stale now: it must not find what is gone */
        CHECK(shT_remove_spot(&t, &stale, x.key, x.a) == 0);
      } else {
        nv = x;
        nv.size = next() % 400;
        nv.b = next();
        CHECK(shT_update_spot(&t, &sp, x.key, x.a, &nv) == 1);
        m.v[i] = nv;
        if (m.n > 1) {                            /* a stale spot falls back to a search */
          size_t k = next() % m.n;
          nv = m.v[k];
          nv.size = next() % 400;
          CHECK(shT_update_spot(&t, &stale, nv.key, nv.a, &nv) == 1);
          m.v[k] = nv;
        }
      }
    } else if (!composite && m.n && r == 14) {
      size_t i = next() % m.n;
      m.v[i].size = next() % 1000;
      shT_set_size(&t, m.v[i].key, m.v[i].size);
    } else {                                    /* absent entries stay absent */
      uint64_t key = probe_key(&m, span), a = next() % (amax + 2);
      size_t i = m_lower(&m, key, a);
      shT_node nv = { 1, 2, 3, 4 };
      if (m_has(&m, i, key, a)) continue;
      CHECK(shT_remove2(&t, key, a) == 0);
      CHECK(shT_update(&t, key, a, &nv) == 0);
    }
    if (m.n < 600 || s % 7 == 0) compare_queries(&t, &m, span, amax);
    if (s % 997 == 0 || m.n == 0) compare_all(&t, &m);
  }
  compare_queries(&t, &m, span, amax);
  compare_all(&t, &m);
  CHECK_U64(shT_count(&t), 0);
  shT_free(&t);
  free(m.v);
}

/* Ascending keys fill nodes, then every other one goes, then the rest. */
static void sequential(void) {
  sh_tree t;
  uint64_t i, n = 100000, rank;
  shT_node x;
  int stop = 0;
  shT_init(&t);
  for (i = 0; i < n; i++) CHECK(shT_insert(&t, i * 16, i % 1000 + 1, i, 0) == 0);
  CHECK(shT_check(&t) == 0);
  CHECK_U64(shT_count(&t), n);
  CHECK(shT_first_fit(&t, 1000, &rank, &x) == 1);
  CHECK_U64(x.key, 999 * 16);
  CHECK_U64(rank, 999);
  CHECK(shT_first_fit_from(&t, 5000 * 16 + 1, 0, 1000, &rank, &x) == 1);
  CHECK_U64(x.key, 5999 * 16);
  CHECK_U64(rank, 5999);
  CHECK(shT_walk(&t, stop_at_3, &stop) == 7);
  CHECK(stop == 3);
  for (i = 0; i < n; i += 2) CHECK(shT_remove(&t, i * 16) == 1);
  CHECK(shT_check(&t) == 0);
  CHECK_U64(shT_rank2(&t, 5000 * 16, 0), 2500);
  CHECK(shT_at(&t, 2500, &x) == 1);
  CHECK_U64(x.key, 5001 * 16);
  for (i = n; i-- > 0;) if (i % 2) CHECK(shT_remove(&t, i * 16) == 1);
  CHECK_U64(shT_count(&t), 0);
  CHECK(shT_check(&t) == 0);
  CHECK(shT_first_fit(&t, 1, NULL, NULL) == 0);
  CHECK(shT_insert(&t, 7, 7, 0, 0) == 0);      /* usable again after emptying */
  CHECK(shT_find(&t, 7, &x) == 1 && x.size == 7);
  shT_free(&t);
}

int main(void) {
  sh_tree t;
  shT_node x;
  shT_init(&t);
  CHECK_U64(shT_count(&t), 0);
  CHECK(shT_find(&t, 5, NULL) == 0);
  CHECK(shT_le(&t, 5, NULL) == 0);
  CHECK(shT_ge(&t, 5, NULL) == 0);
  CHECK(shT_at(&t, 0, NULL) == 0);
  CHECK_U64(shT_rank2(&t, 5, 0), 0);
  CHECK_U64(shT_max(&t), 0);
  CHECK(shT_first_fit(&t, 1, NULL, NULL) == 0);
  CHECK(shT_first_fit_from(&t, 0, 0, 1, NULL, NULL) == 0);
  CHECK(shT_remove(&t, 5) == 0);
  CHECK(shT_check(&t) == 0);
  shT_free(&t);

  /* a composite tree orders by (key, a): equal sizes fall back to the address */
  shT_init2(&t);
  CHECK(shT_insert(&t, 64, 64, 0x3000, 0) == 0);
  CHECK(shT_insert(&t, 64, 64, 0x1000, 0) == 0);
  CHECK(shT_insert(&t, 32, 32, 0x2000, 0) == 0);
  CHECK(shT_insert(&t, 64, 64, 0x2000, 0) == 0);
  CHECK(shT_at(&t, 0, &x) == 1 && x.a == 0x2000);
  CHECK(shT_at(&t, 1, &x) == 1 && x.a == 0x1000);
  CHECK(shT_ge2(&t, 64, 0x1001, &x) == 1 && x.a == 0x2000);
  CHECK_U64(shT_rank2(&t, 64, 0x3000), 3);
  CHECK(shT_find2(&t, 64, 0x2000, NULL) == 1);
  CHECK(shT_remove2(&t, 64, 0x2000) == 1);
  CHECK(shT_remove2(&t, 64, 0x2000) == 0);
  CHECK(shT_find2(&t, 32, 0x2000, NULL) == 1);
  CHECK_U64(shT_count(&t), 3);
  shT_free(&t);

  /* an unsized tree keeps order and counts, not maxima */
  shT_init_unsized(&t);
  {
    uint64_t i;
    for (i = 0; i < 5000; i++) CHECK(shT_insert(&t, (i * 7919) % 5000 * 32, i, i, 0) == 0);
    for (i = 0; i < 5000; i += 3) CHECK(shT_take_le(&t, i * 32 + 5, shT_le(&t, i * 32, &x) ? x.a : 0, &x) == 1);
    CHECK(shT_check(&t) == 0);
    CHECK_U64(shT_count(&t), 5000 - 1667);
    CHECK(shT_le(&t, 3 * 32 + 40, &x) == 1 && x.key == 4 * 32);
    CHECK_U64(shT_rank2(&t, 6 * 32, 0), 4);
  }
  shT_free(&t);

  sequential();
  random_run(0, 60000, 3000, 1 << 20, 0, 0);    /* plain keys, spread out */
  random_run(0, 40000, 400, 4096, 0, 0);        /* dense keys: many collisions */
  random_run(0, 40000, 2000, 1 << 24, 0, 1);    /* ascending runs */
  random_run(1, 60000, 3000, 64, 4096, 0);      /* composite: long runs of equal keys */
  random_run(1, 40000, 1500, 1 << 16, 8, 1);
  random_run(0, 3000, 20, 256, 0, 0);           /* small trees: one leaf, then two levels */
  random_run(1, 3000, 40, 8, 8, 0);
  return check_done("tree");
}
