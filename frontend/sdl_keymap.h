// Host keys to guest keys: SDL2 scancodes (USB HID usage IDs, i.e. physical
// key positions, independent of the host's layout) to the physical keys of
// the guest's PS/2 keyboard. The PS/2 make/break bytes of each key, in set 1
// or set 2, come from Ps2Keyboard::sequence (devices/ps2_keyboard.h), which
// the keyboard uses to send them; this file only names the key.
//
// Departures, and why:
//  - SDL_SCANCODE_NONUSHASH (the ISO key left of Enter) is sent as the US
//    Backslash key: both are set-2 code 0x5D on a real PS/2 keyboard.
//  - SysRq (Alt+PrintScreen on PC keyboards) is sent as PrintScreen.
//  - Keys a 105-key PC keyboard lacks (F13-F24, media, Japanese and Korean
//    keys, the keypad "=" key) map to nothing and are dropped.
#pragma once
#include <SDL2/SDL_scancode.h>

#include <optional>

#include "devices/ps2_keyboard.h"

namespace popek {

// The guest key for an SDL scancode, or nothing for keys a PC keyboard lacks.
std::optional<KeyCode> keycode_from_sdl(SDL_Scancode scancode);

}  // namespace popek
