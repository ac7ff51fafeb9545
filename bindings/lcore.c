/* lcore.c -- stackheap.core: machines, frames and layouts as Lua userdata.
** Misuse raises luaL_error, whose position is the calling script line; failures the API promises as values return nil, msg. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <lua.h>
#include <lauxlib.h>
#include "stackheap.h"
#include "lcore.h"

#define MACHINE "stackheap.machine"
#define FRAME "stackheap.frame"
#define LAYOUT "stackheap.layout"
#define U(x) ((unsigned long long)(x))

typedef struct lmach {
  sh_machine *m;
  int raise;                   /* check = "raise": the first misuse is a Lua error */
} lmach;

typedef struct lframe {
  uint64_t id;
  const char *name;            /* interned by the machine, which this frame keeps alive */
  lmach *lm;
} lframe;

typedef struct llayout {
  sh_layout *l;
} llayout;

/* ---- small helpers ---- */

static lmach *tomach(lua_State *L, int i) {
  lmach *lm = luaL_checkudata(L, i, MACHINE);
  if (lm->m == NULL) luaL_error(L, "the machine is closed");
  return lm;
}

static int fail(lua_State *L, lmach *lm) {
  return luaL_error(L, "%s", sh_errmsg(lm->m));
}

/* An integer argument, accepting floats with an exact integer value. */
static lua_Integer intarg(lua_State *L, int i, const char *op, const char *what) {
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
  return (uint64_t)intarg(L, i, op, "the address");
}

static uint64_t sizearg(lua_State *L, int i, const char *op) {
  lua_Integer v = intarg(L, i, op, "the size");
  if (v < 0) luaL_error(L, "%s: the size must not be negative, got %I", op, v);
  return (uint64_t)v;
}

/* ---- options ---- */

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

static void opt_known(optctx *o, const char *const known[]) {
  lua_State *L = o->L;
  lua_pushnil(L);
  while (lua_next(L, o->t) != 0) {
    int i, found = 0;
    lua_pop(L, 1);
    if (lua_type(L, -1) == LUA_TSTRING) {
      for (i = 0; known[i]; i++)
        if (strcmp(known[i], lua_tostring(L, -1)) == 0) found = 1;
    }
    if (!found) {
      luaL_Buffer b;
      luaL_buffinit(L, &b);
      for (i = 0; known[i]; i++) {
        if (i) luaL_addstring(&b, ", ");
        luaL_addstring(&b, known[i]);
      }
      luaL_pushresult(&b);
      luaL_tolstring(L, -2, NULL);
      luaL_error(L, "%s: unknown option '%s' (known: %s)", o->where,
                 lua_tostring(L, -1), lua_tostring(L, -2));
    }
  }
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

static void heap_options(lua_State *L, int t, sh_heap_config *h) {
  static const char *const known[] = { "policy", "base", "size", "max", "extend", "align",
    "header", "footer", "min_block", "split_min", "order", "coalesce", NULL };
  static const char *const policies[] = { "first_fit", NULL };
  /* first_fit keeps an address-ordered list and coalesces at once; the
  ** other orders and coalescing modes come with the policy suite. */
  static const char *const orders[] = { "address", NULL };
  static const char *const coalesce[] = { "immediate", NULL };
  optctx o;
  lua_Integer v;
  o.L = L; o.t = t; o.where = "machine: heap";
  opt_known(&o, known);
  if ((h->policy = opt_choice(&o, "policy", policies)) == NULL) h->policy = "first_fit";
  opt_choice(&o, "order", orders);
  opt_choice(&o, "coalesce", coalesce);
  if (opt_int(&o, "base", 4096, BIG, &v)) h->base = (uint64_t)v;
  if (opt_int(&o, "size", 0, BIG, &v)) h->size = (uint64_t)v;
  if (opt_int(&o, "max", 1, BIG, &v)) h->max = (uint64_t)v;
  if (opt_int(&o, "extend", 0, BIG, &v)) h->extend = v;
  if (opt_int(&o, "align", 1, 4096, &v)) h->align = (uint64_t)v;
  if (opt_int(&o, "header", 0, 64, &v)) h->header = v;
  if (opt_int(&o, "footer", 0, 64, &v)) h->footer = v;
  if (opt_int(&o, "min_block", 1, BIG, &v)) h->min_block = (uint64_t)v;
  if (opt_int(&o, "split_min", 0, BIG, &v)) h->split_min = (uint64_t)v;
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

static int machine_options(lua_State *L, int t, sh_config *c) {
  static const char *const known[] = { "word", "stack", "heap", "cache", "check", "seed",
    "cost", NULL };
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
  if (opt_present(&o, "check")) {
    if (lua_isboolean(L, -1)) c->check = lua_toboolean(L, -1);
    else if (lua_type(L, -1) == LUA_TSTRING && strcmp(lua_tostring(L, -1), "raise") == 0)
      c->check = raise = 1;
    else luaL_error(L, "machine: option 'check' must be true, false or \"raise\", got %s",
                    luaL_tolstring(L, -1, NULL));
    lua_pop(L, 1);
  }
  /* The cache model is a later issue: until it exists every access costs
  ** cost.access; the option is accepted so scenarios written for it run. */
  if (opt_present(&o, "cache")) {
    if (!lua_istable(L, -1) && !lua_isboolean(L, -1) &&
        !(lua_type(L, -1) == LUA_TSTRING && strcmp(lua_tostring(L, -1), "default") == 0))
      luaL_error(L, "machine: option 'cache' must be \"default\", a table or false");
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

/* ---- the machine ---- */

static int l_machine(lua_State *L) {
  sh_config c;
  lmach *lm;
  int raise = 0, rc;
  sh_config_init(&c);
  if (!lua_isnoneornil(L, 1)) {
    luaL_checktype(L, 1, LUA_TTABLE);
    raise = machine_options(L, 1, &c);
  }
  lm = lua_newuserdatauv(L, sizeof *lm, 1);
  lm->m = NULL;
  lm->raise = raise;
  luaL_setmetatable(L, MACHINE);
  lua_newtable(L);             /* uservalue: layouts by pointer, for m:frames() */
  lua_setiuservalue(L, -2, 1);
  rc = sh_open(&lm->m, &c);
  if (rc != SH_OK) {
    lua_pushfstring(L, "machine: %s", sh_errmsg(lm->m));
    sh_close(lm->m);
    lm->m = NULL;
    return lua_error(L);
  }
  return 1;
}

static int l_gc(lua_State *L) {
  lmach *lm = luaL_checkudata(L, 1, MACHINE);
  sh_close(lm->m);
  lm->m = NULL;
  return 0;
}

static int l_tostring(lua_State *L) {
  lmach *lm = luaL_checkudata(L, 1, MACHINE);
  if (lm->m == NULL) lua_pushliteral(L, "stackheap machine (closed)");
  else lua_pushfstring(L, "stackheap machine (%d-bit, depth %d)", sh_word(lm->m) * 8,
                       sh_depth(lm->m));
  return 1;
}

/* After an operation that may have recorded misuse: raise it when asked to. */
static void misuse(lua_State *L, lmach *lm, int before) {
  sh_report r;
  if (lm->raise && sh_report_count(lm->m) > before &&
      sh_report_get(lm->m, before, &r) == SH_OK)
    luaL_error(L, "%s", r.message);
}

/* ---- layouts and frames ---- */

static sh_kind kind_of(lua_State *L, int t) {
  sh_kind k = SH_K_AGG;
  const char *s;
  lua_getfield(L, t, "kind");
  s = lua_tostring(L, -1);
  if (s == NULL) s = "";
  if (strcmp(s, "int") == 0) {
    lua_getfield(L, t, "signed");
    k = lua_toboolean(L, -1) ? SH_K_INT : SH_K_UINT;
    lua_pop(L, 1);
  }
  else if (strcmp(s, "float") == 0) k = SH_K_FLOAT;
  else if (strcmp(s, "bool") == 0) k = SH_K_BOOL;
  else if (strcmp(s, "char") == 0) k = SH_K_CHAR;
  else if (strcmp(s, "ptr") == 0) k = SH_K_PTR;
  lua_pop(L, 1);
  return k;
}

static uint64_t ufield(lua_State *L, int t, const char *key) {
  lua_Integer v;
  int ok;
  lua_getfield(L, t, key);
  v = lua_tointegerx(L, -1, &ok);
  lua_pop(L, 1);
  if (!ok || v < 0) luaL_error(L, "layout: type field '%s' must be a non-negative integer", key);
  return (uint64_t)v;
}

/* m:_layout(slots): slots as stackheap.decl returns them. */
static int l_layout(lua_State *L) {
  lmach *lm = tomach(L, 1);
  int n, i;
  sh_slot_def *d;
  llayout *ll;
  luaL_checktype(L, 2, LUA_TTABLE);
  n = (int)luaL_len(L, 2);
  d = lua_newuserdatauv(L, sizeof *d * (size_t)(n ? n : 1), 0);   /* scratch, collected */
  for (i = 0; i < n; i++) {
    int s, t;
    lua_geti(L, 2, i + 1);
    s = lua_gettop(L);
    lua_getfield(L, s, "name");
    d[i].name = lua_tostring(L, -1);
    lua_getfield(L, s, "type");
    t = lua_gettop(L);
    if (d[i].name == NULL || !lua_istable(L, t))
      return luaL_error(L, "layout: slot %d needs a name and a type table", i + 1);
    lua_getfield(L, t, "text");
    d[i].type = lua_tostring(L, -1);
    d[i].size = ufield(L, t, "size");
    d[i].align = ufield(L, t, "align");
    d[i].kind = kind_of(L, t);
    lua_settop(L, s - 1);      /* the strings stay referenced by the slots table */
  }
  ll = lua_newuserdatauv(L, sizeof *ll, 1);
  luaL_setmetatable(L, LAYOUT);
  if (sh_layout_new(lm->m, d, n, &ll->l) != SH_OK) return fail(L, lm);
  lua_pushvalue(L, 2);
  lua_setiuservalue(L, -2, 1);
  /* remember it by pointer so frames found later can read their aggregates */
  lua_getiuservalue(L, 1, 1);
  lua_pushlightuserdata(L, ll->l);
  lua_pushvalue(L, -3);
  lua_rawset(L, -3);
  lua_pop(L, 1);
  return 1;
}

static void newframe(lua_State *L, int mi, lmach *lm, uint64_t id, const char *name) {
  lframe *f = lua_newuserdatauv(L, sizeof *f, 1);
  f->id = id;
  f->name = name;
  f->lm = lm;
  luaL_setmetatable(L, FRAME);
  lua_pushvalue(L, mi);
  lua_setiuservalue(L, -2, 1);
}

/* m:_push(name, layout) -> frame | nil, msg (the Lua wrapper raises at the caller's level) */
static int l_push(lua_State *L) {
  lmach *lm = tomach(L, 1);
  const char *name = luaL_checkstring(L, 2);
  llayout *ll = luaL_checkudata(L, 3, LAYOUT);
  sh_frame_info fi;
  uint64_t id;
  if (sh_call(lm->m, name, ll->l, &id) != SH_OK) {
    lua_pushnil(L);
    lua_pushstring(L, sh_errmsg(lm->m));
    return 2;
  }
  sh_frame(lm->m, 0, &fi);
  newframe(L, 1, lm, id, fi.name);
  return 1;
}

static int l_ret(lua_State *L) {
  lmach *lm = tomach(L, 1);
  if (sh_ret(lm->m) != SH_OK) return fail(L, lm);
  return 0;
}

static int l_depth(lua_State *L) {
  lua_pushinteger(L, sh_depth(tomach(L, 1)->m));
  return 1;
}

static int frames_next(lua_State *L) {
  lmach *lm = tomach(L, lua_upvalueindex(1));
  lua_Integer level = lua_tointeger(L, lua_upvalueindex(2));
  lua_Integer depth = lua_tointeger(L, lua_upvalueindex(3));
  sh_frame_info fi;
  /* frames pushed while iterating would shift the levels: count from the bottom */
  int now = sh_depth(lm->m);
  if (level >= depth || now < depth - level) return 0;
  if (sh_frame(lm->m, (int)(now - depth + level), &fi) != SH_OK) return 0;
  lua_pushinteger(L, level + 1);
  lua_replace(L, lua_upvalueindex(2));
  newframe(L, lua_upvalueindex(1), lm, fi.id, fi.name);
  return 1;
}

static int l_frames(lua_State *L) {
  lmach *lm = tomach(L, 1);
  lua_pushvalue(L, 1);
  lua_pushinteger(L, 0);
  lua_pushinteger(L, sh_depth(lm->m));
  lua_pushcclosure(L, frames_next, 3);
  return 1;
}

/* ---- frame objects ---- */

static lframe *toframe(lua_State *L, int i) {
  lframe *f = luaL_checkudata(L, i, FRAME);
  if (f->lm->m == NULL) luaL_error(L, "the machine of frame '%s' is closed", f->name);
  return f;
}

static int level_of(lua_State *L, lframe *f, const char *what) {
  int level = sh_frame_level(f->lm->m, f->id);
  if (level < 0)
    luaL_error(L, "frame '%s' was popped: %s no longer exists (use after return)", f->name, what);
  return level;
}

static void slot_names(lua_State *L, lframe *f, int level) {
  sh_frame_info fi;
  sh_slot_info si;
  luaL_Buffer b;
  int i;
  sh_frame(f->lm->m, level, &fi);
  luaL_buffinit(L, &b);
  for (i = 0; i < fi.nslots; i++) {
    sh_slot(f->lm->m, level, i, &si);
    if (i) luaL_addstring(&b, ", ");
    luaL_addstring(&b, si.name);
  }
  if (fi.nslots == 0) luaL_addstring(&b, "none");
  luaL_pushresult(&b);
}

/* The slot named by argument `ki`; leaves nothing on the stack. */
static int find_slot(lua_State *L, lframe *f, int ki, sh_slot_info *si) {
  size_t len;
  const char *name;
  int level, i;
  if (lua_type(L, ki) != LUA_TSTRING)
    return luaL_error(L, "frame '%s': a slot is named by a string, got %s", f->name,
                      luaL_typename(L, ki));
  name = lua_tolstring(L, ki, &len);
  lua_pushfstring(L, "its slot '%s'", name);
  level = level_of(L, f, lua_tostring(L, -1));
  lua_pop(L, 1);
  if ((i = sh_slot_find(f->lm->m, level, name, len)) < 0) {
    slot_names(L, f, level);
    return luaL_error(L, "frame '%s' has no slot '%s' (its slots: %s)", f->name, name,
                      lua_tostring(L, -1));
  }
  sh_slot(f->lm->m, level, i, si);
  return i;
}

/* ---- values: reading and writing typed memory ---- */

static uint64_t mload(lua_State *L, lmach *lm, uint64_t addr, int width) {
  uint64_t v;
  if (sh_load(lm->m, addr, width, &v) != SH_OK) fail(L, lm);
  return v;
}

static void mstore(lua_State *L, lmach *lm, uint64_t addr, uint64_t v, int width) {
  if (sh_store(lm->m, addr, v, width) != SH_OK) fail(L, lm);
}

static void pushutf8(lua_State *L, uint64_t c) {
  if (c < 0x110000 && (c < 0xd800 || c > 0xdfff)) lua_pushfstring(L, "%U", (long)c);
  else lua_pushinteger(L, (lua_Integer)c);   /* not a scalar value: show the bits */
}

static void push_scalar(lua_State *L, lmach *lm, uint64_t addr, sh_kind k, uint64_t size) {
  uint64_t v;
  if (size == 16 && (k == SH_K_INT || k == SH_K_UINT)) {
    uint64_t lo = mload(L, lm, addr, 8), hi = mload(L, lm, addr + 8, 8);
    int fits = k == SH_K_INT ? hi == ((lo >> 63) ? UINT64_MAX : 0) : (hi == 0 && !(lo >> 63));
    if (fits) lua_pushinteger(L, (lua_Integer)lo);
    else {                     /* beyond a Lua integer: show the bits */
      char buf[40];
      snprintf(buf, sizeof buf, "0x%016llx%016llx", U(hi), U(lo));
      lua_pushstring(L, buf);
    }
    return;
  }
  v = mload(L, lm, addr, (int)size);
  switch (k) {
  case SH_K_INT: {
    int sh = 64 - 8 * (int)size;
    lua_pushinteger(L, sh ? (lua_Integer)((int64_t)(v << sh) >> sh) : (lua_Integer)v);
    break;
  }
  case SH_K_FLOAT:
    if (size == 4) { float f; uint32_t b = (uint32_t)v; memcpy(&f, &b, 4); lua_pushnumber(L, f); }
    else { double d; memcpy(&d, &v, 8); lua_pushnumber(L, d); }
    break;
  case SH_K_BOOL: lua_pushboolean(L, v != 0); break;
  case SH_K_CHAR: pushutf8(L, v); break;
  default: lua_pushinteger(L, (lua_Integer)v); break;
  }
}

static int decode_utf8(const char *s, size_t len, uint64_t *cp) {
  const unsigned char *u = (const unsigned char *)s;
  int n = u[0] < 0x80 ? 1 : u[0] >= 0xf0 ? 4 : u[0] >= 0xe0 ? 3 : u[0] >= 0xc0 ? 2 : 0;
  int i;
  if (n == 0 || (size_t)n != len) return 0;
  *cp = n == 1 ? u[0] : (uint64_t)(u[0] & (0x7f >> n));
  for (i = 1; i < n; i++) {
    if ((u[i] & 0xc0) != 0x80) return 0;
    *cp = (*cp << 6) | (u[i] & 0x3f);
  }
  return 1;
}

/* The value at vi as the bits of a scalar; what names the target in errors. */
static void store_scalar(lua_State *L, lmach *lm, uint64_t addr, sh_kind k, uint64_t size,
                         int vi, const char *what, const char *type) {
  uint64_t bits = 0;
  int ok = 1;
  switch (k) {
  case SH_K_INT: case SH_K_UINT: {
    int isint;
    lua_Integer v = lua_tointegerx(L, vi, &isint);
    if (!isint) { ok = 0; break; }
    if (size < 8) {
      lua_Integer lo = k == SH_K_INT ? -((lua_Integer)1 << (8 * size - 1)) : 0;
      lua_Integer hi = k == SH_K_INT ? ((lua_Integer)1 << (8 * size - 1)) - 1
                                     : ((lua_Integer)1 << (8 * size)) - 1;
      if (v < lo || v > hi)
        luaL_error(L, "%s: %I does not fit in %s (%I..%I)", what, v, type, lo, hi);
    } else if (size == 16 && k == SH_K_UINT && v < 0) {
      luaL_error(L, "%s: %I does not fit in %s (it is unsigned)", what, v, type);
    }
    bits = (uint64_t)v;
    if (size == 16) {
      mstore(L, lm, addr, bits, 8);
      mstore(L, lm, addr + 8, v < 0 ? UINT64_MAX : 0, 8);
      return;
    }
    break;
  }
  case SH_K_FLOAT:
    if (lua_type(L, vi) != LUA_TNUMBER) { ok = 0; break; }
    if (size == 4) { float f = (float)lua_tonumber(L, vi); uint32_t b; memcpy(&b, &f, 4); bits = b; }
    else { double d = lua_tonumber(L, vi); memcpy(&bits, &d, 8); }
    break;
  case SH_K_BOOL:
    if (!lua_isboolean(L, vi)) { ok = 0; break; }
    bits = (uint64_t)lua_toboolean(L, vi);
    break;
  case SH_K_CHAR:
    if (lua_type(L, vi) == LUA_TSTRING) {
      size_t len;
      const char *s = lua_tolstring(L, vi, &len);
      if (!decode_utf8(s, len, &bits))
        luaL_error(L, "%s: a char holds one character, got \"%s\"", what, s);
    } else {
      int isint;
      bits = (uint64_t)lua_tointegerx(L, vi, &isint);
      if (!isint) ok = 0;
    }
    break;
  case SH_K_PTR:
    if (lua_isnil(L, vi)) bits = 0;
    else {
      int isint;
      bits = (uint64_t)lua_tointegerx(L, vi, &isint);
      if (!isint) ok = 0;
    }
    break;
  default:
    ok = 0;
  }
  if (!ok)
    luaL_error(L, "%s: cannot store a %s in %s", what, luaL_typename(L, vi), type);
  mstore(L, lm, addr, bits, (int)size);
}

static void push_typed(lua_State *L, lmach *lm, uint64_t addr, int t);

static void push_fields(lua_State *L, lmach *lm, uint64_t addr, int t) {
  int n, i;
  lua_getfield(L, t, "fields");
  n = lua_istable(L, -1) ? (int)luaL_len(L, -1) : 0;
  lua_createtable(L, 0, n);
  for (i = 1; i <= n; i++) {
    lua_geti(L, -2, i);
    lua_getfield(L, -1, "name");
    lua_getfield(L, -2, "type");
    push_typed(L, lm, addr + ufield(L, -3, "offset"), lua_gettop(L));
    lua_remove(L, -2);           /* type */
    lua_rawset(L, -4);           /* t[name] = value */
    lua_pop(L, 1);               /* field */
  }
  lua_remove(L, -2);             /* fields */
}

/* The value of type table t at addr: scalars as Lua values, aggregates as tables. */
static void push_typed(lua_State *L, lmach *lm, uint64_t addr, int t) {
  sh_kind k = kind_of(L, t);
  const char *kind;
  luaL_checkstack(L, 8, "value nested too deeply");
  if (k != SH_K_AGG) { push_scalar(L, lm, addr, k, ufield(L, t, "size")); return; }
  lua_getfield(L, t, "kind");
  kind = lua_tostring(L, -1);
  lua_pop(L, 1);               /* interned kind names stay valid: the type table holds them */
  if (kind && strcmp(kind, "array") == 0) {
    uint64_t count = ufield(L, t, "count"), esize, i;
    int e;
    lua_getfield(L, t, "elem");
    e = lua_gettop(L);
    esize = ufield(L, e, "size");
    lua_createtable(L, count < 1024 ? (int)count : 1024, 0);
    for (i = 0; i < count; i++) {
      push_typed(L, lm, addr + i * esize, e);
      lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_remove(L, e);
  } else if (kind && strcmp(kind, "fatptr") == 0) {
    int w = sh_word(lm->m);
    lua_createtable(L, 0, 2);
    lua_pushinteger(L, (lua_Integer)mload(L, lm, addr, w));
    lua_setfield(L, -2, "ptr");
    lua_getfield(L, t, "meta");
    lua_pushinteger(L, (lua_Integer)mload(L, lm, addr + (uint64_t)w, w));
    lua_rawset(L, -3);
  } else if (kind && strcmp(kind, "struct") == 0) {
    push_fields(L, lm, addr, t);
  } else {
    lua_getfield(L, t, "text");
    luaL_error(L, "cannot read a value of type %s", lua_tostring(L, -1));
  }
}

static void store_typed(lua_State *L, lmach *lm, uint64_t addr, int t, int vi, const char *what);

static void store_agg(lua_State *L, lmach *lm, uint64_t addr, int t, int vi, const char *what) {
  const char *kind;
  lua_getfield(L, t, "kind");
  kind = lua_tostring(L, -1);
  lua_pop(L, 1);
  if (lua_type(L, vi) == LUA_TSTRING) {      /* raw bytes, exactly the type's size */
    size_t len;
    const char *s = lua_tolstring(L, vi, &len);
    if ((uint64_t)len != ufield(L, t, "size"))
      luaL_error(L, "%s: %d bytes given for a %d-byte value", what, (int)len,
                 (int)ufield(L, t, "size"));
    if (sh_write(lm->m, addr, s, len) != SH_OK) fail(L, lm);
    return;
  }
  if (!lua_istable(L, vi)) {
    lua_getfield(L, t, "text");
    luaL_error(L, "%s: a %s is stored from a table or a string of bytes, got %s", what,
               lua_tostring(L, -1), luaL_typename(L, vi));
  }
  if (kind && strcmp(kind, "array") == 0) {
    uint64_t count = ufield(L, t, "count"), esize, i;
    int e;
    lua_getfield(L, t, "elem");
    e = lua_gettop(L);
    esize = ufield(L, e, "size");
    if ((uint64_t)luaL_len(L, vi) > count)
      luaL_error(L, "%s: %d values given for %d elements", what, (int)luaL_len(L, vi), (int)count);
    for (i = 0; i < count; i++) {
      lua_geti(L, vi, (lua_Integer)i + 1);
      if (!lua_isnil(L, -1)) store_typed(L, lm, addr + i * esize, e, lua_gettop(L), what);
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
  } else {
    int n, i, f;
    if (kind && strcmp(kind, "fatptr") == 0) {
      int w = sh_word(lm->m);
      lua_getfield(L, vi, "ptr");
      store_scalar(L, lm, addr, SH_K_PTR, (uint64_t)w, lua_gettop(L), what, "a pointer");
      lua_getfield(L, t, "meta");
      lua_gettable(L, vi);
      store_scalar(L, lm, addr + (uint64_t)w, SH_K_UINT, (uint64_t)w, lua_gettop(L), what, "usize");
      lua_pop(L, 2);
      return;
    }
    lua_getfield(L, t, "fields");
    f = lua_gettop(L);
    n = lua_istable(L, f) ? (int)luaL_len(L, f) : 0;
    for (i = 1; i <= n; i++) {
      lua_geti(L, f, i);
      lua_getfield(L, -1, "name");
      lua_gettable(L, vi);
      if (!lua_isnil(L, -1)) {
        lua_getfield(L, -2, "type");
        store_typed(L, lm, addr + ufield(L, -3, "offset"), lua_gettop(L), lua_gettop(L) - 1, what);
        lua_pop(L, 1);
      }
      lua_pop(L, 2);
    }
    lua_pop(L, 1);
  }
}

static void store_typed(lua_State *L, lmach *lm, uint64_t addr, int t, int vi, const char *what) {
  sh_kind k = kind_of(L, t);
  luaL_checkstack(L, 8, "value nested too deeply");
  if (k == SH_K_AGG) { store_agg(L, lm, addr, t, vi, what); return; }
  lua_getfield(L, t, "text");
  store_scalar(L, lm, addr, k, ufield(L, t, "size"), vi, what, lua_tostring(L, -1));
  lua_pop(L, 1);
}

/* Push the declaration (the slots table its layout was made from) of frame
** f, argument 1, or nil for a frame pushed from C. */
static int push_decl(lua_State *L, lframe *f, int level) {
  int top = lua_gettop(L);
  lua_getiuservalue(L, 1, 1);                    /* the machine */
  lua_getiuservalue(L, -1, 1);                   /* its layouts by pointer */
  lua_pushlightuserdata(L, (void *)sh_frame_layout(f->lm->m, level));
  if (lua_rawget(L, -2) != LUA_TNIL) lua_getiuservalue(L, -1, 1);
  lua_replace(L, top + 1);
  lua_settop(L, top + 1);
  return !lua_isnil(L, -1);
}

/* Push the type table of slot i of frame f. */
static void slot_type(lua_State *L, lframe *f, int i) {
  if (!push_decl(L, f, sh_frame_level(f->lm->m, f->id)))
    luaL_error(L, "frame '%s' was not made from Lua: its types are unknown", f->name);
  lua_geti(L, -1, i + 1);
  lua_getfield(L, -1, "type");
  lua_replace(L, -3);
  lua_pop(L, 1);
}

static int slot_get(lua_State *L, lframe *f, int ki) {
  sh_slot_info si;
  int i = find_slot(L, f, ki, &si);
  if (si.kind != SH_K_AGG) push_scalar(L, f->lm, si.addr, si.kind, si.size);
  else {
    int t;
    slot_type(L, f, i);
    t = lua_gettop(L);
    push_typed(L, f->lm, si.addr, t);
  }
  return 1;
}

static int slot_set(lua_State *L, lframe *f, int ki, int vi) {
  sh_slot_info si;
  int i = find_slot(L, f, ki, &si);
  const char *what = lua_pushfstring(L, "frame '%s': slot '%s'", f->name, si.name);
  if (si.kind != SH_K_AGG) store_scalar(L, f->lm, si.addr, si.kind, si.size, vi, what, si.type);
  else {
    int t;
    slot_type(L, f, i);
    t = lua_gettop(L);
    store_typed(L, f->lm, si.addr, t, vi, what);
  }
  return 0;
}

static int f_index(lua_State *L) {
  lframe *f = toframe(L, 1);
  if (lua_type(L, 2) == LUA_TSTRING) {
    lua_pushvalue(L, 2);
    if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL) return 1;   /* a method */
    lua_pop(L, 1);
    if (strcmp(lua_tostring(L, 2), "name") == 0) { lua_pushstring(L, f->name); return 1; }
  }
  return slot_get(L, f, 2);
}

static int f_newindex(lua_State *L) {
  return slot_set(L, toframe(L, 1), 2, 3);
}

static int f_get(lua_State *L) {
  return slot_get(L, toframe(L, 1), 2);
}

static int f_set(lua_State *L) {
  return slot_set(L, toframe(L, 1), 2, 3);
}

static int f_addr(lua_State *L) {
  lframe *f = toframe(L, 1);
  sh_slot_info si;
  find_slot(L, f, 2, &si);
  lua_pushinteger(L, (lua_Integer)si.addr);
  return 1;
}

static int f_info(lua_State *L, lframe *f, sh_frame_info *fi) {
  int level = level_of(L, f, "the frame");
  sh_frame(f->lm->m, level, fi);
  return level;
}

static int f_size(lua_State *L) {
  sh_frame_info fi;
  f_info(L, toframe(L, 1), &fi);
  lua_pushinteger(L, (lua_Integer)(fi.top - fi.sp));
  return 1;
}

/* frame:slots() -> list of {name, type, addr, size, align} */
static int f_slots(lua_State *L) {
  lframe *f = toframe(L, 1);
  sh_frame_info fi;
  sh_slot_info si;
  int level = f_info(L, f, &fi), i;
  lua_createtable(L, fi.nslots, 0);
  for (i = 0; i < fi.nslots; i++) {
    sh_slot(f->lm->m, level, i, &si);
    lua_createtable(L, 0, 5);
    lua_pushstring(L, si.name); lua_setfield(L, -2, "name");
    lua_pushstring(L, si.type); lua_setfield(L, -2, "type");
    lua_pushinteger(L, (lua_Integer)si.addr); lua_setfield(L, -2, "addr");
    lua_pushinteger(L, (lua_Integer)si.size); lua_setfield(L, -2, "size");
    lua_pushinteger(L, (lua_Integer)si.align); lua_setfield(L, -2, "align");
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}

/* frame:bounds() -> sp, fp, top */
static int f_bounds(lua_State *L) {
  sh_frame_info fi;
  f_info(L, toframe(L, 1), &fi);
  lua_pushinteger(L, (lua_Integer)fi.sp);
  lua_pushinteger(L, (lua_Integer)fi.fp);
  lua_pushinteger(L, (lua_Integer)fi.top);
  return 3;
}

/* frame:decl() -> the parsed declaration: {{name, type = {kind, size, ...}}...} */
static int f_decl(lua_State *L) {
  lframe *f = toframe(L, 1);
  push_decl(L, f, level_of(L, f, "the frame"));
  return 1;
}

static int f_alive(lua_State *L) {
  lframe *f = toframe(L, 1);
  lua_pushboolean(L, sh_frame_level(f->lm->m, f->id) >= 0);
  return 1;
}

static int f_close(lua_State *L) {
  lframe *f = toframe(L, 1);
  if (sh_ret_frame(f->lm->m, f->id) != SH_OK) {
    if (sh_frame_level(f->lm->m, f->id) < 0)
      return luaL_error(L, "close: frame '%s' was already popped", f->name);
    return fail(L, f->lm);
  }
  return 0;
}

/* `local f <close>`: at a normal scope end the frame must be on top; when
** an error unwinds the scope, the frames above it go too, as a real unwind does. */
static int f_toclose(lua_State *L) {
  lframe *f = luaL_checkudata(L, 1, FRAME);
  int level;
  if (f->lm->m == NULL || (level = sh_frame_level(f->lm->m, f->id)) < 0) return 0;
  if (!lua_isnil(L, 2)) {
    while (level-- >= 0) sh_ret(f->lm->m);
    return 0;
  }
  if (sh_ret_frame(f->lm->m, f->id) != SH_OK) return fail(L, f->lm);
  return 0;
}

static int f_tostring(lua_State *L) {
  lframe *f = luaL_checkudata(L, 1, FRAME);
  lua_pushfstring(L, "frame '%s' #%I", f->name, (lua_Integer)f->id);
  return 1;
}

static int f_eq(lua_State *L) {
  lframe *a = luaL_checkudata(L, 1, FRAME), *b = luaL_checkudata(L, 2, FRAME);
  lua_pushboolean(L, a->lm == b->lm && a->id == b->id);
  return 1;
}

/* ---- heap ---- */

static int l_alloc(lua_State *L) {
  lmach *lm = tomach(L, 1);
  uint64_t size = sizearg(L, 2, "alloc"), align = 0, a;
  int rc;
  if (!lua_isnoneornil(L, 3)) {
    lua_Integer al = intarg(L, 3, "alloc", "the alignment");
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
  if (rc != SH_OK) return fail(L, lm);
  lua_pushinteger(L, (lua_Integer)a);
  return 1;
}

static int l_free(lua_State *L) {
  lmach *lm = tomach(L, 1);
  uint64_t a = addrarg(L, 2, "free");
  int before = sh_report_count(lm->m);
  if (sh_free(lm->m, a) != SH_OK) return fail(L, lm);
  misuse(L, lm, before);
  return 0;
}

static int l_realloc(lua_State *L) {
  lmach *lm = tomach(L, 1);
  uint64_t a = addrarg(L, 2, "realloc"), size = sizearg(L, 3, "realloc"), out;
  int before = sh_report_count(lm->m), rc = sh_realloc(lm->m, a, size, &out);
  misuse(L, lm, before);
  if (rc == SH_OK) {
    if (out == 0) lua_pushnil(L);
    else lua_pushinteger(L, (lua_Integer)out);
    return 1;
  }
  if (rc != SH_ERR_OOM && sh_report_count(lm->m) == before) return fail(L, lm);
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
  lmach *lm = tomach(L, 1);
  lua_newtable(L);
  luaL_checkstack(L, 10, NULL);
  if (sh_blocks(lm->m, pushblock, L) != SH_OK) return fail(L, lm);
  lua_pushinteger(L, 0);
  lua_pushcclosure(L, blocks_next, 2);
  return 1;
}

/* ---- memory ---- */

static int widtharg(lua_State *L, lmach *lm, int i, const char *op) {
  lua_Integer w = lua_isnoneornil(L, i) ? sh_word(lm->m) : intarg(L, i, op, "the width");
  if (w != 1 && w != 2 && w != 4 && w != 8)
    luaL_error(L, "%s: the width must be 1, 2, 4 or 8, got %I", op, w);
  return (int)w;
}

static int l_load(lua_State *L) {
  lmach *lm = tomach(L, 1);
  uint64_t a = addrarg(L, 2, "load"), v;
  int w = widtharg(L, lm, 3, "load");
  if (sh_load(lm->m, a, w, &v) != SH_OK) return fail(L, lm);
  lua_pushinteger(L, (lua_Integer)v);
  return 1;
}

static int l_store(lua_State *L) {
  lmach *lm = tomach(L, 1);
  uint64_t a = addrarg(L, 2, "store");
  lua_Integer v = intarg(L, 3, "store", "the value");
  int w = widtharg(L, lm, 4, "store");
  if (w < 8 && (v < -((lua_Integer)1 << (8 * w - 1)) || v > ((lua_Integer)1 << (8 * w)) - 1))
    return luaL_error(L, "store: %I does not fit in %d byte%s", v, w, w == 1 ? "" : "s");
  if (sh_store(lm->m, a, (uint64_t)v, w) != SH_OK) return fail(L, lm);
  return 0;
}

static int l_read(lua_State *L) {
  lmach *lm = tomach(L, 1);
  uint64_t a = addrarg(L, 2, "read"), n = sizearg(L, 3, "read");
  luaL_Buffer b;
  if (n > ((uint64_t)1 << 30)) return luaL_error(L, "read: %I bytes is too many at once", (lua_Integer)n);
  if (sh_read(lm->m, a, luaL_buffinitsize(L, &b, (size_t)n), (size_t)n) != SH_OK) return fail(L, lm);
  luaL_pushresultsize(&b, (size_t)n);
  return 1;
}

/* m:peek(addr, n): bytes as an observer sees them, costing the machine nothing */
static int l_peek(lua_State *L) {
  lmach *lm = tomach(L, 1);
  uint64_t a = addrarg(L, 2, "peek"), n = sizearg(L, 3, "peek");
  luaL_Buffer b;
  if (n > ((uint64_t)1 << 30)) return luaL_error(L, "peek: %I bytes is too many at once", (lua_Integer)n);
  sh_peek(lm->m, a, luaL_buffinitsize(L, &b, (size_t)n), (size_t)n);
  luaL_pushresultsize(&b, (size_t)n);
  return 1;
}

static int l_write(lua_State *L) {
  lmach *lm = tomach(L, 1);
  uint64_t a = addrarg(L, 2, "write");
  size_t n;
  const char *s = luaL_checklstring(L, 3, &n);
  if (sh_write(lm->m, a, s, n) != SH_OK) return fail(L, lm);
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
  lmach *lm = tomach(L, 1);
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
  lua_newtable(L);               /* filled by the cache model when it exists */
  lua_setfield(L, -2, "cache");
  return 1;
}

static int l_reset_stats(lua_State *L) {
  sh_stats_reset(tomach(L, 1)->m);
  return 0;
}

static int l_errors(lua_State *L) {
  lmach *lm = tomach(L, 1);
  int n = sh_report_count(lm->m), i;
  sh_report r;
  lua_createtable(L, n, 0);
  for (i = 0; i < n; i++) {
    sh_report_get(lm->m, i, &r);
    lua_createtable(L, 0, 4);
    lua_pushstring(L, sh_error_kind_name(r.kind)); lua_setfield(L, -2, "kind");
    setint(L, "addr", r.addr);
    setint(L, "op", r.op);
    lua_pushstring(L, r.message); lua_setfield(L, -2, "message");
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}

static int l_ops(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)sh_opcount(tomach(L, 1)->m));
  return 1;
}

static int l_word(lua_State *L) {
  lua_pushinteger(L, sh_word(tomach(L, 1)->m));
  return 1;
}

/* ---- registration ---- */

static const luaL_Reg machine_methods[] = {
  { "_layout", l_layout }, { "_push", l_push }, { "ret", l_ret }, { "depth", l_depth },
  { "frames", l_frames }, { "alloc", l_alloc }, { "free", l_free }, { "realloc", l_realloc },
  { "blocks", l_blocks }, { "load", l_load }, { "store", l_store }, { "read", l_read },
  { "write", l_write }, { "peek", l_peek }, { "stats", l_stats }, { "reset_stats", l_reset_stats },
  { "errors", l_errors }, { "ops", l_ops }, { "word", l_word }, { "close", l_gc },
  { NULL, NULL }
};

static const luaL_Reg frame_methods[] = {
  { "addr", f_addr }, { "size", f_size }, { "close", f_close }, { "get", f_get },
  { "set", f_set }, { "slots", f_slots }, { "bounds", f_bounds }, { "alive", f_alive },
  { "decl", f_decl },
  { NULL, NULL }
};

static int l_version(lua_State *L) {
  lua_pushstring(L, sh_version());
  return 1;
}

int luaopen_stackheap_core(lua_State *L) {
  luaL_newmetatable(L, MACHINE);
  luaL_newlib(L, machine_methods);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, l_gc); lua_setfield(L, -2, "__gc");
  lua_pushcfunction(L, l_gc); lua_setfield(L, -2, "__close");
  lua_pushcfunction(L, l_tostring); lua_setfield(L, -2, "__tostring");
  lua_pop(L, 1);

  luaL_newmetatable(L, FRAME);
  luaL_newlib(L, frame_methods);
  lua_pushvalue(L, -1);
  lua_pushcclosure(L, f_index, 1);
  lua_setfield(L, -3, "__index");
  lua_setfield(L, -2, "methods");
  lua_pushcfunction(L, f_newindex); lua_setfield(L, -2, "__newindex");
  lua_pushcfunction(L, f_toclose); lua_setfield(L, -2, "__close");
  lua_pushcfunction(L, f_tostring); lua_setfield(L, -2, "__tostring");
  lua_pushcfunction(L, f_eq); lua_setfield(L, -2, "__eq");
  lua_pop(L, 1);

  luaL_newmetatable(L, LAYOUT);
  lua_pop(L, 1);

  lua_createtable(L, 0, 4);
  lua_pushcfunction(L, l_machine); lua_setfield(L, -2, "machine");
  lua_pushcfunction(L, l_version); lua_setfield(L, -2, "version");
  luaL_getmetatable(L, MACHINE);
  lua_getfield(L, -1, "__index");
  lua_setfield(L, -3, "machine_methods");      /* init.lua adds its methods here */
  lua_pop(L, 1);
  luaL_getmetatable(L, FRAME);
  lua_getfield(L, -1, "methods");
  lua_setfield(L, -3, "frame_methods");
  lua_pop(L, 1);
  return 1;
}
