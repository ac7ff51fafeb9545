/* idmap.c -- a hash map from 64-bit keys (trace ids, traced addresses) to two 64-bit values.
** Open addressing with linear probing and backward-shift deletion, so long replays never fill it with tombstones. */
#include <stdlib.h>
#include "trace.h"

/* Ids are often consecutive and addresses multiples of 16: a multiplicative
** hash spreads both; the high bits are the best mixed. */
static size_t slot_of(const shI_map *m, uint64_t key) {
  return (size_t)((key * 0x9E3779B97F4A7C15ull) >> 32) & (m->cap - 1);
}

void shI_init(shI_map *m) {
  m->s = NULL;
  m->cap = m->n = 0;
}

void shI_free(shI_map *m) {
  free(m->s);
  shI_init(m);
}

void shI_clear(shI_map *m) {
  size_t i;
  for (i = 0; i < m->cap; i++) m->s[i].key = SHI_EMPTY;
  m->n = 0;
}

shI_slot *shI_get(const shI_map *m, uint64_t key) {
  size_t i;
  if (m->cap == 0 || key == SHI_EMPTY) return NULL;   /* the empty mark is never a key */
  for (i = slot_of(m, key);; i = (i + 1) & (m->cap - 1)) {
    if (m->s[i].key == key) return &m->s[i];
    if (m->s[i].key == SHI_EMPTY) return NULL;
  }
}

static int grow(shI_map *m) {
  size_t cap = m->cap ? m->cap * 2 : 64, i, j;
  shI_slot *old = m->s, *s = malloc(cap * sizeof *s);
  if (s == NULL) return 0;
  for (i = 0; i < cap; i++) s[i].key = SHI_EMPTY;
  m->s = s;
  for (i = 0, j = m->cap, m->cap = cap; i < j; i++) {
    size_t k;
    if (old[i].key == SHI_EMPTY) continue;
    for (k = slot_of(m, old[i].key); s[k].key != SHI_EMPTY; k = (k + 1) & (cap - 1)) {}
    s[k] = old[i];
  }
  free(old);
  return 1;
}

shI_slot *shI_put(shI_map *m, uint64_t key, int *fresh) {
  size_t i;
  shI_slot *x = shI_get(m, key);
  if (x != NULL) { *fresh = 0; return x; }
  /* At most 5/8 full: probes stay short without wasting much memory. */
  if ((m->n + 1) * 8 > m->cap * 5 && !grow(m)) return NULL;
  for (i = slot_of(m, key); m->s[i].key != SHI_EMPTY; i = (i + 1) & (m->cap - 1)) {}
  m->s[i].key = key;
  m->s[i].a = m->s[i].b = 0;
  m->n++;
  *fresh = 1;
  return &m->s[i];
}

void shI_del(shI_map *m, uint64_t key) {
  shI_slot *x = shI_get(m, key);
  size_t i, j, mask = m->cap - 1;
  if (x == NULL) return;
  i = (size_t)(x - m->s);
  /* Pull later members of the probe run back over the hole, each only
  ** when its home slot does not lie between the hole and where it is. */
  for (j = (i + 1) & mask; m->s[j].key != SHI_EMPTY; j = (j + 1) & mask) {
    size_t h = slot_of(m, m->s[j].key);
    if (((j - h) & mask) >= ((j - i) & mask)) {
      m->s[i] = m->s[j];
      i = j;
    }
  }
  m->s[i].key = SHI_EMPTY;
  m->n--;
}
