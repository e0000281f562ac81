#!/usr/bin/env bash
# Runs the popek executable on bad input and checks that each case ends with
# a non-zero status and exactly one line on stderr naming the problem, and
# never with a signal. Usage: bad_input.sh POPEK GOOD_ROM [MULTIBOOT_KERNEL]
set -u
popek="$1"; good_rom="$2"; mb_kernel="${3:-}"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
head -c 1000 "$good_rom" > "$tmp/truncated.bin"
: > "$tmp/empty.bin"
head -c 524288 /dev/zero > "$tmp/huge.bin"
head -c 70000 /dev/zero > "$tmp/odd.bin"
head -c 1000 /dev/zero > "$tmp/odd.img"
head -c 4096 /dev/zero > "$tmp/disk.img"
head -c 3000 /dev/zero > "$tmp/odd.iso"
head -c 40960 /dev/zero > "$tmp/small.iso"          # 20 sectors of 2048, no volume descriptor
head -c 2048 /dev/zero > "$tmp/tiny.iso"            # 1 sector: cannot reach sector 16
pass=0; fail=0
check() {  # name expected-fragment args...
  local name="$1" frag="$2"; shift 2
  "$popek" "$@" >"$tmp/out" 2>"$tmp/err"; local st=$?
  local lines; lines=$(wc -l < "$tmp/err")
  if [ "$st" -eq 0 ] || [ "$st" -ge 128 ] || [ "$lines" -ne 1 ] || ! grep -q -- "$frag" "$tmp/err"; then
    echo "FAIL $name: status $st, stderr:"; cat "$tmp/err"; fail=$((fail+1))
  else
    pass=$((pass+1))
  fi
}
check missing-rom "nope.bin" --bios "$tmp/nope.bin"
check empty-rom "empty" --bios "$tmp/empty.bin"
check truncated-rom "too small" --bios "$tmp/truncated.bin"
check oversized-rom "too large" --bios "$tmp/huge.bin"
check odd-size-rom "multiple of 4 KiB" --bios "$tmp/odd.bin"
check directory-rom "directory" --bios "$tmp"
check bad-memory "memory size" --bios "$good_rom" -m 0
check bad-memory-text "abc" --bios "$good_rom" -m abc
check bad-engine "unknown engine" --bios "$good_rom" --engine warp
check bad-option "bogus" --bios "$good_rom" --bogus
check bad-debugcon "debugcon" --bios "$good_rom" --debugcon serial
check unwritable-debugcon "$tmp/none/x" --bios "$good_rom" --debugcon "file:$tmp/none/x"
check missing-disk "$tmp/nodisk.img" --bios "$good_rom" --hda "$tmp/nodisk.img"
check empty-disk "empty" --bios "$good_rom" --hda "$tmp/empty.bin"
check odd-size-disk "multiple of 512" --bios "$good_rom" --hdb "$tmp/odd.img"
check odd-size-disk-snapshot "odd.img" --bios "$good_rom" --hda "$tmp/odd.img" --snapshot
check directory-disk "$tmp" --bios "$good_rom" --hda "$tmp"
check same-disk-twice "same file" --bios "$good_rom" --hda "$tmp/disk.img" --hdb "$tmp/disk.img"
# VGA BIOS and screen outputs.
check missing-vga-bios "novga.bin" --bios "$good_rom" --vga-bios "$tmp/novga.bin"
check empty-vga-bios "empty" --bios "$good_rom" --vga-bios "$tmp/empty.bin"
check not-option-rom-vga-bios "55 AA" --bios "$good_rom" --vga-bios "$tmp/odd.img"
check oversized-vga-bios "too large" --bios "$good_rom" --vga-bios "$tmp/huge.bin"
printf '\x55\xaa\x10' > "$tmp/short_vga.bin"; head -c 1021 /dev/zero >> "$tmp/short_vga.bin"
check truncated-vga-bios "truncated" --bios "$good_rom" --vga-bios "$tmp/short_vga.bin"
check directory-vga-bios "directory" --bios "$good_rom" --vga-bios "$tmp"
check bad-vga "unknown display adapter" --bios "$good_rom" --vga cga
check vga-bios-without-vga "needs a VGA" --bios "$good_rom" --vga none --vga-bios "$tmp/empty.bin"
check screenshot-without-vga "needs a VGA" --bios "$good_rom" --vga none --screenshot "$tmp/s.png"
check unwritable-screenshot "$tmp/none/s.png" --bios "$good_rom" --screenshot "$tmp/none/s.png"
check unwritable-screen-text "$tmp/none/s.txt" --bios "$good_rom" --screen-text "$tmp/none/s.txt"
check directory-screenshot "is a directory" --bios "$good_rom" --screenshot "$tmp"
check missing-cdrom "$tmp/nocd.iso" --bios "$good_rom" --cdrom "$tmp/nocd.iso"
check empty-cdrom "empty" --bios "$good_rom" --cdrom "$tmp/empty.bin"
check odd-size-cdrom "multiple of 2048" --bios "$good_rom" --cdrom "$tmp/odd.iso"
check tiny-cdrom "too small" --bios "$good_rom" --cdrom "$tmp/tiny.iso"
check not-iso-cdrom "not an ISO 9660" --bios "$good_rom" --cdrom "$tmp/small.iso"
check directory-cdrom "$tmp" --bios "$good_rom" --cdrom "$tmp"
check bad-boot-letter "unknown boot device" --bios "$good_rom" --boot x
check bad-boot-repeat "given twice" --bios "$good_rom" --boot dcd
check bad-boot-empty "--boot order=" --bios "$good_rom" --boot order=
# --kernel: a bzImage cut short (a setup header promising 4 setup sectors
# in a 1 KiB file), multiboot headers with a bad checksum or unknown
# required flags, an initrd that does not fit in RAM.
head -c 1024 /dev/zero > "$tmp/short.bzimage"
printf '\x04' | dd of="$tmp/short.bzimage" bs=1 seek=$((0x1f1)) conv=notrunc status=none
printf '\x55\xaa\xeb\x66HdrS\x0f\x02' | dd of="$tmp/short.bzimage" bs=1 seek=$((0x1fe)) conv=notrunc status=none
printf '\x01' | dd of="$tmp/short.bzimage" bs=1 seek=$((0x211)) conv=notrunc status=none
{ head -c 64 /dev/zero; printf '\x02\xb0\xad\x1b\x00\x00\x00\x00\x00\x00\x00\x00'; head -c 64 /dev/zero; } > "$tmp/mb_sum.elf"
{ head -c 64 /dev/zero; printf '\x02\xb0\xad\x1b\x08\x00\x00\x00\xf6\x4f\x52\xe4'; head -c 64 /dev/zero; } > "$tmp/mb_flags.elf"
head -c 3145728 /dev/zero > "$tmp/big.initrd"
check kernel-missing "$tmp/novmlinuz" --kernel "$tmp/novmlinuz"
check kernel-empty "empty" --kernel "$tmp/empty.bin"
check kernel-not-a-kernel "not a Linux bzImage or multiboot kernel" --kernel "$good_rom"
check kernel-truncated-bzimage "truncated bzImage" --kernel "$tmp/short.bzimage"
check kernel-multiboot-checksum "bad checksum" --kernel "$tmp/mb_sum.elf"
check kernel-multiboot-flags "unsupported features" --kernel "$tmp/mb_flags.elf"
check kernel-missing-initrd "$tmp/noinitrd" --kernel "$good_rom" --initrd "$tmp/noinitrd"
check initrd-without-kernel "needs --kernel" --bios "$good_rom" --initrd "$tmp/big.initrd"
check kernel-with-bios "cannot be combined" --bios "$good_rom" --kernel "$good_rom"
if [ -n "$mb_kernel" ]; then
  check initrd-too-big "initrd too big for RAM" --kernel "$mb_kernel" --initrd "$tmp/big.initrd" -m 3
  # Files larger than guest RAM, and devices without an end, are refused
  # without being read whole (they used to be read into memory: /dev/zero
  # ended in std::bad_alloc, a huge sparse initrd took all host memory).
  check initrd-larger-than-ram "too large (3145728 bytes; at most 2 MiB with -m 2)" --kernel "$mb_kernel" --initrd "$tmp/big.initrd" -m 2
  check initrd-endless "/dev/zero: too large (more than 32 MiB" --kernel "$mb_kernel" --initrd /dev/zero
  if truncate -s 4G "$tmp/sparse.initrd" 2>/dev/null; then
    check initrd-sparse-4g "too large (4294967296 bytes" --kernel "$mb_kernel" --initrd "$tmp/sparse.initrd" -m 64
  fi
fi
check kernel-endless "/dev/zero: too large" --kernel /dev/zero -m 16
check bios-endless "/dev/zero: too large (more than 16 MiB; at most 16 MiB for a firmware image)" --bios /dev/zero
check vga-bios-endless "/dev/zero: too large" --bios "$good_rom" --vga-bios /dev/zero
if command -v flock >/dev/null; then
  # Another holder of an exclusive lock on the image: popek must refuse it.
  flock -x "$tmp/disk.img" sleep 2 & locker=$!
  sleep 0.3
  check locked-disk "locked" --bios "$good_rom" --hda "$tmp/disk.img"
  check locked-cdrom "locked" --bios "$good_rom" --cdrom "$tmp/disk.img"
  kill "$locker" 2>/dev/null; wait "$locker" 2>/dev/null
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
