#!/usr/bin/env bash
# suite.sh — the whole test suite: a strict release build, then a debug build
# under AddressSanitizer and UBSan, each followed by ctest; fails if either does.
set -euo pipefail
cd "$(dirname "$0")/.."

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DSH_WERROR=ON -DSH_SANITIZE=OFF
cmake --build build -j2
ctest --test-dir build --output-on-failure -j2

cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DSH_SANITIZE=ON -DSH_WERROR=ON
cmake --build build-asan -j2
# Leaks are bugs here; a UBSan report must fail the test, not scroll past.
export ASAN_OPTIONS=detect_leaks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# exec: ctest's summary is the last thing printed, and its status is ours.
exec ctest --test-dir build-asan --output-on-failure -j2
