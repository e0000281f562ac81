#!/usr/bin/env bash
# The main job: install what is needed, fetch the default guest (Debian's
# i386 Linux and a busybox initramfs, scripts/fetch_guest.sh), build, and
# boot it with a busybox shell on the terminal (serial console on stdio).
# Extra arguments go to popek (e.g. --engine interp, -m 256).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/fetch_guest.sh
scripts/build.sh build
exec build/popek --headless --serial stdio -m 128 \
  --kernel guest/vmlinuz --initrd guest/initramfs.cpio.gz --append "console=ttyS0" "$@"
