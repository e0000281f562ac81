// What the 8042 controller sees of a device on one of its PS/2 ports: bytes
// the host sends to it, and a bounded queue of bytes it sends back.
#pragma once
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <string_view>

namespace popek {

class Ps2Device {
 public:
  virtual ~Ps2Device() = default;
  // A byte from the controller to the device (a command or its parameter).
  virtual void receive(uint8_t byte) = 0;
  // Power-on/machine reset of the device.
  virtual void reset() = 0;

  bool has_output() const { return !queue_.empty(); }
  size_t queued() const { return queue_.size(); }
  uint8_t pop_output() {
    if (queue_.empty()) return 0;
    const uint8_t b = queue_.front();
    queue_.pop_front();
    return b;
  }
  // Called whenever bytes are queued, so the controller can pull them.
  void set_output_notify(std::function<void()> notify) { notify_ = std::move(notify); }
  void set_log(std::function<void(std::string_view)> log) { log_ = std::move(log); }
  uint64_t ignored_writes() const { return ignored_writes_; }

 protected:
  explicit Ps2Device(size_t capacity) : capacity_(capacity) {}
  // Queues a command response. Responses always fit: the queue is cleared
  // before a command is answered (as a real device aborts its output).
  void respond(std::initializer_list<uint8_t> bytes) {
    for (uint8_t b : bytes) {
      if (queue_.size() < capacity_) queue_.push_back(b);
    }
    notify();
  }
  void clear_output() { queue_.clear(); }
  size_t space() const { return capacity_ - queue_.size(); }
  void push_raw(uint8_t b) {
    if (queue_.size() < capacity_) queue_.push_back(b);
  }
  void notify() {
    if (notify_ && !queue_.empty()) notify_();
  }
  void ignored(std::string_view what) {
    ++ignored_writes_;
    if (log_) log_(what);
  }
  const size_t capacity_;

 private:
  std::deque<uint8_t> queue_;
  std::function<void()> notify_;
  std::function<void(std::string_view)> log_;
  uint64_t ignored_writes_ = 0;
};

// Common device replies.
inline constexpr uint8_t kPs2Ack = 0xFA;
inline constexpr uint8_t kPs2Resend = 0xFE;
inline constexpr uint8_t kPs2SelfTestPassed = 0xAA;

}  // namespace popek
