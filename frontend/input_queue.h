// Host input on its way to the guest. The UI thread pushes key, mouse motion
// and button events; the emulation thread drains them between run slices
// and feeds the 8042, so devices are only ever touched by the thread that
// runs the machine.
//
// TypematicRepeat is the keyboard's own auto-repeat: a held key is made
// again after the delay and at the rate the guest programmed with command
// 0xF3 (Ps2Keyboard::typematic()), on the machine's virtual clock. The
// host's auto-repeat events are dropped by the frontend, so the guest's
// settings are the only ones that count, as on a real PC.
#pragma once
#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <vector>

#include "devices/ps2_keyboard.h"

namespace popek {

struct InputEvent {
  enum class Kind : uint8_t { Key, MouseMotion, MouseButtons };
  Kind kind = Kind::Key;
  KeyCode key = KeyCode::Escape;  // Key
  bool pressed = false;           // Key
  int dx = 0, dy = 0, dz = 0;     // MouseMotion: right, up, wheel towards the user
  uint8_t buttons = 0;            // MouseButtons: Ps2Mouse::kLeft | kRight | ...

  static InputEvent key_event(KeyCode key, bool pressed);
  static InputEvent motion(int dx, int dy, int dz);
  static InputEvent mouse_buttons(uint8_t mask);
};

// Many producers, one consumer; never blocks for longer than a vector push.
// Consecutive motion events are merged, and at most kCapacity events wait
// (more are dropped and counted), so a paused guest cannot make it grow
// without bound.
class InputQueue {
 public:
  static constexpr size_t kCapacity = 4096;

  void push(const InputEvent& event);
  // Moves every queued event into `out` (replacing its contents).
  void drain(std::vector<InputEvent>& out);
  // A cheap hint for the consumer's fast path.
  bool maybe_pending() const { return pending_.load(std::memory_order_acquire); }
  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

 private:
  std::mutex mutex_;
  std::vector<InputEvent> events_;
  std::atomic<bool> pending_{false};
  std::atomic<uint64_t> dropped_{0};
};

class TypematicRepeat {
 public:
  // The F3 parameter's delay (bits 6..5: 250 ms to 1 s) and repeat period
  // (bits 4..0: (8 + bits 2..0) * 2^bits 4..3 * 4.17 ms, 30 to 2 per second).
  static uint64_t delay_ns(uint8_t typematic);
  static uint64_t period_ns(uint8_t typematic);

  // A key went down or up at virtual time `now`. Only the last key pressed
  // repeats, and it stops when released (as on a real keyboard); Pause never
  // repeats.
  void key_event(KeyCode key, bool pressed, uint64_t now, uint8_t typematic);
  // The key to make again at `now`, if its repeat is due. At most one repeat
  // per call: a guest that ran slowly does not get a burst.
  std::optional<KeyCode> due(uint64_t now, uint8_t typematic);
  bool active() const { return active_; }
  void clear() { active_ = false; }

 private:
  bool active_ = false;
  KeyCode key_ = KeyCode::Escape;
  uint64_t next_ = 0;
};

}  // namespace popek
