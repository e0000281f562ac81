#!/usr/bin/env bash
# memtest86+ (Debian's memtest86+ package, /boot/memtest86+ia32.bin) booted
# by SeaBIOS from an El Torito CD built here: the .bin padded to 1474560
# bytes is the CD's 1.44 MB floppy-emulation boot image (its boot sector
# loads the rest through INT 13h from drive 0, which SeaBIOS emulates from
# the CD). The run is deterministic (--icount 10: 1.024 us of virtual time
# per instruction, so the bit fade test's 2 x 80 s TSC waits cost 160 M
# instructions instead of minutes) and stops after MAX_INSNS instructions.
# The first pass ends after about 6.3 G instructions at -m 5 (docs/platform.md).
# Checks on the VGA text screen (--screen-text): the memtest86+ header, at
# least one completed pass and "Errors: 0"; and a screenshot that is not blank.
# memtest86+ has no serial output in this boot mode (it needs console= on a
# kernel command line), so there is nothing to check on COM1.
# Usage: memtest.sh POPEK PNG_CHECK BIOS VGABIOS MEMTEST_BIN ENGINE MAX_INSNS
# Exit 77 (skipped) when a firmware file, memtest86+ or xorriso is missing.
set -u
popek="$1"; png_check="$2"; bios="$3"; vgabios="$4"; memtest="$5"; engine="$6"; max_insns="$7"
for f in "$bios" "$vgabios"; do
  if [ ! -f "$f" ]; then echo "SKIP: $f not found (install seabios)"; exit 77; fi
done
if [ ! -f "$memtest" ]; then echo "SKIP: $memtest not found (install memtest86+)"; exit 77; fi
if ! command -v xorriso >/dev/null; then echo "SKIP: xorriso not installed"; exit 77; fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; echo "--- screen:"; cat "$tmp/screen.txt" 2>/dev/null; echo "--- stderr:"; cat "$tmp/err"; exit 1; }

mkdir "$tmp/root"
size=$(stat -c %s "$memtest")
[ "$size" -le 1474560 ] || fail "$memtest is larger than a 1.44 MB floppy"
cp "$memtest" "$tmp/root/memtest.img" && truncate -s 1474560 "$tmp/root/memtest.img"
xorriso -as mkisofs -quiet -V MEMTEST -o "$tmp/memtest.iso" -b memtest.img -c boot.cat "$tmp/root" 2>"$tmp/err" ||
  fail "xorriso could not build the CD"

start=$(date +%s%N)
"$popek" --engine "$engine" --headless --icount 10 -m 5 --bios "$bios" --vga-bios "$vgabios" \
  --cdrom "$tmp/memtest.iso" --max-instructions "$max_insns" --timeout 300 \
  --screen-text "$tmp/screen.txt" --screenshot "$tmp/screen.png" 2>"$tmp/err"
status=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$status" -eq 0 ] || fail "status $status (expected 0: stopped by --max-instructions)"
grep -q "Memtest86+ v" "$tmp/screen.txt" || fail "no memtest86+ header on screen"
grep -q "Memory  : *5MB" "$tmp/screen.txt" || fail "memtest86+ did not see 5 MB"
grep -Eq "Pass: +[1-9][0-9]* " "$tmp/screen.txt" || fail "the first pass did not complete"
grep -Eq "Errors: 0( |$)" "$tmp/screen.txt" || fail "memtest86+ reports errors"
"$png_check" "$tmp/screen.png" 720 400 --not-blank || fail "screenshot"
printf 'PASS: memtest86+ completed its first pass without errors under %s (%d.%03d s)\n' "$engine" $((ms / 1000)) $((ms % 1000))
grep -E "Pass: |Memtest86" "$tmp/screen.txt"
