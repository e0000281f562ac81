#!/usr/bin/env bash
# Configures and builds Popek into build/ (or $1), optionally with sanitizers ($2=asan).
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${1:-build}"
extra=()
if [ "${2:-}" = "asan" ]; then extra+=(-DPOPEK_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug); fi
cmake -S . -B "$dir" -G Ninja "${extra[@]}" >/dev/null
cmake --build "$dir" -j"$(nproc)"
