/* lcore.c -- stackheap.core: the machine as a Lua object, its heap, memory and stats.
** Misuse raises luaL_error, whose position is the calling script line; failures the API promises as values return nil, msg. */
#include <stdio.h>
#include <string.h>
#include "lbind.h"
#include "lcore.h"

#define U(x) ((unsigned long long)(x))

/* ---- small helpers ---- */

/* The machine metatable is also kept under this address: a light-userdata
** key spares every method call the string lookup luaL_checkudata makes. */
static const char machine_key = 0;

lmach *shL_tomach(lua_State *L, int i) {
  lmach *lm = lua_touserdata(L, i);
  int ok = lm != NULL && lua_getmetatable(L, i);
  if (ok) {
    lua_rawgetp(L, LUA_REGISTRYINDEX, &machine_key);
    ok = lua_rawequal(L, -1, -2);
    lua_pop(L, 2);
  }
  if (!ok) luaL_typeerror(L, i, SHL_MACHINE);
  if (lm->m == NULL) luaL_error(L, "the machine is closed");
  lm->L = L;
  sh_own_access(lm->m, 0);     /* a slot access an error cut short ends here */
  return lm;
}

int shL_fail(lua_State *L, lmach *lm) {
  return luaL_error(L, "%s", sh_errmsg(lm->m));
}

/* An integer argument, accepting floats with an exact integer value. */
lua_Integer shL_intarg(lua_State *L, int i, const char *op, const char *what) {
  int ok;
  lua_Integer v = lua_tointegerx(L, i, &ok);
  if (!ok) {
    if (lua_type(L, i) == LUA_TNUMBER)
      luaL_error(L, "%s: %s must be an integer, got %s", op, what, lua_tostring(L, i));
    luaL_error(L, "%s: %s must be an integer, got %s", op, what, luaL_typename(L, i));
  }
  return v;
}

static uint64_t addrarg(lua_State *L, int i, const char *op) {
  return (uint64_t)shL_intarg(L, i, op, "the address");
}

static uint64_t sizearg(lua_State *L, int i, const char *op) {
  lua_Integer v = shL_intarg(L, i, op, "the size");
  if (v < 0) luaL_error(L, "%s: the size must not be negative, got %I", op, v);
  return (uint64_t)v;
}

/* ---- sites: the scenario line an operation comes from ---- */

/* The registry key of the source prefix of stackheap's own Lua files. */
static const char internal_key = 0;

/* core._internal(prefix): init.lua names its directory, so sites skip it. */
static int l_internal(lua_State *L) {
  luaL_checkstring(L, 1);
  lua_settop(L, 1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &internal_key);
  return 0;
}

/* "file:line" into lm->site, without printf: a checked scenario asks for
** it at every allocation, free, call and return. */
static const char *site_text(lmach *lm, const char *src, int line) {
  char digits[16];
  size_t n = strlen(src), k = 0;
  if (n > sizeof lm->site - sizeof digits - 2) n = sizeof lm->site - sizeof digits - 2;
  memcpy(lm->site, src, n);
  lm->site[n++] = ':';
  do { digits[k++] = (char)('0' + line % 10); line /= 10; } while (line > 0);
  while (k > 0) lm->site[n++] = digits[--k];
  lm->site[n] = '\0';
  return lm->site;
}

/* The first Lua function up the stack that is not stackheap's own: C
** functions and the module's scripts (which drop values for a scenario)
** are skipped, so the line is the one a learner wrote. */
static const char *site_of(void *ud) {
  lmach *lm = ud;
  lua_State *L = lm->L;
  lua_Debug ar;
  size_t plen;
  int level;
  if (L == NULL) return NULL;         /* a replay: asked at every alloc and free */
  plen = strlen(lm->internal);
  for (level = 1; lua_getstack(L, level, &ar); level++) {
    if (!lua_getinfo(L, "Sl", &ar) || ar.currentline <= 0) continue;
    if (plen > 0 && strncmp(ar.source, lm->internal, plen) == 0) continue;
    return site_text(lm, ar.short_src, ar.currentline);
  }
  return NULL;
}

/* ---- the machine ---- */

static int l_machine(lua_State *L) {
  sh_config c;
  lmach *lm;
  int raise = 0, rc, lp = 0;
  sh_config_init(&c);
  if (!lua_isnoneornil(L, 1)) {
    luaL_checktype(L, 1, LUA_TTABLE);
    raise = shL_machine_options(L, 1, &c);
    lp = shL_policy_attach(L, 1, &c) ? lua_gettop(L) : 0;
  }
  lm = lua_newuserdatauv(L, sizeof *lm, 1);
  lm->m = NULL;
  lm->raise = raise;
  lm->L = L;
  lm->internal[0] = '\0';
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &internal_key) == LUA_TSTRING)
    snprintf(lm->internal, sizeof lm->internal, "%s", lua_tostring(L, -1));
  lua_pop(L, 1);
  lm->drops = 0;
  luaL_setmetatable(L, SHL_MACHINE);
  lua_newtable(L);             /* uservalue: layouts by pointer, for m:frames() */
  if (lp) {                    /* a Lua policy lives as long as its machine */
    lua_pushvalue(L, lp);
    lua_setfield(L, -2, "policy");
  }
  lua_setiuservalue(L, -2, 1);
  rc = sh_open(&lm->m, &c);
  if (rc != SH_OK) {
    lua_pushfstring(L, "machine: %s", sh_errmsg(lm->m));
    sh_close(lm->m);
    lm->m = NULL;
    return lua_error(L);
  }
  if (c.check) sh_set_site_fn(lm->m, site_of, lm);
  shL_cache_pressure(L, &c);
  return 1;
}

static int l_gc(lua_State *L) {
  lmach *lm = luaL_checkudata(L, 1, SHL_MACHINE);
  sh_close(lm->m);
  lm->m = NULL;
  return 0;
}

static int l_tostring(lua_State *L) {
  lmach *lm = luaL_checkudata(L, 1, SHL_MACHINE);
  if (lm->m == NULL) lua_pushliteral(L, "stackheap machine (closed)");
  else lua_pushfstring(L, "stackheap machine (%d-bit, depth %d)", sh_word(lm->m) * 8,
                       sh_depth(lm->m));
  return 1;
}

void shL_misuse(lua_State *L, lmach *lm, int before) {
  sh_report r;
  if (!lm->raise || sh_report_count(lm->m) <= before ||
      sh_report_get(lm->m, before, &r) != SH_OK)
    return;
  if (r.site == NULL) luaL_error(L, "%s", r.message);
  lua_pushfstring(L, "%s: %s", r.site, r.message);
  lua_error(L);
}

/* ---- heap ---- */

static int l_alloc(lua_State *L) {
  lmach *lm = shL_tomach(L, 1);
  uint64_t size = sizearg(L, 2, "alloc"), align = 0, a;
  int rc;
  if (!lua_isnoneornil(L, 3)) {
    lua_Integer al = shL_intarg(L, 3, "alloc", "the alignment");
    if (al <= 0 || (al & (al - 1)))
      return luaL_error(L, "alloc: the alignment must be a power of two, got %I", al);
    align = (uint64_t)al;
  }
  rc = sh_alloc(lm->m, size, align, &a);
  if (rc == SH_ERR_OOM) {
    lua_pushnil(L);
    lua_pushstring(L, sh_errmsg(lm->m));
    return 2;
  }
  if (rc != SH_OK) return shL_fail(L, lm);
  lua_pushinteger(L, (lua_Integer)a);
  return 1;
}

static int l_free(lua_State *L) {
  lmach *lm = shL_tomach(L, 1);
  uint64_t a = addrarg(L, 2, "free");
  int before = sh_report_count(lm->m);
  if (sh_free(lm->m, a) != SH_OK) return shL_fail(L, lm);
  shL_misuse(L, lm, before);
  return 0;
}

/* m:heap_profile() -> {free = {{size, count, bytes}...}, waste = {{size, blocks, bytes}...}}
** by power-of-two buckets (size is the bucket's lower bound); empty ones left out */
static int l_heap_profile(lua_State *L) {
  lmach *lm = shL_tomach(L, 1);
  sh_heap_profile p;
  int k, n;
  if (sh_heap_profile_get(lm->m, &p) != SH_OK) return shL_fail(L, lm);
  lua_createtable(L, 0, 2);
  lua_newtable(L);
  for (k = 0, n = 0; k < 64; k++) {
    if (!p.free_count[k]) continue;
    lua_createtable(L, 0, 3);
    lua_pushinteger(L, (lua_Integer)((uint64_t)1 << k)); lua_setfield(L, -2, "size");
    lua_pushinteger(L, (lua_Integer)p.free_count[k]); lua_setfield(L, -2, "count");
    lua_pushinteger(L, (lua_Integer)p.free_bytes[k]); lua_setfield(L, -2, "bytes");
    lua_rawseti(L, -2, ++n);
  }
  lua_setfield(L, -2, "free");
  lua_newtable(L);
  for (k = 0, n = 0; k < 64; k++) {
    if (!p.used_count[k]) continue;
    lua_createtable(L, 0, 3);
    lua_pushinteger(L, (lua_Integer)((uint64_t)1 << k)); lua_setfield(L, -2, "size");
    lua_pushinteger(L, (lua_Integer)p.used_count[k]); lua_setfield(L, -2, "blocks");
    lua_pushinteger(L, (lua_Integer)p.waste[k]); lua_setfield(L, -2, "bytes");
    lua_rawseti(L, -2, ++n);
  }
  lua_setfield(L, -2, "waste");
  return 1;
}

/* m:series() -> {op = {...}, heap = {...}, live = {...}}, sampled per sh.machine{series = N} */
static int l_series(lua_State *L) {
  lmach *lm = shL_tomach(L, 1);
  size_t n, i;
  const sh_series_point *p = sh_series(lm->m, &n);
  const char *names[3] = { "op", "heap", "live" };
  int f;
  lua_createtable(L, 0, 3);
  for (f = 0; f < 3; f++) {
    lua_createtable(L, (int)(n < 1u << 24 ? n : 1u << 24), 0);
    for (i = 0; i < n; i++) {
      uint64_t v = f == 0 ? p[i].op : f == 1 ? p[i].heap_bytes : p[i].live_bytes;
      lua_pushinteger(L, (lua_Integer)v);
      lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_setfield(L, -2, names[f]);
  }
  return 1;
}

/* m:reset(): the arena's free-everything (bump only) */
static int l_reset(lua_State *L) {
  lmach *lm = shL_tomach(L, 1);
  if (sh_heap_reset(lm->m) != SH_OK) return shL_fail(L, lm);
  return 0;
}

static int l_realloc(lua_State *L) {
  lmach *lm = shL_tomach(L, 1);
  uint64_t a = addrarg(L, 2, "realloc"), size = sizearg(L, 3, "realloc"), out;
  int before = sh_report_count(lm->m), rc = sh_realloc(lm->m, a, size, &out);
  shL_misuse(L, lm, before);
  if (rc == SH_OK) {
    if (out == 0) lua_pushnil(L);
    else lua_pushinteger(L, (lua_Integer)out);
    return 1;
  }
  if (rc != SH_ERR_OOM && sh_report_count(lm->m) == before) return shL_fail(L, lm);
  lua_pushnil(L);
  lua_pushstring(L, sh_errmsg(lm->m));
  return 2;
}

static int pushblock(void *ud, const sh_block *b) {
  lua_State *L = ud;
  lua_createtable(L, 0, 5);
  lua_pushinteger(L, (lua_Integer)b->addr); lua_setfield(L, -2, "addr");
  lua_pushinteger(L, (lua_Integer)b->size); lua_setfield(L, -2, "size");
  lua_pushstring(L, b->used ? "used" : "free"); lua_setfield(L, -2, "state");
  if (b->used) {
    lua_pushinteger(L, (lua_Integer)b->payload); lua_setfield(L, -2, "payload");
    lua_pushinteger(L, (lua_Integer)b->requested); lua_setfield(L, -2, "requested");
  }
  lua_rawseti(L, -2, (lua_Integer)luaL_len(L, -2) + 1);
  return 0;
}

static int blocks_next(lua_State *L) {
  lua_Integer i = lua_tointeger(L, lua_upvalueindex(2)) + 1;
  lua_pushinteger(L, i);
  lua_replace(L, lua_upvalueindex(2));
  lua_rawgeti(L, lua_upvalueindex(1), i);
  return 1;
}

/* m:blocks() iterates a snapshot taken when it is called. */
static int l_blocks(lua_State *L) {
  lmach *lm = shL_tomach(L, 1);
  lua_newtable(L);
  luaL_checkstack(L, 10, NULL);
  if (sh_blocks(lm->m, pushblock, L) != SH_OK) return shL_fail(L, lm);
  lua_pushinteger(L, 0);
  lua_pushcclosure(L, blocks_next, 2);
  return 1;
}

/* ---- memory ---- */

int shL_widtharg(lua_State *L, sh_machine *m, int i, const char *op) {
  lua_Integer w = lua_isnoneornil(L, i) ? sh_word(m) : shL_intarg(L, i, op, "the width");
  if (w != 1 && w != 2 && w != 4 && w != 8)
    luaL_error(L, "%s: the width must be 1, 2, 4 or 8, got %I", op, w);
  return (int)w;
}

static int l_load(lua_State *L) {
  lmach *lm = shL_tomach(L, 1);
  uint64_t a = addrarg(L, 2, "load"), v;
  int w = shL_widtharg(L, lm->m, 3, "load"), before = sh_report_count(lm->m);
  if (sh_load(lm->m, a, w, &v) != SH_OK) return shL_fail(L, lm);
  shL_misuse(L, lm, before);
  lua_pushinteger(L, (lua_Integer)v);
  return 1;
}

static int l_store(lua_State *L) {
  lmach *lm = shL_tomach(L, 1);
  uint64_t a = addrarg(L, 2, "store");
  lua_Integer v = shL_intarg(L, 3, "store", "the value");
  int w = shL_widtharg(L, lm->m, 4, "store"), before;
  if (w < 8 && (v < -((lua_Integer)1 << (8 * w - 1)) || v > ((lua_Integer)1 << (8 * w)) - 1))
    return luaL_error(L, "store: %I does not fit in %d byte%s", v, w, w == 1 ? "" : "s");
  before = sh_report_count(lm->m);
  if (sh_store(lm->m, a, (uint64_t)v, w) != SH_OK) return shL_fail(L, lm);
  shL_misuse(L, lm, before);
  return 0;
}

static int l_read(lua_State *L) {
  lmach *lm = shL_tomach(L, 1);
  uint64_t a = addrarg(L, 2, "read"), n = sizearg(L, 3, "read");
  luaL_Buffer b;
  int before = sh_report_count(lm->m);
  if (n > ((uint64_t)1 << 30)) return luaL_error(L, "read: %I bytes is too many at once", (lua_Integer)n);
  if (sh_read(lm->m, a, luaL_buffinitsize(L, &b, (size_t)n), (size_t)n) != SH_OK) return shL_fail(L, lm);
  luaL_pushresultsize(&b, (size_t)n);
  shL_misuse(L, lm, before);
  return 1;
}

/* m:peek(addr, n): bytes as an observer sees them, costing the machine nothing */
static int l_peek(lua_State *L) {
  lmach *lm = shL_tomach(L, 1);
  uint64_t a = addrarg(L, 2, "peek"), n = sizearg(L, 3, "peek");
  luaL_Buffer b;
  if (n > ((uint64_t)1 << 30)) return luaL_error(L, "peek: %I bytes is too many at once", (lua_Integer)n);
  sh_peek(lm->m, a, luaL_buffinitsize(L, &b, (size_t)n), (size_t)n);
  luaL_pushresultsize(&b, (size_t)n);
  return 1;
}

static int l_write(lua_State *L) {
  lmach *lm = shL_tomach(L, 1);
  uint64_t a = addrarg(L, 2, "write");
  size_t n;
  const char *s = luaL_checklstring(L, 3, &n);
  int before = sh_report_count(lm->m);
  if (sh_write(lm->m, a, s, n) != SH_OK) return shL_fail(L, lm);
  shL_misuse(L, lm, before);
  return 0;
}

/* ---- measurement ---- */

static void setint(lua_State *L, const char *k, uint64_t v) {
  lua_pushinteger(L, (lua_Integer)v);
  lua_setfield(L, -2, k);
}

static void setnum(lua_State *L, const char *k, double v) {
  lua_pushnumber(L, v);
  lua_setfield(L, -2, k);
}

static double ratio(uint64_t a, uint64_t b) {
  return b ? (double)a / (double)b : 0.0;
}

static int l_stats(lua_State *L) {
  lmach *lm = shL_tomach(L, 1);
  sh_stats s;
  int i;
  sh_stats_get(lm->m, &s);
  lua_createtable(L, 0, 8);
  setint(L, "cycles", s.cycles);
  setint(L, "ops", sh_opcount(lm->m));
  setint(L, "loads", s.loads);
  setint(L, "stores", s.stores);
  lua_createtable(L, 0, SH_COST_N);
  for (i = 0; i < SH_COST_N; i++) setint(L, sh_cost_name(i), s.cost[i]);
  lua_setfield(L, -2, "cost");
  lua_createtable(L, 0, 5);
  setint(L, "pushes", s.stack.pushes);
  setint(L, "pops", s.stack.pops);
  setint(L, "depth", (uint64_t)s.stack.depth);
  setint(L, "peak_depth", (uint64_t)s.stack.peak_depth);
  setint(L, "peak_bytes", s.stack.peak_bytes);
  lua_setfield(L, -2, "stack");
  lua_createtable(L, 0, 24);
  setint(L, "allocs", s.heap.allocs);
  setint(L, "frees", s.heap.frees);
  setint(L, "reallocs", s.heap.reallocs);
  setint(L, "failed", s.heap.failed);
  setint(L, "live_bytes", s.heap.live_bytes);
  setint(L, "live_blocks", s.heap.live_blocks);
  setint(L, "heap_bytes", s.heap.heap_bytes);
  setint(L, "peak_live_bytes", s.heap.peak_live_bytes);
  setint(L, "peak_heap_bytes", s.heap.peak_heap_bytes);
  setint(L, "searched", s.heap.searched);
  setint(L, "splits", s.heap.splits);
  setint(L, "coalesces", s.heap.coalesces);
  setint(L, "grows", s.heap.grows);
  setint(L, "meta_loads", s.heap.meta_loads);
  setint(L, "meta_stores", s.heap.meta_stores);
  setint(L, "free_bytes", s.heap.free_bytes);
  setint(L, "free_blocks", s.heap.free_blocks);
  setint(L, "largest_free", s.heap.largest_free);
  /* malloc-lab's definition: peak requested bytes over the heap's high-water mark */
  setnum(L, "utilization", ratio(s.heap.peak_live_bytes, s.heap.peak_heap_bytes));
  lua_createtable(L, 0, 4);
  setnum(L, "internal", s.heap.used_block_bytes
         ? 1.0 - ratio(s.heap.live_bytes, s.heap.used_block_bytes) : 0.0);
  setnum(L, "external", s.heap.free_bytes
         ? 1.0 - ratio(s.heap.largest_free, s.heap.free_bytes) : 0.0);
  /* Johnstone & Wilson #3 and #4, as H/L - 1 */
  setnum(L, "jw3", s.heap.live_at_peak_heap
         ? ratio(s.heap.peak_heap_bytes, s.heap.live_at_peak_heap) - 1.0 : 0.0);
  setnum(L, "jw4", s.heap.peak_live_bytes
         ? ratio(s.heap.peak_heap_bytes, s.heap.peak_live_bytes) - 1.0 : 0.0);
  lua_setfield(L, -2, "frag");
  lua_setfield(L, -2, "heap");
  shL_stats_cache(L, lm, &s);
  return 1;
}

static int l_reset_stats(lua_State *L) {
  sh_stats_reset(shL_tomach(L, 1)->m);
  return 0;
}

static void setstr(lua_State *L, const char *k, const char *v) {
  if (v == NULL) return;
  lua_pushstring(L, v);
  lua_setfield(L, -2, k);
}

static void setop(lua_State *L, const char *k, uint64_t op) {
  if (op != SH_NO_OP) setint(L, k, op);
}

/* One report as the table m:errors() lists (API.md section 5, with details). */
static void push_report(lua_State *L, const sh_report *r) {
  lua_createtable(L, 0, 12);
  setstr(L, "kind", sh_error_kind_name(r->kind));
  setint(L, "addr", r->addr);
  setint(L, "op", r->op);
  setstr(L, "message", r->message);
  setint(L, "size", r->size);
  setstr(L, "site", r->site);
  setstr(L, "explain", r->explain);
  setstr(L, "leak", r->leak);
  if (r->kind == SH_E_LEAK) setint(L, "blocks", r->blocks);
  if (r->alloc_op != SH_NO_OP) {
    lua_createtable(L, 0, 6);
    setint(L, "addr", r->block);
    setint(L, "size", r->block_size);
    setop(L, "alloc_op", r->alloc_op);
    setstr(L, "alloc_site", r->alloc_site);
    setop(L, "free_op", r->free_op);
    setstr(L, "free_site", r->free_site);
    lua_setfield(L, -2, "block");
  }
  if (r->frame) {
    lua_createtable(L, 0, 3);
    setstr(L, "name", r->frame);
    setop(L, "pop_op", r->frame_pop_op);
    setstr(L, "pop_site", r->pop_site);
    lua_setfield(L, -2, "frame");
  }
}

/* The leaks a scan finds now, appended to the table on top from index i. */
static void push_leaks(lua_State *L, lmach *lm, int i) {
  int n, k;
  sh_report r;
  if (sh_leak_scan(lm->m, &n) != SH_OK) shL_fail(L, lm);
  for (k = 0; k < n; k++) {
    sh_leak_get(lm->m, k, &r);
    push_report(L, &r);
    lua_rawseti(L, -2, i + k + 1);
  }
}

/* m:errors(): what the checker recorded, then the leaks a scan finds now */
static int l_errors(lua_State *L) {
  lmach *lm = shL_tomach(L, 1);
  int n = sh_report_count(lm->m), i;
  sh_report r;
  lua_createtable(L, n, 0);
  for (i = 0; i < n; i++) {
    sh_report_get(lm->m, i, &r);
    push_report(L, &r);
    lua_rawseti(L, -2, i + 1);
  }
  if (sh_machine_checked(lm->m)) push_leaks(L, lm, n);
  return 1;
}

/* m:leaks(): the leak scan alone */
static int l_leaks(lua_State *L) {
  lmach *lm = shL_tomach(L, 1);
  lua_newtable(L);
  push_leaks(L, lm, 0);
  return 1;
}

static int l_ops(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)sh_opcount(shL_tomach(L, 1)->m));
  return 1;
}

static int l_word(lua_State *L) {
  lua_pushinteger(L, sh_word(shL_tomach(L, 1)->m));
  return 1;
}

/* ---- registration ---- */

void shL_class(lua_State *L, const char *name, const luaL_Reg *methods, lua_CFunction close) {
  luaL_newmetatable(L, name);
  lua_newtable(L);             /* not luaL_newlib: it sizes the table from an array, not a pointer */
  luaL_setfuncs(L, methods, 0);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, close); lua_setfield(L, -2, "__gc");
  lua_pushcfunction(L, close); lua_setfield(L, -2, "__close");
  lua_pop(L, 1);
}

static const luaL_Reg machine_methods[] = {
  { "alloc", l_alloc }, { "free", l_free }, { "realloc", l_realloc }, { "reset", l_reset },
  { "heap_profile", l_heap_profile }, { "series", l_series }, { "blocks", l_blocks },
  { "load", l_load }, { "store", l_store }, { "read", l_read }, { "write", l_write },
  { "peek", l_peek }, { "stats", l_stats }, { "reset_stats", l_reset_stats },
  { "errors", l_errors }, { "leaks", l_leaks }, { "ops", l_ops }, { "word", l_word }, { "close", l_gc },
  { NULL, NULL }
};

static int l_version(lua_State *L) {
  lua_pushstring(L, sh_version());
  return 1;
}

int luaopen_stackheap_core(lua_State *L) {
  luaL_newmetatable(L, SHL_MACHINE);
  lua_pushvalue(L, -1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &machine_key);
  luaL_newlib(L, machine_methods);
  luaL_setfuncs(L, shL_stack_methods, 0);
  luaL_setfuncs(L, shL_cache_methods, 0);
  luaL_setfuncs(L, shL_steps_methods, 0);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, l_gc); lua_setfield(L, -2, "__gc");
  lua_pushcfunction(L, l_gc); lua_setfield(L, -2, "__close");
  lua_pushcfunction(L, l_tostring); lua_setfield(L, -2, "__tostring");
  lua_pop(L, 1);
  shL_open_frames(L);

  lua_createtable(L, 0, 4);
  lua_pushcfunction(L, l_machine); lua_setfield(L, -2, "machine");
  lua_pushcfunction(L, l_version); lua_setfield(L, -2, "version");
  lua_pushcfunction(L, l_internal); lua_setfield(L, -2, "_internal");
  shL_open_cache(L);
  shL_open_trace(L);
  shL_open_random(L);
  shL_open_policy(L);
  shL_open_sandbox(L);
  luaL_getmetatable(L, SHL_MACHINE);
  lua_getfield(L, -1, "__index");
  lua_setfield(L, -3, "machine_methods");      /* init.lua adds its methods here */
  lua_pop(L, 1);
  luaL_getmetatable(L, SHL_FRAME);
  lua_getfield(L, -1, "methods");
  lua_setfield(L, -3, "frame_methods");
  lua_setfield(L, -2, "frame_meta");            /* init.lua sets __field and __drop */
  return 1;
}
