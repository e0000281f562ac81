#!/usr/bin/env bash
# Configures and builds Popek into build/ (or $1), optionally with sanitizers ($2=asan).
# The release build has no debug info and the sanitizer build uses -O1 with
# line tables only: both keep CI's compile time down on a 2-core machine.
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${1:-build}"
extra=(-DCMAKE_BUILD_TYPE=Release)
if [ "${2:-}" = "asan" ]; then
  extra=(-DPOPEK_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug "-DCMAKE_CXX_FLAGS_DEBUG=-O1 -g1" "-DCMAKE_C_FLAGS_DEBUG=-O1 -g1")
fi
cmake -S . -B "$dir" -G Ninja "${extra[@]}" >/dev/null
cmake --build "$dir" -j"$(nproc)"
