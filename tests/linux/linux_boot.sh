#!/usr/bin/env bash
# Boots Debian's i386 kernel with the project's initramfs (guest/, made by
# scripts/fetch_guest.sh) headless with popek.check=1, so that /init runs the
# scripted check (uname, /proc/cpuinfo, md5sum of `seq 1 100000`, 2000
# `$(expr ...)` calls) and powers off. Asserts on the serial output and on a
# clean exit with status 0 (ACPI S5). Exits 77 (skip) only when the guest has
# not been fetched.
# Usage: linux_boot.sh POPEK GUEST_DIR ENGINE TIMEOUT_SECONDS
set -u
popek="$1"; guest="$2"; engine="$3"; budget="$4"
kernel="$guest/vmlinuz"; initrd="$guest/initramfs.cpio.gz"
if [ ! -f "$kernel" ] || [ ! -f "$initrd" ]; then
  echo "SKIP: $guest has no vmlinuz/initramfs.cpio.gz; run scripts/fetch_guest.sh"
  exit 77
fi
log=$(mktemp); trap 'rm -f "$log"' EXIT
# Deterministic time: the guest's clock follows retired instructions, so the
# boot does not depend on how loaded the host is.
"$popek" --engine "$engine" --deterministic --headless --serial stdio -m 128 --timeout "$budget" \
  --kernel "$kernel" --initrd "$initrd" --append "console=ttyS0 popek.check=1" >"$log" 2>&1
status=$?
# The kernel's serial console ends lines with CR LF.
tr -d '\r' < "$log" > "$log.txt" && mv "$log.txt" "$log"
fail=0
expect() {  # description extended-regex
  if ! grep -Eq -- "$2" "$log"; then echo "FAIL: $1 (no line matching /$2/)"; fail=1; fi
}
expect "uname -a" '^POPEK-UNAME Linux .* 6\.[0-9]+\.[0-9]+-[0-9]+-686 .*i686 GNU/Linux'
expect "cpuinfo vendor" '^vendor_id[[:space:]]+: GenuineIntel'
expect "cpuinfo family" '^cpu family[[:space:]]+: 6$'
for f in fpu pse tsc msr cx8 sep pge cmov; do
  expect "cpuinfo flag $f" "^flags[[:space:]]+:.* $f( |\$)"
done
expect "md5sum of seq 1 100000" '^POPEK-MD5 dea9193b768319cbb4ff1a137ac03113 '
expect "expr loop end marker" '^POPEK-MARK expr-end 2000$'
expect "ACPI poweroff" 'reboot: Power down'
if grep -Eq 'Kernel panic|BUG:|Oops|general protection fault' "$log"; then
  echo "FAIL: the kernel reported an error"; fail=1
fi
if [ "$status" -ne 0 ]; then echo "FAIL: popek exited with status $status (expected 0 after poweroff)"; fail=1; fi
if [ "$fail" -ne 0 ]; then
  echo "---- serial log (last 60 lines) ----"; tail -n 60 "$log"
  exit 1
fi
grep -E '^POPEK-(UNAME|MD5|MARK)' "$log"
echo "PASS linux_boot ($engine)"
