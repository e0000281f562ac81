#include "frontend/sdl_keymap.h"

#include <array>

namespace popek {

namespace {

struct Mapping {
  SDL_Scancode sdl;
  KeyCode key;
};

// One row per key of a 105-key PC keyboard, in the order of the KeyCode enum.
constexpr Mapping kMappings[] = {
    {SDL_SCANCODE_ESCAPE, KeyCode::Escape},
    {SDL_SCANCODE_F1, KeyCode::F1},
    {SDL_SCANCODE_F2, KeyCode::F2},
    {SDL_SCANCODE_F3, KeyCode::F3},
    {SDL_SCANCODE_F4, KeyCode::F4},
    {SDL_SCANCODE_F5, KeyCode::F5},
    {SDL_SCANCODE_F6, KeyCode::F6},
    {SDL_SCANCODE_F7, KeyCode::F7},
    {SDL_SCANCODE_F8, KeyCode::F8},
    {SDL_SCANCODE_F9, KeyCode::F9},
    {SDL_SCANCODE_F10, KeyCode::F10},
    {SDL_SCANCODE_F11, KeyCode::F11},
    {SDL_SCANCODE_F12, KeyCode::F12},
    {SDL_SCANCODE_PRINTSCREEN, KeyCode::PrintScreen},
    {SDL_SCANCODE_SYSREQ, KeyCode::PrintScreen},
    {SDL_SCANCODE_SCROLLLOCK, KeyCode::ScrollLock},
    {SDL_SCANCODE_PAUSE, KeyCode::Pause},
    {SDL_SCANCODE_GRAVE, KeyCode::Backquote},
    {SDL_SCANCODE_1, KeyCode::Digit1},
    {SDL_SCANCODE_2, KeyCode::Digit2},
    {SDL_SCANCODE_3, KeyCode::Digit3},
    {SDL_SCANCODE_4, KeyCode::Digit4},
    {SDL_SCANCODE_5, KeyCode::Digit5},
    {SDL_SCANCODE_6, KeyCode::Digit6},
    {SDL_SCANCODE_7, KeyCode::Digit7},
    {SDL_SCANCODE_8, KeyCode::Digit8},
    {SDL_SCANCODE_9, KeyCode::Digit9},
    {SDL_SCANCODE_0, KeyCode::Digit0},
    {SDL_SCANCODE_MINUS, KeyCode::Minus},
    {SDL_SCANCODE_EQUALS, KeyCode::Equal},
    {SDL_SCANCODE_BACKSPACE, KeyCode::Backspace},
    {SDL_SCANCODE_TAB, KeyCode::Tab},
    {SDL_SCANCODE_Q, KeyCode::Q},
    {SDL_SCANCODE_W, KeyCode::W},
    {SDL_SCANCODE_E, KeyCode::E},
    {SDL_SCANCODE_R, KeyCode::R},
    {SDL_SCANCODE_T, KeyCode::T},
    {SDL_SCANCODE_Y, KeyCode::Y},
    {SDL_SCANCODE_U, KeyCode::U},
    {SDL_SCANCODE_I, KeyCode::I},
    {SDL_SCANCODE_O, KeyCode::O},
    {SDL_SCANCODE_P, KeyCode::P},
    {SDL_SCANCODE_LEFTBRACKET, KeyCode::LeftBracket},
    {SDL_SCANCODE_RIGHTBRACKET, KeyCode::RightBracket},
    {SDL_SCANCODE_BACKSLASH, KeyCode::Backslash},
    {SDL_SCANCODE_NONUSHASH, KeyCode::Backslash},
    {SDL_SCANCODE_CAPSLOCK, KeyCode::CapsLock},
    {SDL_SCANCODE_A, KeyCode::A},
    {SDL_SCANCODE_S, KeyCode::S},
    {SDL_SCANCODE_D, KeyCode::D},
    {SDL_SCANCODE_F, KeyCode::F},
    {SDL_SCANCODE_G, KeyCode::G},
    {SDL_SCANCODE_H, KeyCode::H},
    {SDL_SCANCODE_J, KeyCode::J},
    {SDL_SCANCODE_K, KeyCode::K},
    {SDL_SCANCODE_L, KeyCode::L},
    {SDL_SCANCODE_SEMICOLON, KeyCode::Semicolon},
    {SDL_SCANCODE_APOSTROPHE, KeyCode::Quote},
    {SDL_SCANCODE_RETURN, KeyCode::Enter},
    {SDL_SCANCODE_LSHIFT, KeyCode::LeftShift},
    {SDL_SCANCODE_NONUSBACKSLASH, KeyCode::IntlBackslash},
    {SDL_SCANCODE_Z, KeyCode::Z},
    {SDL_SCANCODE_X, KeyCode::X},
    {SDL_SCANCODE_C, KeyCode::C},
    {SDL_SCANCODE_V, KeyCode::V},
    {SDL_SCANCODE_B, KeyCode::B},
    {SDL_SCANCODE_N, KeyCode::N},
    {SDL_SCANCODE_M, KeyCode::M},
    {SDL_SCANCODE_COMMA, KeyCode::Comma},
    {SDL_SCANCODE_PERIOD, KeyCode::Period},
    {SDL_SCANCODE_SLASH, KeyCode::Slash},
    {SDL_SCANCODE_RSHIFT, KeyCode::RightShift},
    {SDL_SCANCODE_LCTRL, KeyCode::LeftCtrl},
    {SDL_SCANCODE_LGUI, KeyCode::LeftMeta},
    {SDL_SCANCODE_LALT, KeyCode::LeftAlt},
    {SDL_SCANCODE_SPACE, KeyCode::Space},
    {SDL_SCANCODE_RALT, KeyCode::RightAlt},
    {SDL_SCANCODE_RGUI, KeyCode::RightMeta},
    {SDL_SCANCODE_APPLICATION, KeyCode::Menu},
    {SDL_SCANCODE_RCTRL, KeyCode::RightCtrl},
    {SDL_SCANCODE_INSERT, KeyCode::Insert},
    {SDL_SCANCODE_HOME, KeyCode::Home},
    {SDL_SCANCODE_PAGEUP, KeyCode::PageUp},
    {SDL_SCANCODE_DELETE, KeyCode::Delete},
    {SDL_SCANCODE_END, KeyCode::End},
    {SDL_SCANCODE_PAGEDOWN, KeyCode::PageDown},
    {SDL_SCANCODE_UP, KeyCode::ArrowUp},
    {SDL_SCANCODE_LEFT, KeyCode::ArrowLeft},
    {SDL_SCANCODE_DOWN, KeyCode::ArrowDown},
    {SDL_SCANCODE_RIGHT, KeyCode::ArrowRight},
    {SDL_SCANCODE_NUMLOCKCLEAR, KeyCode::NumLock},
    {SDL_SCANCODE_KP_DIVIDE, KeyCode::KeypadDivide},
    {SDL_SCANCODE_KP_MULTIPLY, KeyCode::KeypadMultiply},
    {SDL_SCANCODE_KP_MINUS, KeyCode::KeypadMinus},
    {SDL_SCANCODE_KP_PLUS, KeyCode::KeypadPlus},
    {SDL_SCANCODE_KP_ENTER, KeyCode::KeypadEnter},
    {SDL_SCANCODE_KP_PERIOD, KeyCode::KeypadDecimal},
    {SDL_SCANCODE_KP_0, KeyCode::Keypad0},
    {SDL_SCANCODE_KP_1, KeyCode::Keypad1},
    {SDL_SCANCODE_KP_2, KeyCode::Keypad2},
    {SDL_SCANCODE_KP_3, KeyCode::Keypad3},
    {SDL_SCANCODE_KP_4, KeyCode::Keypad4},
    {SDL_SCANCODE_KP_5, KeyCode::Keypad5},
    {SDL_SCANCODE_KP_6, KeyCode::Keypad6},
    {SDL_SCANCODE_KP_7, KeyCode::Keypad7},
    {SDL_SCANCODE_KP_8, KeyCode::Keypad8},
    {SDL_SCANCODE_KP_9, KeyCode::Keypad9},
};

// Index 0 (SDL_SCANCODE_UNKNOWN) and unlisted scancodes hold kNone.
constexpr uint8_t kNone = 0xFF;
static_assert(static_cast<size_t>(KeyCode::Count) < kNone);

constexpr std::array<uint8_t, SDL_NUM_SCANCODES> make_table() {
  std::array<uint8_t, SDL_NUM_SCANCODES> t{};
  for (uint8_t& v : t) v = kNone;
  for (const Mapping& m : kMappings) t[m.sdl] = static_cast<uint8_t>(m.key);
  return t;
}
constexpr std::array<uint8_t, SDL_NUM_SCANCODES> kTable = make_table();

}  // namespace

std::optional<KeyCode> keycode_from_sdl(SDL_Scancode scancode) {
  const int index = static_cast<int>(scancode);
  if (index < 0 || index >= SDL_NUM_SCANCODES || kTable[index] == kNone) return std::nullopt;
  return static_cast<KeyCode>(kTable[index]);
}

}  // namespace popek
