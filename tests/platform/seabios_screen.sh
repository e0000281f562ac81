#!/usr/bin/env bash
# SeaBIOS with SeaVGABIOS (Debian's seabios package) on the VGA, headless
# and deterministic: SeaBIOS must find the VGA's PCI option ROM and run it
# (debug log), and the VGA text screen at the end must show the SeaBIOS
# banner and "No bootable device." (--screen-text), in a 720x400 picture
# of grey text on black (--screenshot).
# With IMAGE (tests/platform's boot_disk.img) it boots that from --hda
# instead, and the boot sector's INT 10h lines must be on the screen.
# Usage: seabios_screen.sh POPEK PNG_CHECK BIOS VGABIOS ENGINE [IMAGE]
# Exit 77 (skipped) when either firmware file is missing.
set -u
popek="$1"; png_check="$2"; bios="$3"; vgabios="$4"; engine="$5"; image="${6:-}"
for f in "$bios" "$vgabios"; do
  if [ ! -f "$f" ]; then echo "SKIP: $f not found (install seabios)"; exit 77; fi
done
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; echo "--- screen:"; cat "$tmp/screen.txt" 2>/dev/null; echo "--- log:"; cat "$tmp/log"; cat "$tmp/err"; exit 1; }
args=(--engine "$engine" --headless --deterministic --bios "$bios" --vga-bios "$vgabios"
      --debugcon "file:$tmp/log" --screen-text "$tmp/screen.txt" --screenshot "$tmp/screen.png" --timeout 60)
if [ -n "$image" ]; then
  # The boot sector exits through port 0xF4 (status 1) after printing.
  "$popek" "${args[@]}" --hda "$image" --snapshot 2>"$tmp/err"
  status=$?
  [ "$status" -eq 1 ] || fail "status $status (expected 1: the boot sector passed)"
  grep -q "^BOOT: second sector read through INT 13h$" "$tmp/screen.txt" || fail "boot sector output not on screen"
  grep -q "^BOOT: PASS$" "$tmp/screen.txt" || fail "no 'BOOT: PASS' on screen"
else
  # "No bootable device" appears after about 6.2 M instructions in this mode
  # (docs/platform.md); SeaBIOS then waits forever, so the run is cut at 9 M.
  "$popek" "${args[@]}" --max-instructions 9000000 2>"$tmp/err"
  status=$?
  [ "$status" -eq 0 ] || fail "status $status (expected 0: stopped by --max-instructions)"
  grep -q "^No bootable device\.$" "$tmp/screen.txt" || fail "no 'No bootable device.' on screen"
fi
grep -q "Running option rom at c000:0003" "$tmp/log" || fail "SeaBIOS did not run the VGA option ROM"
grep -q "Start SeaVGABIOS" "$tmp/log" || fail "SeaVGABIOS did not start"
head -n 1 "$tmp/screen.txt" | grep -q "^SeaBIOS (version " || fail "no SeaBIOS banner on the first screen line"
[ "$(wc -l < "$tmp/screen.txt")" -eq 25 ] || fail "the text screen is not 25 lines"
"$png_check" "$tmp/screen.png" 720 400 --not-blank --contains AAAAAA --contains 000000 0,399=000000 || fail "screenshot"
echo "PASS: SeaBIOS output on the VGA screen ($engine${image:+, boot disk})"
