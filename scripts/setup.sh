#!/usr/bin/env bash
# Installs every Debian 12 package Popek needs to build, test and run.
# Run as root (or with sudo). Safe to run again.
set -euo pipefail
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
PACKAGES=(
  build-essential cmake ninja-build pkg-config nasm python3
  libzydis-dev libzycore-dev libasmjit-dev libgtest-dev libsdl2-dev
  libunicorn-dev gcc-multilib g++-multilib
  libcli11-dev nlohmann-json3-dev libpng-dev
  qemu-system-x86 seabios
  xorriso memtest86+ cpio
  xvfb xdotool x11-apps libx11-dev
  clang-14 libclang-rt-14-dev
  libxml2-dev chromium
)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi
