#!/usr/bin/env bash
# The CI fuzz pass: builds the libFuzzer targets with clang (build-fuzz/,
# POPEK_FUZZ=ON: ASan + UBSan + coverage) and runs each for a short fixed
# time on its corpus. Any crash, sanitizer report, engine divergence, leak,
# hang (-timeout) or memory blow-up (-rss_limit_mb) fails the pass; the
# failing input is left in build-fuzz/artifacts/.
#
#   scripts/fuzz.sh            the CI pass (about 2.5 minutes in all)
#   FUZZ_SCALE=10 scripts/fuzz.sh   ten times longer per fuzzer
#   scripts/fuzz.sh fuzz_guest      one fuzzer only
# Seeds: for fuzz_guest and fuzz_rom, the ROMs in build-fuzz/roms cut by
# tests/fuzz/seed_corpus.sh; for fuzz_multiboot the multiboot test kernel,
# for fuzz_bzimage the start of guest/vmlinuz when scripts/fetch_guest.sh
# has fetched it; the other fuzzers start from nothing.
# Corpora grow in build-fuzz/corpus/<fuzzer>/ and are kept between runs.
set -euo pipefail
cd "$(dirname "$0")/.."
cxx="${FUZZ_CXX:-$(command -v clang++-14 || command -v clang++ || true)}"
cc="${FUZZ_CC:-$(command -v clang-14 || command -v clang || true)}"
if [ -z "$cxx" ] || [ -z "$cc" ]; then
  echo "fuzz.sh: clang not found (scripts/setup.sh installs clang-14)" >&2
  exit 1
fi
dir=build-fuzz
if [ ! -f "$dir/build.ninja" ]; then
  CC="$cc" CXX="$cxx" cmake -S . -B "$dir" -G Ninja -DPOPEK_FUZZ=ON -DCMAKE_BUILD_TYPE=Debug \
    "-DCMAKE_CXX_FLAGS_DEBUG=-O1 -g1" "-DCMAKE_C_FLAGS_DEBUG=-O1 -g1" >/dev/null
fi
# The fuzzers and the ROMs the guest-code corpus is seeded from.
cmake --build "$dir" -j"$(nproc)" --target popek_fuzzers popek_roms
# The multiboot test kernel (fuzz_multiboot's seed) exists where ld does.
if grep -q popek_multiboot_kernel "$dir/build.ninja"; then cmake --build "$dir" --target popek_multiboot_kernel; fi
scale="${FUZZ_SCALE:-1}"
# fuzzer seconds max_len extra-options
plan=(
  "fuzz_devices 30 2048"
  "fuzz_guest 40 2048"
  "fuzz_options 10 256 -dict=tests/fuzz/options.dict"
  "fuzz_rom 20 8192"
  "fuzz_disk_image 15 4096"
  "fuzz_bzimage 10 40960"
  "fuzz_multiboot 10 16384"
)
tests/fuzz/seed_corpus.sh "$dir/roms" "$dir/seeds" guest >/dev/null
mkdir -p "$dir/artifacts"
failed=0
for entry in "${plan[@]}"; do
  read -r name seconds max_len extra <<<"$entry"
  [ $# -gt 0 ] && [[ " $* " != *" $name "* ]] && continue
  corpus="$dir/corpus/$name"
  mkdir -p "$corpus"
  seeds=()
  [ -d "$dir/seeds/$name" ] && seeds+=("$dir/seeds/$name")
  log="$dir/artifacts/$name.log"
  set +e
  "$dir/tests/fuzz/$name" -max_total_time=$((seconds * scale)) -max_len="$max_len" -len_control=0 \
    -timeout=20 -rss_limit_mb=2560 -print_final_stats=1 -artifact_prefix="$dir/artifacts/$name-" \
    ${extra:+$extra} "$corpus" "${seeds[@]}" >"$log" 2>&1
  status=$?
  set -e
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || echo "?")
  if [ "$status" -ne 0 ]; then
    echo "fuzz.sh: $name FAILED (status $status) after $runs runs; see $log:"
    grep -E 'ERROR|SUMMARY|fuzz_|diverge|Test unit written' "$log" | head -20
    failed=1
  else
    echo "fuzz.sh: $name ok: $runs runs in $((seconds * scale)) s, coverage $cov edges, corpus $(ls "$corpus" | wc -l) inputs"
  fi
done
exit "$failed"
