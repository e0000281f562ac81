#include "frontend/input_queue.h"

namespace popek {

InputEvent InputEvent::key_event(KeyCode key, bool pressed) {
  InputEvent e;
  e.kind = Kind::Key;
  e.key = key;
  e.pressed = pressed;
  return e;
}

InputEvent InputEvent::motion(int dx, int dy, int dz) {
  InputEvent e;
  e.kind = Kind::MouseMotion;
  e.dx = dx;
  e.dy = dy;
  e.dz = dz;
  return e;
}

InputEvent InputEvent::mouse_buttons(uint8_t mask) {
  InputEvent e;
  e.kind = Kind::MouseButtons;
  e.buttons = mask;
  return e;
}

void InputQueue::push(const InputEvent& event) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (event.kind == InputEvent::Kind::MouseMotion && !events_.empty() &&
      events_.back().kind == InputEvent::Kind::MouseMotion) {
    InputEvent& last = events_.back();
    last.dx += event.dx;
    last.dy += event.dy;
    last.dz += event.dz;
    return;
  }
  if (events_.size() >= kCapacity) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  events_.push_back(event);
  pending_.store(true, std::memory_order_release);
}

void InputQueue::drain(std::vector<InputEvent>& out) {
  out.clear();
  std::lock_guard<std::mutex> lock(mutex_);
  out.swap(events_);
  pending_.store(false, std::memory_order_release);
}

uint64_t TypematicRepeat::delay_ns(uint8_t typematic) {
  return (1 + ((typematic >> 5) & 3)) * 250'000'000ull;
}

uint64_t TypematicRepeat::period_ns(uint8_t typematic) {
  const uint64_t a = typematic & 7, b = (typematic >> 3) & 3;
  return (8 + a) * (1ull << b) * 4'170'000ull;
}

void TypematicRepeat::key_event(KeyCode key, bool pressed, uint64_t now, uint8_t typematic) {
  if (pressed) {
    if (key == KeyCode::Pause) {
      active_ = false;
      return;
    }
    active_ = true;
    key_ = key;
    next_ = now + delay_ns(typematic);
  } else if (active_ && key == key_) {
    active_ = false;
  }
}

std::optional<KeyCode> TypematicRepeat::due(uint64_t now, uint8_t typematic) {
  if (!active_ || now < next_) return std::nullopt;
  const uint64_t period = period_ns(typematic);
  next_ += period;
  if (next_ <= now) next_ = now + period;
  return key_;
}

}  // namespace popek
