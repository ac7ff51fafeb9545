/* freelist.h -- free lists in any order, one or many (size classes), searched in O(log n).
** A list is a B+tree ordered like the list it models; a rank is a list walk's step count. */
#ifndef SH_FREELIST_H
#define SH_FREELIST_H

#include "tree.h"

enum { SH_ORD_ADDRESS, SH_ORD_LIFO, SH_ORD_FIFO, SH_ORD_SIZE_ASC, SH_ORD_SIZE_DESC };

/* A place in a list's order. */
typedef struct sh_pos { uint64_t key, sub; } sh_pos;

typedef struct sh_flist {
  sh_tree list;                /* (key, sub) = position; size = block size; b = address */
  sh_tree bysize;              /* (size, position scalar); b = address: best fit */
  uint64_t bytes;
} sh_flist;

typedef struct sh_lists {
  int order, sized, n;
  sh_flist *l;
  uint64_t *bits;              /* which lists are non-empty */
  uint64_t seq;                /* LIFO and FIFO positions are arrival numbers */
  shT_spot spot;               /* where the last first fit found its block, */
  int spot_list;               /* in this list (-1: none): taking or splitting it needs no search */
} sh_lists;

int shFL_init(sh_lists *ls, int n, int order, int sized);
void shFL_free(sh_lists *ls);
/* Put a block in list i; keep (may be NULL) asks for a place the block
** had before, honoured by orders where a place is not implied by the block. */
int shFL_insert(sh_lists *ls, int i, uint64_t addr, uint64_t size, const sh_pos *keep,
                sh_pos *out);
void shFL_remove(sh_lists *ls, int i, sh_pos p, uint64_t addr, uint64_t size);
/* The block at addr in list i (place p) becomes [naddr, naddr + nsize),
** keeping its place in the list: for a split of its front, or a merge with a
** free neighbour in an address-ordered list. 0 when done in place; -1 when
** the order needs a re-insertion (ordered by size) or out of memory. */
int shFL_reshape(sh_lists *ls, int i, sh_pos p, uint64_t addr, uint64_t size,
                 uint64_t naddr, uint64_t nsize, sh_pos *np);
uint64_t shFL_count(const sh_lists *ls, int i);
/* 1 with the block's entry of ls->l[i].list in *out; 0 when none fits. */
int shFL_first(sh_lists *ls, int i, uint64_t need, uint64_t *rank, shT_node *out);
int shFL_first_from(const sh_lists *ls, int i, sh_pos from, uint64_t need, uint64_t *rank,
                    shT_node *out);
int shFL_best(const sh_lists *ls, int i, uint64_t need, shT_node *out);
int shFL_worst(const sh_lists *ls, int i, shT_node *out);
uint64_t shFL_rank(const sh_lists *ls, int i, sh_pos p);
/* The first non-empty list at or after i, or -1. */
int shFL_next(const sh_lists *ls, int i);
sh_pos shFL_pos(const shT_node *x);

#endif
