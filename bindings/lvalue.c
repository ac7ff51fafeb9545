/* lvalue.c -- reading and writing typed memory as Lua values.
** Scalars become numbers, booleans and strings; arrays and structs become tables. */
#include <stdio.h>
#include <string.h>
#include "lbind.h"

#define U(x) ((unsigned long long)(x))

sh_kind shL_kind_of(lua_State *L, int t) {
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

uint64_t shL_ufield(lua_State *L, int t, const char *key) {
  lua_Integer v;
  int ok;
  lua_getfield(L, t, key);
  v = lua_tointegerx(L, -1, &ok);
  lua_pop(L, 1);
  if (!ok || v < 0) luaL_error(L, "layout: type field '%s' must be a non-negative integer", key);
  return (uint64_t)v;
}

static uint64_t mload(lua_State *L, lmach *lm, uint64_t addr, int width) {
  uint64_t v;
  if (sh_load(lm->m, addr, width, &v) != SH_OK) shL_fail(L, lm);
  return v;
}

static void mstore(lua_State *L, lmach *lm, uint64_t addr, uint64_t v, int width) {
  if (sh_store(lm->m, addr, v, width) != SH_OK) shL_fail(L, lm);
}

static void pushutf8(lua_State *L, uint64_t c) {
  if (c < 0x110000 && (c < 0xd800 || c > 0xdfff)) lua_pushfstring(L, "%U", (long)c);
  else lua_pushinteger(L, (lua_Integer)c);   /* not a scalar value: show the bits */
}

void shL_push_scalar(lua_State *L, lmach *lm, uint64_t addr, sh_kind k, uint64_t size) {
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
void shL_store_scalar(lua_State *L, lmach *lm, uint64_t addr, sh_kind k, uint64_t size,
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

void shL_push_typed(lua_State *L, lmach *lm, uint64_t addr, int t);

static void push_fields(lua_State *L, lmach *lm, uint64_t addr, int t) {
  int n, i;
  lua_getfield(L, t, "fields");
  n = lua_istable(L, -1) ? (int)luaL_len(L, -1) : 0;
  lua_createtable(L, 0, n);
  for (i = 1; i <= n; i++) {
    lua_geti(L, -2, i);
    lua_getfield(L, -1, "name");
    lua_getfield(L, -2, "type");
    shL_push_typed(L, lm, addr + shL_ufield(L, -3, "offset"), lua_gettop(L));
    lua_remove(L, -2);           /* type */
    lua_rawset(L, -4);           /* t[name] = value */
    lua_pop(L, 1);               /* field */
  }
  lua_remove(L, -2);             /* fields */
}

/* The value of type table t at addr: scalars as Lua values, aggregates as tables. */
void shL_push_typed(lua_State *L, lmach *lm, uint64_t addr, int t) {
  sh_kind k = shL_kind_of(L, t);
  const char *kind;
  luaL_checkstack(L, 8, "value nested too deeply");
  if (k != SH_K_AGG) { shL_push_scalar(L, lm, addr, k, shL_ufield(L, t, "size")); return; }
  lua_getfield(L, t, "kind");
  kind = lua_tostring(L, -1);
  lua_pop(L, 1);               /* interned kind names stay valid: the type table holds them */
  if (kind && strcmp(kind, "array") == 0) {
    uint64_t count = shL_ufield(L, t, "count"), esize, i;
    int e;
    lua_getfield(L, t, "elem");
    e = lua_gettop(L);
    esize = shL_ufield(L, e, "size");
    lua_createtable(L, count < 1024 ? (int)count : 1024, 0);
    for (i = 0; i < count; i++) {
      shL_push_typed(L, lm, addr + i * esize, e);
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

void shL_store_typed(lua_State *L, lmach *lm, uint64_t addr, int t, int vi, const char *what);

static void store_agg(lua_State *L, lmach *lm, uint64_t addr, int t, int vi, const char *what) {
  const char *kind;
  lua_getfield(L, t, "kind");
  kind = lua_tostring(L, -1);
  lua_pop(L, 1);
  if (lua_type(L, vi) == LUA_TSTRING) {      /* raw bytes, exactly the type's size */
    size_t len;
    const char *s = lua_tolstring(L, vi, &len);
    if ((uint64_t)len != shL_ufield(L, t, "size"))
      luaL_error(L, "%s: %d bytes given for a %d-byte value", what, (int)len,
                 (int)shL_ufield(L, t, "size"));
    if (sh_write(lm->m, addr, s, len) != SH_OK) shL_fail(L, lm);
    return;
  }
  if (!lua_istable(L, vi)) {
    lua_getfield(L, t, "text");
    luaL_error(L, "%s: a %s is stored from a table or a string of bytes, got %s", what,
               lua_tostring(L, -1), luaL_typename(L, vi));
  }
  if (kind && strcmp(kind, "array") == 0) {
    uint64_t count = shL_ufield(L, t, "count"), esize, i;
    int e;
    lua_getfield(L, t, "elem");
    e = lua_gettop(L);
    esize = shL_ufield(L, e, "size");
    if ((uint64_t)luaL_len(L, vi) > count)
      luaL_error(L, "%s: %d values given for %d elements", what, (int)luaL_len(L, vi), (int)count);
    for (i = 0; i < count; i++) {
      lua_geti(L, vi, (lua_Integer)i + 1);
      if (!lua_isnil(L, -1)) shL_store_typed(L, lm, addr + i * esize, e, lua_gettop(L), what);
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
  } else {
    int n, i, f;
    if (kind && strcmp(kind, "fatptr") == 0) {
      int w = sh_word(lm->m);
      lua_getfield(L, vi, "ptr");
      shL_store_scalar(L, lm, addr, SH_K_PTR, (uint64_t)w, lua_gettop(L), what, "a pointer");
      lua_getfield(L, t, "meta");
      lua_gettable(L, vi);
      shL_store_scalar(L, lm, addr + (uint64_t)w, SH_K_UINT, (uint64_t)w, lua_gettop(L), what, "usize");
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
        shL_store_typed(L, lm, addr + shL_ufield(L, -3, "offset"), lua_gettop(L), lua_gettop(L) - 1, what);
        lua_pop(L, 1);
      }
      lua_pop(L, 2);
    }
    lua_pop(L, 1);
  }
}

void shL_store_typed(lua_State *L, lmach *lm, uint64_t addr, int t, int vi, const char *what) {
  sh_kind k = shL_kind_of(L, t);
  luaL_checkstack(L, 8, "value nested too deeply");
  if (k == SH_K_AGG) { store_agg(L, lm, addr, t, vi, what); return; }
  lua_getfield(L, t, "text");
  shL_store_scalar(L, lm, addr, k, shL_ufield(L, t, "size"), vi, what, lua_tostring(L, -1));
  lua_pop(L, 1);
}
