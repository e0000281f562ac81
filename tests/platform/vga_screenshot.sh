#!/usr/bin/env bash
# Runs a VGA test ROM (roms/vga_*.asm: it programs a mode through the VGA
# registers and draws a known pattern, no BIOS involved) with --screenshot,
# then checks the PNG's size and exact pixels with png_check.
# Usage: vga_screenshot.sh POPEK PNG_CHECK ROM_DIR NAME ENGINE
set -u
popek="$1"; png_check="$2"; rom_dir="$3"; name="$4"; engine="$5"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
"$popek" --engine "$engine" --headless --deterministic --bios "$rom_dir/$name.bin" --debugcon "file:$tmp/log" \
  --screenshot "$tmp/screen.png" --max-instructions 50000000 --timeout 60 2>"$tmp/err"
status=$?
if [ "$status" -ne 1 ] || ! grep -q "^PASS $name" "$tmp/log"; then
  echo "FAIL: $name under $engine: status $status (expected 1 and PASS)"; cat "$tmp/log" "$tmp/err"; exit 1
fi

expand6() { echo $(( (($1) << 2) | (($1) >> 4) )); }
rgb() { printf '%02X%02X%02X' "$1" "$2" "$3"; }
points=()
case "$name" in
  vga_mode13)  # 320x200 shown as 640x400: mode-13h pixel (x,y) is PNG (2x..2x+1, 2y..2y+1)
    w=640; h=400
    red=FF0000; green=00FF00; blue=0000FF; white=FFFFFF
    c5=$(rgb "$(expand6 10)" "$(expand6 20)" "$(expand6 30)")
    c200=$(rgb "$(expand6 32)" "$(expand6 16)" "$(expand6 8)")
    points=(0,0=$red 1,1=$red 639,0=$green 0,399=$blue 639,399=$white
            318,199=$red 319,199=$red 320,199=$green 318,200=$blue 320,200=$white
            20,20=$c5 21,21=$c5 19,20=$red 22,20=$red 20,22=$red
            600,380=$c200 601,381=$c200 602,380=$white 600,382=$white)
    ;;
  vga_planar)  # 640x480x16, DAC entry c = (4c, 63-4c, c odd ? 63 : 0)
    w=640; h=480
    col() { rgb "$(expand6 $((4 * $1)))" "$(expand6 $((63 - 4 * $1)))" $(( ($1 & 1) * 255 )); }
    for s in $(seq 0 15); do points+=("600,$((s * 30 + 15))=$(col "$s")" "0,$((s * 30))=$(col "$s")" "639,$((s * 30 + 29))=$(col "$s")"); done
    points+=(8,5=$(col 15) 9,5=$(col 0) 14,5=$(col 15) 15,5=$(col 0) 7,5=$(col 0) 16,5=$(col 0) 8,6=$(col 0))
    points+=(79,100=$(col 3) 80,100=$(col 9) 95,100=$(col 9) 96,100=$(col 3) 80,101=$(col 3))
    points+=(160,250=$(col 8) 163,250=$(col 8) 164,250=$(col 9) 167,250=$(col 9) 168,250=$(col 8))
    points+=(320,470=$(col 15) 321,470=$(col 0) 326,470=$(col 15) 327,470=$(col 0) 328,470=$(col 15))
    ;;
  vga_vbe)  # 320x240x32: (x, y) = (x & 255, y, (x + y) & 255), VRAM 0x10000 = ABCDEF
    w=320; h=240
    for x in 0 1 63 64 65 255 256 300 319; do
      for y in 0 50 51 52 100 239; do
        [ "$x,$y" = "64,51" ] && continue
        points+=("$x,$y=$(rgb $((x & 255)) "$y" $(((x + y) & 255)))")
      done
    done
    points+=(64,51=ABCDEF)
    ;;
  *) echo "vga_screenshot.sh: no expected picture for $name"; exit 2 ;;
esac
"$png_check" "$tmp/screen.png" "$w" "$h" --not-blank "${points[@]}"
