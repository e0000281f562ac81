// The input path and the UI/emulation hand-over of the desktop app, without
// SDL: the input queue, the typematic repeat on virtual time, and the
// DisplaySession driving a real machine on its own thread.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "core/machine.h"
#include "devices/i8042.h"
#include "frontend/display_session.h"
#include "frontend/input_queue.h"

namespace popek {
namespace {

using Bytes = std::vector<uint8_t>;
constexpr uint64_t kMs = 1'000'000;

TEST(TypematicRepeat, DelayAndPeriodFromTheF3Byte) {
  EXPECT_EQ(TypematicRepeat::delay_ns(0x00), 250 * kMs);
  EXPECT_EQ(TypematicRepeat::delay_ns(0x20), 500 * kMs);
  EXPECT_EQ(TypematicRepeat::delay_ns(0x60), 1000 * kMs);
  EXPECT_EQ(TypematicRepeat::period_ns(0x00), 8 * 4'170'000ull);        // 30 per second
  EXPECT_EQ(TypematicRepeat::period_ns(0x1F), 15 * 8 * 4'170'000ull);   // 2 per second
  EXPECT_EQ(TypematicRepeat::period_ns(0x0B), 11 * 2 * 4'170'000ull);   // 10.9 per second
  // The power-on default 0x2B: 500 ms, then 10.9 per second.
  EXPECT_EQ(TypematicRepeat::delay_ns(Ps2Keyboard::kDefaultTypematic), 500 * kMs);
  EXPECT_EQ(TypematicRepeat::period_ns(Ps2Keyboard::kDefaultTypematic), 91'740'000ull);
}

TEST(TypematicRepeat, OnlyTheLastKeyRepeatsUntilReleased) {
  TypematicRepeat r;
  const uint8_t t = 0x00;  // 250 ms, 33.36 ms
  r.key_event(KeyCode::A, true, 0, t);
  EXPECT_FALSE(r.due(249 * kMs, t));
  EXPECT_EQ(r.due(250 * kMs, t), KeyCode::A);
  EXPECT_FALSE(r.due(283 * kMs, t));
  EXPECT_EQ(r.due(284 * kMs, t), KeyCode::A);
  r.key_event(KeyCode::B, true, 300 * kMs, t);
  EXPECT_FALSE(r.due(549 * kMs, t));
  r.key_event(KeyCode::A, false, 549 * kMs, t);  // releasing the older key changes nothing
  EXPECT_EQ(r.due(550 * kMs, t), KeyCode::B);
  r.key_event(KeyCode::B, false, 560 * kMs, t);
  EXPECT_FALSE(r.due(10'000 * kMs, t));
  EXPECT_FALSE(r.active());
}

TEST(TypematicRepeat, PauseNeverRepeatsAndALateGuestGetsNoBurst) {
  TypematicRepeat r;
  r.key_event(KeyCode::Pause, true, 0, 0);
  EXPECT_FALSE(r.due(5'000 * kMs, 0));
  r.key_event(KeyCode::Z, true, 0, 0x00);
  EXPECT_EQ(r.due(5'000 * kMs, 0), KeyCode::Z);
  EXPECT_FALSE(r.due(5'000 * kMs, 0));
  EXPECT_FALSE(r.due(5'033 * kMs, 0));
  EXPECT_EQ(r.due(5'034 * kMs, 0), KeyCode::Z);
}

TEST(InputQueue, MergesMotionAndIsBounded) {
  InputQueue q;
  EXPECT_FALSE(q.maybe_pending());
  q.push(InputEvent::motion(1, 2, 0));
  q.push(InputEvent::motion(3, -5, 1));
  q.push(InputEvent::key_event(KeyCode::A, true));
  q.push(InputEvent::motion(7, 0, 0));
  EXPECT_TRUE(q.maybe_pending());
  std::vector<InputEvent> out;
  q.drain(out);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].kind, InputEvent::Kind::MouseMotion);
  EXPECT_EQ(out[0].dx, 4);
  EXPECT_EQ(out[0].dy, -3);
  EXPECT_EQ(out[0].dz, 1);
  EXPECT_EQ(out[1].key, KeyCode::A);
  EXPECT_EQ(out[2].dx, 7);
  EXPECT_FALSE(q.maybe_pending());
  for (size_t i = 0; i < InputQueue::kCapacity + 10; ++i) q.push(InputEvent::key_event(KeyCode::B, i & 1));
  q.drain(out);
  EXPECT_EQ(out.size(), InputQueue::kCapacity);
  EXPECT_EQ(q.dropped(), 10u);
}

// A 64 KiB firmware whose reset vector spins on "jmp $".
MachineConfig spinning_machine() {
  MachineConfig cfg;
  cfg.ram_mb = 1;
  cfg.deterministic = true;
  cfg.bios.assign(64 * 1024, 0x90);
  cfg.bios[0xFFF0] = 0xEB;
  cfg.bios[0xFFF1] = 0xFE;
  return cfg;
}

class DisplaySessionTest : public ::testing::Test {
 protected:
  Bytes read_kbc() {
    Bytes out;
    while (m.io().read(I8042::kCommandPort, 1) & I8042::kStatusObf)
      out.push_back(static_cast<uint8_t>(m.io().read(I8042::kDataPort, 1)));
    return out;
  }
  Machine m{spinning_machine()};
  int renders = 0;
  DisplaySession session{m, [this](DisplayFrame& f) {
                           ++renders;
                           f.width = 4;
                           f.height = 2;
                           f.pixels.assign(8, 0x00112233u + renders);
                         }};
};

TEST_F(DisplaySessionTest, KeysReachThe8042AndRepeatOnVirtualTime) {
  session.input().push(InputEvent::key_event(KeyCode::ArrowUp, true));
  session.on_slice();
  EXPECT_EQ(read_kbc(), (Bytes{0xE0, 0x75}));
  // The guest's typematic setting (default: 500 ms delay, 91.74 ms period).
  m.clock().retire(499 * kMs / m.clock().ns_per_insn());
  session.on_slice();
  EXPECT_EQ(read_kbc(), Bytes{});
  m.clock().retire(1 * kMs / m.clock().ns_per_insn());
  session.on_slice();
  EXPECT_EQ(read_kbc(), (Bytes{0xE0, 0x75}));
  m.clock().retire(92 * kMs / m.clock().ns_per_insn());
  session.on_slice();
  EXPECT_EQ(read_kbc(), (Bytes{0xE0, 0x75}));
  session.input().push(InputEvent::key_event(KeyCode::ArrowUp, false));
  session.on_slice();
  EXPECT_EQ(read_kbc(), (Bytes{0xE0, 0xF0, 0x75}));
  m.clock().retire(2000 * kMs / m.clock().ns_per_insn());
  session.on_slice();
  EXPECT_EQ(read_kbc(), Bytes{});
}

TEST_F(DisplaySessionTest, MouseEventsBecomePackets) {
  m.io().write(I8042::kCommandPort, 1, 0xD4);
  m.io().write(I8042::kDataPort, 1, 0xF4);  // enable reporting
  EXPECT_EQ(read_kbc(), (Bytes{kPs2Ack}));
  session.input().push(InputEvent::motion(5, -3, 0));
  session.input().push(InputEvent::mouse_buttons(Ps2Mouse::kLeft));
  session.on_slice();
  EXPECT_EQ(read_kbc(), (Bytes{0x28, 0x05, 0xFD, 0x09, 0x00, 0x00}));
}

TEST_F(DisplaySessionTest, FramesAreRenderedOnlyWhenAskedFor) {
  DisplayFrame ui;
  session.on_slice();  // the first frame is wanted from the start
  ASSERT_TRUE(session.take_frame(ui));
  EXPECT_EQ(ui.width, 4);
  EXPECT_EQ(ui.pixels[0], 0x00112234u);
  session.on_slice();
  EXPECT_FALSE(session.take_frame(ui));
  EXPECT_EQ(renders, 1);
  session.request_frame();
  session.on_slice();
  ASSERT_TRUE(session.take_frame(ui));
  EXPECT_EQ(ui.pixels[7], 0x00112235u);
}

// The machine on its own thread, as in the app: frames keep coming while it
// runs, pause stops the guest, and power-off ends the run with status 0.
TEST_F(DisplaySessionTest, PauseAndPowerOffAcrossThreads) {
  RunLimits limits;
  limits.slice_hook = [this] { session.on_slice(); };
  RunOutcome outcome{};
  std::thread emulation([&] { outcome = m.run(limits); });
  DisplayFrame ui;
  auto wait_frame = [&] {
    for (int i = 0; i < 2000; ++i) {
      session.request_frame();
      if (session.take_frame(ui)) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return false;
  };
  EXPECT_TRUE(wait_frame());
  EXPECT_TRUE(wait_frame());
  session.set_paused(true);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // let the slice in flight finish
  const uint64_t frozen = ui.serial;
  DisplayFrame probe = ui;
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  session.request_frame();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_LE(session.take_frame(probe) ? probe.serial : frozen, frozen + 1);
  const uint64_t retired_paused = m.retired();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(m.retired(), retired_paused);
  session.set_paused(false);
  EXPECT_TRUE(wait_frame());
  session.power_off();
  emulation.join();
  EXPECT_EQ(outcome.reason, StopReason::Exit);
  EXPECT_EQ(outcome.exit_status, 0);
  EXPECT_GT(m.retired(), retired_paused);
}

// In realtime mode the virtual clock stands still while the machine is
// paused. Guest time is sampled where the guest lives: on the emulation
// thread, by the render function, into each frame.
TEST(DisplaySessionRealtime, PauseStopsGuestTime) {
  MachineConfig cfg = spinning_machine();
  cfg.deterministic = false;
  Machine m(cfg);
  DisplaySession session(m, [&m](DisplayFrame& f) {
    const uint64_t now = m.clock().now();
    f.width = 2;
    f.height = 1;
    f.pixels = {static_cast<uint32_t>(now), static_cast<uint32_t>(now >> 32)};
  });
  RunLimits limits;
  limits.slice_hook = [&session] { session.on_slice(); };
  std::thread emulation([&] { m.run(limits); });
  DisplayFrame ui;
  auto wait_frame = [&] {
    for (int i = 0; i < 5000; ++i) {
      session.request_frame();
      if (session.take_frame(ui)) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return false;
  };
  auto guest_time = [&] { return ui.pixels[0] | (uint64_t{ui.pixels[1]} << 32); };
  ASSERT_TRUE(wait_frame());
  session.set_paused(true);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  session.take_frame(ui);  // a frame rendered before the pause took hold, if any
  const uint64_t before = guest_time();
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  session.set_paused(false);
  ASSERT_TRUE(wait_frame());
  const uint64_t after = guest_time();
  session.power_off();
  emulation.join();
  EXPECT_LT(after - before, 250 * kMs) << "virtual time ran on while paused";
}

}  // namespace
}  // namespace popek
