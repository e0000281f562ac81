#!/bin/sh
# Runs the native 32-bit builds of the benchmark kernels (roms/bench/native/)
# and prints each one's checksum line and wall time.
#   scripts/bench_native.sh [BUILD_DIR] [quick|ITERATIONS]
# BUILD_DIR defaults to build; the executables are BUILD_DIR/roms/bench/*_native
# (built with the default target when gcc -m32 -static works).
set -eu
build=${1:-build}
arg=${2:-}
status=0
found=0
for exe in "$build"/roms/bench/*_native; do
  [ -x "$exe" ] || continue
  found=1
  if ! "$exe" $arg; then
    status=1
  fi
done
if [ "$found" = 0 ]; then
  echo "no native benchmark executables in $build/roms/bench (is gcc-multilib installed?)" >&2
  exit 2
fi
exit $status
