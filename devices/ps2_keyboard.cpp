#include "devices/ps2_keyboard.h"

namespace popek {

namespace {

// Make code of a key in sets 1 and 2, and whether it carries the E0 prefix.
// Break codes: set 1 sets bit 7 of the last byte; set 2 puts F0 before it.
struct KeyCodes {
  uint8_t set1;
  uint8_t set2;
  bool extended;
};

constexpr size_t kKeys = static_cast<size_t>(KeyCode::Count);

// Indexed by KeyCode; PrintScreen and Pause have their own sequences below
// (their entries give the codes of the bytes those sequences are built from).
constexpr std::array<KeyCodes, kKeys> kKeyTable = {{
    {0x01, 0x76, false},  // Escape
    {0x3B, 0x05, false},  // F1
    {0x3C, 0x06, false},  // F2
    {0x3D, 0x04, false},  // F3
    {0x3E, 0x0C, false},  // F4
    {0x3F, 0x03, false},  // F5
    {0x40, 0x0B, false},  // F6
    {0x41, 0x83, false},  // F7
    {0x42, 0x0A, false},  // F8
    {0x43, 0x01, false},  // F9
    {0x44, 0x09, false},  // F10
    {0x57, 0x78, false},  // F11
    {0x58, 0x07, false},  // F12
    {0x37, 0x7C, true},   // PrintScreen (special)
    {0x46, 0x7E, false},  // ScrollLock
    {0x45, 0x77, false},  // Pause (special)
    {0x29, 0x0E, false},  // Backquote
    {0x02, 0x16, false},  // Digit1
    {0x03, 0x1E, false},  // Digit2
    {0x04, 0x26, false},  // Digit3
    {0x05, 0x25, false},  // Digit4
    {0x06, 0x2E, false},  // Digit5
    {0x07, 0x36, false},  // Digit6
    {0x08, 0x3D, false},  // Digit7
    {0x09, 0x3E, false},  // Digit8
    {0x0A, 0x46, false},  // Digit9
    {0x0B, 0x45, false},  // Digit0
    {0x0C, 0x4E, false},  // Minus
    {0x0D, 0x55, false},  // Equal
    {0x0E, 0x66, false},  // Backspace
    {0x0F, 0x0D, false},  // Tab
    {0x10, 0x15, false},  // Q
    {0x11, 0x1D, false},  // W
    {0x12, 0x24, false},  // E
    {0x13, 0x2D, false},  // R
    {0x14, 0x2C, false},  // T
    {0x15, 0x35, false},  // Y
    {0x16, 0x3C, false},  // U
    {0x17, 0x43, false},  // I
    {0x18, 0x44, false},  // O
    {0x19, 0x4D, false},  // P
    {0x1A, 0x54, false},  // LeftBracket
    {0x1B, 0x5B, false},  // RightBracket
    {0x2B, 0x5D, false},  // Backslash
    {0x3A, 0x58, false},  // CapsLock
    {0x1E, 0x1C, false},  // A
    {0x1F, 0x1B, false},  // S
    {0x20, 0x23, false},  // D
    {0x21, 0x2B, false},  // F
    {0x22, 0x34, false},  // G
    {0x23, 0x33, false},  // H
    {0x24, 0x3B, false},  // J
    {0x25, 0x42, false},  // K
    {0x26, 0x4B, false},  // L
    {0x27, 0x4C, false},  // Semicolon
    {0x28, 0x52, false},  // Quote
    {0x1C, 0x5A, false},  // Enter
    {0x2A, 0x12, false},  // LeftShift
    {0x56, 0x61, false},  // IntlBackslash
    {0x2C, 0x1A, false},  // Z
    {0x2D, 0x22, false},  // X
    {0x2E, 0x21, false},  // C
    {0x2F, 0x2A, false},  // V
    {0x30, 0x32, false},  // B
    {0x31, 0x31, false},  // N
    {0x32, 0x3A, false},  // M
    {0x33, 0x41, false},  // Comma
    {0x34, 0x49, false},  // Period
    {0x35, 0x4A, false},  // Slash
    {0x36, 0x59, false},  // RightShift
    {0x1D, 0x14, false},  // LeftCtrl
    {0x5B, 0x1F, true},   // LeftMeta
    {0x38, 0x11, false},  // LeftAlt
    {0x39, 0x29, false},  // Space
    {0x38, 0x11, true},   // RightAlt
    {0x5C, 0x27, true},   // RightMeta
    {0x5D, 0x2F, true},   // Menu
    {0x1D, 0x14, true},   // RightCtrl
    {0x52, 0x70, true},   // Insert
    {0x47, 0x6C, true},   // Home
    {0x49, 0x7D, true},   // PageUp
    {0x53, 0x71, true},   // Delete
    {0x4F, 0x69, true},   // End
    {0x51, 0x7A, true},   // PageDown
    {0x48, 0x75, true},   // ArrowUp
    {0x4B, 0x6B, true},   // ArrowLeft
    {0x50, 0x72, true},   // ArrowDown
    {0x4D, 0x74, true},   // ArrowRight
    {0x45, 0x77, false},  // NumLock
    {0x35, 0x4A, true},   // KeypadDivide
    {0x37, 0x7C, false},  // KeypadMultiply
    {0x4A, 0x7B, false},  // KeypadMinus
    {0x4E, 0x79, false},  // KeypadPlus
    {0x1C, 0x5A, true},   // KeypadEnter
    {0x53, 0x71, false},  // KeypadDecimal
    {0x52, 0x70, false},  // Keypad0
    {0x4F, 0x69, false},  // Keypad1
    {0x50, 0x72, false},  // Keypad2
    {0x51, 0x7A, false},  // Keypad3
    {0x4B, 0x6B, false},  // Keypad4
    {0x4C, 0x73, false},  // Keypad5
    {0x4D, 0x74, false},  // Keypad6
    {0x47, 0x6C, false},  // Keypad7
    {0x48, 0x75, false},  // Keypad8
    {0x49, 0x7D, false},  // Keypad9
}};

// The 8042 translation table for bytes below 0x80, built from the key map.
// Set-2 bytes no key uses map to themselves, except 0x00 (the set-2 overrun
// code, which becomes the set-1 overrun code 0xFF) and 0x02 (the reply to
// "get scancode set" for set 2, which a translating 8042 turns into 0x41).
constexpr std::array<uint8_t, 0x80> make_translation() {
  std::array<uint8_t, 0x80> t{};
  for (unsigned i = 0; i < 0x80; ++i) t[i] = static_cast<uint8_t>(i);
  for (const KeyCodes& k : kKeyTable) {
    if (k.set2 < 0x80) t[k.set2] = k.set1;
  }
  t[0x00] = 0xFF;
  t[0x02] = 0x41;
  return t;
}
constexpr std::array<uint8_t, 0x80> kTranslation = make_translation();

}  // namespace

uint8_t Ps2Keyboard::translate_to_set1(uint8_t b) {
  if (b < 0x80) return kTranslation[b];
  if (b == 0x83) return 0x41;  // F7, the only set-2 make code above 0x7F
  return b;
}

std::vector<uint8_t> Ps2Keyboard::sequence(KeyCode key, bool pressed, int set) {
  const size_t index = static_cast<size_t>(key);
  if (index >= kKeys) return {};
  const bool set1 = set == 1;
  if (key == KeyCode::Pause) {
    // Make only (no break): E1 + Ctrl + NumLock, made and broken.
    if (!pressed) return {};
    if (set1) return {0xE1, 0x1D, 0x45, 0xE1, 0x9D, 0xC5};
    return {0xE1, 0x14, 0x77, 0xE1, 0xF0, 0x14, 0xF0, 0x77};
  }
  if (key == KeyCode::PrintScreen) {
    // A fake left shift around the keypad-* code, all E0-prefixed.
    if (set1) {
      if (pressed) return {0xE0, 0x2A, 0xE0, 0x37};
      return {0xE0, 0xB7, 0xE0, 0xAA};
    }
    if (pressed) return {0xE0, 0x12, 0xE0, 0x7C};
    return {0xE0, 0xF0, 0x7C, 0xE0, 0xF0, 0x12};
  }
  const KeyCodes& k = kKeyTable[index];
  std::vector<uint8_t> out;
  if (k.extended) out.push_back(0xE0);
  if (set1) {
    out.push_back(static_cast<uint8_t>(pressed ? k.set1 : k.set1 | 0x80));
  } else {
    if (!pressed) out.push_back(0xF0);
    out.push_back(k.set2);
  }
  return out;
}

Ps2Keyboard::Ps2Keyboard() : Ps2Device(kQueueCapacity) {}

void Ps2Keyboard::set_defaults() {
  set_ = 2;
  typematic_ = kDefaultTypematic;
  leds_ = 0;
}

void Ps2Keyboard::reset() {
  clear_output();
  set_defaults();
  scanning_ = true;
  pending_ = Pending::None;
  last_sent_ = kPs2Ack;
  overrun_ = false;
}

void Ps2Keyboard::send(std::initializer_list<uint8_t> bytes) {
  // A command aborts any key output still queued.
  clear_output();
  overrun_ = false;
  for (uint8_t b : bytes) last_sent_ = b;
  respond(bytes);
}

void Ps2Keyboard::receive(uint8_t byte) {
  if (pending_ != Pending::None && byte < 0xED) {
    const Pending p = pending_;
    pending_ = Pending::None;
    switch (p) {
      case Pending::Leds:
        leds_ = byte & 0x07;
        send({kPs2Ack});
        return;
      case Pending::Typematic:
        typematic_ = byte & 0x7F;
        send({kPs2Ack});
        return;
      case Pending::ScancodeSet:
        if (byte == 0) {
          send({kPs2Ack, static_cast<uint8_t>(set_)});
        } else if (byte <= 3) {
          set_ = byte;
          if (byte == 3) ignored("ps2 keyboard: scancode set 3 selected; keys are sent in set 2");
          send({kPs2Ack});
        } else {
          ignored("ps2 keyboard: invalid scancode set");
          send({kPs2Resend});
        }
        return;
      case Pending::None:
        break;
    }
  }
  // A command byte (0xED and up) always starts a new command, even when a
  // parameter was expected.
  pending_ = Pending::None;
  // Commands answered by more (or other) than a plain ACK return early; the
  // rest fall through to the one ACK after the switch.
  switch (byte) {
    case 0xFF:  // reset
      reset();
      send({kPs2Ack, kPs2SelfTestPassed});
      return;
    case 0xFE:  // resend
      respond({last_sent_});
      return;
    case 0xF2:  // identify: MF2 keyboard
      send({kPs2Ack, 0xAB, 0x83});
      return;
    case 0xEE:  // echo
      send({0xEE});
      return;
    case 0xF6:  // set defaults
      set_defaults();
      break;
    case 0xF5:  // disable scanning (and set defaults)
      set_defaults();
      scanning_ = false;
      break;
    case 0xF4:  // enable scanning
      scanning_ = true;
      break;
    case 0xF3: pending_ = Pending::Typematic; break;
    case 0xED: pending_ = Pending::Leds; break;
    case 0xF0: pending_ = Pending::ScancodeSet; break;
    case 0xF7:
    case 0xF8:
    case 0xF9:
    case 0xFA:
    case 0xFB:
    case 0xFC:
    case 0xFD:
      ignored("ps2 keyboard: set-3 key type command ignored");
      break;
    default:
      ignored("ps2 keyboard: unknown command");
      send({kPs2Resend});
      return;
  }
  send({kPs2Ack});
}

void Ps2Keyboard::key_event(KeyCode key, bool pressed) {
  if (!scanning_) return;
  const std::vector<uint8_t> bytes = sequence(key, pressed, set_ == 1 ? 1 : 2);
  if (bytes.empty()) return;
  // After an overrun, keys are accepted again once the host has drained the
  // queue (and so has seen the overrun code).
  if (overrun_ && queued() == 0) overrun_ = false;
  // One slot stays reserved for the overrun code.
  if (overrun_ || bytes.size() + 1 > space()) {
    if (!overrun_ && space() >= 1) {
      push_raw(set_ == 1 ? 0xFF : 0x00);
      overrun_ = true;
      notify();
    }
    return;
  }
  for (uint8_t b : bytes) push_raw(b);
  last_sent_ = bytes.back();
  notify();
}

}  // namespace popek
