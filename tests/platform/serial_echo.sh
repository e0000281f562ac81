#!/usr/bin/env bash
# Host stdin -> COM1: runs roms/serial_echo.bin with --serial stdio and
# bytes piped into popek's stdin. The ROM echoes what it receives on COM1
# (a-z turned into A-Z) from its IRQ4 handler and passes at '!'.
#   1. 200+ bytes, more than the 16-byte RX FIFO holds, including control
#      and 8-bit bytes, then '!': exit status 1 (PASS), COM1 output equal
#      to the expected echo byte for byte (nothing lost or reordered).
#   2. Input without '!': once stdin is at end of file nothing can wake the
#      guest, so popek must end with "guest halted" (status 2) instead of
#      waiting for its timeout, after echoing what it got.
# Usage: serial_echo.sh POPEK ROM ENGINE
set -u
popek="$1"; rom="$2"; engine="$3"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
args=(--engine "$engine" --headless --bios "$rom" --serial stdio --timeout 30)
fail=0

long=$(printf 'hello, popek: the quick brown fox jumps over the lazy dog %.0s' 1 2 3)
printf '%s\r\n\001\033\177\200\377!' "$long" > "$tmp/in1"
printf 'SERIAL: ready\r\n' > "$tmp/expect1"
printf '%s\r\n\001\033\177\200\377!' "$long" | tr 'a-z' 'A-Z' >> "$tmp/expect1"
"$popek" "${args[@]}" --debugcon "file:$tmp/log1" < "$tmp/in1" > "$tmp/out1" 2>"$tmp/err1"; status=$?
if [ "$status" -ne 1 ] || ! grep -q "^PASS serial_echo" "$tmp/log1" || ! cmp -s "$tmp/out1" "$tmp/expect1"; then
  echo "FAIL (echo): status $status (expected 1)"
  echo "--- COM1 output:"; od -c "$tmp/out1" | head -20
  echo "--- expected:"; od -c "$tmp/expect1" | head -20
  echo "--- debugcon:"; cat "$tmp/log1"; echo "--- stderr:"; cat "$tmp/err1"
  fail=1
else
  echo "PASS (echo): $(wc -c < "$tmp/in1") bytes echoed; $(grep serial_echo: "$tmp/log1")"
fi

printf 'abc' > "$tmp/in2"
"$popek" "${args[@]}" --debugcon "file:$tmp/log2" < "$tmp/in2" > "$tmp/out2" 2>"$tmp/err2"; status=$?
if [ "$status" -ne 2 ] || ! grep -q "halted" "$tmp/err2" || [ "$(cat "$tmp/out2")" != "$(printf 'SERIAL: ready\r\nABC')" ]; then
  echo "FAIL (end of input): status $status (expected 2, guest halted)"
  echo "--- COM1 output:"; od -c "$tmp/out2" | head; echo "--- stderr:"; cat "$tmp/err2"
  fail=1
else
  echo "PASS (end of input): guest reported halted after echoing 'abc'"
fi
exit $fail
