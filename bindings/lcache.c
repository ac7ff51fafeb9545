/* lcache.c -- the cache in Lua: the `cache` option, stats().cache, batch accesses, address traces.
** Option errors name the key and the value; bad trace input is returned as nil, "FILE:LINE: ...". */
#include <stdio.h>
#include <string.h>
#include "lbind.h"

#define U(x) ((unsigned long long)(x))

/* ---- the `cache` option ---- */

static const char *const replace_names[] = { "lru", "fifo", "random", NULL };
static const char *const write_names[] = { "back", "through", "none", NULL };
static const char *const kind_names[] = { "unified", "instruction", "data", NULL };

static const char *where_level(lua_State *L, int i) {
  return lua_pushfstring(L, "machine: cache: level %d", i);
}

/* An integer field in [lo, hi]; returns 0 (nothing pushed) when absent. */
static int int_field(lua_State *L, int t, const char *where, const char *key,
                     lua_Integer lo, lua_Integer hi, lua_Integer *out) {
  int ok;
  lua_Integer v;
  if (lua_getfield(L, t, key) == LUA_TNIL) { lua_pop(L, 1); return 0; }
  v = lua_tointegerx(L, -1, &ok);
  if (!ok)
    luaL_error(L, "%s: option '%s' must be an integer, got %s", where, key,
               lua_type(L, -1) == LUA_TNUMBER ? lua_tostring(L, -1) : luaL_typename(L, -1));
  if (v < lo || v > hi)
    luaL_error(L, "%s: option '%s' is %I, outside %I..%I", where, key, v, lo, hi);
  lua_pop(L, 1);
  *out = v;
  return 1;
}

static int choice_field(lua_State *L, int t, const char *where, const char *key,
                        const char *const names[], int def) {
  int i;
  const char *s;
  if (lua_getfield(L, t, key) == LUA_TNIL) { lua_pop(L, 1); return def; }
  s = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
  for (i = 0; s && names[i]; i++)
    if (strcmp(s, names[i]) == 0) { lua_pop(L, 1); return i; }
  {
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (i = 0; names[i]; i++) {
      if (i) luaL_addstring(&b, ", ");
      luaL_addchar(&b, '"');
      luaL_addstring(&b, names[i]);
      luaL_addchar(&b, '"');
    }
    luaL_pushresult(&b);
    if (lua_type(L, -2) == LUA_TSTRING) lua_pushfstring(L, "\"%s\"", lua_tostring(L, -2));
    else luaL_tolstring(L, -2, NULL);
    luaL_error(L, "%s: option '%s' is %s; it must be one of %s", where, key,
               lua_tostring(L, -1), lua_tostring(L, -2));
  }
  return def;
}

static void level_options(lua_State *L, int t, int i, sh_cache_level *l) {
  static const char *const known[] = { "name", "size", "ways", "line", "latency", "replace",
                                       "kind", NULL };
  static const uint32_t latency[] = { 4, 14, 40 };
  const char *where = where_level(L, i);
  lua_Integer v;
  memset(l, 0, sizeof *l);
  if (!lua_istable(L, t)) luaL_error(L, "%s must be a table, got %s", where, luaL_typename(L, t));
  shL_known_keys(L, t, where, known);
  if (lua_getfield(L, t, "name") != LUA_TNIL) {
    size_t n;
    const char *s = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &n) : NULL;
    if (s == NULL || n == 0 || n >= sizeof l->name || strcmp(s, "memory") == 0 ||
        strcmp(s, "levels") == 0)
      luaL_error(L, "%s: option 'name' must be a string of 1 to %d characters other than "
                 "\"memory\" and \"levels\"", where, (int)sizeof l->name - 1);
    memcpy(l->name, s, n + 1);
  } else {
    snprintf(l->name, sizeof l->name, "L%d", i);
  }
  lua_pop(L, 1);
  if (!int_field(L, t, where, "size", 1, (lua_Integer)1 << 40, &v))
    luaL_error(L, "%s: option 'size' (bytes) is required", where);
  l->size = (uint64_t)v;
  l->line = 64;
  if (int_field(L, t, where, "line", 1, 1 << 20, &v)) l->line = (uint32_t)v;
  if (lua_getfield(L, t, "ways") == LUA_TSTRING && strcmp(lua_tostring(L, -1), "full") == 0) {
    l->ways = (uint32_t)(l->size / l->line > 0xffffffffu ? 0 : l->size / l->line);
    lua_pop(L, 1);
  } else {
    lua_pop(L, 1);
    if (!int_field(L, t, where, "ways", 1, 1 << 24, &v))
      luaL_error(L, "%s: option 'ways' is required (1 = direct mapped, \"full\" = fully "
                 "associative)", where);
    l->ways = (uint32_t)v;
  }
  l->latency = latency[i < 3 ? i - 1 : 2];
  if (int_field(L, t, where, "latency", 0, 1 << 20, &v)) l->latency = (uint32_t)v;
  l->replace = (sh_replace)choice_field(L, t, where, "replace", replace_names, SH_REPLACE_LRU);
  l->kind = (sh_level_kind)choice_field(L, t, where, "kind", kind_names, SH_LEVEL_UNIFIED);
  lua_pop(L, 1);                      /* where */
}

void shL_cache_options(lua_State *L, int idx, sh_cache_config *c) {
  static const char *const known[] = { "levels", "memory", "write", "allocate", NULL };
  const char *where = "machine: cache";
  lua_Integer v;
  int i, n, t = lua_absindex(L, idx);
  if (lua_isboolean(L, t)) {
    if (lua_toboolean(L, t)) sh_cache_config_default(c);
    else c->enabled = 0;
    return;
  }
  if (lua_type(L, t) == LUA_TSTRING && strcmp(lua_tostring(L, t), "default") == 0) {
    sh_cache_config_default(c);
    return;
  }
  if (!lua_istable(L, t))
    luaL_error(L, "machine: option 'cache' must be \"default\", a table or false, got %s",
               luaL_tolstring(L, t, NULL));
  sh_cache_config_default(c);
  shL_known_keys(L, t, where, known);
  if (lua_getfield(L, t, "levels") != LUA_TNIL) {
    if (!lua_istable(L, -1)) luaL_error(L, "%s: option 'levels' must be a list of tables", where);
    n = (int)luaL_len(L, -1);
    if (n < 1 || n > SH_CACHE_MAX_LEVELS)
      luaL_error(L, "%s: option 'levels' has %d levels; 1 to %d are allowed", where, n,
                 SH_CACHE_MAX_LEVELS);
    c->nlevels = n;
    for (i = 1; i <= n; i++) {
      lua_rawgeti(L, -1, i);
      level_options(L, lua_gettop(L), i, &c->levels[i - 1]);
      lua_pop(L, 1);
    }
  }
  lua_pop(L, 1);
  if (int_field(L, t, where, "memory", 0, 1 << 24, &v)) c->memory = (uint32_t)v;
  c->write = (sh_write_policy)choice_field(L, t, where, "write", write_names, SH_WRITE_BACK);
  if (lua_getfield(L, t, "allocate") != LUA_TNIL) {
    if (!lua_isboolean(L, -1))
      luaL_error(L, "%s: option 'allocate' must be true or false, got %s", where,
                 luaL_tolstring(L, -1, NULL));
    c->allocate = lua_toboolean(L, -1);
  }
  lua_pop(L, 1);
}

/* A machine's userdata is small, but the default cache keeps ~150 KiB of
** tags outside Lua's sight: a script making machines in a loop would pile
** them up between collections.  A collector step sized to them keeps the
** pace Lua would keep if it could see them. */
void shL_cache_pressure(lua_State *L, const sh_config *c) {
  uint64_t lines = 0;
  int i;
  if (!c->cache.enabled) return;
  for (i = 0; i < c->cache.nlevels && i < SH_CACHE_MAX_LEVELS; i++)
    lines += c->cache.levels[i].size / (c->cache.levels[i].line ? c->cache.levels[i].line : 1);
  lua_gc(L, LUA_GCSTEP, (int)(lines * 9 / 1024 > 1 << 20 ? 1 << 20 : lines * 9 / 1024));
}

/* ---- statistics ---- */

static void setint(lua_State *L, const char *k, uint64_t v) {
  lua_pushinteger(L, (lua_Integer)v);
  lua_setfield(L, -2, k);
}

/* One level's counters as a table: totals, by kind of access, by category. */
static void push_level(lua_State *L, const sh_cache_stats *s, int with_categories) {
  static const char *const kinds[SH_ACCESS_KINDS][2] = {
    { "reads", "read_misses" }, { "writes", "write_misses" }, { "fetches", "fetch_misses" } };
  int k;
  lua_createtable(L, 0, 16);
  lua_pushstring(L, s->name); lua_setfield(L, -2, "name");
  setint(L, "latency", s->latency);
  setint(L, "accesses", s->accesses);
  setint(L, "hits", s->hits);
  setint(L, "misses", s->misses);
  setint(L, "evictions", s->evictions);
  setint(L, "writebacks", s->writebacks);
  for (k = 0; k < SH_ACCESS_KINDS; k++) {
    setint(L, kinds[k][0], s->kind_accesses[k]);
    setint(L, kinds[k][1], s->kind_misses[k]);
  }
  if (with_categories) {
    lua_createtable(L, 0, SH_COST_N);
    for (k = 0; k < SH_COST_N; k++) {
      lua_createtable(L, 0, 3);
      setint(L, "accesses", s->cat_accesses[k]);
      setint(L, "misses", s->cat_misses[k]);
      setint(L, "hits", s->cat_accesses[k] - s->cat_misses[k]);
      lua_setfield(L, -2, sh_cost_name(k));
    }
    lua_setfield(L, -2, "by");
  }
}

/* {[name] = level, ..., memory = {...}}: only levels, so a caller can walk
** it with pairs; each level's `index` gives the order (memory is last).
** With `order`, also levels = {names in order} (for the CLI's reports). */
static void push_cache(lua_State *L, const sh_cache *c, int with_categories, int order) {
  sh_cache_stats s;
  int i, n = sh_cache_levels(c);
  lua_createtable(L, 0, n + 2);
  if (order) lua_createtable(L, n, 0);
  for (i = 0; i <= n; i++) {
    sh_cache_stats_get(c, i, &s);
    push_level(L, &s, with_categories && i < n);
    setint(L, "index", (uint64_t)i + 1);
    lua_setfield(L, order ? -3 : -2, s.name);
    if (order && i < n) {
      lua_pushstring(L, s.name);
      lua_rawseti(L, -2, i + 1);
    }
  }
  if (order) lua_setfield(L, -2, "levels");
}

/* stats().cache and stats().access_cycles, into the table on top. */
void shL_stats_cache(lua_State *L, lmach *lm, const sh_stats *s) {
  sh_cache *c = sh_machine_cache(lm->m);
  int i;
  lua_createtable(L, 0, SH_COST_N);
  for (i = 0; i < SH_COST_N; i++) setint(L, sh_cost_name(i), s->access_cycles[i]);
  lua_setfield(L, -2, "access_cycles");
  if (c) push_cache(L, c, 1, 0);
  else lua_newtable(L);                 /* the flat model has no levels */
  lua_setfield(L, -2, "cache");
}

/* ---- batch accesses ---- */

/* m:sweep(addr, count, stride [, width [, value]]): count loads (or stores
** of value) at addr, addr+stride, ...; returns the loads' sum. */
static int l_sweep(lua_State *L) {
  lmach *lm = shL_tomach(L, 1);
  uint64_t addr = (uint64_t)shL_intarg(L, 2, "sweep", "the address"), sum;
  lua_Integer count = shL_intarg(L, 3, "sweep", "the count");
  lua_Integer stride = shL_intarg(L, 4, "sweep", "the stride");
  int width = shL_widtharg(L, lm->m, 5, "sweep"), store = !lua_isnoneornil(L, 6);
  lua_Integer value = store ? shL_intarg(L, 6, "sweep", "the value") : 0;
  int before = sh_report_count(lm->m);
  if (count < 0) return luaL_error(L, "sweep: the count must not be negative, got %I", count);
  if (sh_sweep(lm->m, addr, (uint64_t)count, (int64_t)stride, width, store, (uint64_t)value,
               &sum) != SH_OK)
    return shL_fail(L, lm);
  shL_misuse(L, lm, before);
  if (store) return 0;
  lua_pushinteger(L, (lua_Integer)sum);
  return 1;
}

/* m:chase(addr, next_offset, count [, value_offset [, width]]) follows a
** list; returns the values' sum, the nodes visited and where it stopped. */
static int l_chase(lua_State *L) {
  lmach *lm = shL_tomach(L, 1);
  uint64_t addr = (uint64_t)shL_intarg(L, 2, "chase", "the address"), sum, n, last;
  lua_Integer next = shL_intarg(L, 3, "chase", "the next offset");
  lua_Integer count = lua_isnoneornil(L, 4) ? LUA_MAXINTEGER : shL_intarg(L, 4, "chase", "the count");
  int with_value = !lua_isnoneornil(L, 5);
  lua_Integer voff = with_value ? shL_intarg(L, 5, "chase", "the value offset") : 0;
  int width = with_value ? shL_widtharg(L, lm->m, 6, "chase") : 0, before = sh_report_count(lm->m);
  if (count < 0) return luaL_error(L, "chase: the count must not be negative, got %I", count);
  if (sh_chase(lm->m, addr, (int64_t)next, (uint64_t)count, (int64_t)voff, width,
               &sum, &n, &last) != SH_OK)
    return shL_fail(L, lm);
  shL_misuse(L, lm, before);
  lua_pushinteger(L, (lua_Integer)sum);
  lua_pushinteger(L, (lua_Integer)n);
  lua_pushinteger(L, (lua_Integer)last);
  return 3;
}

/* m:cache_flush() empties the caches (statistics stay). */
static int l_cache_flush(lua_State *L) {
  lmach *lm = shL_tomach(L, 1);
  if (sh_machine_cache(lm->m)) sh_cache_invalidate(sh_machine_cache(lm->m));
  return 0;
}

const luaL_Reg shL_cache_methods[] = {
  { "sweep", l_sweep }, { "chase", l_chase }, { "cache_flush", l_cache_flush },
  { NULL, NULL }
};

/* ---- address traces ---- */

static void print_line(void *ud, const char *line) {
  (void)ud;
  fputs(line, stdout);
  fputc('\n', stdout);
}

static int box_gc(lua_State *L) {
  sh_cache **box = lua_touserdata(L, 1);
  sh_cache_close(*box);
  *box = NULL;
  return 0;
}

/* core.cache_trace(path, {format =, cache =, clamp =, csim =, verbose =, seed =})
** -> result table, or nil, "FILE:LINE: message" for bad input. */
static int l_cache_trace(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  sh_cache_config cfg;
  sh_atrace_opts o;
  sh_atrace_result res, *r = &res;
  sh_cache **box;
  char err[256];
  lua_Integer seed = 1, clamp = 0;
  int rc;
  luaL_checktype(L, 2, LUA_TTABLE);
  memset(&o, 0, sizeof o);
  if (lua_getfield(L, 2, "format") == LUA_TSTRING && strcmp(lua_tostring(L, -1), "din") == 0)
    o.format = SH_ATRACE_DIN;
  lua_pop(L, 1);
  lua_getfield(L, 2, "csim");
  o.csim = lua_toboolean(L, -1);
  lua_getfield(L, 2, "verbose");
  if (lua_toboolean(L, -1)) o.verbose = print_line;
  lua_pop(L, 2);
  int_field(L, 2, "cache_trace", "clamp", 0, 1 << 20, &clamp);
  int_field(L, 2, "cache_trace", "seed", LUA_MININTEGER, LUA_MAXINTEGER, &seed);
  o.clamp = (uint32_t)clamp;
  lua_getfield(L, 2, "cache");
  sh_cache_config_default(&cfg);
  shL_cache_options(L, -1, &cfg);
  lua_pop(L, 1);
  if (!cfg.enabled) return luaL_error(L, "cache_trace: a trace needs a cache, not false");
  /* Boxed with a __gc, so a Lua error below cannot leak the hierarchy. */
  box = lua_newuserdatauv(L, sizeof *box, 0);
  *box = NULL;
  lua_createtable(L, 0, 1);
  lua_pushcfunction(L, box_gc);
  lua_setfield(L, -2, "__gc");
  lua_setmetatable(L, -2);
  if (sh_cache_open(box, &cfg, (uint64_t)seed, err, sizeof err) != SH_OK)
    return luaL_error(L, "%s", err);
  rc = sh_cache_trace(*box, path, &o, r);
  fflush(stdout);
  if (rc != SH_OK) {
    sh_cache_close(*box);
    *box = NULL;
    lua_pushnil(L);
    lua_pushstring(L, r->error);
    return 2;
  }
  push_cache(L, *box, 0, 1);
  setint(L, "lines", r->lines);
  setint(L, "accesses_in_trace", r->accesses);
  setint(L, "cycles", r->cycles);
  setint(L, "hits", r->hits);
  setint(L, "misses", r->misses);
  setint(L, "evictions", r->evictions);
  sh_cache_close(*box);
  *box = NULL;
  return 1;
}

void shL_open_cache(lua_State *L) {
  lua_pushcfunction(L, l_cache_trace);
  lua_setfield(L, -2, "cache_trace");
}
