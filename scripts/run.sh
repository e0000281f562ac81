#!/usr/bin/env bash
# The main job: install what is needed, build, and boot the default guest.
# Until the desktop app and the Linux guest exist, the default guest is the
# project's own demo ROM, run headless with its console on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh build
exec build/popek --headless --bios build/roms/demo.bin --debugcon stdio --timeout 30 "$@"
