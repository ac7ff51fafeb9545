/* lframe.c -- frames and layouts as Lua objects: m:call's halves, frame.slot, <close>.
** A frame object holds its id; every use asks the machine whether it is still live. */
#include <string.h>
#include "lbind.h"

/* m:_layout(slots): slots as stackheap.decl returns them. */
static int l_layout(lua_State *L) {
  lmach *lm = shL_tomach(L, 1);
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
    d[i].size = shL_ufield(L, t, "size");
    d[i].align = shL_ufield(L, t, "align");
    d[i].kind = shL_kind_of(L, t);
    lua_settop(L, s - 1);      /* the strings stay referenced by the slots table */
  }
  ll = lua_newuserdatauv(L, sizeof *ll, 1);
  luaL_setmetatable(L, SHL_LAYOUT);
  if (sh_layout_new(lm->m, d, n, &ll->l) != SH_OK) return shL_fail(L, lm);
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
  luaL_setmetatable(L, SHL_FRAME);
  lua_pushvalue(L, mi);
  lua_setiuservalue(L, -2, 1);
}

/* m:_push(name, layout) -> frame | nil, msg (the Lua wrapper raises at the caller's level) */
static int l_push(lua_State *L) {
  lmach *lm = shL_tomach(L, 1);
  const char *name = luaL_checkstring(L, 2);
  llayout *ll = luaL_checkudata(L, 3, SHL_LAYOUT);
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

/* Before a frame is popped, the hook init.lua set as the frame metatable's
** __drop runs with the machine and the frame (still live, so its slots can be read): Rust's
** drops. mi is the machine's stack index; protect for an unwinding error. */
static int before_pop(lua_State *L, int mi, lmach *lm, int level, int protect) {
  sh_frame_info fi;
  int rc;
  if (!lm->drops || sh_frame(lm->m, level, &fi) != SH_OK) return LUA_OK;
  luaL_getmetatable(L, SHL_FRAME);
  if (lua_getfield(L, -1, "__drop") != LUA_TFUNCTION) { lua_pop(L, 2); return LUA_OK; }
  lua_remove(L, -2);
  lua_pushvalue(L, mi);
  newframe(L, mi, lm, fi.id, fi.name);
  if (!protect) { lua_call(L, 2, 0); return LUA_OK; }
  rc = lua_pcall(L, 2, 0, 0);
  if (rc != LUA_OK) lua_pop(L, 1);
  return rc;
}

/* m:_drops(on): whether pops of this machine's frames call __drop. Off by
** default, so a machine without owning values pays nothing per pop. */
static int l_drops(lua_State *L) {
  lmach *lm = shL_tomach(L, 1);
  lm->drops = lua_toboolean(L, 2);
  return 0;
}

static int l_ret(lua_State *L) {
  lmach *lm = shL_tomach(L, 1);
  if (sh_depth(lm->m) > 0) before_pop(L, 1, lm, 0, 0);
  if (sh_ret(lm->m) != SH_OK) return shL_fail(L, lm);
  return 0;
}

static int l_depth(lua_State *L) {
  lua_pushinteger(L, sh_depth(shL_tomach(L, 1)->m));
  return 1;
}

static int frames_next(lua_State *L) {
  lmach *lm = shL_tomach(L, lua_upvalueindex(1));
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
  lmach *lm = shL_tomach(L, 1);
  lua_pushvalue(L, 1);
  lua_pushinteger(L, 0);
  lua_pushinteger(L, sh_depth(lm->m));
  lua_pushcclosure(L, frames_next, 3);
  return 1;
}

/* ---- frame objects ---- */

static lframe *toframe(lua_State *L, int i) {
  lframe *f = luaL_checkudata(L, i, SHL_FRAME);
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

/* A path into a slot ("p.x", "a[2]"): its address, with the field's type
** table pushed. The frame metatable's __field (init.lua) walks the type.
** Returns 0, pushing nothing, when the key is a plain slot name. */
static int find_path(lua_State *L, lframe *f, int ki, uint64_t *addr) {
  size_t len, n;
  const char *key;
  sh_slot_info si;
  int i;
  if (lua_type(L, ki) != LUA_TSTRING) return 0;
  key = lua_tolstring(L, ki, &len);
  n = strcspn(key, ".[");
  if (n == len || n == 0) return 0;
  lua_pushlstring(L, key, n);
  i = find_slot(L, f, lua_gettop(L), &si);
  lua_pop(L, 1);
  luaL_getmetafield(L, 1, "__field");
  slot_type(L, f, i);
  lua_pushstring(L, key + n);
  lua_call(L, 2, 2);
  if (lua_isnil(L, -2))
    return luaL_error(L, "frame '%s': '%s': %s", f->name, key, lua_tostring(L, -1));
  *addr = si.addr + (uint64_t)lua_tointeger(L, -2);
  lua_remove(L, -2);           /* the offset; the field's type stays */
  return 1;
}

static int slot_get(lua_State *L, lframe *f, int ki) {
  sh_slot_info si;
  uint64_t addr = 0;
  int i;
  if (find_path(L, f, ki, &addr)) {
    shL_push_typed(L, f->lm, addr, lua_gettop(L));
    return 1;
  }
  i = find_slot(L, f, ki, &si);
  if (si.kind != SH_K_AGG) shL_push_scalar(L, f->lm, si.addr, si.kind, si.size);
  else {
    int t;
    slot_type(L, f, i);
    t = lua_gettop(L);
    shL_push_typed(L, f->lm, si.addr, t);
  }
  return 1;
}

static int slot_set(lua_State *L, lframe *f, int ki, int vi) {
  sh_slot_info si;
  uint64_t addr = 0;
  int i;
  const char *what;
  if (find_path(L, f, ki, &addr)) {
    int t = lua_gettop(L);
    what = lua_pushfstring(L, "frame '%s': '%s'", f->name, lua_tostring(L, ki));
    shL_store_typed(L, f->lm, addr, t, vi, what);
    return 0;
  }
  i = find_slot(L, f, ki, &si);
  what = lua_pushfstring(L, "frame '%s': slot '%s'", f->name, si.name);
  if (si.kind != SH_K_AGG) shL_store_scalar(L, f->lm, si.addr, si.kind, si.size, vi, what, si.type);
  else {
    int t;
    slot_type(L, f, i);
    t = lua_gettop(L);
    shL_store_typed(L, f->lm, si.addr, t, vi, what);
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
  uint64_t addr = 0;
  if (find_path(L, f, 2, &addr)) {
    lua_pushinteger(L, (lua_Integer)addr);
    return 1;
  }
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

static int f_id(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)toframe(L, 1)->id);
  return 1;
}

static int f_alive(lua_State *L) {
  lframe *f = toframe(L, 1);
  lua_pushboolean(L, sh_frame_level(f->lm->m, f->id) >= 0);
  return 1;
}

static int f_close(lua_State *L) {
  lframe *f = toframe(L, 1);
  if (sh_frame_level(f->lm->m, f->id) == 0) {
    lua_getiuservalue(L, 1, 1);
    before_pop(L, lua_gettop(L), f->lm, 0, 0);
  }
  if (sh_ret_frame(f->lm->m, f->id) != SH_OK) {
    if (sh_frame_level(f->lm->m, f->id) < 0)
      return luaL_error(L, "close: frame '%s' was already popped", f->name);
    return shL_fail(L, f->lm);
  }
  return 0;
}

/* `local f <close>`: at a normal scope end the frame must be on top; when
** an error unwinds the scope, the frames above it go too, as a real unwind does. */
static int f_toclose(lua_State *L) {
  lframe *f = luaL_checkudata(L, 1, SHL_FRAME);
  int level;
  if (f->lm->m == NULL || (level = sh_frame_level(f->lm->m, f->id)) < 0) return 0;
  lua_getiuservalue(L, 1, 1);
  if (!lua_isnil(L, 2)) {
    while (level-- >= 0) {
      before_pop(L, 3, f->lm, 0, 1);
      sh_ret(f->lm->m);
    }
    return 0;
  }
  if (level == 0) before_pop(L, 3, f->lm, 0, 0);
  if (sh_ret_frame(f->lm->m, f->id) != SH_OK) return shL_fail(L, f->lm);
  return 0;
}

static int f_tostring(lua_State *L) {
  lframe *f = luaL_checkudata(L, 1, SHL_FRAME);
  lua_pushfstring(L, "frame '%s' #%I", f->name, (lua_Integer)f->id);
  return 1;
}

static int f_eq(lua_State *L) {
  lframe *a = luaL_checkudata(L, 1, SHL_FRAME), *b = luaL_checkudata(L, 2, SHL_FRAME);
  lua_pushboolean(L, a->lm == b->lm && a->id == b->id);
  return 1;
}

/* m:_load_typed(addr, type) and m:_store_typed(addr, type, value): a value
** of a stackheap.decl type table anywhere in memory (heap buffers' elements). */
static int l_load_typed(lua_State *L) {
  lmach *lm = shL_tomach(L, 1);
  lua_Integer a = luaL_checkinteger(L, 2);
  luaL_checktype(L, 3, LUA_TTABLE);
  shL_push_typed(L, lm, (uint64_t)a, 3);
  return 1;
}

static int l_store_typed(lua_State *L) {
  lmach *lm = shL_tomach(L, 1);
  lua_Integer a = luaL_checkinteger(L, 2);
  luaL_checktype(L, 3, LUA_TTABLE);
  lua_getfield(L, 3, "text");
  shL_store_typed(L, lm, (uint64_t)a, 3, 4, lua_pushfstring(L, "%s at 0x%I", lua_tostring(L, -1), a));
  return 0;
}

/* ---- registration ---- */

const luaL_Reg shL_stack_methods[] = {
  { "_layout", l_layout }, { "_push", l_push }, { "ret", l_ret }, { "depth", l_depth },
  { "frames", l_frames }, { "_drops", l_drops }, { "_load_typed", l_load_typed }, { "_store_typed", l_store_typed },
  { NULL, NULL }
};

static const luaL_Reg frame_methods[] = {
  { "addr", f_addr }, { "size", f_size }, { "close", f_close }, { "get", f_get },
  { "set", f_set }, { "slots", f_slots }, { "bounds", f_bounds }, { "alive", f_alive },
  { "decl", f_decl }, { "id", f_id }, { NULL, NULL }
};

/* The frame and layout metatables; frame methods are found before slots. */
void shL_open_frames(lua_State *L) {
  luaL_newmetatable(L, SHL_FRAME);
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
  luaL_newmetatable(L, SHL_LAYOUT);
  lua_pop(L, 1);
}
