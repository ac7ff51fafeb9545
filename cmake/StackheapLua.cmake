# StackheapLua.cmake — finds Lua 5.4 and defines two imported targets:
# Lua54::headers (compile only, for modules) and Lua54::lua (headers + library).
#
# A Lua C module must not link liblua: it takes the Lua API from the process
# that loads it, and a second copy of the VM would corrupt shared state. So
# the headers are a target of their own.

find_package(PkgConfig QUIET)
if(PkgConfig_FOUND)
  # Debian calls it lua5.4; other distributions use lua-5.4 or lua54.
  pkg_search_module(SH_PC_LUA QUIET lua5.4 lua-5.4 lua54)
endif()

find_path(LUA54_INCLUDE_DIR lua.h
  HINTS ${SH_PC_LUA_INCLUDE_DIRS}
  PATH_SUFFIXES lua5.4 lua54 lua-5.4
  DOC "Directory holding Lua 5.4's lua.h")
find_library(LUA54_LIBRARY
  NAMES lua5.4 lua54 lua-5.4
  HINTS ${SH_PC_LUA_LIBRARY_DIRS}
  DOC "The Lua 5.4 library")

if(NOT LUA54_INCLUDE_DIR OR NOT LUA54_LIBRARY)
  message(FATAL_ERROR
    "Lua 5.4 headers or library not found (on Debian: apt-get install liblua5.4-dev). "
    "Set LUA54_INCLUDE_DIR and LUA54_LIBRARY to point at them.")
endif()

# A bare lua.h on the include path may belong to another Lua version; the
# API differs between versions, so refuse anything but 5.4 here rather than
# fail later with confusing compile errors.
file(STRINGS "${LUA54_INCLUDE_DIR}/lua.h" _sh_lua_vnum REGEX "^#define[ \t]+LUA_VERSION_NUM[ \t]+[0-9]+")
string(REGEX REPLACE ".*LUA_VERSION_NUM[ \t]+([0-9]+).*" "\\1" _sh_lua_vnum "${_sh_lua_vnum}")
if(NOT _sh_lua_vnum EQUAL 504)
  message(FATAL_ERROR "${LUA54_INCLUDE_DIR}/lua.h is Lua version ${_sh_lua_vnum}, not 504 (Lua 5.4)")
endif()
message(STATUS "Lua 5.4: ${LUA54_INCLUDE_DIR}, ${LUA54_LIBRARY}")

if(NOT TARGET Lua54::headers)
  add_library(Lua54::headers INTERFACE IMPORTED)
  set_target_properties(Lua54::headers PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${LUA54_INCLUDE_DIR}")
  add_library(Lua54::lua INTERFACE IMPORTED)
  set_target_properties(Lua54::lua PROPERTIES
    INTERFACE_LINK_LIBRARIES "Lua54::headers;${LUA54_LIBRARY};${CMAKE_DL_LIBS}")
endif()
