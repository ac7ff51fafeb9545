# StackheapTests.cmake — registers every test with ctest, named and labelled
# by kind: c.*, spec.*, cli.*, install.*. Test files are found by glob.

# Generous but finite: a hung test must fail the suite, not stall CI.
set(SH_TEST_TIMEOUT 300)

# --- c.<name>: each tests/c/test_<name>.c is a program; non-zero exit fails -----
file(GLOB SH_C_TESTS CONFIGURE_DEPENDS "${PROJECT_SOURCE_DIR}/tests/c/test_*.c")
foreach(src IN LISTS SH_C_TESTS)
  get_filename_component(exe "${src}" NAME_WE)
  string(REGEX REPLACE "^test_" "" name "${exe}")
  add_executable(${exe} "${src}")
  # engine/ too: unit tests may reach internal headers of the unit they test.
  target_include_directories(${exe} PRIVATE
    "${PROJECT_SOURCE_DIR}/tests/c"
    "${PROJECT_SOURCE_DIR}/engine")
  target_link_libraries(${exe} PRIVATE stackheap_static)
  set_target_properties(${exe} PROPERTIES RUNTIME_OUTPUT_DIRECTORY "${PROJECT_BINARY_DIR}/tests/c")
  add_test(NAME c.${name} COMMAND ${exe})
  set_tests_properties(c.${name} PROPERTIES LABELS c TIMEOUT ${SH_TEST_TIMEOUT})
endforeach()

# --- spec.<name>: busted specs, run inside our own host -----------------------
# Through the host rather than lua5.4 so that, in a sanitizer build, the C
# engine and binding are checked while the specs drive them. A missing busted
# is a failing test (with the package to install), not a silently smaller suite.
find_program(SH_BUSTED busted)
if(NOT SH_BUSTED)
  set(SH_BUSTED "busted-not-found-apt-get-install-lua-busted")
endif()
file(GLOB SH_SPECS CONFIGURE_DEPENDS "${PROJECT_SOURCE_DIR}/tests/spec/*_spec.lua")
foreach(spec IN LISTS SH_SPECS)
  get_filename_component(file "${spec}" NAME)
  string(REGEX REPLACE "_spec\\.lua$" "" name "${file}")
  add_test(NAME spec.${name}
    COMMAND stackheap run "${SH_BUSTED}" -o TAP "tests/spec/${file}"
    WORKING_DIRECTORY "${PROJECT_SOURCE_DIR}")
  # Pinned to this tree, so a STACKHEAP_SCRIPTS left in the caller's
  # environment (say, an installed copy) cannot make the specs test other code.
  set_tests_properties(spec.${name} PROPERTIES
    LABELS spec
    TIMEOUT ${SH_TEST_TIMEOUT}
    ENVIRONMENT "STACKHEAP_SCRIPTS=${PROJECT_SOURCE_DIR}/scripts")
endforeach()

# --- cli.<name>: end-to-end tests of the `stackheap` command ---------------------
set(SH_CLI_ENV
  "STACKHEAP=$<TARGET_FILE:stackheap>"
  "SH_SOURCE_DIR=${PROJECT_SOURCE_DIR}"
  "SH_VERSION=${PROJECT_VERSION}")
# browser.<name>: the same kind of script, driving report pages in headless
# Chromium (tests/browser/lib.sh), labelled apart so they can be run alone.
foreach(kind cli browser)
  file(GLOB scripts CONFIGURE_DEPENDS "${PROJECT_SOURCE_DIR}/tests/${kind}/test_*.sh")
  foreach(script IN LISTS scripts)
    get_filename_component(name "${script}" NAME_WE)
    string(REGEX REPLACE "^test_" "" name "${name}")
    add_test(NAME ${kind}.${name} COMMAND bash "${script}" WORKING_DIRECTORY "${PROJECT_SOURCE_DIR}")
    # Exit 77: a tool the test needs (valgrind) is missing; ctest shows it as skipped.
    set_tests_properties(${kind}.${name} PROPERTIES
      LABELS ${kind} TIMEOUT ${SH_TEST_TIMEOUT} ENVIRONMENT "${SH_CLI_ENV}" SKIP_RETURN_CODE 77)
  endforeach()
endforeach()

# One test per example scenario: it must succeed and print the same bytes on
# two runs. Examples added later get their test at the next build.
foreach(example IN LISTS SH_EXAMPLES)
  get_filename_component(name "${example}" NAME_WE)
  add_test(NAME cli.example.${name}
    COMMAND bash "${PROJECT_SOURCE_DIR}/tests/cli/example.sh" "scripts/examples/${name}.lua"
    WORKING_DIRECTORY "${PROJECT_SOURCE_DIR}")
  set_tests_properties(cli.example.${name} PROPERTIES
    LABELS cli TIMEOUT ${SH_TEST_TIMEOUT} ENVIRONMENT "${SH_CLI_ENV}")
endforeach()

# --- install.pkgconfig: install to a scratch prefix and use it as an outsider ---
find_program(SH_LUA_INTERPRETER NAMES lua5.4 lua54)
if(NOT SH_LUA_INTERPRETER)
  set(SH_LUA_INTERPRETER "lua5.4")
endif()
find_program(SH_PKG_CONFIG NAMES pkg-config pkgconf)
if(NOT SH_PKG_CONFIG)
  set(SH_PKG_CONFIG "pkg-config")
endif()
# The outsider's program must be built like ours: sanitized objects need the
# sanitizer runtime at link time, and -Werror shows the public header is clean.
set(SH_OUTSIDER_CFLAGS "-std=c11 -Wall -Wextra -Wpedantic")
if(SH_WERROR)
  string(APPEND SH_OUTSIDER_CFLAGS " -Werror")
endif()
if(SH_SANITIZE)
  list(JOIN SH_SANITIZE_FLAGS " " _flags)
  string(APPEND SH_OUTSIDER_CFLAGS " ${_flags}")
endif()
add_test(NAME install.pkgconfig
  COMMAND bash "${PROJECT_SOURCE_DIR}/tests/install/run.sh"
  WORKING_DIRECTORY "${PROJECT_BINARY_DIR}")
set_tests_properties(install.pkgconfig PROPERTIES
  LABELS install
  TIMEOUT ${SH_TEST_TIMEOUT}
  ENVIRONMENT "SH_BUILD_DIR=${PROJECT_BINARY_DIR};SH_SOURCE_DIR=${PROJECT_SOURCE_DIR};SH_VERSION=${PROJECT_VERSION};SH_CMAKE=${CMAKE_COMMAND};SH_CC=${CMAKE_C_COMPILER};SH_CFLAGS=${SH_OUTSIDER_CFLAGS};SH_SANITIZE=$<BOOL:${SH_SANITIZE}>;SH_LUA=${SH_LUA_INTERPRETER};SH_PKG_CONFIG=${SH_PKG_CONFIG};SH_LIBDIR=${CMAKE_INSTALL_LIBDIR};SH_INCLUDEDIR=${CMAKE_INSTALL_INCLUDEDIR};SH_LUA_LDIR=${SH_INSTALL_LUA_LDIR};SH_LUA_CDIR=${SH_INSTALL_LUA_CDIR};SH_DATADIR=${CMAKE_INSTALL_DATADIR};SH_BINDIR=${CMAKE_INSTALL_BINDIR}")
include(StackheapFuzz)
