/* lbind.h -- what the files of the Lua binding share: userdata types and helpers.
** Private to bindings/; names are shL_ like lauxlib's luaL_. */
#ifndef SH_LBIND_H
#define SH_LBIND_H

#include <lua.h>
#include <lauxlib.h>
#include "stackheap.h"

#define SHL_MACHINE "stackheap.machine"
#define SHL_FRAME "stackheap.frame"
#define SHL_LAYOUT "stackheap.layout"

typedef struct lmach {
  sh_machine *m;
  int raise;                   /* check = "raise": the first misuse is a Lua error */
  lua_State *L;                /* the thread of the method running now (for sites) */
  char site[320];              /* "file:line" of the scenario line asking */
  char internal[256];          /* source prefix of stackheap's own scripts, skipped */
  int drops;                   /* pops call the frame metatable's __drop (m:_drops(true)) */
} lmach;

typedef struct lframe {
  uint64_t id;
  const char *name;            /* interned by the machine, which this frame keeps alive */
  lmach *lm;
} lframe;

typedef struct llayout {
  sh_layout *l;
} llayout;

/* lcore.c */
lmach *shL_tomach(lua_State *L, int i);
int shL_fail(lua_State *L, lmach *lm);
/* After an operation that may have recorded misuse: with check = "raise",
** the first new report becomes a Lua error naming the scenario line. */
void shL_misuse(lua_State *L, lmach *lm, int before);
/* An integer argument (floats with an exact integer value too); the error
** names the operation and what the argument is. */
lua_Integer shL_intarg(lua_State *L, int i, const char *op, const char *what);
/* A width argument: 1, 2, 4 or 8, the machine's word when absent. */
int shL_widtharg(lua_State *L, sh_machine *m, int i, const char *op);
/* The metatable `name` for a userdata class: methods as __index, and
** `close` as both __gc and __close. */
void shL_class(lua_State *L, const char *name, const luaL_Reg *methods, lua_CFunction close);

/* loptions.c: sh.machine{...} into a config; returns 1 for check = "raise"
** (or check = {raise = true}) */
int shL_machine_options(lua_State *L, int t, sh_config *c);
void shL_known_keys(lua_State *L, int t, const char *where, const char *const known[]);

/* lvalue.c: typed memory <-> Lua values; t is a stackheap.decl type table */
sh_kind shL_kind_of(lua_State *L, int t);
uint64_t shL_ufield(lua_State *L, int t, const char *key);
void shL_push_scalar(lua_State *L, lmach *lm, uint64_t addr, sh_kind k, uint64_t size);
void shL_store_scalar(lua_State *L, lmach *lm, uint64_t addr, sh_kind k, uint64_t size,
                      int vi, const char *what, const char *type);
void shL_push_typed(lua_State *L, lmach *lm, uint64_t addr, int t);
void shL_store_typed(lua_State *L, lmach *lm, uint64_t addr, int t, int vi, const char *what);

/* lcache.c: the `cache` option (value at idx), stats().cache and
** stats().access_cycles into the table on top, m:sweep/m:chase, core.cache_trace */
void shL_cache_options(lua_State *L, int idx, sh_cache_config *c);
void shL_stats_cache(lua_State *L, lmach *lm, const sh_stats *s);
extern const luaL_Reg shL_cache_methods[];
void shL_open_cache(lua_State *L);
/* Tell the collector about the host memory a new machine's cache took. */
void shL_cache_pressure(lua_State *L, const sh_config *c);

/* ltrace.c: core.trace_open, core.trace_writer, core.replay and host facts */
void shL_open_trace(lua_State *L);

/* lpolicy.c: core.policy (a policy written in Lua) and its use as a machine's
** heap policy: attach pushes the userdata backing it, for the machine to keep */
int shL_is_policy(lua_State *L, int i);
int shL_policy_attach(lua_State *L, int opts, sh_config *c);
void shL_open_policy(lua_State *L);

/* lsandbox.c: core.sandbox (spawn, poll, now): the grader's child processes */
void shL_open_sandbox(lua_State *L);
/* lrandom.c: core.random(seed), Python's generator */
void shL_open_random(lua_State *L);

/* lsteps.c: m:_tally, m:_differ, m:free_lists (what reports record) */
extern const luaL_Reg shL_steps_methods[];

/* lframe.c: layouts, frames, and the machine's stack methods */
extern const luaL_Reg shL_stack_methods[];
void shL_open_frames(lua_State *L);

#endif
