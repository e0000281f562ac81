#!/usr/bin/env bash
# Seeds the fuzz corpora from the project's ROMs (ROM_DIR/*.bin, built by
# CMake from roms/*.asm): usage: seed_corpus.sh ROM_DIR CORPUS_DIR
#   CORPUS_DIR/fuzz_guest: each 1 KiB piece of ROM code that is not blank,
#     behind a fuzz_guest header: pieces of the 16-bit part (offsets below
#     0x8000) as real-mode and 16-bit protected-mode code, pieces of the
#     32-bit part as 32-bit code at CPL 0 and at CPL 3 with paging;
#   CORPUS_DIR/fuzz_rom: each whole ROM, in fuzz_rom's "as is" form;
#   CORPUS_DIR/fuzz_multiboot: ROM_DIR/multiboot_kernel.elf (the multiboot
#     test kernel) and a small a.out-kludge kernel, behind the loader
#     fuzzers' header (fuzz_loader.h);
#   CORPUS_DIR/fuzz_bzimage: with GUEST_DIR (optional third argument) holding
#     vmlinuz, its setup code and first 12 KiB of kernel, once with syssize
#     edited to that length (a header the loader accepts) and once as cut
#     (a truncated bzImage), and its setup header alone; without it, nothing.
# Existing corpus files are kept; seeds are named after their origin.
# Usage: seed_corpus.sh ROM_DIR CORPUS_DIR [GUEST_DIR]
set -euo pipefail
rom_dir="$1"; out="$2"; guest_dir="${3:-}"
mkdir -p "$out/fuzz_guest" "$out/fuzz_rom" "$out/fuzz_multiboot" "$out/fuzz_bzimage"
shopt -s nullglob
roms=("$rom_dir"/*.bin)
if [ "${#roms[@]}" -eq 0 ]; then
  echo "seed_corpus.sh: no ROMs in $rom_dir (build the project first)" >&2
  exit 1
fi
header() {  # mode byte, then flags 0x02 and a fixed register seed
  printf "\\x$1\\x02\\x12\\x34\\x56\\x78"
}
for rom in "${roms[@]}"; do
  name=$(basename "$rom" .bin)
  { printf '\x80'; cat "$rom"; } > "$out/fuzz_rom/rom-$name"
  size=$(stat -c %s "$rom")
  for ((off = 0; off < size; off += 1024)); do
    piece=$(dd if="$rom" bs=1024 skip=$((off / 1024)) count=1 status=none | tr -d '\000\377' | wc -c)
    [ "$piece" -lt 64 ] && continue
    if [ "$off" -lt 32768 ]; then modes="00 01"; else modes="02 0e"; fi
    for m in $modes; do
      { header "$m"; dd if="$rom" bs=1024 skip=$((off / 1024)) count=1 status=none; } \
        > "$out/fuzz_guest/rom-$name-$off-m$m"
    done
  done
done
# The loader fuzzers' header: RAM choice 4 (64 MiB), a 128 MiB planning RAM,
# a 4 KiB initrd, a 20-byte command line, a 12-byte kernel path.
loader_header() { printf '\x04\x00\x00\x00\x08\x00\x10\x00\x00\x14\x00\x0c\x00'; }
le32() { printf '\\x%02x\\x%02x\\x%02x\\x%02x' $(($1 & 255)) $(($1 >> 8 & 255)) $(($1 >> 16 & 255)) $(($1 >> 24 & 255)); }
if [ -f "$rom_dir/multiboot_kernel.elf" ]; then
  { loader_header; cat "$rom_dir/multiboot_kernel.elf"; } > "$out/fuzz_multiboot/multiboot_kernel"
fi
# A 64-byte a.out-kludge multiboot kernel (header flag 16: the address
# fields) loaded at 2 MiB with 4 KiB of bss, entry just after the header.
mb_flags=$((0x10000)); mb_sum=$(((-(0x1BADB002 + mb_flags)) & 0xFFFFFFFF))
{ loader_header
  printf "$(le32 $((0x1BADB002)))$(le32 $mb_flags)$(le32 $mb_sum)"
  printf "$(le32 $((0x200000)))$(le32 $((0x200000)))$(le32 0)$(le32 $((0x201040)))$(le32 $((0x200020)))"
  head -c 32 /dev/zero | tr '\000' '\220'
} > "$out/fuzz_multiboot/aout-kludge"
if [ -n "$guest_dir" ] && [ -f "$guest_dir/vmlinuz" ]; then
  sects=$(od -An -tu1 -j $((0x1f1)) -N 1 "$guest_dir/vmlinuz" | tr -d ' ')
  [ "$sects" -eq 0 ] && sects=4
  payload=12288
  cut=$(((sects + 1) * 512 + payload))
  { loader_header; head -c "$cut" "$guest_dir/vmlinuz"; } > "$out/fuzz_bzimage/vmlinuz-cut"
  cp "$out/fuzz_bzimage/vmlinuz-cut" "$out/fuzz_bzimage/vmlinuz-syssize"
  # The setup header alone (up to the end its jump byte gives).
  jump=$(od -An -tu1 -j $((0x201)) -N 1 "$guest_dir/vmlinuz" | tr -d ' ')
  { loader_header; head -c $((0x202 + jump)) "$guest_dir/vmlinuz"; } > "$out/fuzz_bzimage/vmlinuz-header"
  # syssize (0x1f4, 16-byte units) after the 13-byte header.
  printf "$(le32 $((payload / 16)))" | dd of="$out/fuzz_bzimage/vmlinuz-syssize" bs=1 seek=$((13 + 0x1f4)) conv=notrunc status=none
fi
echo "seed_corpus.sh: $(ls "$out/fuzz_guest" | wc -l) guest-code seeds, $(ls "$out/fuzz_rom" | wc -l) ROM seeds," \
  "$(ls "$out/fuzz_multiboot" | wc -l) multiboot and $(ls "$out/fuzz_bzimage" | wc -l) bzImage seeds in $out"
