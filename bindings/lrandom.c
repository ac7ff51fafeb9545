/* lrandom.c -- Python's generator in Lua: core.random(seed) and its methods.
** A seed is an integer (Python takes its absolute value) or a list of 32-bit words, lowest first. */
#include "lbind.h"

#define SHL_RANDOM "stackheap.random"

typedef struct lrandom {
  sh_random *r;
} lrandom;

static sh_random *torandom(lua_State *L) {
  lrandom *lr = luaL_checkudata(L, 1, SHL_RANDOM);
  if (lr->r == NULL) luaL_error(L, "random: the generator was closed");
  return lr->r;
}

/* Seed r from the value at index i. */
static void seed_from(lua_State *L, sh_random *r, int i) {
  if (lua_type(L, i) == LUA_TTABLE) {
    uint32_t *key;
    lua_Integer k, n = luaL_len(L, i);
    if (n < 1 || n > (1 << 20)) luaL_error(L, "random: a seed key has 1 to 2^20 words, got %I", n);
    key = lua_newuserdatauv(L, (size_t)n * sizeof *key, 0);   /* collected with the call */
    for (k = 1; k <= n; k++) {
      int ok;
      lua_Integer w;
      lua_geti(L, i, k);
      w = lua_tointegerx(L, -1, &ok);
      if (!ok || w < 0 || w > 0xffffffff)
        luaL_error(L, "random: seed word %I must be an integer from 0 to 4294967295", k);
      key[k - 1] = (uint32_t)w;
      lua_pop(L, 1);
    }
    sh_random_seed_array(r, key, (size_t)n);
    lua_pop(L, 1);
  } else {
    lua_Integer v = luaL_checkinteger(L, i);
    /* abs() in unsigned arithmetic, so the most negative integer is 2^63. */
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    sh_random_seed(r, u);
  }
}

static int l_random_new(lua_State *L) {
  lrandom *lr = lua_newuserdatauv(L, sizeof *lr, 0);
  lr->r = NULL;
  luaL_setmetatable(L, SHL_RANDOM);
  if (sh_random_open(&lr->r) != SH_OK) return luaL_error(L, "random: out of memory");
  if (!lua_isnoneornil(L, 1)) seed_from(L, lr->r, 1);
  return 1;
}

static int l_seed(lua_State *L) {
  seed_from(L, torandom(L), 2);
  lua_settop(L, 1);
  return 1;
}

static int l_double(lua_State *L) {
  lua_pushnumber(L, (lua_Number)sh_random_double(torandom(L)));
  return 1;
}

static int l_u32(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)sh_random_u32(torandom(L)));
  return 1;
}

static int l_close(lua_State *L) {
  lrandom *lr = luaL_checkudata(L, 1, SHL_RANDOM);
  sh_random_close(lr->r);
  lr->r = NULL;
  return 0;
}

void shL_open_random(lua_State *L) {
  static const luaL_Reg methods[] = {
    { "seed", l_seed }, { "random", l_double }, { "u32", l_u32 }, { "close", l_close },
    { NULL, NULL }
  };
  shL_class(L, SHL_RANDOM, methods, l_close);
  lua_pushcfunction(L, l_random_new);
  lua_setfield(L, -2, "random");
}
