/* ltrace.c -- traces in Lua: core.trace_open, core.trace_writer, core.replay (the loop stays in C).
** Also the small host facts the trace commands need: isatty, getpid, where the record preload library is. */
#define _POSIX_C_SOURCE 200809L
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "lbind.h"

#define SHL_TRACE "stackheap.trace"
#define SHL_WRITER "stackheap.trace_writer"

#define PROGRESS_EVERY 65536

typedef struct ltrace {
  sh_trace *t;
  lua_State *L;                /* set while a call that may warn runs */
  int warn_ref;                /* the on_warning function, or LUA_NOREF */
} ltrace;

typedef struct lwriter { sh_trace_writer *w; } lwriter;

static const char *const kinds[] = { "end", "alloc", "free", "realloc" };

static ltrace *checktrace(lua_State *L, int i) {
  ltrace *lt = luaL_checkudata(L, i, SHL_TRACE);
  if (lt->t == NULL) luaL_error(L, "the trace is closed");
  return lt;
}

static int formatarg(lua_State *L, int i) {
  const char *name = luaL_optstring(L, i, "auto");
  int f = sh_trace_format_parse(name);
  if (f < 0) luaL_error(L, "unknown trace format '%s' (known: auto, mtrace, rep, jsonl, bin)", name);
  return f;
}

static void on_warn(void *ud, const char *msg) {
  ltrace *lt = ud;
  lua_State *L = lt->L;
  if (L == NULL || lt->warn_ref == LUA_NOREF) return;
  lua_rawgeti(L, LUA_REGISTRYINDEX, lt->warn_ref);
  lua_pushstring(L, msg);
  lua_call(L, 1, 0);
}

/* A fresh, unopened trace object on the stack. */
static ltrace *newtrace(lua_State *L, int nuv) {
  ltrace *lt = lua_newuserdatauv(L, sizeof *lt, nuv);
  lt->t = NULL;
  lt->L = NULL;
  lt->warn_ref = LUA_NOREF;
  luaL_setmetatable(L, SHL_TRACE);
  return lt;
}

/* What the open returned: the trace object on top, or nil and the message. */
static int opened(lua_State *L, ltrace *lt, int rc) {
  if (rc != SH_OK) {
    lua_pushnil(L);
    lua_pushstring(L, sh_trace_errmsg(lt->t));
    sh_trace_close(lt->t);
    lt->t = NULL;
    return 2;
  }
  sh_trace_on_warning(lt->t, on_warn, lt);
  return 1;
}

/* core.trace_open(path [, format [, cache_path]]) -> trace | nil, msg */
static int l_trace_open(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  int f = formatarg(L, 2);
  const char *cache = luaL_optstring(L, 3, NULL);
  ltrace *lt = newtrace(L, 0);
  return opened(L, lt, cache ? sh_trace_open_cached(&lt->t, path, cache, (sh_trace_format)f)
                             : sh_trace_open(&lt->t, path, (sh_trace_format)f));
}

/* core.trace_from_string(name, bytes [, format]): for tests and small inputs;
** the string is kept alive by the trace. */
static int l_trace_string(lua_State *L) {
  const char *name = luaL_checkstring(L, 1);
  size_t n;
  const char *s = luaL_checklstring(L, 2, &n);
  int f = formatarg(L, 3);
  ltrace *lt = newtrace(L, 1);
  lua_pushvalue(L, 2);
  lua_setiuservalue(L, -2, 1);
  return opened(L, lt, sh_trace_open_mem(&lt->t, name, s, n, (sh_trace_format)f));
}

static void push_id(lua_State *L, uint64_t id) {
  if (id == SH_ID_NULL) lua_pushinteger(L, -1);
  else lua_pushinteger(L, (lua_Integer)id);
}

/* t:next() -> kind, id, size, line | nil at the end | false, msg on bad input */
static int l_trace_next(lua_State *L) {
  ltrace *lt = checktrace(L, 1);
  sh_op op;
  int rc;
  lt->L = L;
  rc = sh_trace_next(lt->t, &op);
  lt->L = NULL;
  if (rc != SH_OK) {
    lua_pushboolean(L, 0);
    lua_pushstring(L, sh_trace_errmsg(lt->t));
    return 2;
  }
  if (op.kind == SH_OP_END) { lua_pushnil(L); return 1; }
  lua_pushstring(L, kinds[op.kind]);
  push_id(L, op.id);
  lua_pushinteger(L, (lua_Integer)op.size);
  lua_pushinteger(L, (lua_Integer)op.line);
  return 4;
}

static void setint(lua_State *L, const char *k, uint64_t v) {
  lua_pushinteger(L, (lua_Integer)v);
  lua_setfield(L, -2, k);
}

static int l_trace_info(lua_State *L) {
  ltrace *lt = checktrace(L, 1);
  sh_trace_info in;
  sh_trace_info_get(lt->t, &in);
  lua_createtable(L, 0, 8);
  lua_pushstring(L, in.name); lua_setfield(L, -2, "name");
  lua_pushstring(L, sh_trace_format_name(in.format)); lua_setfield(L, -2, "format");
  lua_pushstring(L, in.cached == 1 ? "read" : in.cached == 2 ? "writing" : "none");
  lua_setfield(L, -2, "cache");
  setint(L, "lines", in.lines);
  setint(L, "ops", in.ops);
  setint(L, "warnings", in.warnings);
  setint(L, "bytes_read", in.bytes_read);
  setint(L, "bytes_total", in.bytes_total);
  return 1;
}

static int l_trace_on_warning(lua_State *L) {
  ltrace *lt = checktrace(L, 1);
  luaL_unref(L, LUA_REGISTRYINDEX, lt->warn_ref);
  lt->warn_ref = LUA_NOREF;
  if (!lua_isnoneornil(L, 2)) {
    luaL_checktype(L, 2, LUA_TFUNCTION);
    lua_pushvalue(L, 2);
    lt->warn_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  }
  return 0;
}

static int l_trace_close(lua_State *L) {
  ltrace *lt = luaL_checkudata(L, 1, SHL_TRACE);
  sh_trace_close(lt->t);
  lt->t = NULL;
  luaL_unref(L, LUA_REGISTRYINDEX, lt->warn_ref);
  lt->warn_ref = LUA_NOREF;
  return 0;
}

/* ---- writers ---- */

static int l_writer_open(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  int f = formatarg(L, 2);
  lwriter *lw;
  if (f == SH_TRACE_AUTO) return luaL_error(L, "trace_writer: name a format to write");
  lw = lua_newuserdatauv(L, sizeof *lw, 0);
  lw->w = NULL;
  luaL_setmetatable(L, SHL_WRITER);
  if (sh_trace_writer_open(&lw->w, path, (sh_trace_format)f) != SH_OK) {
    char msg[512];
    sh_trace_writer_close(lw->w, msg, sizeof msg);
    lw->w = NULL;
    lua_pushnil(L);
    lua_pushstring(L, msg);
    return 2;
  }
  return 1;
}

/* w:write(kind, id, size [, line]) -> true | nil, msg */
static int l_writer_write(lua_State *L) {
  lwriter *lw = luaL_checkudata(L, 1, SHL_WRITER);
  sh_op op;
  lua_Integer id;
  op.kind = (sh_op_kind)luaL_checkoption(L, 2, NULL, kinds);
  id = luaL_checkinteger(L, 3);
  op.id = id < 0 ? SH_ID_NULL : (uint64_t)id;
  op.size = (uint64_t)luaL_optinteger(L, 4, 0);
  op.line = (uint64_t)luaL_optinteger(L, 5, 0);
  if (lw->w == NULL) return luaL_error(L, "the writer is closed");
  if (op.kind == SH_OP_END) return luaL_error(L, "write: 'end' is written by close");
  if (sh_trace_write(lw->w, &op) != SH_OK) {
    lua_pushnil(L);
    lua_pushstring(L, sh_trace_writer_errmsg(lw->w));
    return 2;
  }
  lua_pushboolean(L, 1);
  return 1;
}

static int l_writer_close(lua_State *L) {
  lwriter *lw = luaL_checkudata(L, 1, SHL_WRITER);
  char msg[512];
  sh_op end;
  int rc;
  if (lw->w == NULL) { lua_pushboolean(L, 1); return 1; }
  end.kind = SH_OP_END; end.id = end.size = end.line = 0;
  sh_trace_write(lw->w, &end);
  rc = sh_trace_writer_close(lw->w, msg, sizeof msg);
  lw->w = NULL;
  if (rc != SH_OK) {
    lua_pushnil(L);
    lua_pushstring(L, msg);
    return 2;
  }
  lua_pushboolean(L, 1);
  return 1;
}

/* ---- replay ---- */

typedef struct run {
  int n;
  sh_replay **r;
  FILE **log;
} run;

static void run_free(run *x) {
  int i;
  for (i = 0; i < x->n; i++) {
    if (x->r) sh_replay_free(x->r[i]);
    if (x->log && x->log[i]) fclose(x->log[i]);
  }
  free(x->r);
  free(x->log);
}

static int run_gc(lua_State *L) {
  run_free(lua_touserdata(L, 1));
  return 0;
}

/* core.replay(trace, {machine...}, {check = bool, stop = bool, logs = {path|false...},
**   every = N, sample = fn(k, ops), progress = fn(bytes_read, bytes_total, ops)})
** -> {{ops, errors, messages = {...}}...} | nil, msg on bad input.
** One pass over the input feeds every machine the same operation. */
static int l_replay(lua_State *L) {
  ltrace *lt = checktrace(L, 1);
  int n, i = 0, rc = SH_OK, check = 1, stop = 0, has_sample, has_progress, from_trace = 0;
  lua_Integer every = 0;
  uint64_t count = 0;
  run *x;
  sh_op op;
  const char *name;
  sh_trace_info in;
  luaL_checktype(L, 2, LUA_TTABLE);
  if (!lua_isnoneornil(L, 3)) luaL_checktype(L, 3, LUA_TTABLE);
  else { lua_settop(L, 2); lua_newtable(L); }
  n = (int)luaL_len(L, 2);
  if (n < 1) return luaL_error(L, "replay: no machines");
  lua_getfield(L, 3, "check");
  if (!lua_isnil(L, -1)) check = lua_toboolean(L, -1);
  lua_pop(L, 1);
  lua_getfield(L, 3, "stop");           /* end at the first failed check (a grader's test) */
  stop = lua_toboolean(L, -1);
  lua_pop(L, 1);
  lua_getfield(L, 3, "every");
  every = lua_isnil(L, -1) ? 0 : luaL_checkinteger(L, -1);
  lua_pop(L, 1);
  lua_getfield(L, 3, "sample");          /* index 4 */
  has_sample = !lua_isnil(L, 4);
  lua_getfield(L, 3, "progress");        /* index 5 */
  has_progress = !lua_isnil(L, 5);
  lua_getfield(L, 3, "logs");            /* index 6 */

  x = lua_newuserdatauv(L, sizeof *x, 0);   /* index 7: frees all on any exit */
  memset(x, 0, sizeof *x);
  lua_createtable(L, 0, 1);
  lua_pushcfunction(L, run_gc);
  lua_setfield(L, -2, "__gc");
  lua_setmetatable(L, -2);
  x->r = calloc((size_t)n, sizeof *x->r);
  x->log = calloc((size_t)n, sizeof *x->log);
  if (x->r == NULL || x->log == NULL) return luaL_error(L, "replay: out of memory");
  x->n = n;
  sh_trace_info_get(lt->t, &in);
  name = in.name;
  for (i = 0; i < n; i++) {
    lmach *lm;
    lua_geti(L, 2, i + 1);
    lm = shL_tomach(L, -1);
    lm->L = NULL;             /* a replay's operations come from the trace, not a script line */
    lua_pop(L, 1);
    if (sh_replay_new(&x->r[i], lm->m, name, check ? SH_REPLAY_CHECK : 0) != SH_OK)
      return luaL_error(L, "replay: out of memory");
    if (lua_istable(L, 6) && lua_geti(L, 6, i + 1) == LUA_TSTRING) {
      const char *path = lua_tostring(L, -1);
      if ((x->log[i] = fopen(path, "w")) == NULL) {
        lua_pushnil(L);
        lua_pushfstring(L, "cannot write the log %s", path);
        return 2;
      }
      sh_replay_log(x->r[i], x->log[i]);
    }
    if (lua_istable(L, 6)) lua_pop(L, 1);
  }
  lt->L = L;
  for (;;) {
    if ((rc = sh_trace_next(lt->t, &op)) != SH_OK) { from_trace = 1; break; }
    if (op.kind == SH_OP_END) break;
    for (i = 0; i < n; i++)
      if ((rc = sh_replay_op(x->r[i], &op)) != SH_OK) break;
    if (rc != SH_OK) break;
    count++;
    if (stop) {
      for (i = 0; i < n && sh_replay_error_count(x->r[i]) == 0; i++) {}
      if (i < n) break;
    }
    if (has_sample && every > 0 && count % (uint64_t)every == 0) {
      lua_pushvalue(L, 4);
      lua_pushinteger(L, (lua_Integer)count);
      lua_call(L, 1, 0);
    }
    if (has_progress && count % PROGRESS_EVERY == 0) {
      sh_trace_info_get(lt->t, &in);
      lua_pushvalue(L, 5);
      lua_pushinteger(L, (lua_Integer)in.bytes_read);
      lua_pushinteger(L, (lua_Integer)in.bytes_total);
      lua_pushinteger(L, (lua_Integer)count);
      lua_call(L, 3, 0);
    }
  }
  lt->L = NULL;
  if (rc != SH_OK) {
    lua_pushnil(L);
    lua_pushstring(L, from_trace ? sh_trace_errmsg(lt->t) : sh_replay_errmsg(x->r[i]));
    return 2;
  }
  if (has_sample && every > 0 && count % (uint64_t)every != 0) {
    lua_pushvalue(L, 4);                  /* the end is always a sample */
    lua_pushinteger(L, (lua_Integer)count);
    lua_call(L, 1, 0);
  }
  lua_createtable(L, n, 0);
  for (i = 0; i < n; i++) {
    const char *msg;
    int k;
    lua_createtable(L, 0, 3);
    setint(L, "ops", sh_replay_ops(x->r[i]));
    setint(L, "errors", sh_replay_error_count(x->r[i]));
    lua_newtable(L);
    for (k = 0; (msg = sh_replay_error(x->r[i], k)) != NULL; k++) {
      lua_pushstring(L, msg);
      lua_rawseti(L, -2, k + 1);
    }
    lua_setfield(L, -2, "messages");
    if (x->log[i]) {
      int bad = ferror(x->log[i]);
      if (fclose(x->log[i]) != 0) bad = 1;
      x->log[i] = NULL;
      if (bad) return luaL_error(L, "replay: an I/O error writing the log");
    }
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}

/* core.policies() -> the built-in policies' names, in the engine's order */
static int l_policies(lua_State *L) {
  const char *name;
  int i;
  lua_newtable(L);
  for (i = 0; (name = sh_policy_name(i)) != NULL; i++) {
    lua_pushstring(L, name);
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}

/* ---- host facts ---- */

static int l_isatty(lua_State *L) {
  lua_pushboolean(L, isatty((int)luaL_checkinteger(L, 1)));
  return 1;
}

static int l_getpid(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)getpid());
  return 1;
}

static int exists(const char *path) {
  return access(path, R_OK) == 0;
}

/* The preload library `stackheap record` needs: $STACKHEAP_RECORD_LIB, else
** beside the executable (the build tree), else where it is installed. */
static int l_record_library(lua_State *L) {
  const char *env = getenv("STACKHEAP_RECORD_LIB");
  char buf[PATH_MAX];
  ssize_t n;
  if (env && env[0]) { lua_pushstring(L, env); return 1; }
  n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n > 0 && (size_t)n < sizeof buf - 1) {
    char *slash;
    buf[n] = '\0';
    if ((slash = strrchr(buf, '/')) != NULL) {
      *slash = '\0';
      lua_pushfstring(L, "%s/libstackheap_record.so", buf);
      if (exists(lua_tostring(L, -1))) return 1;
      lua_pop(L, 1);
#ifdef SH_RECORD_LIB_FROM_BINDIR
      lua_pushfstring(L, "%s/" SH_RECORD_LIB_FROM_BINDIR, buf);
      if (exists(lua_tostring(L, -1))) return 1;
      lua_pop(L, 1);
#endif
    }
  }
#ifdef SH_RECORD_LIB_BUILT
  if (exists(SH_RECORD_LIB_BUILT)) { lua_pushstring(L, SH_RECORD_LIB_BUILT); return 1; }
#endif
#ifdef SH_RECORD_LIB_INSTALLED
  if (exists(SH_RECORD_LIB_INSTALLED)) { lua_pushstring(L, SH_RECORD_LIB_INSTALLED); return 1; }
#endif
  lua_pushnil(L);
  return 1;
}

void shL_open_trace(lua_State *L) {
  static const luaL_Reg trace_methods[] = {
    { "next", l_trace_next }, { "info", l_trace_info }, { "on_warning", l_trace_on_warning },
    { "close", l_trace_close }, { NULL, NULL }
  };
  static const luaL_Reg writer_methods[] = {
    { "write", l_writer_write }, { "close", l_writer_close }, { NULL, NULL }
  };
  static const luaL_Reg funcs[] = {
    { "trace_open", l_trace_open }, { "trace_from_string", l_trace_string },
    { "trace_writer", l_writer_open }, { "replay", l_replay }, { "isatty", l_isatty },
    { "getpid", l_getpid }, { "policies", l_policies }, { "record_library", l_record_library }, { NULL, NULL }
  };
  shL_class(L, SHL_TRACE, trace_methods, l_trace_close);
  shL_class(L, SHL_WRITER, writer_methods, l_writer_close);
  luaL_setfuncs(L, funcs, 0);
}
