// A PS/2 (MF II) keyboard on the 8042's first port: its command set, a
// bounded output queue, and scancode sets 1 and 2 generated from host key
// events. The 8042's set 2 -> set 1 translation lives here too, as a table
// derived from the same key map, so the two can never disagree.
//
// Commands (host -> keyboard; every one but 0xEE and 0xFE is ACKed, 0xFA):
//   0xFF reset: ACK, then BAT passed 0xAA; defaults, scanning enabled
//   0xFE resend: the last byte sent again
//   0xF6 set defaults (set 2, typematic 0x2B, LEDs off); scanning unchanged
//   0xF5 set defaults and disable scanning;  0xF4 enable scanning
//   0xF3 <rate> typematic rate/delay;  0xED <leds> LEDs (bit 0 Scroll,
//        bit 1 Num, bit 2 Caps)
//   0xF0 <n> scancode set: n = 0 reports the current set, 1/2/3 selects it
//   0xF2 identify: ACK, 0xAB, 0x83 (an MF2 keyboard)
//   0xEE echo: 0xEE
//   0xF7..0xFD set-3 key type commands: ACKed and ignored
//   anything else: 0xFE (resend request), logged
//
// Departures from real keyboards, and why:
//  - Replies are queued at once; there is no BAT delay or typematic repeat
//    (the host's own key repeat arrives as repeated make events).
//  - Set 3 may be selected and is reported by 0xF0 0x00, but keys are still
//    sent in set 2 (no PC guest relies on set 3; the choice is logged).
//  - The make/break sequences do not depend on the modifier state: no fake
//    shifts around the grey navigation keys with NumLock or Shift held, no
//    Alt+PrintScreen (SysRq) or Ctrl+Pause (Break) special codes.
//  - Overrun: when a key's whole sequence no longer fits in the 16-byte
//    queue it is dropped and the overrun code (0x00 in set 2, 0xFF in set 1)
//    takes the last free slot, once, as real keyboards do.
#pragma once
#include <array>
#include <cstdint>
#include <vector>

#include "devices/ps2_device.h"

namespace popek {

// Physical keys of a 105-key (ISO) keyboard: the US 104 keys plus the ISO
// key left of Z. Named for their US legends.
enum class KeyCode : uint8_t {
  Escape, F1, F2, F3, F4, F5, F6, F7, F8, F9, F10, F11, F12,
  PrintScreen, ScrollLock, Pause,
  Backquote, Digit1, Digit2, Digit3, Digit4, Digit5, Digit6, Digit7, Digit8, Digit9, Digit0,
  Minus, Equal, Backspace,
  Tab, Q, W, E, R, T, Y, U, I, O, P, LeftBracket, RightBracket, Backslash,
  CapsLock, A, S, D, F, G, H, J, K, L, Semicolon, Quote, Enter,
  LeftShift, IntlBackslash, Z, X, C, V, B, N, M, Comma, Period, Slash, RightShift,
  LeftCtrl, LeftMeta, LeftAlt, Space, RightAlt, RightMeta, Menu, RightCtrl,
  Insert, Home, PageUp, Delete, End, PageDown,
  ArrowUp, ArrowLeft, ArrowDown, ArrowRight,
  NumLock, KeypadDivide, KeypadMultiply, KeypadMinus, KeypadPlus, KeypadEnter, KeypadDecimal,
  Keypad0, Keypad1, Keypad2, Keypad3, Keypad4, Keypad5, Keypad6, Keypad7, Keypad8, Keypad9,
  Count  // number of keys; not a key
};

class Ps2Keyboard : public Ps2Device {
 public:
  static constexpr size_t kQueueCapacity = 16;
  static constexpr uint8_t kDefaultTypematic = 0x2B;  // 10.9 cps, 500 ms delay

  Ps2Keyboard();
  void receive(uint8_t byte) override;
  void reset() override;

  // A host key press or release; queued in the current scancode set when
  // scanning is enabled, else dropped.
  void key_event(KeyCode key, bool pressed);

  int scancode_set() const { return set_; }
  bool scanning() const { return scanning_; }
  uint8_t leds() const { return leds_; }
  uint8_t typematic() const { return typematic_; }

  // The bytes a key sends in set 1 or 2 (for tests and frontends).
  static std::vector<uint8_t> sequence(KeyCode key, bool pressed, int set);
  // The 8042's translation of one set-2 byte to set 1 (prefix 0xF0 and the
  // break bit are handled by the controller). Bytes 0x80 and up pass
  // unchanged except 0x83 (F7), which becomes 0x41.
  static uint8_t translate_to_set1(uint8_t set2_byte);

 private:
  enum class Pending : uint8_t { None, Leds, Typematic, ScancodeSet };
  void set_defaults();
  void send(std::initializer_list<uint8_t> bytes);

  int set_ = 2;              // scancode set 1, 2 or 3 (3 is sent as 2)
  bool scanning_ = true;     // keys are reported (F4/F5)
  uint8_t leds_ = 0;         // ED parameter: bit 0 Scroll, bit 1 Num, bit 2 Caps
  uint8_t typematic_ = kDefaultTypematic;  // F3 parameter: bits 6..5 delay, 4..0 rate
  Pending pending_ = Pending::None;        // command awaiting its parameter byte
  uint8_t last_sent_ = kPs2Ack;            // byte repeated by resend (0xFE)
  bool overrun_ = false;                   // the overrun code is in the queue
};

}  // namespace popek
