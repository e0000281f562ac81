// Unit tests for the 8042 keyboard controller with its PS/2 keyboard and
// mouse, driven through ports 0x60/0x64 the way SeaBIOS and Linux probe it.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/io_bus.h"
#include "devices/i8042.h"

namespace popek {
namespace {

class I8042Test : public ::testing::Test {
 protected:
  I8042Test() {
    kbc.attach(bus);
    kbc.irq1().connect([this](bool level) {
      if (level && !irq1) ++irq1_rises;
      irq1 = level;
    });
    kbc.irq12().connect([this](bool level) {
      if (level && !irq12) ++irq12_rises;
      irq12 = level;
    });
    kbc.set_log([this](std::string_view m) { log.emplace_back(m); });
  }

  uint8_t status() { return static_cast<uint8_t>(bus.read(0x64, 1)); }
  void cmd(uint8_t v) { bus.write(0x64, 1, v); }
  void data(uint8_t v) { bus.write(0x60, 1, v); }
  uint8_t read_data() { return static_cast<uint8_t>(bus.read(0x60, 1)); }
  // Reads everything in the output buffer.
  std::vector<uint8_t> drain() {
    std::vector<uint8_t> out;
    for (int guard = 0; guard < 256 && (status() & I8042::kStatusObf); ++guard)
      out.push_back(read_data());
    return out;
  }
  // Same, and checks every byte carried AUXB as `aux`.
  std::vector<uint8_t> drain_from(bool aux) {
    std::vector<uint8_t> out;
    while (status() & I8042::kStatusObf) {
      EXPECT_EQ((status() & I8042::kStatusAuxb) != 0, aux);
      out.push_back(read_data());
    }
    return out;
  }
  void write_command_byte(uint8_t v) {
    cmd(0x60);
    data(v);
  }
  uint8_t read_command_byte() {
    cmd(0x20);
    return read_data();
  }
  std::vector<uint8_t> to_mouse(uint8_t v) {
    cmd(0xD4);
    data(v);
    return drain_from(true);
  }

  IoBus bus;
  std::vector<bool> a20_calls;
  int resets = 0;
  I8042 kbc{[this](bool on) { a20_calls.push_back(on); }, [this] { ++resets; }};
  bool irq1 = false, irq12 = false;
  int irq1_rises = 0, irq12_rises = 0;
  std::vector<std::string> log;
};

using Bytes = std::vector<uint8_t>;

TEST_F(I8042Test, ProbeSequenceAsSeaBiosAndLinuxDoIt) {
  EXPECT_EQ(status() & I8042::kStatusObf, 0);
  EXPECT_TRUE(drain().empty());
  // Disable both interfaces, flush, save the command byte.
  cmd(0xAD);
  cmd(0xA7);
  EXPECT_EQ(status() & I8042::kStatusA2, I8042::kStatusA2);
  uint8_t ctr = read_command_byte();
  EXPECT_EQ(ctr & 0x30, 0x30);
  // Self test.
  cmd(0xAA);
  EXPECT_EQ(status() & I8042::kStatusObf, I8042::kStatusObf);
  EXPECT_EQ(status() & I8042::kStatusAuxb, 0);
  EXPECT_EQ(read_data(), 0x55);
  EXPECT_EQ(status() & I8042::kStatusSys, I8042::kStatusSys);
  // Interface tests.
  cmd(0xAB);
  EXPECT_EQ(read_data(), 0x00);
  cmd(0xA9);
  EXPECT_EQ(read_data(), 0x00);
  // Command byte round trip.
  write_command_byte(0x65);
  EXPECT_EQ(status() & I8042::kStatusA2, 0);
  EXPECT_EQ(read_command_byte(), 0x65);
  write_command_byte(0x74);
  EXPECT_EQ(read_command_byte(), 0x74);
  // A7/A8 toggle the mouse-disable bit (Linux checks this for an aux port).
  cmd(0xA8);
  EXPECT_EQ(read_command_byte() & 0x20, 0);
  cmd(0xA7);
  EXPECT_EQ(read_command_byte() & 0x20, 0x20);
  // Aux loopback through 0xD3: the byte comes back as mouse data.
  write_command_byte(0x47);  // XLATE, SYS, both IRQs
  cmd(0xD3);
  data(0x5A);
  EXPECT_EQ(status() & (I8042::kStatusObf | I8042::kStatusAuxb),
            I8042::kStatusObf | I8042::kStatusAuxb);
  EXPECT_TRUE(irq12);
  EXPECT_FALSE(irq1);
  EXPECT_EQ(read_data(), 0x5A);
  EXPECT_FALSE(irq12);
  // 0xD2 the same as keyboard data (no translation).
  cmd(0xD2);
  data(0x1C);
  EXPECT_TRUE(irq1);
  EXPECT_EQ(read_data(), 0x1C);
  EXPECT_FALSE(irq1);
  EXPECT_TRUE(log.empty());
}

TEST_F(I8042Test, KeyboardResetIdentifyAndSetQueries) {
  write_command_byte(0x07);  // no translation
  data(0xFF);
  EXPECT_EQ(drain_from(false), (Bytes{0xFA, 0xAA}));
  data(0xF2);
  EXPECT_EQ(drain_from(false), (Bytes{0xFA, 0xAB, 0x83}));
  data(0xF0);
  data(0x00);
  EXPECT_EQ(drain(), (Bytes{0xFA, 0xFA, 0x02}));
  data(0xF0);
  data(0x01);
  EXPECT_EQ(drain(), (Bytes{0xFA, 0xFA}));
  EXPECT_EQ(kbc.keyboard().scancode_set(), 1);
  data(0xED);
  data(0x07);
  EXPECT_EQ(drain(), (Bytes{0xFA, 0xFA}));
  EXPECT_EQ(kbc.keyboard().leds(), 0x07);
  data(0xF3);
  data(0x20);
  EXPECT_EQ(drain(), (Bytes{0xFA, 0xFA}));
  EXPECT_EQ(kbc.keyboard().typematic(), 0x20);
  data(0xEE);
  EXPECT_EQ(drain(), (Bytes{0xEE}));
  data(0xFE);  // resend the last byte
  EXPECT_EQ(drain(), (Bytes{0xEE}));
  data(0x12);  // not a command
  EXPECT_EQ(drain(), (Bytes{0xFE}));
  EXPECT_EQ(log.size(), 1u);
  data(0xF5);
  EXPECT_EQ(drain(), (Bytes{0xFA}));
  kbc.key_event(KeyCode::A, true);
  EXPECT_TRUE(drain().empty());  // scanning disabled
  EXPECT_EQ(kbc.keyboard().scancode_set(), 2);  // F5 restores defaults
  data(0xF4);
  EXPECT_EQ(drain(), (Bytes{0xFA}));
  kbc.key_event(KeyCode::A, true);
  EXPECT_EQ(drain(), (Bytes{0x1C}));
}

TEST_F(I8042Test, TranslatedIdentifyAndSetReply) {
  write_command_byte(0x47);
  data(0xF2);
  EXPECT_EQ(drain(), (Bytes{0xFA, 0xAB, 0x41}));
  data(0xF0);
  data(0x00);
  EXPECT_EQ(drain(), (Bytes{0xFA, 0xFA, 0x41}));
}

TEST_F(I8042Test, Set2ScancodesUntranslated) {
  write_command_byte(0x07);
  kbc.key_event(KeyCode::A, true);
  kbc.key_event(KeyCode::A, false);
  kbc.key_event(KeyCode::ArrowUp, true);
  kbc.key_event(KeyCode::ArrowUp, false);
  kbc.key_event(KeyCode::F7, true);
  EXPECT_EQ(drain(), (Bytes{0x1C, 0xF0, 0x1C, 0xE0, 0x75, 0xE0, 0xF0, 0x75, 0x83}));
}

TEST_F(I8042Test, Set2ToSet1TranslationIncludingExtendedAndBreak) {
  write_command_byte(0x47);
  kbc.key_event(KeyCode::A, true);
  kbc.key_event(KeyCode::A, false);
  EXPECT_EQ(drain(), (Bytes{0x1E, 0x9E}));
  kbc.key_event(KeyCode::ArrowUp, true);
  kbc.key_event(KeyCode::ArrowUp, false);
  EXPECT_EQ(drain(), (Bytes{0xE0, 0x48, 0xE0, 0xC8}));
  kbc.key_event(KeyCode::RightCtrl, true);
  kbc.key_event(KeyCode::RightCtrl, false);
  EXPECT_EQ(drain(), (Bytes{0xE0, 0x1D, 0xE0, 0x9D}));
  kbc.key_event(KeyCode::F7, true);
  kbc.key_event(KeyCode::F7, false);
  EXPECT_EQ(drain(), (Bytes{0x41, 0xC1}));
  kbc.key_event(KeyCode::LeftMeta, true);
  EXPECT_EQ(drain(), (Bytes{0xE0, 0x5B}));
  kbc.key_event(KeyCode::Pause, true);
  kbc.key_event(KeyCode::Pause, false);  // Pause has no break code
  EXPECT_EQ(drain(), (Bytes{0xE1, 0x1D, 0x45, 0xE1, 0x9D, 0xC5}));
  kbc.key_event(KeyCode::PrintScreen, true);
  kbc.key_event(KeyCode::PrintScreen, false);
  EXPECT_EQ(drain(), (Bytes{0xE0, 0x2A, 0xE0, 0x37, 0xE0, 0xB7, 0xE0, 0xAA}));
}

TEST(Ps2KeyboardTable, TranslationOfEverySet2SequenceIsItsSet1Sequence) {
  for (int k = 0; k < static_cast<int>(KeyCode::Count); ++k) {
    for (bool pressed : {true, false}) {
      const KeyCode key = static_cast<KeyCode>(k);
      const Bytes set2 = Ps2Keyboard::sequence(key, pressed, 2);
      Bytes translated;
      bool brk = false;
      for (uint8_t b : set2) {
        if (b == 0xF0) {
          brk = true;
          continue;
        }
        translated.push_back(static_cast<uint8_t>(Ps2Keyboard::translate_to_set1(b) | (brk ? 0x80 : 0)));
        brk = false;
      }
      EXPECT_EQ(translated, Ps2Keyboard::sequence(key, pressed, 1)) << "key " << k;
      if (key != KeyCode::Pause) {
        EXPECT_FALSE(set2.empty()) << "key " << k;
      }
    }
  }
}

TEST_F(I8042Test, NativeSet1WithoutTranslation) {
  write_command_byte(0x07);
  data(0xF0);
  data(0x01);
  drain();
  kbc.key_event(KeyCode::Enter, true);
  kbc.key_event(KeyCode::KeypadEnter, false);
  EXPECT_EQ(drain(), (Bytes{0x1C, 0xE0, 0x9C}));
}

TEST_F(I8042Test, KeyboardIrqAndDisableInterface) {
  write_command_byte(0x45);  // XLATE, SYS, IRQ1
  kbc.key_event(KeyCode::Q, true);
  EXPECT_TRUE(irq1);
  EXPECT_EQ(irq1_rises, 1);
  kbc.key_event(KeyCode::Q, false);
  EXPECT_EQ(read_data(), 0x10);
  EXPECT_TRUE(irq1);  // refilled at once: a new edge
  EXPECT_EQ(irq1_rises, 2);
  EXPECT_EQ(read_data(), 0x90);
  EXPECT_FALSE(irq1);
  cmd(0xAD);
  kbc.key_event(KeyCode::W, true);
  EXPECT_EQ(status() & I8042::kStatusObf, 0);
  EXPECT_FALSE(irq1);
  cmd(0xAE);
  EXPECT_TRUE(irq1);
  EXPECT_EQ(read_data(), 0x11);
  // IRQ disabled in the command byte: OBF without IRQ 1.
  write_command_byte(0x44);
  kbc.key_event(KeyCode::W, false);
  EXPECT_EQ(status() & I8042::kStatusObf, I8042::kStatusObf);
  EXPECT_FALSE(irq1);
  EXPECT_EQ(read_data(), 0x91);
}

TEST_F(I8042Test, KeyboardQueueOverrun) {
  write_command_byte(0x07);
  cmd(0xAD);  // hold everything in the keyboard's queue
  for (int i = 0; i < 20; ++i) kbc.key_event(KeyCode::A, i % 2 == 0);
  cmd(0xAE);
  const Bytes got = drain();
  ASSERT_EQ(got.size(), 16u);  // 15 bytes of whole sequences + the overrun code
  EXPECT_EQ(got.back(), 0x00);
  EXPECT_EQ(got[0], 0x1C);
  EXPECT_EQ(got[1], 0xF0);
  // Accepted again once drained.
  kbc.key_event(KeyCode::B, true);
  EXPECT_EQ(drain(), (Bytes{0x32}));
}

TEST_F(I8042Test, A20AndOutputPort) {
  cmd(0xD0);
  EXPECT_EQ(read_data() & 0x03, 0x03);  // reset line high, A20 on
  cmd(0xD1);
  data(0xDD);  // A20 off
  ASSERT_EQ(a20_calls.size(), 1u);
  EXPECT_FALSE(a20_calls[0]);
  EXPECT_FALSE(kbc.a20());
  cmd(0xD0);
  const uint8_t port = read_data();
  EXPECT_EQ(port & 0x03, 0x01);
  cmd(0xD1);
  data(0xDF);  // A20 on
  ASSERT_EQ(a20_calls.size(), 2u);
  EXPECT_TRUE(a20_calls[1]);
  cmd(0xD1);
  data(0xDF);  // no change, no call
  EXPECT_EQ(a20_calls.size(), 2u);
  EXPECT_EQ(resets, 0);
  // OBF bits of the output port.
  write_command_byte(0x04);
  cmd(0xD3);
  data(0x11);
  EXPECT_EQ(kbc.output_port() & 0x30, 0x20);
  read_data();
}

TEST_F(I8042Test, ResetViaPulseAndOutputPort) {
  cmd(0xFE);
  EXPECT_EQ(resets, 1);
  cmd(0xFF);  // pulses nothing
  EXPECT_EQ(resets, 1);
  cmd(0xFC);  // bit 0 clear: reset too
  EXPECT_EQ(resets, 2);
  cmd(0xD1);
  data(0xDE);  // reset line low
  EXPECT_EQ(resets, 3);
}

TEST_F(I8042Test, UnknownCommandsAreLoggedNotFatal) {
  cmd(0x05);
  cmd(0xC1);
  EXPECT_EQ(log.size(), 2u);
  EXPECT_EQ(status() & I8042::kStatusObf, 0);
  cmd(0xC0);
  EXPECT_EQ(read_data(), 0x80);
  cmd(0x3F);  // RAM read
  EXPECT_EQ(read_data(), 0x00);
  cmd(0x7F);
  data(0xA5);
  cmd(0x3F);
  EXPECT_EQ(read_data(), 0xA5);
}

TEST_F(I8042Test, MouseResetIdStatusAndPacketFormat) {
  write_command_byte(0x47);
  EXPECT_EQ(to_mouse(0xFF), (Bytes{0xFA, 0xAA, 0x00}));
  EXPECT_EQ(to_mouse(0xF2), (Bytes{0xFA, 0x00}));
  EXPECT_EQ(to_mouse(0xE9), (Bytes{0xFA, 0x00, 0x02, 100}));
  EXPECT_EQ(to_mouse(0xE8), (Bytes{0xFA}));
  EXPECT_EQ(to_mouse(0x03), (Bytes{0xFA}));
  EXPECT_EQ(to_mouse(0xE7), (Bytes{0xFA}));
  EXPECT_EQ(to_mouse(0xE9), (Bytes{0xFA, 0x10, 0x03, 100}));
  EXPECT_EQ(to_mouse(0xE6), (Bytes{0xFA}));
  kbc.mouse_motion(5, 5);  // reporting off: nothing
  EXPECT_TRUE(drain().empty());
  EXPECT_EQ(to_mouse(0xF4), (Bytes{0xFA}));
  EXPECT_TRUE(irq12_rises > 0);
  kbc.mouse_motion(10, -5);
  EXPECT_TRUE(irq12);
  EXPECT_EQ(drain_from(true), (Bytes{0x28, 0x0A, 0xFB}));  // Y sign
  kbc.mouse_buttons(Ps2Mouse::kLeft | Ps2Mouse::kMiddle);
  EXPECT_EQ(drain_from(true), (Bytes{0x0D, 0x00, 0x00}));
  kbc.mouse_buttons(Ps2Mouse::kRight);
  EXPECT_EQ(drain_from(true), (Bytes{0x0A, 0x00, 0x00}));
  kbc.mouse_buttons(0);
  drain();
  // Overflow: clamped to the 9-bit range with the overflow bits set.
  kbc.mouse_motion(300, -1000);
  EXPECT_EQ(drain_from(true), (Bytes{0xE8, 0xFF, 0x00}));  // Y ovf, X ovf, Y sign; -256
  kbc.mouse_motion(-300, 0);
  EXPECT_EQ(drain_from(true), (Bytes{0x58, 0x00, 0x00}));  // X ovf + sign, -256
  kbc.mouse_motion(-1, 255);
  EXPECT_EQ(drain_from(true), (Bytes{0x18, 0xFF, 0xFF}));
  EXPECT_EQ(to_mouse(0xF5), (Bytes{0xFA}));
  kbc.mouse_motion(1, 1);
  EXPECT_TRUE(drain().empty());
}

TEST_F(I8042Test, IntelliMouseKnockAndWheelPackets) {
  write_command_byte(0x47);
  to_mouse(0xFF);
  for (uint8_t rate : {200, 100, 80}) {
    EXPECT_EQ(to_mouse(0xF3), (Bytes{0xFA}));
    EXPECT_EQ(to_mouse(rate), (Bytes{0xFA}));
  }
  EXPECT_EQ(to_mouse(0xF2), (Bytes{0xFA, 0x03}));
  to_mouse(0xF4);
  kbc.mouse_motion(1, 2, -1);
  EXPECT_EQ(drain_from(true), (Bytes{0x08, 0x01, 0x02, 0xFF}));
  kbc.mouse_motion(0, 0, 20);  // wheel clamped to 4 bits
  EXPECT_EQ(drain_from(true), (Bytes{0x08, 0x00, 0x00, 0x07}));
  // Explorer knock: 200, 200, 80 -> ID 4 with buttons 4/5.
  for (uint8_t rate : {200, 200, 80}) {
    to_mouse(0xF3);
    to_mouse(rate);
  }
  EXPECT_EQ(to_mouse(0xF2), (Bytes{0xFA, 0x04}));
  to_mouse(0xF4);
  kbc.mouse_buttons(Ps2Mouse::kButton4);
  EXPECT_EQ(drain_from(true), (Bytes{0x08, 0x00, 0x00, 0x10}));
  // Reset returns to ID 0 and 3-byte packets.
  EXPECT_EQ(to_mouse(0xFF), (Bytes{0xFA, 0xAA, 0x00}));
  EXPECT_EQ(to_mouse(0xF2), (Bytes{0xFA, 0x00}));
  EXPECT_EQ(to_mouse(0xF3), (Bytes{0xFA}));
  EXPECT_EQ(to_mouse(7), (Bytes{0xFE}));  // invalid rate
}

TEST_F(I8042Test, MouseRemoteModeWrapAndQueueBound) {
  write_command_byte(0x47);
  to_mouse(0xF0);  // remote
  to_mouse(0xF4);
  kbc.mouse_motion(3, 4);
  kbc.mouse_motion(3, 4);
  EXPECT_TRUE(drain().empty());
  EXPECT_EQ(to_mouse(0xEB), (Bytes{0xFA, 0x08, 0x06, 0x08}));
  EXPECT_EQ(to_mouse(0xEB), (Bytes{0xFA, 0x08, 0x00, 0x00}));
  to_mouse(0xEA);  // stream
  to_mouse(0xEE);  // wrap
  EXPECT_EQ(to_mouse(0x42), (Bytes{0x42}));
  EXPECT_EQ(to_mouse(0xEC), (Bytes{0xFA}));
  // With the aux interface disabled, packets pile up in the bounded queue.
  to_mouse(0xF4);
  cmd(0xA7);
  for (int i = 0; i < 100; ++i) kbc.mouse_motion(1, 0);
  EXPECT_LE(kbc.mouse().queued(), Ps2Mouse::kQueueCapacity);
  cmd(0xA8);
  const Bytes got = drain_from(true);
  EXPECT_EQ(got.size() % 3, 0u);
  EXPECT_EQ(got.size(), 63u);
}

TEST_F(I8042Test, ResetRestoresPowerOnState) {
  write_command_byte(0x47);
  data(0xF5);
  kbc.reset();
  EXPECT_EQ(status() & I8042::kStatusObf, 0);
  EXPECT_EQ(kbc.command_byte(), 0x03);
  EXPECT_TRUE(kbc.keyboard().scanning());
  EXPECT_FALSE(irq1);
}

TEST_F(I8042Test, RandomGuestTrafficIsHarmless) {
  uint32_t x = 777;
  auto next = [&x] {
    x = x * 1103515245u + 12345u;
    return static_cast<uint8_t>(x >> 16);
  };
  for (int i = 0; i < 20000; ++i) {
    const uint8_t r = next();
    if (r < 64) {
      cmd(next());
    } else if (r < 160) {
      data(next());
    } else if (r < 200) {
      read_data();
    } else if (r < 220) {
      kbc.key_event(static_cast<KeyCode>(next() % static_cast<int>(KeyCode::Count)), next() & 1);
    } else {
      kbc.mouse_motion(static_cast<int8_t>(next()) * 5, static_cast<int8_t>(next()) * 5, next() % 5);
    }
    EXPECT_LE(kbc.keyboard().queued(), Ps2Keyboard::kQueueCapacity);
    EXPECT_LE(kbc.mouse().queued(), Ps2Mouse::kQueueCapacity);
  }
  // Still a working controller afterwards.
  kbc.reset();
  cmd(0xAA);
  EXPECT_EQ(read_data(), 0x55);
  // An out-of-range key code is ignored.
  kbc.key_event(static_cast<KeyCode>(250), true);
  EXPECT_EQ(status() & I8042::kStatusObf, 0);
}

}  // namespace
}  // namespace popek
