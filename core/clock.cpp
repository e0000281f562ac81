#include "core/clock.h"

#include <algorithm>
#include <chrono>
#include <thread>

namespace popek {

Timer::Timer(VirtualClock& clock, std::function<void()> callback)
    : clock_(clock), callback_(std::move(callback)) {}

Timer::~Timer() { cancel(); }

void Timer::arm_at(uint64_t deadline_ns) {
  if (!armed_) clock_.add(this);
  deadline_ = deadline_ns;
  armed_ = true;
}

void Timer::arm_after(uint64_t delay_ns) { arm_at(clock_.now() + delay_ns); }

void Timer::cancel() {
  if (armed_) clock_.remove(this);
  armed_ = false;
}

VirtualClock::VirtualClock(bool deterministic, uint64_t ns_per_insn)
    : deterministic_(deterministic), ns_per_insn_(ns_per_insn ? ns_per_insn : 1) {
  host_start_ = host_now();
}

uint64_t VirtualClock::host_now() const {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

uint64_t VirtualClock::now() const {
  if (deterministic_) return retired_ * ns_per_insn_ + idle_skip_ns_;
  return host_now() - host_start_ + idle_skip_ns_;
}

void VirtualClock::add(Timer* t) { timers_.push_back(t); }

void VirtualClock::remove(Timer* t) {
  timers_.erase(std::remove(timers_.begin(), timers_.end(), t), timers_.end());
}

uint64_t VirtualClock::next_deadline() const {
  uint64_t d = kNever;
  for (const Timer* t : timers_) d = std::min(d, t->deadline_);
  return d;
}

uint64_t VirtualClock::budget(uint64_t cap) const {
  if (cap == 0) cap = 1;
  if (!deterministic_) return std::min<uint64_t>(cap, 4096);
  uint64_t d = next_deadline();
  uint64_t n = now();
  if (d == kNever) return cap;
  if (d <= n) return 1;
  uint64_t insns = (d - n + ns_per_insn_ - 1) / ns_per_insn_;
  return std::clamp<uint64_t>(insns, 1, cap);
}

void VirtualClock::run_expired() {
  // Callbacks may arm or cancel timers, so re-scan after each one.
  for (int guard = 0; guard < 1024; ++guard) {
    uint64_t n = now();
    Timer* due = nullptr;
    for (Timer* t : timers_)
      if (t->deadline_ <= n && (!due || t->deadline_ < due->deadline_)) due = t;
    if (!due) return;
    due->cancel();
    due->callback_();
  }
}

bool VirtualClock::advance_to_next_deadline() {
  uint64_t d = next_deadline();
  if (d == kNever) return false;
  uint64_t n = now();
  if (d > n) {
    if (deterministic_) {
      idle_skip_ns_ += d - n;
    } else {
      // Sleep in small slices so the host stays responsive to exit requests.
      uint64_t wait = std::min<uint64_t>(d - n, 1'000'000);
      std::this_thread::sleep_for(std::chrono::nanoseconds(wait));
    }
  }
  return true;
}

void VirtualClock::reset() {
  retired_ = 0;
  idle_skip_ns_ = 0;
  host_start_ = host_now();
}

}  // namespace popek
