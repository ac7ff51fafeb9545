/* host.c — the `stackheap` executable: embeds Lua 5.4, makes the stackheap
 * modules reachable, and hands the command line to stackheap.cli. */

/* readlink() and realpath() are POSIX (realpath in its XSI part), not C11. */
#define _XOPEN_SOURCE 700

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "lcore.h"

#ifndef SH_SOURCE_SCRIPTS
#error "SH_SOURCE_SCRIPTS must name the source tree's scripts/ directory"
#endif
#ifndef SH_INSTALLED_SCRIPTS
#define SH_INSTALLED_SCRIPTS "../share/lua/5.4"
#endif

static int file_exists(const char *path) {
    FILE *f = fopen(path, "r");
    if (f == NULL) return 0;
    fclose(f);
    return 1;
}

/* Pushes the directory holding the executable, or nothing and returns 0.
 * argv[0] cannot be trusted for this (it is whatever the caller passed,
 * often a bare name found on PATH), so ask the kernel. */
static int push_exe_dir(lua_State *L) {
    char buf[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0 || (size_t)n >= sizeof buf - 1) return 0;
    buf[n] = '\0';
    char *slash = strrchr(buf, '/');
    if (slash == NULL) return 0;
    *slash = '\0';
    lua_pushstring(L, buf);
    return 1;
}

/* Pushes the installed scripts directory next to the executable, canonical
 * (no "bin/.." in error messages), if stackheap/init.lua is there. */
static int push_installed_dir(lua_State *L) {
    char dir[PATH_MAX];
    if (!push_exe_dir(L)) return 0;
    const char *guess = lua_pushfstring(L, "%s/" SH_INSTALLED_SCRIPTS, lua_tostring(L, -1));
    int resolved = realpath(guess, dir) != NULL;
    lua_pop(L, 2);
    if (!resolved) return 0;
    lua_pushfstring(L, "%s/stackheap/init.lua", dir);
    int found = file_exists(lua_tostring(L, -1));
    lua_pop(L, 1);
    if (found) lua_pushstring(L, dir);
    return found;
}

/* Pushes the directory that holds stackheap/init.lua. The environment wins
 * so a developer can point an installed host at a work tree; then an
 * installed layout next to the executable; then the source tree the build
 * came from, so a build-tree host works with no install step. */
static void push_scripts_dir(lua_State *L) {
    const char *env = getenv("STACKHEAP_SCRIPTS");
    if (env != NULL && env[0] != '\0') {
        lua_pushstring(L, env);
    } else if (!push_installed_dir(L)) {
        lua_pushliteral(L, SH_SOURCE_SCRIPTS);
    }
}

/* Our scripts go first so an older stackheap installed elsewhere on the
 * path cannot shadow them; the existing path stays so Debian's lpeg,
 * argparse, cjson and busted still load. */
static void set_package_path(lua_State *L) {
    lua_getglobal(L, "package");
    push_scripts_dir(L);
    const char *dir = lua_tostring(L, -1);
    lua_getfield(L, -2, "path");
    lua_pushfstring(L, "%s/?.lua;%s/?/init.lua;%s", dir, dir, lua_tostring(L, -1));
    lua_setfield(L, -4, "path");
    lua_pop(L, 3);
}

/* The binding is linked into the host, so no .so has to be found for it. */
static void preload_core(lua_State *L) {
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
    lua_pushcfunction(L, luaopen_stackheap_core);
    lua_setfield(L, -2, "stackheap.core");
    lua_pop(L, 1);
}

/* The global `arg`, as lua5.4 makes it, for code that looks there
 * (argparse does, for its default program name). */
static void set_arg(lua_State *L, int argc, char **argv) {
    lua_createtable(L, argc, 1);
    for (int i = 0; i < argc; i++) {
        lua_pushstring(L, argv[i]);
        lua_rawseti(L, -2, i);
    }
    lua_setglobal(L, "arg");
}

/* Turns any error value into a one-line message, as lua.c does, but with
 * no traceback: users see what went wrong, not our Lua call stack. */
static int message_handler(lua_State *L) {
    const char *msg = lua_tostring(L, 1);
    if (msg != NULL) return 1;
    if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING) return 1;
    lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    return 1;
}

/* Everything that can fail runs here, under lua_pcall, so that even an
 * out-of-memory during setup becomes a message instead of an abort. */
static int pmain(lua_State *L) {
    int argc = (int)lua_tointeger(L, 1);
    char **argv = (char **)lua_touserdata(L, 2);

    luaL_openlibs(L);
    preload_core(L);
    set_package_path(L);
    set_arg(L, argc, argv);

    lua_getglobal(L, "require");
    lua_pushliteral(L, "stackheap.cli");
    lua_call(L, 1, 1);
    lua_getfield(L, -1, "main");
    luaL_checkstack(L, argc, "too many arguments");
    for (int i = 1; i < argc; i++) lua_pushstring(L, argv[i]);
    lua_call(L, argc - 1, 1);

    /* main returns an exit status; nothing (nil) means success. */
    if (lua_isnil(L, -1)) {
        lua_pushinteger(L, 0);
    } else if (!lua_isinteger(L, -1)) {
        return luaL_error(L, "stackheap.cli.main returned a %s, not an exit status",
                          luaL_typename(L, -1));
    }
    return 1;
}

int main(int argc, char **argv) {
    lua_State *L = luaL_newstate();
    if (L == NULL) {
        fputs("stackheap: cannot create a Lua state: not enough memory\n", stderr);
        return 1;
    }
    lua_pushcfunction(L, message_handler);
    lua_pushcfunction(L, pmain);
    lua_pushinteger(L, argc);
    lua_pushlightuserdata(L, argv);
    int status = 1;
    if (lua_pcall(L, 2, 1, 1) == LUA_OK) {
        status = (int)lua_tointeger(L, -1);
    } else {
        /* Flush first so the error lands after whatever the script printed. */
        fflush(stdout);
        fprintf(stderr, "stackheap: %s\n", lua_tostring(L, -1));
    }
    lua_close(L);
    return status;
}
