#!/usr/bin/env bash
# Assemble the test ROMs and run them under QEMU (the reference) or popek.
#   scripts/run_rom_tests.sh [--qemu | --bochs | --popek EXE [--engine E]] [rom-name...]
# Default: --qemu. Prints one verdict line per ROM and "N passed, N failed".
# QEMU TCG lacks some SDM checks (segment limits and rights at access time,
# accessed bits on some loads), so for it the ROMs are assembled with
# -DQEMU_REF, which relaxes exactly those checks (see each ROM header).
# Bochs (apt package bochs) implements them and runs the full ROMs; it has
# no exit port, so the PASS/FAIL line decides.
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
out=${ROM_OUT:-/tmp/popek-roms}
mode=qemu popek= engine=interp
names=()
while [ $# -gt 0 ]; do
  case $1 in
    --qemu) mode=qemu ;;
    --bochs) mode=bochs ;;
    --popek) mode=popek; popek=$2; shift ;;
    --engine) engine=$2; shift ;;
    *) names+=("$1") ;;
  esac
  shift
done
mkdir -p "$out"
if [ ${#names[@]} -eq 0 ]; then
  for f in "$here"/roms/*.asm; do
    grep -q '^; popek: interactive' "$f" || names+=("$(basename "$f" .asm)")  # these wait for keys
  done
fi
pass=0 fail=0
for n in "${names[@]}"; do
  bin=$out/$n.bin
  defs=()
  # relax the checks QEMU TCG does not implement (see the header)
  [ $mode = qemu ] && defs=(-DQEMU_REF)
  if ! nasm -f bin "${defs[@]}" -I "$here/roms/include/" -o "$bin" "$here/roms/$n.asm"; then
    echo "FAIL $n: assembly failed"; fail=$((fail+1)); continue
  fi
  if [ $mode = bochs ]; then
    rc=$out/$n.bochsrc
    printf '%s\n' "megs: 32" "romimage: file=$bin" "cpu: model=p3_katmai, ignore_bad_msrs=0" \
      "vgaromimage: file=$out/dummy_vga.bin" "display_library: rfb, options=\"timeout=0\"" \
      "port_e9_hack: enabled=1" "magic_break: enabled=1" "log: $out/$n.bochs.log" \
      "speaker: enabled=0" "sound: waveoutdrv=dummy, waveindrv=dummy, midioutdrv=dummy" \
      "panic: action=fatal" "error: action=ignore" "info: action=ignore" "clock: sync=none" > "$rc"
    # a minimal option ROM so that Bochs starts without the vgabios package
    python3 -c "b=bytearray(512);b[0:4]=b'\x55\xaa\x01\xcb';b[511]=(-sum(b))&255;open('$out/dummy_vga.bin','wb').write(b)"
    log=$(echo c | timeout 60 bochs -q -f "$rc" 2>/dev/null | grep -a -v '^<bochs\|^(0)\|^Next at\|^[0-9]\{11\}')
    if printf '%s\n' "$log" | grep -qx "PASS $n"; then st=1; else st=3; fi
  elif [ $mode = qemu ]; then
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
