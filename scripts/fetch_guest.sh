#!/usr/bin/env bash
# Fetches the default Linux guest into guest/ (never committed): Debian 12's
# i386 686 kernel (the one linux-image-686:i386 depends on) and
# busybox-static:i386, both with `apt-get download`, and builds
# guest/initramfs.cpio.gz around scripts/guest/init.
# Produces guest/vmlinuz and guest/initramfs.cpio.gz. Quick when done already.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
guest="$root/guest"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
mkdir -p "$guest/debs"

if [ ! -f "$guest/vmlinuz" ] || [ ! -x "$guest/busybox/bin/busybox" ]; then
  if ! dpkg --print-foreign-architectures | grep -qx i386; then
    $SUDO dpkg --add-architecture i386
    $SUDO apt-get update -qq || true  # a lagging mirror index is not fatal here
  fi
  # The versioned kernel package linux-image-686 points at.
  kpkg="$(apt-cache depends linux-image-686:i386 2>/dev/null |
          sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-686\)\(:i386\)\?$/\1/p' | head -n1)"
  if [ -z "$kpkg" ]; then
    $SUDO apt-get update -qq || true  # a lagging mirror index is not fatal here
    kpkg="$(apt-cache depends linux-image-686:i386 |
            sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-686\)\(:i386\)\?$/\1/p' | head -n1)"
  fi
  if [ -z "$kpkg" ]; then
    echo "fetch_guest: cannot find the kernel package linux-image-686:i386 depends on" >&2
    exit 1
  fi
  (cd "$guest/debs" && rm -f ./*.deb && apt-get download -q "$kpkg:i386" busybox-static:i386)
  rm -rf "$guest/kernel" "$guest/busybox"
  dpkg-deb -x "$guest"/debs/linux-image-*.deb "$guest/kernel"
  dpkg-deb -x "$guest"/debs/busybox-static_*.deb "$guest/busybox"
  cp "$(ls "$guest"/kernel/boot/vmlinuz-* | head -n1)" "$guest/vmlinuz"
  echo "$kpkg" > "$guest/kernel-package"
fi

# The initramfs: busybox and /init, no kernel modules (the 686 kernel has
# what the check and the shell need built in). Rebuilt when /init changes.
initrd="$guest/initramfs.cpio.gz"
if [ ! -f "$initrd" ] || [ "$root/scripts/guest/init" -nt "$initrd" ] || [ "$0" -nt "$initrd" ]; then
  stage="$guest/initramfs"
  rm -rf "$stage"
  mkdir -p "$stage"/{bin,sbin,dev,proc,sys,tmp,root,etc,usr/bin,usr/sbin}
  cp "$guest/busybox/bin/busybox" "$stage/bin/busybox"
  ln -s busybox "$stage/bin/sh"
  install -m 0755 "$root/scripts/guest/init" "$stage/init"
  # The kernel opens /dev/console before /init runs (its built-in
  # initramfs has the node too; this one wins if we may create it).
  mknod -m 600 "$stage/dev/console" c 5 1 2>/dev/null || true
  (cd "$stage" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0 > "$guest/initramfs.cpio")
  gzip -9 -n -c "$guest/initramfs.cpio" > "$initrd.tmp"
  mv "$initrd.tmp" "$initrd"
  rm -f "$guest/initramfs.cpio"
fi
echo "guest: $guest/vmlinuz ($(cat "$guest/kernel-package" 2>/dev/null)), $initrd"
