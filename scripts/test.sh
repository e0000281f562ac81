#!/usr/bin/env bash
# The whole test suite: a release build with every unit, ROM and differential
# test, then the same suite under AddressSanitizer and UBSan. Tests labelled
# `slow` (real guests, long differential runs) run only in the release build:
# under the sanitizers they would take most of CI's budget. The window test
# (label gui) runs under xvfb-run; it is registered only where xvfb-run,
# xdotool and xwd exist, which scripts/setup.sh installs.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# The Linux guest for tests/linux (Debian packages; quick when already fetched).
scripts/fetch_guest.sh
jobs="$(nproc)"
scripts/build.sh build
(cd build && ctest --output-on-failure -j"$jobs" --timeout 300)
if [ "${POPEK_SKIP_SANITIZERS:-0}" != "1" ]; then
  scripts/build.sh build-asan asan
  (cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
     ctest --output-on-failure -j"$jobs" --timeout 600 -LE slow)
fi
# A short fuzzing pass (scripts/fuzz.sh, about 2.5 minutes) when clang is
# installed (scripts/setup.sh installs it); POPEK_SKIP_FUZZ=1 skips it.
if [ "${POPEK_SKIP_FUZZ:-0}" != "1" ] && { command -v clang++-14 || command -v clang++; } >/dev/null; then
  scripts/fuzz.sh
fi
