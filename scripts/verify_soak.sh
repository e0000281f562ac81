#!/usr/bin/env bash
# Runs each benchmark workload (roms/bench/) under `--engine verify` (the
# interpreter and the translator in lockstep, deterministic clock) for a
# given wall-clock time, and fails on the first divergence. A workload that
# finishes before its time is up is started again (same ROM, a fresh
# process), so the time is always filled; the last run is cut by --timeout.
# A run counts as clean when popek exits 1 (the workload's PASS on port 0xF4:
# its output must also hold the PASS line and the expected checksum) or 124
# (the time ran out mid-run); a divergence exits 3 with verify's report,
# anything else is a failure too. The statistics of each run (retired
# instructions) are summed per workload.
#
# Usage: scripts/verify_soak.sh [-b BUILD_DIR] [-m MINUTES] [WORKLOAD...]
#   default: build, 10 minutes, every workload in BUILD_DIR/roms/bench/
#   (the full ROMs, 1-3 billion instructions each: a run never finishes in
#   10 minutes at verify's speed, so one process covers the whole time).
#   QUICK=1 uses the *_quick.bin ROMs (a few million instructions; loops
#   many times in a short time: a check of this script itself).
# Output: one line per workload, then "verify_soak: N workloads, no
# divergence" or the failure; logs stay in $VERIFY_SOAK_DIR (default a
# temporary directory, removed when everything passed).
set -euo pipefail
cd "$(dirname "$0")/.."
build=build minutes=10
while getopts "b:m:" opt; do
  case "$opt" in
    b) build="$OPTARG" ;;
    m) minutes="$OPTARG" ;;
    *) echo "usage: $0 [-b BUILD_DIR] [-m MINUTES] [WORKLOAD...]" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
popek="$build/popek"
benchdir="$build/roms/bench"
[ -x "$popek" ] || { echo "verify_soak: $popek missing (scripts/build.sh $build)" >&2; exit 2; }
[[ "$minutes" =~ ^[0-9]+([.][0-9]+)?$ ]] || { echo "verify_soak: -m $minutes: not a number of minutes" >&2; exit 2; }
suffix=""; [ "${QUICK:-0}" = 1 ] && suffix="_quick"
if [ $# -eq 0 ]; then
  set --
  for rom in "$benchdir"/*_quick.bin; do
    [ -e "$rom" ] || break
    n=$(basename "$rom" _quick.bin); set -- "$@" "$n"
  done
  [ $# -gt 0 ] || { echo "verify_soak: no workloads in $benchdir" >&2; exit 2; }
fi
dir="${VERIFY_SOAK_DIR:-$(mktemp -d)}"
mkdir -p "$dir"
budget=$(awk -v m="$minutes" 'BEGIN { printf "%.3f", m * 60 }')
failed=0
for w in "$@"; do
  rom="$benchdir/$w$suffix.bin"
  [ -f "$rom" ] || { echo "verify_soak: $rom missing" >&2; exit 2; }
  # The ROM's parameter block (0x40 bytes from its end: "PBNC", iterations,
  # checksum, checksum-valid) holds the checksum a correct run prints.
  size=$(stat -c %s "$rom")
  read -r magic _ cks valid < <(od -An -tx4 -j $((size - 64)) -N 16 "$rom" | tr a-f A-F)
  [ "$magic" = 434E4250 ] || { echo "verify_soak: $rom: no PBNC parameter block" >&2; exit 2; }
  want="checksum=0x[0-9A-F]*"; [ "$valid" = 00000001 ] && want="checksum=0x$cks"
  start=$(date +%s.%N)
  runs=0 passes=0 retired=0
  while :; do
    left=$(awk -v b="$budget" -v s="$start" -v n="$(date +%s.%N)" 'BEGIN { printf "%.3f", b - (n - s) }')
    awk -v l="$left" 'BEGIN { exit !(l > 0.5) }' || break
    runs=$((runs + 1))
    base="$dir/$w.$runs"
    set +e
    "$popek" --engine verify --headless --bios "$rom" --debugcon "file:$base.debugcon" \
      --stats "$base.json" --timeout "$left" >"$base.out" 2>"$base.err"
    status=$?
    set -e
    n=$(grep -o '"retired_instructions": *[0-9]*' "$base.json" 2>/dev/null | grep -o '[0-9]*$' || echo 0)
    retired=$((retired + n))
    if [ "$status" -eq 124 ]; then
      break  # the time ran out in the middle of a run: clean
    elif [ "$status" -eq 1 ] && grep -q "^PASS $w$suffix\$" "$base.debugcon" \
         && grep -q "^$w iterations=0x[0-9A-F]* $want\$" "$base.debugcon"; then
      passes=$((passes + 1))
      continue
    fi
    echo "verify_soak: $w FAILED in run $runs (status $status) after $retired instructions; $base.err:"
    tail -n 20 "$base.err"
    failed=1
    break
  done
  secs=$(awk -v s="$start" -v n="$(date +%s.%N)" 'BEGIN { printf "%.0f", n - s }')
  [ "$failed" -eq 0 ] && echo "verify_soak: $w ok: $secs s, $runs run(s), $passes complete with PASS, $retired instructions in lockstep"
  [ "$failed" -eq 0 ] || break
done
if [ "$failed" -eq 0 ]; then
  echo "verify_soak: $# workload(s) x $minutes min under verify, no divergence"
  [ -n "${VERIFY_SOAK_DIR:-}" ] || rm -rf "$dir"
  exit 0
fi
echo "verify_soak: logs in $dir"
exit 1
