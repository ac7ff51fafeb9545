/* lcore.h -- the Lua binding of libstackheap, module `stackheap.core`.
** The CLI host links it in and preloads it; a stock lua5.4 loads it as core.so. */
#ifndef SH_LCORE_H
#define SH_LCORE_H

#include <lua.h>

int luaopen_stackheap_core(lua_State *L);

#endif
