/* lsteps.c -- what a step-through recorder asks of a machine after each operation:
** a few counters at once, the blocks that changed since last asked, the free lists' order. */
#include <stdlib.h>
#include <string.h>
#include "lbind.h"

#define SHL_DIFFER "stackheap.blockdiff"

/* m:_tally() -> ops, cycles, stack, memory, alloc, meta, searched, heap_bytes,
** live_bytes, first-level accesses, first-level misses: one call, no table,
** so recording a step costs a few integers. */
static int l_tally(lua_State *L) {
  lmach *lm = shL_tomach(L, 1);
  sh_stats s;
  sh_cache_stats cs;
  sh_cache *c = sh_machine_cache(lm->m);
  int i;
  sh_stats_get(lm->m, &s);
  lua_pushinteger(L, (lua_Integer)sh_opcount(lm->m));
  lua_pushinteger(L, (lua_Integer)s.cycles);
  for (i = 0; i < SH_COST_N; i++) lua_pushinteger(L, (lua_Integer)s.cost[i]);
  lua_pushinteger(L, (lua_Integer)s.heap.searched);
  lua_pushinteger(L, (lua_Integer)s.heap.heap_bytes);
  lua_pushinteger(L, (lua_Integer)s.heap.live_bytes);
  if (c && sh_cache_stats_get(c, 0, &cs) == SH_OK) {
    lua_pushinteger(L, (lua_Integer)cs.accesses);
    lua_pushinteger(L, (lua_Integer)cs.misses);
  } else {
    lua_pushinteger(L, 0);
    lua_pushinteger(L, 0);
  }
  return 7 + SH_COST_N;
}

/* ---- free lists ---- */

static int push_listed(void *ud, int list, const sh_block *b) {
  lua_State *L = ud;
  if (lua_rawgeti(L, -1, list + 1) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushvalue(L, -1);
    lua_rawseti(L, -3, list + 1);
  }
  lua_pushinteger(L, (lua_Integer)b->addr);
  lua_rawseti(L, -2, (lua_Integer)luaL_len(L, -2) + 1);
  lua_pop(L, 1);
  return 0;
}

/* m:free_lists() -> {[k] = {addr, ...}}: list k-1's free blocks in the order
** a search walks them (empty lists absent), or nil, msg for a policy
** without lists. */
static int l_free_lists(lua_State *L) {
  lmach *lm = shL_tomach(L, 1);
  lua_newtable(L);
  luaL_checkstack(L, 8, NULL);
  if (sh_free_lists(lm->m, push_listed, L) != SH_OK) {
    lua_pushnil(L);
    lua_pushstring(L, sh_errmsg(lm->m));
    return 2;
  }
  return 1;
}

/* ---- the block differ ---- */

typedef struct listed { int list; uint64_t addr; } listed;

typedef struct differ {
  sh_block *prev, *cur;
  size_t nprev, ncur, cap;     /* cap is both arrays' */
  int oom;
  listed *lprev, *lcur;        /* the free lists, list by list, in list order */
  size_t nlprev, nlcur, lcap;
  uint64_t *cprev, *ccur;      /* the lines the first cache level holds, sorted */
  size_t ncprev, nccur, ccap;
} differ;

/* Room for one more in a pair of arrays (the last walk's and this one's),
** which swap after each walk and so always have the same capacity. */
static int room(differ *d, void **prev, void **cur, size_t n, size_t *cap, size_t size) {
  void *np, *nc;
  size_t c;
  if (n < *cap) return 1;
  c = *cap ? *cap * 2 : 64;
  if ((np = realloc(*prev, c * size)) == NULL) { d->oom = 1; return 0; }
  *prev = np;
  if ((nc = realloc(*cur, c * size)) == NULL) { d->oom = 1; return 0; }
  *cur = nc;
  *cap = c;
  return 1;
}

static int collect(void *ud, const sh_block *b) {
  differ *d = ud;
  if (!room(d, (void **)&d->prev, (void **)&d->cur, d->ncur, &d->cap, sizeof *b)) return 1;
  d->cur[d->ncur++] = *b;
  return 0;
}

static int same(const sh_block *a, const sh_block *b) {
  return a->addr == b->addr && a->size == b->size && a->used == b->used &&
         (!a->used || (a->payload == b->payload && a->requested == b->requested));
}

static void push_block(lua_State *L, const sh_block *b, lua_Integer *n) {
  lua_pushinteger(L, (lua_Integer)b->addr); lua_rawseti(L, -2, ++*n);
  lua_pushinteger(L, (lua_Integer)b->size); lua_rawseti(L, -2, ++*n);
  lua_pushinteger(L, b->used ? (lua_Integer)b->payload : 0); lua_rawseti(L, -2, ++*n);
  lua_pushinteger(L, b->used ? (lua_Integer)b->requested : 0); lua_rawseti(L, -2, ++*n);
}

/* d:diff() -> removed, added: the addresses of blocks gone or changed since
** the last call, and the blocks new or changed as a flat list (addr, size,
** payload, requested; payload 0 for a free block); nil, nil when nothing
** changed.  The walk is linear in the blocks, the answer in the change. */
static int d_diff(lua_State *L) {
  differ *d = luaL_checkudata(L, 1, SHL_DIFFER);
  lmach *lm;
  size_t i = 0, j = 0;
  lua_Integer nr = 0, na = 0;
  sh_block *t;
  lua_getiuservalue(L, 1, 1);
  lm = shL_tomach(L, -1);
  d->ncur = 0;
  d->oom = 0;
  if (sh_blocks(lm->m, collect, d) != SH_OK) return shL_fail(L, lm);
  if (d->oom) return luaL_error(L, "report: out of host memory");
  if (d->ncur == d->nprev && memcmp(d->cur, d->prev, d->ncur * sizeof *d->cur) == 0) {
    lua_pushnil(L);
    lua_pushnil(L);
    return 2;
  }
  lua_newtable(L);
  lua_newtable(L);
  while (i < d->nprev || j < d->ncur) {
    const sh_block *p = i < d->nprev ? &d->prev[i] : NULL, *c = j < d->ncur ? &d->cur[j] : NULL;
    if (p && c && p->addr == c->addr) {
      if (!same(p, c)) {
        lua_pushinteger(L, (lua_Integer)p->addr); lua_rawseti(L, -3, ++nr);
        push_block(L, c, &na);
      }
      i++, j++;
    } else if (c == NULL || (p && p->addr < c->addr)) {
      lua_pushinteger(L, (lua_Integer)p->addr); lua_rawseti(L, -3, ++nr);
      i++;
    } else {
      push_block(L, c, &na);
      j++;
    }
  }
  t = d->prev; d->prev = d->cur; d->cur = t;
  d->nprev = d->ncur;
  return 2;
}

static int collect_listed(void *ud, int list, const sh_block *b) {
  differ *d = ud;
  if (!room(d, (void **)&d->lprev, (void **)&d->lcur, d->nlcur, &d->lcap, sizeof *d->lcur))
    return 1;
  d->lcur[d->nlcur].list = list;
  d->lcur[d->nlcur].addr = b->addr;
  d->nlcur++;
  return 0;
}

/* d:lists() -> changes | nil, msg: each free list that changed since the
** last call as {k, pre, suf, addr...}: keep its first pre and last suf
** entries, put the addresses between.  nil, nil when none changed; nil,
** msg when the policy keeps no list.  A push or a pop is a short change. */
static int d_lists(lua_State *L) {
  differ *d = luaL_checkudata(L, 1, SHL_DIFFER);
  lmach *lm;
  size_t i = 0, j = 0;
  lua_Integer n = 0;
  listed *t;
  lua_getiuservalue(L, 1, 1);
  lm = shL_tomach(L, -1);
  d->nlcur = 0;
  d->oom = 0;
  if (sh_free_lists(lm->m, collect_listed, d) != SH_OK) {
    lua_pushnil(L);
    lua_pushstring(L, sh_errmsg(lm->m));
    return 2;
  }
  if (d->oom) return luaL_error(L, "report: out of host memory");
  lua_newtable(L);
  while (i < d->nlprev || j < d->nlcur) {
    int k = i < d->nlprev ? d->lprev[i].list : INT32_MAX;
    size_t a, b, pre = 0, suf = 0, np, nc, x;
    if (j < d->nlcur && d->lcur[j].list < k) k = d->lcur[j].list;
    for (a = i; a < d->nlprev && d->lprev[a].list == k; a++) {}
    for (b = j; b < d->nlcur && d->lcur[b].list == k; b++) {}
    np = a - i, nc = b - j;
    while (pre < np && pre < nc && d->lprev[i + pre].addr == d->lcur[j + pre].addr) pre++;
    while (suf < np - pre && suf < nc - pre &&
           d->lprev[a - 1 - suf].addr == d->lcur[b - 1 - suf].addr) suf++;
    if (!(pre == np && pre == nc)) {
      lua_Integer e = 0;
      lua_createtable(L, (int)(nc - pre - suf + 3), 0);
      lua_pushinteger(L, k); lua_rawseti(L, -2, ++e);
      lua_pushinteger(L, (lua_Integer)pre); lua_rawseti(L, -2, ++e);
      lua_pushinteger(L, (lua_Integer)suf); lua_rawseti(L, -2, ++e);
      for (x = j + pre; x < b - suf; x++) {
        lua_pushinteger(L, (lua_Integer)d->lcur[x].addr);
        lua_rawseti(L, -2, ++e);
      }
      lua_rawseti(L, -2, ++n);
    }
    i = a, j = b;
  }
  t = d->lprev; d->lprev = d->lcur; d->lcur = t;
  d->nlprev = d->nlcur;
  if (n == 0) {
    lua_pushnil(L);
    lua_pushnil(L);
    return 2;
  }
  return 1;
}

static int collect_line(void *ud, uint64_t addr, int dirty) {
  differ *d = ud;
  (void)dirty;
  if (!room(d, (void **)&d->cprev, (void **)&d->ccur, d->nccur, &d->ccap, sizeof addr)) return 1;
  d->ccur[d->nccur++] = addr;
  return 0;
}

static int by_value(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return (x > y) - (x < y);
}

/* d:lines() -> gone, new: the first cache level's lines (their addresses)
** evicted and brought in since the last call; nil, nil when none changed or
** the machine has no cache. */
static int d_lines(lua_State *L) {
  differ *d = luaL_checkudata(L, 1, SHL_DIFFER);
  sh_cache *c;
  size_t i = 0, j = 0;
  lua_Integer ng = 0, nn = 0;
  uint64_t *t;
  lua_getiuservalue(L, 1, 1);
  c = sh_machine_cache(shL_tomach(L, -1)->m);
  d->nccur = 0;
  d->oom = 0;
  if (c == NULL || sh_cache_lines(c, 0, collect_line, d) != SH_OK) {
    lua_pushnil(L);
    lua_pushnil(L);
    return 2;
  }
  if (d->oom) return luaL_error(L, "report: out of host memory");
  qsort(d->ccur, d->nccur, sizeof *d->ccur, by_value);
  lua_newtable(L);
  lua_newtable(L);
  while (i < d->ncprev || j < d->nccur) {
    if (j >= d->nccur || (i < d->ncprev && d->cprev[i] < d->ccur[j])) {
      lua_pushinteger(L, (lua_Integer)d->cprev[i++]);
      lua_rawseti(L, -3, ++ng);
    } else if (i >= d->ncprev || d->ccur[j] < d->cprev[i]) {
      lua_pushinteger(L, (lua_Integer)d->ccur[j++]);
      lua_rawseti(L, -2, ++nn);
    } else {
      i++, j++;
    }
  }
  t = d->cprev; d->cprev = d->ccur; d->ccur = t;
  d->ncprev = d->nccur;
  if (ng + nn == 0) {
    lua_pushnil(L);
    lua_pushnil(L);
  }
  return 2;
}

static int d_gc(lua_State *L) {
  differ *d = luaL_checkudata(L, 1, SHL_DIFFER);
  free(d->prev);
  free(d->cur);
  free(d->lprev);
  free(d->lcur);
  free(d->cprev);
  free(d->ccur);
  memset(d, 0, sizeof *d);
  return 0;
}

/* m:_differ() -> an object whose :diff() reports the blocks changed since
** its last call (the first call reports every block as added), and whose
** :lists() and :lines() do the same for the free lists and the first cache
** level's lines. */
static int l_differ(lua_State *L) {
  differ *d;
  shL_tomach(L, 1);
  d = lua_newuserdatauv(L, sizeof *d, 1);
  memset(d, 0, sizeof *d);
  if (luaL_newmetatable(L, SHL_DIFFER)) {
    lua_pushcfunction(L, d_gc); lua_setfield(L, -2, "__gc");
    lua_newtable(L);
    lua_pushcfunction(L, d_diff); lua_setfield(L, -2, "diff");
    lua_pushcfunction(L, d_lists); lua_setfield(L, -2, "lists");
    lua_pushcfunction(L, d_lines); lua_setfield(L, -2, "lines");
    lua_setfield(L, -2, "__index");
  }
  lua_setmetatable(L, -2);
  lua_pushvalue(L, 1);          /* the machine stays alive while its differ is */
  lua_setiuservalue(L, -2, 1);
  return 1;
}

const luaL_Reg shL_steps_methods[] = {
  { "_tally", l_tally }, { "_differ", l_differ }, { "free_lists", l_free_lists },
  { NULL, NULL }
};
