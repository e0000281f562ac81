#!/usr/bin/env bash
# Boots SeaBIOS headless under popek with an El Torito CD (--cdrom ISO, boot
# order from --cdrom alone) and checks the debug console log: the boot image
# (cdrom_boot.asm) prints on port 0xE9 and exits through port 0xF4.
# Usage: cdrom_boot.sh POPEK BIOS BUDGET_SECONDS ISO [ENGINE]
# Exit 77 (skipped) when BIOS or ISO does not exist (no xorriso at build time).
set -u
popek="$1"; bios="$2"; budget="$3"; iso="$4"; engine="${5:-interp}"
if [ ! -f "$bios" ]; then echo "SKIP: $bios not found (install seabios)"; exit 77; fi
if [ ! -f "$iso" ]; then echo "SKIP: $iso not built (install xorriso and re-run cmake)"; exit 77; fi
tmp=$(mktemp -d); log="$tmp/debugcon.log"
trap 'rm -rf "$tmp"' EXIT
start=$(date +%s%N)
"$popek" --engine "$engine" --headless --bios "$bios" --debugcon "file:$log" --timeout "$budget" \
  --cdrom "$iso" 2>"$tmp/stderr"; status=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
expect=(
  "DVD/CD \[ata1-0: POPEK CD-ROM ATAPI-5 DVD/CD\]"   # SeaBIOS found the drive
  "Booting from DVD/CD"
  "CDBOOT: El Torito boot image running, boot drive 0xE0"
  "CDBOOT: INT 13h extensions present, 2048-byte sectors"
  "CDBOOT: primary volume descriptor read from sector 16"
  "CDBOOT: boot image read back from the disc matches"
  "CDBOOT: HELLO.TXT says: Hello from the ISO 9660 file system"
  "CDBOOT: PASS"
)
ok=1
for e in "${expect[@]}"; do
  if ! grep -q -- "$e" "$log" 2>/dev/null; then echo "missing: $e"; ok=0; fi
done
if [ "$status" -eq 1 ] && [ "$ok" -eq 1 ]; then
  printf 'PASS: booted the El Torito CD under %s in %d.%03d s\n' "$engine" $((ms / 1000)) $((ms % 1000))
  exit 0
fi
echo "FAIL: status $status (expected 1)"
echo "--- debugcon log:"; cat "$log" 2>/dev/null
echo "--- stderr:"; cat "$tmp/stderr"
exit 1
