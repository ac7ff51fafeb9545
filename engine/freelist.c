/* freelist.c -- ordered free lists as B+trees: insertion places, removal, the four fits.
** Places follow the list's order: an address, an arrival number, or a size with its address. */
#include <stdlib.h>
#include <string.h>
#include "freelist.h"

#define LIFO_TOP (UINT64_MAX / 2)

int shFL_init(sh_lists *ls, int n, int order, int sized) {
  int i;
  memset(ls, 0, sizeof *ls);
  ls->order = order;
  ls->sized = sized;
  ls->n = n;
  ls->spot_list = -1;
  ls->l = calloc((size_t)n, sizeof *ls->l);
  ls->bits = calloc((size_t)(n + 63) / 64, sizeof *ls->bits);
  if (ls->l == NULL || ls->bits == NULL) { shFL_free(ls); return -1; }
  for (i = 0; i < n; i++) {
    /* only a list ordered by size has ties for its position's second half
    ** to break: the others compare one key, a cheaper descent */
    if (order == SH_ORD_SIZE_ASC || order == SH_ORD_SIZE_DESC) shT_init2(&ls->l[i].list);
    else shT_init(&ls->l[i].list);
    shT_init2(&ls->l[i].bysize);
  }
  return 0;
}

void shFL_free(sh_lists *ls) {
  int i;
  for (i = 0; ls->l && i < ls->n; i++) {
    shT_free(&ls->l[i].list);
    shT_free(&ls->l[i].bysize);
  }
  free(ls->l);
  free(ls->bits);
  memset(ls, 0, sizeof *ls);
}

/* Within equal sizes the list's own order decides: that is the tie rule. */
static uint64_t scalar(const sh_lists *ls, sh_pos p, uint64_t addr) {
  return ls->order == SH_ORD_SIZE_ASC || ls->order == SH_ORD_SIZE_DESC ? addr : p.key;
}

static sh_pos place(sh_lists *ls, uint64_t addr, uint64_t size, const sh_pos *keep) {
  sh_pos p = { 0, 0 };
  switch (ls->order) {
  case SH_ORD_ADDRESS: p.key = addr; break;
  case SH_ORD_LIFO: if (keep) p = *keep; else p.key = LIFO_TOP - ls->seq++; break;
  case SH_ORD_FIFO: if (keep) p = *keep; else p.key = ls->seq++; break;
  case SH_ORD_SIZE_ASC: p.key = size; p.sub = addr; break;
  default: p.key = ~size; p.sub = addr; break;
  }
  return p;
}

int shFL_insert(sh_lists *ls, int i, uint64_t addr, uint64_t size, const sh_pos *keep,
                sh_pos *out) {
  sh_flist *f = &ls->l[i];
  sh_pos p = place(ls, addr, size, keep);
  if (shT_insert(&f->list, p.key, size, p.sub, addr) != 0) return -1;
  if (ls->sized && shT_insert(&f->bysize, size, size, scalar(ls, p, addr), addr) != 0) {
    shT_remove2(&f->list, p.key, p.sub);
    return -1;
  }
  f->bytes += size;
  ls->bits[i / 64] |= (uint64_t)1 << (i % 64);
  if (out) *out = p;
  return 0;
}

void shFL_remove(sh_lists *ls, int i, sh_pos p, uint64_t addr, uint64_t size) {
  sh_flist *f = &ls->l[i];
  if (!shT_remove_spot(&f->list, i == ls->spot_list ? &ls->spot : NULL, p.key, p.sub)) return;
  if (ls->sized) shT_remove2(&f->bysize, size, scalar(ls, p, addr));
  f->bytes -= size;
  if (shT_count(&f->list) == 0) ls->bits[i / 64] &= ~((uint64_t)1 << (i % 64));
}

int shFL_reshape(sh_lists *ls, int i, sh_pos p, uint64_t addr, uint64_t size,
                 uint64_t naddr, uint64_t nsize, sh_pos *np) {
  sh_flist *f = &ls->l[i];
  shT_node nv;
  int moved;
  if (ls->order == SH_ORD_SIZE_ASC || ls->order == SH_ORD_SIZE_DESC) return -1;
  *np = p;
  if (ls->order == SH_ORD_ADDRESS) np->key = naddr;   /* nothing free lies between */
  moved = nsize != size || scalar(ls, *np, naddr) != scalar(ls, p, addr);
  /* the size index first: failing there changes nothing */
  if (ls->sized && moved &&
      shT_insert(&f->bysize, nsize, nsize, scalar(ls, *np, naddr), naddr) != 0) return -1;
  nv.key = np->key; nv.a = np->sub; nv.size = nsize; nv.b = naddr;
  if (!shT_update_spot(&f->list, i == ls->spot_list ? &ls->spot : NULL, p.key, p.sub, &nv))
    return -1;
  if (ls->sized && moved) shT_remove2(&f->bysize, size, scalar(ls, p, addr));
  f->bytes = f->bytes - size + nsize;
  return 0;
}

uint64_t shFL_count(const sh_lists *ls, int i) {
  return shT_count(&ls->l[i].list);
}

int shFL_first(sh_lists *ls, int i, uint64_t need, uint64_t *rank, shT_node *out) {
  ls->spot_list = i;
  return shT_first_fit_spot(&ls->l[i].list, need, rank, out, &ls->spot);
}

int shFL_first_from(const sh_lists *ls, int i, sh_pos from, uint64_t need, uint64_t *rank,
                    shT_node *out) {
  return shT_first_fit_from(&ls->l[i].list, from.key, from.sub, need, rank, out);
}

int shFL_best(const sh_lists *ls, int i, uint64_t need, shT_node *out) {
  const sh_flist *f = &ls->l[i];
  shT_node y;
  sh_pos p;
  if (!shT_ge2(&f->bysize, need, 0, &y)) return 0;
  if (ls->order == SH_ORD_LIFO || ls->order == SH_ORD_FIFO) {
    p.key = y.a;               /* an arrival number: place() would draw a new one */
    p.sub = 0;
  } else {
    p = place((sh_lists *)ls, y.b, y.key, NULL);
  }
  /* the list's entry, as shFL_insert made it: no second search */
  if (out) { out->key = p.key; out->size = y.size; out->a = p.sub; out->b = y.b; }
  return 1;
}

int shFL_worst(const sh_lists *ls, int i, shT_node *out) {
  const sh_tree *t = &ls->l[i].list;
  return shT_count(t) ? shT_first_fit(t, shT_max(t), NULL, out) : 0;
}

uint64_t shFL_rank(const sh_lists *ls, int i, sh_pos p) {
  return shT_rank2(&ls->l[i].list, p.key, p.sub);
}

int shFL_next(const sh_lists *ls, int i) {
  int w;
  if (i < 0) i = 0;
  for (w = i / 64; w < (ls->n + 63) / 64; w++) {
    uint64_t bits = ls->bits[w];
    if (w == i / 64) bits &= ~(uint64_t)0 << (i % 64);
    if (bits) return w * 64 + __builtin_ctzll(bits);
  }
  return -1;
}

sh_pos shFL_pos(const shT_node *x) {
  sh_pos p;
  p.key = x->key;
  p.sub = x->a;
  return p;
}
