#!/usr/bin/env bash
# The desktop app in a real window on a virtual X server (run under xvfb-run
# by ctest, label gui). Usage:
#   display_test.sh POPEK DISPLAY_TEST_ROM GUI_CHECK X_CLOSE_WINDOW
# 1. popek opens its window on the display_test ROM; the ROM's text screen is
#    captured twice, by F12 (popek's PNG of the guest picture) and by xwd (the
#    X window's contents), and both are checked against the expected pixels.
# 2. The A key goes in through X (xdotool, XTEST): the ROM checks its set-1
#    scancodes, switches to mode 13h; the window follows the mode change and
#    is checked again, then resized to check the scaling and letterbox.
# 3. The Up key (extended, set 2): the ROM checks E0 75 E0 F0 75.
# 4. The mouse: a click grabs the pointer (the title says how to release it),
#    Ctrl+Alt+G releases it, another click grabs it again; then a movement to
#    the right and a left click reach the ROM as PS/2 packets, and it exits
#    with PASS (status 1).
# 5. A second run is closed through the window manager protocol
#    (WM_DELETE_WINDOW): power-off, status 0.
# 6. Without DISPLAY, popek runs headless and says so once.
# Nothing here assumes how fast the window follows: each check polls until
# what it expects shows or a generous deadline passes (a loaded host, or a
# sanitizer build, can take seconds to draw a frame or create a window).
set -u
popek=$1 rom=$2 check=$3 close_window=$4
tmp=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "--- popek stderr:"; cat "$tmp"/err* 2>/dev/null; echo "--- guest output:"; cat "$tmp"/con* 2>/dev/null; exit 1; }
# wait_for FILE PATTERN SECONDS
wait_for() {
  for _ in $(seq $(($3 * 20))); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.05; done
  fail "no '$2' in $1 after $3 s"
}
# picture_shows NAME KIND ARGS...: an F12 screenshot (popek prints its
# path) passes `gui_check KIND SHOT ARGS...`; its path is left in $shot. F12
# saves the last frame the window received, which can predate what the guest
# has just drawn, so screenshots are taken until one passes, for up to 30 s.
picture_shows() {
  local name=$1 kind=$2 before
  shift 2
  for _ in $(seq 60); do
    before=$(grep -c 'screenshot saved' "$tmp/err1" 2>/dev/null)
    xdotool key F12
    for _ in $(seq 600); do
      [ "$(grep -c 'screenshot saved' "$tmp/err1")" -gt "$before" ] && break
      sleep 0.05
    done
    shot=$(grep 'screenshot saved' "$tmp/err1" | tail -n 1 | sed 's/.*saved to //')
    [ -f "$shot" ] || fail "F12 saved no screenshot"
    if "$check" "$kind" "$shot" "$@" >"$tmp/$name.picture"; then
      cat "$tmp/$name.picture"
      return 0
    fi
    sleep 0.5
  done
  cat "$tmp/$name.picture"
  fail "$name: no screenshot shows the expected picture"
}
window_of() {  # sets $wid: the window of process $1
  for _ in $(seq 600); do
    wid=$(xdotool search --onlyvisible --pid "$1" --name '^Popek' 2>/dev/null | head -n 1)
    [ -n "$wid" ] && return 0
    sleep 0.1
  done
  fail "no Popek window appeared"
}
# window_shows NAME SHOT GEOMETRY: the window, captured with xwd, shows SHOT
# (gui_check window) and gui_check reports GEOMETRY ("window: WxH showing
# WxH"). The window is redrawn at its own pace after a mode change or a
# resize, so the capture is retried until it matches, for up to 30 s.
window_shows() {
  local name=$1 shot=$2 geometry=$3
  for _ in $(seq 60); do
    if xwd -silent -id "$wid" -out "$tmp/$name.xwd" &&
       "$check" window "$tmp/$name.xwd" "$shot" >"$tmp/$name.check" && grep -q "$geometry" "$tmp/$name.check"; then
      cat "$tmp/$name.check"
      return 0
    fi
    sleep 0.5
  done
  cat "$tmp/$name.check" 2>/dev/null
  fail "$name: the window does not show '$geometry' with the guest picture"
}

# ---- 1-4: the display test -------------------------------------------------
"$popek" --bios "$rom" --debugcon "file:$tmp/con1" --screenshot-dir "$tmp" --timeout 90 2>"$tmp/err1" &
pid=$!
window_of $pid
wait_for "$tmp/con1" "TEXT READY" 30
xdotool windowfocus --sync "$wid" 2>/dev/null || true
picture_shows text text "$rom" "2:4:1E:POPEK VGA TEXT" "4:4:4F:PRESS A KEY"
window_shows text "$shot" "window: 720x400 showing 720x400"
# The title's figures are updated about once a second.
for _ in $(seq 300); do
  title=$(xdotool getwindowname "$wid")
  case $title in "Popek - dbt - "*" MIPS - hit "*%*) break ;; esac
  sleep 0.1
done
echo "title: $title"
case $title in "Popek - dbt - "*" MIPS - hit "*%*) ;; *) fail "title '$title' lacks the engine and MIPS" ;; esac

xdotool key a
wait_for "$tmp/con1" "MODE13 READY" 30
picture_shows mode13 mode13
window_shows mode13 "$shot" "window: 640x400 showing 640x400"  # it followed the mode change
xdotool windowmove "$wid" 0 0 windowsize "$wid" 960 800  # all on screen: xwd captures only what is
window_shows resized "$shot" "window: 960x800 showing 640x400"

xdotool key Up
wait_for "$tmp/con1" "MOUSE READY" 30
title_has() {  # title_has TEXT yes|no
  for _ in $(seq 600); do
    case $(xdotool getwindowname "$wid") in *"$1"*) [ "$2" = yes ] && return 0 ;; *) [ "$2" = no ] && return 0 ;; esac
    sleep 0.05
  done
  fail "title '$(xdotool getwindowname "$wid")': expected '$1' $2"
}
xdotool mousemove --window "$wid" 300 200 click 1  # grabs; the guest sees no click
title_has "Ctrl+Alt+G releases the pointer" yes
xdotool key ctrl+alt+g
title_has "Ctrl+Alt+G releases the pointer" no
xdotool click 1
title_has "Ctrl+Alt+G releases the pointer" yes
xdotool mousemove_relative -- 40 0
sleep 0.2
xdotool click 1
for _ in $(seq 200); do kill -0 $pid 2>/dev/null || break; sleep 0.05; done
wait $pid; status=$?
pid=
cat "$tmp/con1"
[ "$status" -eq 1 ] || fail "popek exited with $status, expected 1 (PASS)"
grep -qx "PASS display_test" "$tmp/con1" || fail "no PASS line"

# ---- 5: closing the window powers off -----------------------------------------
"$popek" --bios "$rom" --debugcon "file:$tmp/con2" --timeout 60 2>"$tmp/err2" &
pid=$!
window_of $pid
wait_for "$tmp/con2" "TEXT READY" 30
"$close_window" "$wid" || fail "could not send WM_DELETE_WINDOW"
for _ in $(seq 200); do kill -0 $pid 2>/dev/null || break; sleep 0.05; done
wait $pid; status=$?
pid=
[ "$status" -eq 0 ] || fail "closing the window: exit status $status, expected 0"
echo "window close: exit status 0"

# ---- 6: no display, no window -------------------------------------------------
demo=$(dirname "$rom")/demo.bin
env -u DISPLAY -u WAYLAND_DISPLAY "$popek" --bios "$demo" --debugcon none --timeout 30 2>"$tmp/err3"
status=$?
[ "$status" -eq 1 ] || fail "headless demo: status $status"
[ "$(grep -c 'running headless (no DISPLAY or WAYLAND_DISPLAY)' "$tmp/err3")" -eq 1 ] || fail "headless notice missing or repeated"
echo "no display: ran headless and said so once"
echo "PASS gui.display_test"
