#!/usr/bin/env bash
# Measures issue 4's milestone times (not a ctest): wall time from popek's
# start until the SeaBIOS banner is on the VGA screen (its second
# "SeaBIOS (version" line in the debug log: the first is POST's own log
# line, the second is printed to the screen after SeaVGABIOS set mode 3),
# until "No bootable device", and until the test disk's boot sector exits.
# Usage: milestones.sh POPEK BOOT_DISK_IMG [ENGINE...]   (default: interp dbt)
set -u
popek="$1"; disk="$2"; shift 2
engines=("$@"); [ ${#engines[@]} -eq 0 ] && engines=(interp dbt)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
now() { date +%s%N; }
ms() { local d=$(( ($2 - $1) / 1000000 )); printf '%d.%03d' $((d / 1000)) $((d % 1000)); }
for engine in "${engines[@]}"; do
  log="$tmp/$engine.log"; : > "$log"
  start=$(now); banner=""; nobdev=""
  "$popek" --engine "$engine" --headless --debugcon "file:$log" --timeout 60 2>/dev/null & pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    t=$(now)
    if [ -z "$banner" ] && [ "$(grep -c 'SeaBIOS (version' "$log")" -ge 2 ]; then banner=$t; fi
    if grep -q "No bootable device" "$log"; then
      nobdev=$t; [ -z "$banner" ] && banner=$t  # both lines arrived within one poll
      kill "$pid"; break
    fi
    sleep 0.01
  done
  wait "$pid" 2>/dev/null
  start_disk=$(now)
  "$popek" --engine "$engine" --headless --hda "$disk" --snapshot --debugcon none --timeout 60 2>/dev/null
  status=$?; end_disk=$(now)
  printf '%-6s banner on screen %6s s   No bootable device %6s s   boot disk runs and exits %6s s (status %d)\n' \
    "$engine" "$([ -n "$banner" ] && ms "$start" "$banner" || echo -)" "$([ -n "$nobdev" ] && ms "$start" "$nobdev" || echo -)" \
    "$(ms "$start_disk" "$end_disk")" "$status"
done
