// The virtual clock and its timer queue. Devices schedule callbacks at
// virtual-time deadlines (nanoseconds). In deterministic mode virtual time is
// derived from the retired-instruction count, so a headless run is
// reproducible to the instruction; in realtime mode it follows the host's
// monotonic clock.
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

namespace popek {

class VirtualClock;

// A one-shot timer owned by a device. Re-arm it from its callback for periodic events.
class Timer {
 public:
  Timer(VirtualClock& clock, std::function<void()> callback);
  ~Timer();
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;
  void arm_at(uint64_t deadline_ns);
  void arm_after(uint64_t delay_ns);
  void cancel();
  bool armed() const { return armed_; }
  uint64_t deadline() const { return deadline_; }

 private:
  friend class VirtualClock;
  VirtualClock& clock_;
  std::function<void()> callback_;
  uint64_t deadline_ = 0;
  bool armed_ = false;
};

class VirtualClock {
 public:
  static constexpr uint64_t kNever = UINT64_MAX;
  // Deterministic mode: each retired instruction advances time by ns_per_insn.
  explicit VirtualClock(bool deterministic, uint64_t ns_per_insn = 10);

  bool deterministic() const { return deterministic_; }
  uint64_t ns_per_insn() const { return ns_per_insn_; }
  // Current virtual time in nanoseconds.
  uint64_t now() const;
  // Called by the CPU engine after retiring `n` instructions.
  void retire(uint64_t n) { retired_ += n; }
  uint64_t retired() const { return retired_; }
  // Earliest armed deadline, or kNever.
  uint64_t next_deadline() const;
  // Instructions the CPU may run before the next deadline (deterministic
  // mode), or a slice size (realtime mode). At least 1, at most `cap`.
  uint64_t budget(uint64_t cap) const;
  // Runs every timer whose deadline has passed.
  void run_expired();
  // Skip idle time (HLT with interrupts enabled): jump to the next deadline.
  // Returns false when no timer is armed (the CPU would halt forever).
  bool advance_to_next_deadline();
  // Realtime mode: `host_ns` of host time that is not guest time (the machine
  // was paused), so virtual time resumes where it stopped. No effect in
  // deterministic mode, whose time only moves with instructions.
  void exclude_host_time(uint64_t host_ns) {
    if (!deterministic_) host_start_ += host_ns;
  }
  void reset();

 private:
  friend class Timer;
  void add(Timer* t);
  void remove(Timer* t);
  uint64_t host_now() const;

  bool deterministic_;
  uint64_t ns_per_insn_;
  uint64_t retired_ = 0;
  uint64_t idle_skip_ns_ = 0;  // time skipped while halted (deterministic)
  uint64_t host_start_ = 0;
  std::vector<Timer*> timers_;
};

}  // namespace popek
