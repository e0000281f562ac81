#!/usr/bin/env bash
# The main job: install what is needed, fetch the default guest (Debian's
# i386 Linux and a busybox initramfs, scripts/fetch_guest.sh), build, and
# boot it with a busybox shell:
#  - with a display (DISPLAY or WAYLAND_DISPLAY set) in the SDL window, the
#    shell on the VGA console (tty0) and the kernel log also on COM1;
#  - without one, or with --headless, on the terminal (serial console on stdio).
# Extra arguments go to popek (e.g. --engine interp, -m 256, --headless).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/fetch_guest.sh
scripts/build.sh build
headless=0
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then headless=1; fi
for a in "$@"; do [ "$a" = "--headless" ] && headless=1; done
if [ "$headless" = 1 ]; then
  exec build/popek --headless --serial stdio -m 128 \
    --kernel guest/vmlinuz --initrd guest/initramfs.cpio.gz --append "console=ttyS0" "$@"
fi
# The last console= is /dev/console, where /init starts the shell.
exec build/popek -m 128 \
  --kernel guest/vmlinuz --initrd guest/initramfs.cpio.gz --append "console=ttyS0 console=tty0" "$@"
