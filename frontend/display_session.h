// What the UI thread and the emulation thread share while a window shows the
// machine. The emulation thread owns the machine: it calls on_slice()
// between run slices (RunLimits::slice_hook), where it drains host input
// into the 8042, makes typematic repeats, renders a frame when the UI asked
// for one, samples the run statistics, sleeps while paused, and ends the run
// on power-off (on_slice runs inside Machine::run's slice, holding its
// device lock, so a paused machine keeps the lock). The UI thread only touches the queue, the flags and the
// published frame and statistics, each behind its own short lock, so
// neither thread ever waits for the other's work: a slow guest leaves the UI
// presenting its last frame, and a busy UI never holds the guest up.
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <vector>

#include "frontend/input_queue.h"

namespace popek {

class Machine;

// One picture of the guest's screen, XRGB8888 (0x00RRGGBB), row by row.
struct DisplayFrame {
  std::vector<uint32_t> pixels;
  int width = 0;
  int height = 0;
  uint64_t serial = 0;  // increases with each published frame
};

// Statistics over one sampling interval.
struct StatsSample {
  double seconds = 0;          // host time since the session started
  double mips = 0;             // retired guest instructions per host microsecond
  double hit_rate = -1;        // translation-cache lookups that hit, 0..1; -1: no translator
  uint64_t retired = 0;        // total retired instructions at the sample
};

class DisplaySession {
 public:
  // Renders the machine's VGA (Vga::render, on the emulation thread inside
  // its run slice, so without Machine::render_screen's lock).
  static std::function<void(DisplayFrame&)> vga_renderer(Machine& machine);

  using RenderFunction = std::function<void(DisplayFrame&)>;
  static constexpr double kSampleSeconds = 0.25;
  static constexpr double kHistorySeconds = 30;

  // `render` fills a frame from the machine's display; it runs on the
  // emulation thread only.
  DisplaySession(Machine& machine, RenderFunction render);

  // ---- UI thread ----
  InputQueue& input() { return input_; }
  // Asks for a fresh frame at the next slice boundary.
  void request_frame() { frame_wanted_.store(true, std::memory_order_release); }
  // Copies the newest published frame into `frame` if it is newer than the
  // one `frame` holds; returns whether it did.
  bool take_frame(DisplayFrame& frame);
  void set_paused(bool paused);
  bool paused() const { return paused_.load(std::memory_order_acquire); }
  // Ends the run at the next slice boundary (also wakes a paused machine).
  void power_off();
  bool powered_off() const { return power_off_.load(std::memory_order_acquire); }
  // Samples of the last kHistorySeconds, oldest first.
  std::vector<StatsSample> history() const;
  const char* engine_name() const { return engine_name_; }

  // ---- emulation thread ----
  void on_slice();
  // Publishes the picture the machine shows after its run ended.
  void publish_final_frame() { publish_frame(); }

 private:
  void deliver_input();
  void publish_frame();
  void sample_stats(double now_seconds);

  Machine& machine_;
  RenderFunction render_;
  const char* engine_name_;
  InputQueue input_;
  std::vector<InputEvent> drained_;
  TypematicRepeat repeat_;
  std::atomic<bool> frame_wanted_{true};
  std::atomic<bool> paused_{false};
  std::atomic<bool> power_off_{false};
  std::mutex pause_mutex_;
  std::condition_variable pause_cv_;

  mutable std::mutex frame_mutex_;
  DisplayFrame back_;       // emulation thread renders here
  DisplayFrame published_;  // swapped with back_ under frame_mutex_
  uint64_t frame_serial_ = 0;

  using Clock = std::chrono::steady_clock;
  Clock::time_point start_ = Clock::now();
  unsigned slices_ = 0;
  double last_sample_ = 0;
  uint64_t last_retired_ = 0;
  uint64_t last_lookups_ = 0, last_hits_ = 0;
  mutable std::mutex stats_mutex_;
  std::deque<StatsSample> history_;
};

}  // namespace popek
