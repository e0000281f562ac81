#!/usr/bin/env bash
# Boots SeaBIOS headless under popek (--engine $POPEK_ENGINE, default dbt) and
# checks the debug console log (SeaBIOS logs on port 0x402, the test disk
# prints on 0xE9).
# Usage: seabios_boot.sh POPEK BIOS BUDGET_SECONDS no-disk
#        seabios_boot.sh POPEK BIOS BUDGET_SECONDS hda IMAGE
#   no-disk: passes once the log shows "No bootable device" (SeaBIOS then
#            waits forever, so popek is stopped as soon as the line appears).
#   hda:     boots IMAGE from --hda (with --snapshot) and requires exit
#            status 1 (the boot sector wrote 0 to port 0xF4) and its lines.
# Exit 77 (skipped) when BIOS does not exist.
set -u
popek="$1"; bios="$2"; budget="$3"; mode="$4"; image="${5:-}"
if [ ! -f "$bios" ]; then echo "SKIP: $bios not found (install seabios)"; exit 77; fi
tmp=$(mktemp -d); log="$tmp/debugcon.log"
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
start=$(date +%s%N)
elapsed() { local ms=$(( ($(date +%s%N) - start) / 1000000 )); printf '%d.%03d' $((ms / 1000)) $((ms % 1000)); }

args=(--engine "${POPEK_ENGINE:-dbt}" --headless --bios "$bios" --debugcon "file:$log" --timeout "$budget")
case "$mode" in
  no-disk)
    "$popek" "${args[@]}" 2>"$tmp/stderr" & pid=$!
    while kill -0 "$pid" 2>/dev/null; do
      if grep -q "No bootable device" "$log" 2>/dev/null; then
        echo "PASS: 'No bootable device' after $(elapsed) s"
        kill "$pid"; wait "$pid" 2>/dev/null; pid=""
        exit 0
      fi
      sleep 0.1
    done
    wait "$pid"; status=$?; pid=""
    if grep -q "No bootable device" "$log" 2>/dev/null; then echo "PASS after $(elapsed) s"; exit 0; fi
    echo "FAIL: popek ended with status $status before 'No bootable device'"
    ;;
  hda)
    "$popek" "${args[@]}" --hda "$image" --snapshot 2>"$tmp/stderr"; status=$?
    if [ "$status" -eq 1 ] && grep -q "BOOT: second sector read through INT 13h" "$log" &&
       grep -q "BOOT: PASS" "$log"; then
      echo "PASS: booted from --hda in $(elapsed) s"
      exit 0
    fi
    echo "FAIL: status $status (expected 1)"
    ;;
  *) echo "usage: $0 POPEK BIOS BUDGET no-disk|hda [IMAGE]"; exit 2 ;;
esac
echo "--- debugcon log:"; cat "$log" 2>/dev/null
echo "--- stderr:"; cat "$tmp/stderr"
exit 1
