#!/usr/bin/env bash
# Measures how the window responds while the guest storms (tests/soak/
# storm.asm: SMC and code-footprint storm, #PF storm, interrupt storm), next
# to a quiet guest, on a virtual X server. Not a ctest: a measurement for
# docs/hardening.md. Run it under xvfb-run:
#   xvfb-run -a -s "-screen 0 1280x1024x24" tests/soak/ui_storm.sh build/popek \
#     build/tests/soak/storm.bin build/roms/demo.bin
# For each guest: the window title is read every 0.25 s for 5 s (it carries
# the MIPS and hit rate, sampled on the emulation thread and set on the UI
# thread once a second: distinct titles show both threads at work), then the
# F12 key is pressed N times (default 20) and the time from `xdotool key`
# to popek's "screenshot saved" line is taken (the UI thread's event
# latency, xdotool's own start-up included). Prints min/median/max in ms.
set -u
popek=$1 storm=$2 quiet=$3 samples=${4:-20}
tmp=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
now_ms() { date +%s%3N; }

measure() {  # label rom
  local label=$1 rom=$2
  "$popek" --bios "$rom" --engine dbt --debugcon "file:$tmp/con-$label" --screenshot-dir "$tmp" --timeout 120 \
    2>"$tmp/err-$label" &
  pid=$!
  local wid=""
  for _ in $(seq 100); do
    wid=$(xdotool search --onlyvisible --pid "$pid" --name '^Popek' 2>/dev/null | head -n 1)
    [ -n "$wid" ] && break
    sleep 0.1
  done
  [ -n "$wid" ] || { echo "$label: no window"; cat "$tmp/err-$label"; exit 1; }
  xdotool windowfocus --sync "$wid" 2>/dev/null || true
  sleep 2
  local titles=()
  for _ in $(seq 20); do
    titles+=("$(xdotool getwindowname "$wid")")
    sleep 0.25
  done
  local distinct; distinct=$(printf '%s\n' "${titles[@]}" | sort -u | wc -l)
  echo "$label: $distinct distinct titles in 5 s, last: ${titles[-1]}"
  local lat=()
  for _ in $(seq "$samples"); do
    local before; before=$(grep -c 'screenshot saved' "$tmp/err-$label")
    local t0; t0=$(now_ms)
    xdotool key F12
    local t1=""
    for _ in $(seq 2000); do
      if [ "$(grep -c 'screenshot saved' "$tmp/err-$label")" -gt "$before" ]; then t1=$(now_ms); break; fi
      sleep 0.002
    done
    [ -n "$t1" ] || { echo "$label: F12 got no answer in 4 s"; exit 1; }
    lat+=($((t1 - t0)))
    sleep 0.1
  done
  local sorted; sorted=$(printf '%s\n' "${lat[@]}" | sort -n)
  echo "$label: F12 -> screenshot saved, $samples samples: min $(echo "$sorted" | head -1) ms," \
    "median $(echo "$sorted" | sed -n "$(((samples + 1) / 2))p") ms, max $(echo "$sorted" | tail -1) ms"
  echo "$label: guest output lines: $(wc -l < "$tmp/con-$label")"
  kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; pid=
}
measure storm "$storm"
measure quiet "$quiet"
