/* lpolicy.c -- heap policies written in Lua: sh.policy{...} as an engine sh_policy_def.
** Each call runs protected on the policy's own thread, so a Lua error becomes the policy's error, never a longjmp through the engine. */
#include <string.h>
#include "lbind.h"

#define SHL_POLICY "stackheap.policy"
#define SHL_HEAP "stackheap.policy_heap"

/* The policy's thread keeps these at fixed stack slots. */
enum { S_ALLOC = 1, S_FREE, S_REALLOC, S_INIT, S_HEAP, S_NAME, S_TOP = S_NAME };

typedef struct lheap {
  sh_machine *m;               /* set only while a callback runs */
} lheap;

typedef struct lpol {
  sh_policy_def def;
  lua_State *T;                /* the policy's thread (anchored in the uservalue) */
  lheap *h;
} lpol;

/* ---- the heap handle ---- */

/* The handle's methods carry its metatable as an upvalue: checking the
** type is then a pointer compare, not luaL_checkudata's registry lookup by
** name (these calls are most of what a Lua policy does). */
static sh_machine *heap_m(lua_State *L) {
  lheap *h = lua_touserdata(L, 1);
  int ok = h != NULL && lua_getmetatable(L, 1);
  if (ok) {
    ok = lua_rawequal(L, -1, lua_upvalueindex(1));
    lua_pop(L, 1);
  }
  if (!ok) luaL_typeerror(L, 1, "heap");
  if (h->m == NULL) luaL_error(L, "heap: this handle is only valid inside a policy call");
  return h->m;
}

static uint64_t uarg(lua_State *L, int i, const char *op, const char *what) {
  lua_Integer v = shL_intarg(L, i, op, what);
  if (v < 0) luaL_error(L, "%s: %s must not be negative, got %I", op, what, v);
  return (uint64_t)v;
}

/* heap:sbrk(n) -> the old break | nil, msg past max */
static int h_sbrk(lua_State *L) {
  sh_machine *m = heap_m(L);
  uint64_t old;
  if (sh_policy_sbrk(m, uarg(L, 2, "sbrk", "the size"), &old) != SH_OK) {
    lua_pushnil(L);
    lua_pushstring(L, sh_errmsg(m));
    return 2;
  }
  lua_pushinteger(L, (lua_Integer)old);
  return 1;
}

/* heap:load(addr [, width]) -> the little-endian word */
static int h_load(lua_State *L) {
  sh_machine *m = heap_m(L);
  uint64_t a = uarg(L, 2, "load", "the address"), v;
  if (sh_policy_load(m, a, shL_widtharg(L, m, 3, "load"), &v) != SH_OK)
    return luaL_error(L, "%s", sh_errmsg(m));
  lua_pushinteger(L, (lua_Integer)v);
  return 1;
}

/* heap:store(addr, value [, width]) */
static int h_store(lua_State *L) {
  sh_machine *m = heap_m(L);
  uint64_t a = uarg(L, 2, "store", "the address");
  int ok, w;
  lua_Integer v = lua_tointegerx(L, 3, &ok);
  if (!ok)
    return luaL_error(L, "store: the value must be an integer, got %s",
                      lua_type(L, 3) == LUA_TNUMBER ? lua_tostring(L, 3) : luaL_typename(L, 3));
  w = shL_widtharg(L, m, 4, "store");
  if (w < 8 && (v < -((lua_Integer)1 << (8 * w - 1)) || v > ((lua_Integer)1 << (8 * w)) - 1))
    return luaL_error(L, "store: %I does not fit in %d byte%s", v, w, w == 1 ? "" : "s");
  if (sh_policy_store(m, a, (uint64_t)v, w) != SH_OK) return luaL_error(L, "%s", sh_errmsg(m));
  return 0;
}

/* heap:copy(dst, src, n): memmove inside the heap (a realloc's move) */
static int h_copy(lua_State *L) {
  sh_machine *m = heap_m(L);
  uint64_t d = uarg(L, 2, "copy", "the destination"), s = uarg(L, 3, "copy", "the source"),
           n = uarg(L, 4, "copy", "the size");
  if (sh_policy_copy(m, d, s, n) != SH_OK) return luaL_error(L, "%s", sh_errmsg(m));
  return 0;
}

/* heap:step([n]): n blocks examined (default 1) */
static int h_step(lua_State *L) {
  sh_machine *m = heap_m(L);
  sh_policy_step(m, lua_isnoneornil(L, 2) ? 1 : uarg(L, 2, "step", "the count"));
  return 0;
}

/* heap:bounds() -> base, brk, max (the break may grow to base + max) */
static int h_bounds(lua_State *L) {
  uint64_t base, brk, max;
  sh_policy_bounds(heap_m(L), &base, &brk, &max);
  lua_pushinteger(L, (lua_Integer)base);
  lua_pushinteger(L, (lua_Integer)brk);
  lua_pushinteger(L, (lua_Integer)max);
  return 3;
}

/* heap:config() -> the machine's heap keys: align, header, footer, min_block,
** split_min, extend, size, word, and order/coalesce/fit when given */
static int h_config(lua_State *L) {
  sh_machine *m = heap_m(L);
  const sh_heap_config *c = sh_policy_config(m);
  lua_createtable(L, 0, 12);
#define SETI(k, v) (lua_pushinteger(L, (lua_Integer)(v)), lua_setfield(L, -2, k))
  SETI("align", c->align); SETI("header", c->header); SETI("footer", c->footer);
  SETI("min_block", c->min_block); SETI("split_min", c->split_min); SETI("extend", c->extend);
  SETI("size", c->size); SETI("base", c->base); SETI("max", c->max); SETI("word", sh_word(m));
#undef SETI
  if (c->order) { lua_pushstring(L, c->order); lua_setfield(L, -2, "order"); }
  if (c->coalesce) { lua_pushstring(L, c->coalesce); lua_setfield(L, -2, "coalesce"); }
  if (c->fit) { lua_pushstring(L, c->fit); lua_setfield(L, -2, "fit"); }
  return 1;
}

/* ---- calls into Lua ---- */

/* Run the function at slot fn with the heap and nargs values pushed after
** it; SH_OK with nres results on T's stack, or the error as the machine's
** message.  Nothing here may raise: the engine is mid-operation. */
static int call(lpol *p, sh_machine *m, int nargs, int nres) {
  lua_State *T = p->T;
  int rc;
  p->h->m = m;
  rc = lua_pcall(T, nargs + 1, nres, 0);
  p->h->m = NULL;
  if (rc == LUA_OK) return SH_OK;
  if (lua_type(T, -1) == LUA_TSTRING) sh_policy_fail(m, "%s", lua_tostring(T, -1));
  else if (rc == LUA_ERRMEM) sh_policy_fail(m, "not enough memory");
  else sh_policy_fail(m, "raised a %s value", luaL_typename(T, -1));
  lua_settop(T, S_TOP);
  return SH_ERR_POLICY;
}

static int prepare(lpol *p, sh_machine *m, int slot) {
  lua_State *T = p->T;
  if (!lua_checkstack(T, 8)) return sh_policy_fail(m, "out of Lua stack");
  lua_settop(T, S_TOP);
  lua_pushvalue(T, slot);
  lua_pushvalue(T, S_HEAP);
  return SH_OK;
}

/* An answer: nil or false is "no room", else an integer address. */
static int answer(lpol *p, sh_machine *m, const char *op, uint64_t *addr) {
  lua_State *T = p->T;
  int ok, t = lua_type(T, -1);
  lua_Integer a;
  if (t == LUA_TNIL || (t == LUA_TBOOLEAN && !lua_toboolean(T, -1))) {
    lua_settop(T, S_TOP);
    return SH_ERR_OOM;
  }
  a = lua_tointegerx(T, -1, &ok);   /* a string is no address, even "0x1010" */
  if (!ok || t != LUA_TNUMBER) {
    char buf[64];
    if (t == LUA_TNUMBER) snprintf(buf, sizeof buf, "%.17g", (double)lua_tonumber(T, -1));
    else snprintf(buf, sizeof buf, "a %s", luaL_typename(T, -1));
    lua_settop(T, S_TOP);
    return sh_policy_fail(m, "%s answered %s, which is not an integer address", op, buf);
  }
  lua_settop(T, S_TOP);
  *addr = (uint64_t)a;
  return SH_OK;
}

static int p_init(void *ud, sh_machine *m) {
  lpol *p = ud;
  if (lua_isnil(p->T, S_INIT)) return SH_OK;
  if (prepare(p, m, S_INIT) != SH_OK) return SH_ERR_POLICY;
  if (call(p, m, 0, 0) != SH_OK) return SH_ERR_POLICY;
  lua_settop(p->T, S_TOP);
  return SH_OK;
}

static int p_alloc(void *ud, sh_machine *m, uint64_t size, uint64_t align, uint64_t *addr) {
  lpol *p = ud;
  if (prepare(p, m, S_ALLOC) != SH_OK) return SH_ERR_POLICY;
  lua_pushinteger(p->T, (lua_Integer)size);
  lua_pushinteger(p->T, (lua_Integer)align);
  if (call(p, m, 2, 1) != SH_OK) return SH_ERR_POLICY;
  return answer(p, m, "alloc", addr);
}

static int p_free(void *ud, sh_machine *m, uint64_t addr, uint64_t size) {
  lpol *p = ud;
  (void)size;
  if (prepare(p, m, S_FREE) != SH_OK) return SH_ERR_POLICY;
  lua_pushinteger(p->T, (lua_Integer)addr);
  if (call(p, m, 1, 0) != SH_OK) return SH_ERR_POLICY;
  return SH_OK;
}

static int p_realloc(void *ud, sh_machine *m, uint64_t addr, uint64_t old, uint64_t size,
                     uint64_t *out) {
  lpol *p = ud;
  (void)old;
  if (prepare(p, m, S_REALLOC) != SH_OK) return SH_ERR_POLICY;
  lua_pushinteger(p->T, (lua_Integer)addr);
  lua_pushinteger(p->T, (lua_Integer)size);
  if (call(p, m, 2, 1) != SH_OK) return SH_ERR_POLICY;
  return answer(p, m, "realloc", out);
}

/* ---- sh.policy{...} and its use by sh.machine ---- */

static void field_fn(lua_State *L, const char *key, int required) {
  int t = lua_getfield(L, 1, key);
  if (t == LUA_TFUNCTION || (t == LUA_TNIL && !required)) return;
  luaL_error(L, "policy: '%s' must be a function%s, got %s", key,
             required ? "" : " or nil", luaL_typename(L, -1));
}

/* core.policy{name, init, alloc, free, realloc} -> a policy value */
static int l_policy(lua_State *L) {
  static const char *const known[] = { "name", "init", "alloc", "free", "realloc", NULL };
  static const char *const fns[] = { "init", "alloc", "free", "realloc" };
  int i;
  luaL_checktype(L, 1, LUA_TTABLE);
  shL_known_keys(L, 1, "policy", known);
  if (lua_getfield(L, 1, "name") != LUA_TSTRING)
    return luaL_error(L, "policy: 'name' must be a string, got %s", luaL_typename(L, -1));
  lua_pop(L, 1);
  lua_createtable(L, 0, 5);
  for (i = 0; i < 4; i++) {
    field_fn(L, fns[i], i == 1 || i == 2);
    lua_setfield(L, -2, fns[i]);
  }
  lua_getfield(L, 1, "name");
  lua_setfield(L, -2, "name");
  luaL_setmetatable(L, SHL_POLICY);
  return 1;
}

int shL_is_policy(lua_State *L, int i) {
  int r = 0;
  if (lua_istable(L, i) && lua_getmetatable(L, i)) {
    luaL_getmetatable(L, SHL_POLICY);
    r = lua_rawequal(L, -1, -2);
    lua_pop(L, 2);
  }
  return r;
}

/* opts.heap.policy, when it is a Lua policy: pushes the userdata that
** backs it (to be anchored by the machine) and points c at its def. */
int shL_policy_attach(lua_State *L, int opts, sh_config *c) {
  lpol *p;
  lua_State *T;
  int pol;
  if (!lua_istable(L, opts) || lua_getfield(L, opts, "heap") != LUA_TTABLE) {
    lua_pop(L, 1);
    return 0;
  }
  lua_getfield(L, -1, "policy");
  if (!shL_is_policy(L, -1)) { lua_pop(L, 2); return 0; }
  pol = lua_gettop(L);
  p = lua_newuserdatauv(L, sizeof *p, 1);
  memset(p, 0, sizeof *p);
  T = lua_newthread(L);        /* inherits the caller's hooks (a sandbox's limits) */
  lua_setiuservalue(L, -2, 1);
  p->T = T;
  lua_getfield(L, pol, "alloc"); lua_xmove(L, T, 1);
  lua_getfield(L, pol, "free"); lua_xmove(L, T, 1);
  lua_getfield(L, pol, "realloc"); lua_xmove(L, T, 1);
  lua_getfield(L, pol, "init"); lua_xmove(L, T, 1);
  p->h = lua_newuserdatauv(T, sizeof *p->h, 0);
  p->h->m = NULL;
  luaL_setmetatable(T, SHL_HEAP);
  lua_getfield(L, pol, "name"); lua_xmove(L, T, 1);
  p->def.name = lua_tostring(T, S_NAME);
  p->def.ud = p;
  p->def.init = p_init;
  p->def.alloc = p_alloc;
  p->def.free = p_free;
  p->def.realloc = lua_isnil(T, S_REALLOC) ? NULL : p_realloc;
  c->heap.external = &p->def;
  c->heap.policy = NULL;
  lua_replace(L, pol - 1);     /* the userdata where the heap table was */
  lua_settop(L, pol - 1);
  return 1;
}

void shL_open_policy(lua_State *L) {
  static const luaL_Reg heap_methods[] = {
    { "sbrk", h_sbrk }, { "load", h_load }, { "store", h_store }, { "copy", h_copy },
    { "step", h_step }, { "bounds", h_bounds }, { "config", h_config }, { NULL, NULL }
  };
  luaL_newmetatable(L, SHL_HEAP);
  luaL_newlibtable(L, heap_methods);
  lua_pushvalue(L, -2);
  luaL_setfuncs(L, heap_methods, 1);
  lua_setfield(L, -2, "__index");
  lua_pushliteral(L, "heap");
  lua_setfield(L, -2, "__name");
  lua_pop(L, 1);
  luaL_newmetatable(L, SHL_POLICY);
  lua_pushliteral(L, "policy");
  lua_setfield(L, -2, "__metatable");   /* a submission cannot forge or alter it */
  lua_pop(L, 1);
  lua_pushcfunction(L, l_policy);
  lua_setfield(L, -2, "policy");
}
