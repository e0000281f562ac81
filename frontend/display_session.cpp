#include "frontend/display_session.h"

#include <nlohmann/json.hpp>

#include "core/machine.h"
#include "devices/i8042.h"
#include "devices/vga.h"

namespace popek {

DisplaySession::DisplaySession(Machine& machine, RenderFunction render)
    : machine_(machine),
      render_(std::move(render)),
      engine_name_(machine.engine() ? machine.engine()->name() : "interp") {
  last_retired_ = machine_.retired();
}

std::function<void(DisplayFrame&)> DisplaySession::vga_renderer(Machine& machine) {
  return [&machine](DisplayFrame& frame) {
    if (!machine.has_vga()) {
      frame.width = frame.height = 0;
      return;
    }
    Framebuffer fb;
    fb.pixels.swap(frame.pixels);  // reuse the frame's buffer
    machine.vga().render(fb);
    frame.pixels.swap(fb.pixels);
    frame.width = fb.width;
    frame.height = fb.height;
  };
}

bool DisplaySession::take_frame(DisplayFrame& frame) {
  std::lock_guard<std::mutex> lock(frame_mutex_);
  if (published_.serial == 0 || published_.serial == frame.serial) return false;
  // Swap rather than copy: the UI keeps the newest picture, and the
  // emulation thread gets a buffer of about the right size to reuse.
  std::swap(frame, published_);
  published_.serial = frame.serial;
  return true;
}

void DisplaySession::set_paused(bool paused) {
  {
    std::lock_guard<std::mutex> lock(pause_mutex_);
    paused_.store(paused, std::memory_order_release);
  }
  pause_cv_.notify_all();
}

void DisplaySession::power_off() {
  {
    std::lock_guard<std::mutex> lock(pause_mutex_);
    power_off_.store(true, std::memory_order_release);
  }
  pause_cv_.notify_all();
}

std::vector<StatsSample> DisplaySession::history() const {
  std::lock_guard<std::mutex> lock(stats_mutex_);
  return {history_.begin(), history_.end()};
}

void DisplaySession::deliver_input() {
  input_.drain(drained_);
  I8042& kbc = machine_.i8042();
  for (const InputEvent& e : drained_) {
    switch (e.kind) {
      case InputEvent::Kind::Key:
        kbc.key_event(e.key, e.pressed);
        repeat_.key_event(e.key, e.pressed, machine_.clock().now(), kbc.keyboard().typematic());
        break;
      case InputEvent::Kind::MouseMotion:
        kbc.mouse_motion(e.dx, e.dy, e.dz);
        break;
      case InputEvent::Kind::MouseButtons:
        kbc.mouse_buttons(e.buttons);
        break;
    }
  }
}

void DisplaySession::publish_frame() {
  frame_wanted_.store(false, std::memory_order_relaxed);
  render_(back_);
  std::lock_guard<std::mutex> lock(frame_mutex_);
  back_.serial = ++frame_serial_;
  std::swap(back_, published_);
}

void DisplaySession::sample_stats(double now_seconds) {
  const uint64_t retired = machine_.retired();
  StatsSample s;
  s.seconds = now_seconds;
  s.retired = retired;
  const double dt = now_seconds - last_sample_;
  s.mips = dt > 0 ? static_cast<double>(retired - last_retired_) / dt / 1e6 : 0;
  if (CpuEngine* engine = machine_.engine()) {
    // Only the translator reports cache lookups; the interpreter has none.
    const nlohmann::json j = nlohmann::json::parse(engine->stats_json(), nullptr, false);
    if (j.is_object() && j.contains("lookups") && j.contains("hits")) {
      const uint64_t lookups = j["lookups"].get<uint64_t>(), hits = j["hits"].get<uint64_t>();
      const uint64_t dl = lookups - last_lookups_, dh = hits - last_hits_;
      // An interval without lookups (a guest idling in HLT) keeps the last rate.
      if (dl) s.hit_rate = static_cast<double>(dh) / static_cast<double>(dl);
      else if (!history_.empty()) s.hit_rate = history_.back().hit_rate;
      last_lookups_ = lookups;
      last_hits_ = hits;
    }
  }
  last_sample_ = now_seconds;
  last_retired_ = retired;
  std::lock_guard<std::mutex> lock(stats_mutex_);
  history_.push_back(s);
  while (!history_.empty() && history_.front().seconds < now_seconds - kHistorySeconds) history_.pop_front();
}

void DisplaySession::on_slice() {
  if (power_off_.load(std::memory_order_acquire)) {
    machine_.request_exit(0);
    return;
  }
  if (paused_.load(std::memory_order_acquire)) {
    const auto paused_at = Clock::now();
    std::unique_lock<std::mutex> lock(pause_mutex_);
    pause_cv_.wait(lock, [this] { return !paused_.load() || power_off_.load(); });
    // Guest time stands still while paused (as QEMU stops its virtual clock).
    machine_.clock().exclude_host_time(static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - paused_at).count()));
    // The paused time is not guest time: restart the MIPS interval.
    last_sample_ = std::chrono::duration<double>(Clock::now() - start_).count();
    last_retired_ = machine_.retired();
    if (power_off_.load()) {
      machine_.request_exit(0);
      return;
    }
  }
  if (input_.maybe_pending()) deliver_input();
  if (repeat_.active()) {
    I8042& kbc = machine_.i8042();
    if (auto key = repeat_.due(machine_.clock().now(), kbc.keyboard().typematic())) kbc.key_event(*key, true);
  }
  if (frame_wanted_.load(std::memory_order_acquire)) publish_frame();
  // Host time is read every 64 slices (a slice is at most a few thousand
  // instructions, so this is still many times per sampling interval).
  if ((++slices_ & 63) == 0) {
    const double now = std::chrono::duration<double>(Clock::now() - start_).count();
    if (now - last_sample_ >= kSampleSeconds) sample_stats(now);
  }
}

}  // namespace popek
