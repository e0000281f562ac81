#!/usr/bin/env bash
# Times Debian's i386 Linux (guest/, scripts/fetch_guest.sh) under Popek and
# under QEMU's TCG with the same kernel, initramfs, memory and command line
# (popek.check=1: /init runs the scripted check and powers off). Each serial
# line is timestamped on arrival; the figures come from /init's markers:
#   boot    launch -> "POPEK-MARK init" (the kernel has booted and runs /init,
#           where the interactive guest starts its shell prompt)
#   expr    "POPEK-MARK expr-start" -> "POPEK-MARK expr-end" (2000 $(expr) forks)
#   total   launch -> the emulator's exit after ACPI poweroff
# plus each emulator's host CPU time (user+sys). Prints the ratios QEMU/Popek
# (above 1: Popek is faster).
# Usage: scripts/bench_linux.sh [POPEK_BINARY] [extra popek options...]
#   env: RUNS=N (default 1) best-of-N; POPEK_ENGINE (default dbt); MEM (default 128)
set -euo pipefail
cd "$(dirname "$0")/.."
popek="${1:-build/popek}"; shift || true
runs="${RUNS:-1}"; engine="${POPEK_ENGINE:-dbt}"; mem="${MEM:-128}"
kernel=guest/vmlinuz; initrd=guest/initramfs.cpio.gz
append="console=ttyS0 popek.check=1"
for f in "$popek" "$kernel" "$initrd"; do
  [ -e "$f" ] || { echo "bench_linux: $f missing (scripts/build.sh build; scripts/fetch_guest.sh)" >&2; exit 2; }
done
command -v qemu-system-i386 >/dev/null || { echo "bench_linux: qemu-system-i386 not installed" >&2; exit 2; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# run NAME COMMAND...: runs one boot, writes $tmp/NAME.{log,cpu}.
run() {
  local name="$1"; shift
  local start; start=$(date +%s.%N)
  echo "$start" > "$tmp/$name.start"
  { TIMEFORMAT='%U %S'; time { "$@" 2>/dev/null </dev/null | while IFS= read -r line; do
        printf '%s %s\n' "$(date +%s.%N)" "$line"; done > "$tmp/$name.log"; }; } 2> "$tmp/$name.cpu"
  date +%s.%N > "$tmp/$name.end"
}
# figures NAME -> "boot expr total cpu" in seconds (or "fail").
figures() {
  local name="$1" s e
  s=$(cat "$tmp/$name.start"); e=$(cat "$tmp/$name.end")
  awk -v s="$s" -v e="$e" -v cpu="$(cat "$tmp/$name.cpu" | tail -n1)" '
    / POPEK-MARK init/ { init = $1 }
    / POPEK-MARK expr-start/ { xs = $1 }
    / POPEK-MARK expr-end 2000/ { xe = $1 }
    / POPEK-MD5 dea9193b768319cbb4ff1a137ac03113/ { md5 = 1 }
    END {
      split(cpu, c, " ");
      if (!init || !xs || !xe || !md5) { print "fail"; exit }
      printf "%.2f %.2f %.2f %.2f\n", init - s, xe - xs, e - s, c[1] + c[2]
    }' "$tmp/$name.log"
}
best() {  # best-of: keep the smallest total
  local name="$1" cur="$2" prev="${3:-}"
  if [ -z "$prev" ] || [ "$prev" = fail ]; then echo "$cur"; return; fi
  if [ "$cur" = fail ]; then echo "$prev"; return; fi
  awk -v a="$cur" -v b="$prev" 'BEGIN { split(a, x, " "); split(b, y, " "); print (x[3] < y[3]) ? a : b }'
}

popek_best=""; qemu_best=""
for i in $(seq 1 "$runs"); do
  run popek "$popek" --engine "$engine" --headless --serial stdio -m "$mem" \
      --kernel "$kernel" --initrd "$initrd" --append "$append" --timeout 900 "$@"
  popek_best=$(best popek "$(figures popek)" "$popek_best")
  run qemu qemu-system-i386 -accel tcg -m "$mem" -kernel "$kernel" -initrd "$initrd" -append "$append" \
      -display none -serial stdio -monitor none -no-reboot
  qemu_best=$(best qemu "$(figures qemu)" "$qemu_best")
done
if [ "$popek_best" = fail ] || [ "$qemu_best" = fail ]; then
  echo "bench_linux: a run did not complete the check (popek: $popek_best, qemu: $qemu_best)" >&2
  exit 1
fi
read -r pb px pt pc <<<"$popek_best"
read -r qb qx qt qc <<<"$qemu_best"
ratio() { awk -v q="$1" -v p="$2" 'BEGIN { printf "%.2f", (p > 0) ? q / p : 0 }'; }
echo "Linux boot benchmark: $(cat guest/kernel-package 2>/dev/null), -m $mem, popek --engine $engine, best of $runs"
printf '%-22s %10s %10s %14s\n' "figure (seconds)" popek qemu-tcg "qemu/popek"
printf '%-22s %10s %10s %14s\n' "boot to /init" "$pb" "$qb" "$(ratio "$qb" "$pb")"
printf '%-22s %10s %10s %14s\n' "expr loop (2000)" "$px" "$qx" "$(ratio "$qx" "$px")"
printf '%-22s %10s %10s %14s\n' "total" "$pt" "$qt" "$(ratio "$qt" "$pt")"
printf '%-22s %10s %10s %14s\n' "host CPU (user+sys)" "$pc" "$qc" "$(ratio "$qc" "$pc")"
