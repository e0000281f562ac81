#!/usr/bin/env bash
# Assemble the test ROMs and run them under QEMU (the reference) or popek.
#   scripts/run_rom_tests.sh [--qemu | --popek EXE [--engine E]] [rom-name...]
# Default: --qemu. Prints one verdict line per ROM and "N passed, N failed".
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
out=${ROM_OUT:-/tmp/popek-roms}
mode=qemu popek= engine=interp
names=()
while [ $# -gt 0 ]; do
  case $1 in
    --qemu) mode=qemu ;;
    --popek) mode=popek; popek=$2; shift ;;
    --engine) engine=$2; shift ;;
    *) names+=("$1") ;;
  esac
  shift
done
mkdir -p "$out"
if [ ${#names[@]} -eq 0 ]; then
  for f in "$here"/roms/*.asm; do names+=("$(basename "$f" .asm)"); done
fi
pass=0 fail=0
for n in "${names[@]}"; do
  bin=$out/$n.bin
  if ! nasm -f bin -I "$here/roms/include/" -o "$bin" "$here/roms/$n.asm"; then
    echo "FAIL $n: assembly failed"; fail=$((fail+1)); continue
  fi
  if [ $mode = qemu ]; then
    # pentium3: an i686 with SEP, PGE, PSE, CMOV, CX8 and GenuineIntel.
    log=$(timeout 60 qemu-system-i386 -nodefaults -display none -cpu pentium3 \
          -bios "$bin" -debugcon stdio -m 32 \
          -device isa-debug-exit,iobase=0xf4,iosize=4 </dev/null 2>&1)
    st=$?
  else
    log=$(timeout 120 "$popek" --engine "$engine" --headless --bios "$bin" \
          --debugcon stdio --timeout 60 --max-instructions 200000000 </dev/null 2>&1)
    st=$?
  fi
  if [ $st -eq 1 ] && printf '%s\n' "$log" | grep -qx "PASS $n"; then
    echo "ok   $n"; pass=$((pass+1))
  else
    echo "FAIL $n (status $st)"; printf '%s\n' "$log" | tail -n 15 | sed 's/^/     | /'
    fail=$((fail+1))
  fi
done
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
