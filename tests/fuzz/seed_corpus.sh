#!/usr/bin/env bash
# Seeds the fuzz corpora from the project's ROMs (ROM_DIR/*.bin, built by
# CMake from roms/*.asm): usage: seed_corpus.sh ROM_DIR CORPUS_DIR
#   CORPUS_DIR/fuzz_guest: each 1 KiB piece of ROM code that is not blank,
#     behind a fuzz_guest header: pieces of the 16-bit part (offsets below
#     0x8000) as real-mode and 16-bit protected-mode code, pieces of the
#     32-bit part as 32-bit code at CPL 0 and at CPL 3 with paging;
#   CORPUS_DIR/fuzz_rom: each whole ROM, in fuzz_rom's "as is" form.
# Existing corpus files are kept; seeds are named after their origin.
set -euo pipefail
rom_dir="$1"; out="$2"
mkdir -p "$out/fuzz_guest" "$out/fuzz_rom"
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
echo "seed_corpus.sh: $(ls "$out/fuzz_guest" | wc -l) guest-code seeds, $(ls "$out/fuzz_rom" | wc -l) ROM seeds in $out"
