/* history.c -- which payload addresses were freed, and at which operation.
** A hash map, not a tree: it is touched by every alloc and free, and only ever looked up exactly. */
#include <stdlib.h>
#include "internal.h"

#define EMPTY UINT64_MAX       /* no payload lives at the last address */

static size_t slot(const sh_history *h, uint64_t key) {
  return (size_t)((key * 0x9E3779B97F4A7C15ull) >> 29) & (h->cap - 1);
}

void shY_init(sh_history *h) {
  h->e = NULL;
  h->cap = h->n = 0;
}

void shY_free(sh_history *h) {
  free(h->e);
  shY_init(h);
}

int shY_get(const sh_history *h, uint64_t key, uint64_t *op) {
  size_t i;
  if (h->cap == 0) return 0;
  for (i = slot(h, key); h->e[i].key != EMPTY; i = (i + 1) & (h->cap - 1))
    if (h->e[i].key == key) { *op = h->e[i].op; return 1; }
  return 0;
}

static int grow(sh_history *h) {
  size_t cap = h->cap ? h->cap * 2 : 256, i, j;
  sh_history_entry *e = malloc(cap * sizeof *e);
  if (e == NULL) return -1;
  for (i = 0; i < cap; i++) e[i].key = EMPTY;
  for (i = 0; i < h->cap; i++) {
    if (h->e[i].key == EMPTY) continue;
    for (j = (size_t)((h->e[i].key * 0x9E3779B97F4A7C15ull) >> 29) & (cap - 1); e[j].key != EMPTY;
         j = (j + 1) & (cap - 1)) {}
    e[j] = h->e[i];
  }
  free(h->e);
  h->e = e;
  h->cap = cap;
  return 0;
}

int shY_put(sh_history *h, uint64_t key, uint64_t op) {
  size_t i;
  if ((h->n + 1) * 4 > h->cap * 3 && grow(h) != 0) return -1;
  for (i = slot(h, key); h->e[i].key != EMPTY; i = (i + 1) & (h->cap - 1))
    if (h->e[i].key == key) { h->e[i].op = op; return 0; }
  h->e[i].key = key;
  h->e[i].op = op;
  h->n++;
  return 0;
}

/* Backward-shift deletion keeps probe chains whole without tombstones. */
void shY_del(sh_history *h, uint64_t key) {
  size_t i, j;
  if (h->cap == 0) return;
  for (i = slot(h, key); h->e[i].key != key; i = (i + 1) & (h->cap - 1))
    if (h->e[i].key == EMPTY) return;
  for (j = (i + 1) & (h->cap - 1); h->e[j].key != EMPTY; j = (j + 1) & (h->cap - 1)) {
    size_t home = slot(h, h->e[j].key);
    /* move e[j] into the hole when its home is not between the hole and j */
    if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
      h->e[i] = h->e[j];
      i = j;
    }
  }
  h->e[i].key = EMPTY;
  h->n--;
}
