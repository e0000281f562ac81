// The desktop app: the machine runs on an emulation thread while this
// (the calling) thread owns SDL and the window.
//
// The window shows the guest's display through an SDL2 renderer and a
// streaming texture, scaled with nearest-neighbour sampling and letterboxed
// so the guest's aspect ratio survives any window size. It follows mode
// changes (the window takes the new size, at least 640 pixels wide by an
// integer factor). Frames are asked for at the display's refresh rate (60 Hz
// if unknown) with the thread asleep in SDL_WaitEventTimeout in between.
//
// Keys: every host key goes to the guest as PS/2 scancodes, except
//   Pause          pause / resume the machine
//   F11            overlay: guest MIPS and cache hit rate, last 30 s
//   F12            save a PNG screenshot of the guest's display
//   Ctrl+Alt+G     grab / release the pointer (a click in the window grabs too)
// Host key repeat is dropped; the guest's typematic settings repeat keys.
// Closing the window powers the machine off: the run ends, disk writes are
// flushed, and popek exits with status 0.
#pragma once
#include <string>

#include "core/machine.h"
#include "frontend/display_session.h"

namespace popek {

struct SdlAppOptions {
  std::string screenshot_dir = ".";  // where F12 writes popek-YYYYmmdd-HHMMSS-N.png
};

struct SdlAppResult {
  bool started = false;     // false: SDL or the window could not be created (`error` says why)
  std::string error;
  bool powered_off = false;  // the user closed the window
  RunOutcome outcome{};
};

// Runs `machine` with `limits` under a window until the guest stops the run
// or the user closes the window. `render` draws the guest's display into a
// frame (called on the emulation thread). If the run stops for a reason
// other than an exit (the guest halted for good, an engine failure), the
// window stays open on the last picture until it is closed.
SdlAppResult run_sdl_app(Machine& machine, const RunLimits& limits, DisplaySession::RenderFunction render,
                         const SdlAppOptions& options);

}  // namespace popek
