/* loptions.c -- sh.machine{...}: option tables checked key by key into an sh_config.
** An unknown key or a bad value is an error naming it, never silently ignored. */
#include <string.h>
#include "lbind.h"

typedef struct optctx {
  lua_State *L;
  int t;                       /* table index */
  const char *where;           /* "machine" or "machine: heap" */
} optctx;

static int opt_present(optctx *o, const char *key) {
  lua_getfield(o->L, o->t, key);
  if (lua_isnil(o->L, -1)) { lua_pop(o->L, 1); return 0; }
  return 1;                    /* value left on the stack */
}

static int opt_int(optctx *o, const char *key, lua_Integer lo, lua_Integer hi, lua_Integer *out) {
  lua_State *L = o->L;
  int ok;
  lua_Integer v;
  if (!opt_present(o, key)) return 0;
  v = lua_tointegerx(L, -1, &ok);
  if (!ok)
    luaL_error(L, "%s: option '%s' must be an integer, got %s", o->where, key,
               lua_type(L, -1) == LUA_TNUMBER ? lua_tostring(L, -1) : luaL_typename(L, -1));
  if (v < lo || v > hi)
    luaL_error(L, "%s: option '%s' is %I, outside %I..%I", o->where, key, v, lo, hi);
  lua_pop(L, 1);
  *out = v;
  return 1;
}

/* Every key of the table at t must be one of known; the error lists them. */
void shL_known_keys(lua_State *L, int t, const char *where, const char *const known[]) {
  lua_pushnil(L);
  while (lua_next(L, t) != 0) {
    int i, found = 0;
    lua_pop(L, 1);
    for (i = 0; known[i] && lua_type(L, -1) == LUA_TSTRING; i++)
      if (strcmp(known[i], lua_tostring(L, -1)) == 0) found = 1;
    if (!found) {
      luaL_Buffer b;
      luaL_buffinit(L, &b);
      for (i = 0; known[i]; i++) {
        if (i) luaL_addstring(&b, ", ");
        luaL_addstring(&b, known[i]);
      }
      luaL_pushresult(&b);
      luaL_tolstring(L, -2, NULL);   /* arguments' order of evaluation is unspecified */
      luaL_error(L, "%s: unknown option '%s' (known: %s)", where,
                 lua_tostring(L, -1), lua_tostring(L, -2));
    }
  }
}

static void opt_known(optctx *o, const char *const known[]) {
  shL_known_keys(o->L, o->t, o->where, known);
}

static const char *opt_choice(optctx *o, const char *key, const char *const choices[]) {
  lua_State *L = o->L;
  luaL_Buffer b;
  const char *s;
  int i;
  if (!opt_present(o, key)) return NULL;
  s = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
  for (i = 0; s && choices[i]; i++)
    if (strcmp(s, choices[i]) == 0) { lua_pop(L, 1); return choices[i]; }
  luaL_buffinit(L, &b);
  for (i = 0; choices[i]; i++) {
    if (i) luaL_addstring(&b, ", ");
    luaL_addstring(&b, choices[i]);
  }
  luaL_pushresult(&b);
  luaL_tolstring(L, -2, NULL);   /* arguments' order of evaluation is unspecified */
  luaL_error(L, "%s: option '%s' is %s; this build knows: %s", o->where, key,
             lua_tostring(L, -1), lua_tostring(L, -2));
  return NULL;
}

#define BIG ((lua_Integer)1 << 48)

/* classes = "pow2" or a list of ascending bounds; the list lives in a
** userdata left on the stack, so it outlasts sh_open. */
static void classes_option(optctx *o, sh_heap_config *h) {
  lua_State *L = o->L;
  uint64_t *v;
  int n, i;
  if (!opt_present(o, "classes")) return;
  if (lua_type(L, -1) == LUA_TSTRING && strcmp(lua_tostring(L, -1), "pow2") == 0) {
    lua_pop(L, 1);
    return;                    /* NULL classes: powers of two */
  }
  if (!lua_istable(L, -1))
    luaL_error(L, "%s: option 'classes' must be \"pow2\" or a list of sizes, got %s",
               o->where, luaL_typename(L, -1));
  n = (int)luaL_len(L, -1);
  if (n < 1 || n > 4096)
    luaL_error(L, "%s: option 'classes' must list 1 to 4096 sizes, got %d", o->where, n);
  v = lua_newuserdatauv(L, (size_t)n * sizeof *v, 0);
  for (i = 0; i < n; i++) {
    int ok;
    lua_Integer x;
    lua_geti(L, -2, i + 1);
    x = lua_tointegerx(L, -1, &ok);
    if (!ok || x <= 0)
      luaL_error(L, "%s: classes[%d] must be a positive integer, got %s", o->where, i + 1,
                 luaL_tolstring(L, -1, NULL));
    lua_pop(L, 1);
    v[i] = (uint64_t)x;
  }
  lua_replace(L, -2);          /* keep the userdata, drop the table */
  lua_rotate(L, o->t, 1);      /* below the heap table, which the caller pops */
  o->t++;
  h->classes = v;
  h->nclasses = n;
}

static void heap_options(lua_State *L, int t, sh_heap_config *h) {
  static const char *const known[] = { "policy", "base", "size", "max", "extend", "align",
    "header", "footer", "min_block", "split_min", "order", "coalesce", "fit", "classes",
    "min_order", "max_order", "sli", NULL };
  static const char *const orders[] = { "address", "lifo", "fifo", "size_asc", "size_desc", NULL };
  static const char *const coalesce[] = { "immediate", "deferred", "none", NULL };
  static const char *const fits[] = { "first", "best", NULL };
  const char *policies[32];
  optctx o;
  lua_Integer v;
  int i;
  for (i = 0; i < 31 && (policies[i] = sh_policy_name(i)) != NULL; i++) {}
  policies[i] = NULL;
  o.L = L; o.t = t; o.where = "machine: heap";
  opt_known(&o, known);
  lua_getfield(L, t, "policy");
  i = shL_is_policy(L, -1);    /* a Lua policy: lpolicy.c sets it up */
  lua_pop(L, 1);
  if (i) h->policy = NULL;
  else if ((h->policy = opt_choice(&o, "policy", policies)) == NULL) h->policy = "first_fit";
  h->order = opt_choice(&o, "order", orders);
  h->coalesce = opt_choice(&o, "coalesce", coalesce);
  h->fit = opt_choice(&o, "fit", fits);
  if (opt_int(&o, "base", 4096, BIG, &v)) h->base = (uint64_t)v;
  if (opt_int(&o, "size", 0, BIG, &v)) h->size = (uint64_t)v;
  if (opt_int(&o, "max", 1, BIG, &v)) h->max = (uint64_t)v;
  if (opt_int(&o, "extend", 0, BIG, &v)) h->extend = v;
  if (opt_int(&o, "align", 1, 4096, &v)) h->align = (uint64_t)v;
  if (opt_int(&o, "header", 0, 64, &v)) h->header = v;
  if (opt_int(&o, "footer", 0, 64, &v)) h->footer = v;
  if (opt_int(&o, "min_block", 1, BIG, &v)) h->min_block = (uint64_t)v;
  if (opt_int(&o, "split_min", 0, BIG, &v)) h->split_min = (uint64_t)v;
  if (opt_int(&o, "min_order", 1, 40, &v)) h->min_order = (int)v;
  if (opt_int(&o, "max_order", 1, 40, &v)) h->max_order = (int)v;
  if (opt_int(&o, "sli", 1, 6, &v)) h->sli = (int)v;
  classes_option(&o, h);
}

static void cost_options(lua_State *L, int t, sh_cost_config *c) {
  static const char *const known[] = { "access", "push", "pop", "alloc", "free", "step", NULL };
  optctx o;
  lua_Integer v;
  o.L = L; o.t = t; o.where = "machine: cost";
  opt_known(&o, known);
  if (opt_int(&o, "access", 0, 1 << 20, &v)) c->access = (uint32_t)v;
  if (opt_int(&o, "push", 0, 1 << 20, &v)) c->push = (uint32_t)v;
  if (opt_int(&o, "pop", 0, 1 << 20, &v)) c->pop = (uint32_t)v;
  if (opt_int(&o, "alloc", 0, 1 << 20, &v)) c->alloc = (uint32_t)v;
  if (opt_int(&o, "free", 0, 1 << 20, &v)) c->free = (uint32_t)v;
  if (opt_int(&o, "step", 0, 1 << 20, &v)) c->step = (uint32_t)v;
}

static int subtable(lua_State *L, int t, const char *key) {
  lua_getfield(L, t, key);
  if (lua_isnil(L, -1)) { lua_pop(L, 1); return 0; }
  if (!lua_istable(L, -1))
    luaL_error(L, "machine: option '%s' must be a table, got %s", key, luaL_typename(L, -1));
  return lua_gettop(L);
}

/* check = {raise = bool, quarantine = bytes}: the checker on, tuned. */
static int check_options(lua_State *L, int t, sh_config *c) {
  static const char *const known[] = { "raise", "quarantine", NULL };
  optctx o;
  lua_Integer v;
  int raise = 0;
  o.L = L; o.t = t; o.where = "machine: check";
  opt_known(&o, known);
  c->check = 1;
  if (opt_present(&o, "raise")) {
    if (!lua_isboolean(L, -1))
      luaL_error(L, "machine: check: option 'raise' must be a boolean, got %s", luaL_typename(L, -1));
    raise = lua_toboolean(L, -1);
    lua_pop(L, 1);
  }
  if (opt_int(&o, "quarantine", 0, BIG, &v)) c->quarantine = (uint64_t)v;
  return raise;
}

int shL_machine_options(lua_State *L, int t, sh_config *c) {
  static const char *const known[] = { "word", "stack", "heap", "cache", "check", "seed",
    "cost", "series", NULL };
  static const char *const stack_known[] = { "size", "top", NULL };
  optctx o;
  lua_Integer v;
  int s, raise = 0;
  o.L = L; o.t = t; o.where = "machine";
  opt_known(&o, known);
  if (opt_int(&o, "word", 4, 8, &v)) {
    if (v != 4 && v != 8) luaL_error(L, "machine: option 'word' must be 4 or 8, got %I", v);
    c->word = (int)v;
  }
  if (opt_int(&o, "seed", LUA_MININTEGER, LUA_MAXINTEGER, &v)) c->seed = (uint64_t)v;
  if (opt_int(&o, "series", 0, LUA_MAXINTEGER, &v)) c->series = (uint64_t)v;
  if (opt_present(&o, "check")) {
    if (lua_isboolean(L, -1)) c->check = lua_toboolean(L, -1);
    else if (lua_type(L, -1) == LUA_TSTRING && strcmp(lua_tostring(L, -1), "raise") == 0)
      c->check = raise = 1;
    else if (lua_istable(L, -1)) raise = check_options(L, lua_gettop(L), c);
    else luaL_error(L, "machine: option 'check' must be true, false, \"raise\" or a table, got %s",
                    luaL_tolstring(L, -1, NULL));
    lua_pop(L, 1);
  }
  /* "default" (also when absent), a table (API.md section 4), or false for
  ** the flat model where every access costs cost.access. */
  if (opt_present(&o, "cache")) {
    shL_cache_options(L, -1, &c->cache);
    lua_pop(L, 1);
  }
  if ((s = subtable(L, t, "stack")) != 0) {
    optctx so;
    so.L = L; so.t = s; so.where = "machine: stack";
    opt_known(&so, stack_known);
    if (opt_int(&so, "size", 16, BIG, &v)) c->stack_size = (uint64_t)v;
    if (opt_int(&so, "top", 16, BIG, &v)) c->stack_top = (uint64_t)v;
    lua_pop(L, 1);
  }
  if ((s = subtable(L, t, "heap")) != 0) { heap_options(L, s, &c->heap); lua_pop(L, 1); }
  if ((s = subtable(L, t, "cost")) != 0) { cost_options(L, s, &c->cost); lua_pop(L, 1); }
  return raise;
}
