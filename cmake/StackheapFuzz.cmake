# StackheapFuzz.cmake — fuzz.<target>: libFuzzer targets in tests/fuzz/, one per trace
# reader, a whole replay, and the checker (random programs on every policy), built with
# clang (whatever compiles the rest) when clang can build a fuzzer, and run briefly as
# tests so every CI run exercises them.

find_program(SH_CLANG NAMES clang clang-16 clang-15 clang-14)
set(SH_FUZZ_FLAGS -g -O1 -std=c11 -fsanitize=fuzzer-no-link,address,undefined
  -fno-sanitize-recover=undefined)
if(SH_CLANG AND NOT DEFINED SH_FUZZ_WORKS)
  set(_dir "${PROJECT_BINARY_DIR}/CMakeFiles/fuzzcheck")
  file(MAKE_DIRECTORY "${_dir}")
  file(WRITE "${_dir}/t.c" "#include <stddef.h>\n#include <stdint.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n")
  execute_process(COMMAND "${SH_CLANG}" -fsanitize=fuzzer,address,undefined "${_dir}/t.c" -o "${_dir}/t"
    RESULT_VARIABLE _rc OUTPUT_QUIET ERROR_QUIET)
  if(_rc EQUAL 0)
    set(SH_FUZZ_WORKS ON CACHE INTERNAL "clang builds libFuzzer targets")
  else()
    set(SH_FUZZ_WORKS OFF CACHE INTERNAL "clang builds libFuzzer targets")
  endif()
endif()

if(SH_FUZZ_WORKS)
  set(_fuzzdir "${PROJECT_BINARY_DIR}/tests/fuzz")
  # The engine compiled once by clang, instrumented, for all the targets. Every engine
  # header is a dependency: a struct changed in one (tree.h) must rebuild every user.
  file(GLOB _hdrs "${PROJECT_SOURCE_DIR}/engine/*.h" "${PROJECT_SOURCE_DIR}/engine/*/*.h")
  set(_objs "")
  foreach(src IN LISTS SH_ENGINE_SOURCES)
    file(RELATIVE_PATH _rel "${PROJECT_SOURCE_DIR}/engine" "${src}")
    string(REPLACE "/" "_" _obj "${_rel}")
    set(_obj "${_fuzzdir}/obj/${_obj}.o")
    add_custom_command(OUTPUT "${_obj}"
      COMMAND "${CMAKE_COMMAND}" -E make_directory "${_fuzzdir}/obj"
      COMMAND "${SH_CLANG}" ${SH_FUZZ_FLAGS} "-I${PROJECT_SOURCE_DIR}/engine/include"
              "-I${PROJECT_SOURCE_DIR}/engine" -c "${src}" -o "${_obj}"
      DEPENDS "${src}" ${_hdrs}
      VERBATIM)
    list(APPEND _objs "${_obj}")
  endforeach()
  set(_targets "mtrace:SH_TRACE_MTRACE" "rep:SH_TRACE_REP" "jsonl:SH_TRACE_JSONL"
    "bin:SH_TRACE_BIN" "replay:SH_TRACE_AUTO")
  set(_exes "")
  foreach(t IN LISTS _targets)
    string(REPLACE ":" ";" _pair "${t}")
    list(GET _pair 0 _name)
    list(GET _pair 1 _fmt)
    set(_defs "-DFUZZ_FORMAT=${_fmt}")
    if(_name STREQUAL "replay")
      list(APPEND _defs -DFUZZ_REPLAY)
    endif()
    set(_exe "${_fuzzdir}/fuzz_${_name}")
    add_custom_command(OUTPUT "${_exe}"
      COMMAND "${SH_CLANG}" ${SH_FUZZ_FLAGS} -fsanitize=fuzzer ${_defs}
              "-I${PROJECT_SOURCE_DIR}/engine/include"
              "${PROJECT_SOURCE_DIR}/tests/fuzz/fuzz_trace.c" ${_objs} -lm -o "${_exe}"
      DEPENDS "${PROJECT_SOURCE_DIR}/tests/fuzz/fuzz_trace.c" ${_objs}
      VERBATIM)
    list(APPEND _exes "${_exe}")
    # Brief and repeatable: a fixed seed, the hand-written traces as the seed corpus,
    # new inputs kept in the build tree (never in the sources).
    # A replay builds a machine per input, so it gets fewer runs.
    set(_runs 20000)
    if(_name STREQUAL "replay")
      set(_runs 2000)
    endif()
    add_test(NAME fuzz.${_name}
      COMMAND bash -c "rm -rf \"$1\" && mkdir -p \"$1\" && \"$0\" -seed=1 -runs=${_runs} -max_len=2048 -timeout=10 \"$1\" \"$2\""
              "${_exe}" "${_fuzzdir}/corpus_${_name}" "${PROJECT_SOURCE_DIR}/tests/traces")
    set_tests_properties(fuzz.${_name} PROPERTIES LABELS fuzz TIMEOUT ${SH_TEST_TIMEOUT})
  endforeach()
  # The checker's target drives the C API with random programs on every policy.
  # It runs for a fixed time (SH_FUZZ_CHECKER_SECONDS) from the seeds in
  # tests/fuzz/checker/; new inputs stay in the build tree.
  set(SH_FUZZ_CHECKER_SECONDS 30 CACHE STRING "seconds fuzz.checker runs in ctest")
  set(_exe "${_fuzzdir}/fuzz_checker")
  add_custom_command(OUTPUT "${_exe}"
    COMMAND "${SH_CLANG}" ${SH_FUZZ_FLAGS} -fsanitize=fuzzer
            "-I${PROJECT_SOURCE_DIR}/engine/include"
            "${PROJECT_SOURCE_DIR}/tests/fuzz/fuzz_checker.c" ${_objs} -lm -o "${_exe}"
    DEPENDS "${PROJECT_SOURCE_DIR}/tests/fuzz/fuzz_checker.c" ${_objs}
    VERBATIM)
  list(APPEND _exes "${_exe}")
  add_test(NAME fuzz.checker
    COMMAND bash -c "rm -rf \"$1\" && mkdir -p \"$1\" && \"$0\" -seed=1 -max_total_time=${SH_FUZZ_CHECKER_SECONDS} -max_len=4096 -timeout=10 \"$1\" \"$2\""
            "${_exe}" "${_fuzzdir}/corpus_checker" "${PROJECT_SOURCE_DIR}/tests/fuzz/checker")
  set_tests_properties(fuzz.checker PROPERTIES LABELS fuzz TIMEOUT ${SH_TEST_TIMEOUT})
  add_custom_target(fuzz_targets ALL DEPENDS ${_exes})
else()
  message(WARNING "fuzz.* tests skipped: no clang that builds libFuzzer targets "
    "(apt-get install clang libclang-rt-14-dev, as the README's commands do)")
endif()
