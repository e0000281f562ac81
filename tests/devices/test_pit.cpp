// Unit tests for the 8254 PIT and port 0x61, driven through an IoBus on a
// deterministic VirtualClock. Time is moved to the start of a given CLK tick
// with go(tick); with ns_per_insn = 1, clock.retire(n) advances n ns.
//
// Timing convention under test: a count written during tick w is loaded into
// the counting element at tick w+1 ("on the next CLK pulse").
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/io_bus.h"
#include "devices/pic8259.h"
#include "devices/pit8254.h"

namespace popek {
namespace {

class PitTest : public ::testing::Test {
 protected:
  PitTest() {
    pit.attach(bus);
    pit.irq0().connect([this](bool level) { on_irq0(level); });
    pit.set_log([this](std::string_view m) { log.emplace_back(m); });
  }

  void on_irq0(bool level) {
    if (level && !irq_level) rises.push_back(tick());
    irq_level = level;
  }
  uint64_t tick() const { return Pit8254::tick_at(clock.now()); }
  // Moves virtual time to the start of CLK tick k, stopping at every timer
  // deadline on the way as the CPU run loop does (VirtualClock::budget).
  void go(uint64_t k) {
    const uint64_t ns = Pit8254::ns_at_tick(k);
    ASSERT_GE(ns, clock.now());
    while (clock.now() < ns) {
      clock.retire(std::min<uint64_t>(clock.budget(UINT64_MAX), ns - clock.now()));
      clock.run_expired();
    }
    clock.run_expired();
    ASSERT_EQ(tick(), k);
  }
  void out(uint16_t port, uint8_t value) { bus.write(port, 1, value); }
  uint8_t in(uint16_t port) { return static_cast<uint8_t>(bus.read(port, 1)); }
  void control(uint8_t value) { out(0x43, value); }
  void write_count(int channel, uint16_t count) {
    out(static_cast<uint16_t>(0x40 + channel), static_cast<uint8_t>(count));
    out(static_cast<uint16_t>(0x40 + channel), static_cast<uint8_t>(count >> 8));
  }
  // Control word (LSB then MSB) and initial count; returns the write tick.
  uint64_t program(int channel, int mode, uint16_t count, bool bcd = false) {
    control(static_cast<uint8_t>(channel << 6 | 0x30 | mode << 1 | (bcd ? 1 : 0)));
    write_count(channel, count);
    return tick();
  }
  uint16_t read_word(int channel) {
    const uint8_t lsb = in(static_cast<uint16_t>(0x40 + channel));
    const uint8_t msb = in(static_cast<uint16_t>(0x40 + channel));
    return static_cast<uint16_t>(lsb | msb << 8);
  }
  uint16_t latched(int channel) {
    control(static_cast<uint8_t>(channel << 6));  // counter latch command
    return read_word(channel);
  }
  uint8_t status(int channel) {
    control(static_cast<uint8_t>(0xE0 | 2 << channel));  // read-back: status only
    return in(static_cast<uint16_t>(0x40 + channel));
  }
  void gate2(bool on) { out(0x61, on ? 0x01 : 0x00); }
  bool out2() { return in(0x61) & 0x20; }

  VirtualClock clock{true, 1};
  IoBus bus;
  Pit8254 pit{clock};
  bool irq_level = false;
  std::vector<uint64_t> rises;  // ticks at which IRQ0 went high
  std::vector<std::string> log;
};

TEST(PitClock, TickConversionRoundTrips) {
  EXPECT_EQ(Pit8254::tick_at(1'000'000'000), 1'193'182u);
  EXPECT_EQ(Pit8254::tick_at(0), 0u);
  EXPECT_EQ(Pit8254::tick_at(838), 0u);  // one tick is ~838.1 ns
  EXPECT_EQ(Pit8254::tick_at(839), 1u);
  for (uint64_t k : {1ull, 2ull, 1193ull, 65536ull, 1'193'182ull, 123'456'789ull}) {
    const uint64_t ns = Pit8254::ns_at_tick(k);
    EXPECT_EQ(Pit8254::tick_at(ns), k);
    EXPECT_EQ(Pit8254::tick_at(ns - 1), k - 1);
  }
}

TEST_F(PitTest, PowerOnIsQuiet) {
  go(1'000'000);
  EXPECT_TRUE(rises.empty());
  EXPECT_FALSE(pit.out(0));
  EXPECT_EQ(clock.next_deadline(), VirtualClock::kNever);
  EXPECT_TRUE(pit.gate(0));
  EXPECT_TRUE(pit.gate(1));
  EXPECT_FALSE(pit.gate(2));
}

TEST_F(PitTest, Mode0InterruptOnTerminalCount) {
  go(10);
  control(0x30);
  EXPECT_FALSE(pit.out(0));
  write_count(0, 100);
  EXPECT_EQ(status(0) & 0x40, 0x40);  // NULL COUNT until the load
  go(11);
  EXPECT_EQ(status(0) & 0x40, 0x00);
  EXPECT_EQ(latched(0), 100);
  go(50);
  EXPECT_EQ(latched(0), 61);
  go(110);
  EXPECT_EQ(latched(0), 1);
  EXPECT_FALSE(pit.out(0));
  EXPECT_TRUE(rises.empty());
  go(111);
  EXPECT_EQ(latched(0), 0);
  EXPECT_TRUE(pit.out(0));
  EXPECT_EQ(rises, (std::vector<uint64_t>{111}));
  go(112);
  EXPECT_EQ(latched(0), 0xFFFF);  // keeps counting, wrapping
  go(111 + 65536 + 5);
  EXPECT_TRUE(pit.out(0));  // no second edge in mode 0
  EXPECT_EQ(rises.size(), 1u);
}

TEST_F(PitTest, Mode0OutRisesExactlyWhenTheTimerFires) {
  program(0, 0, 500);
  EXPECT_EQ(clock.next_deadline(), Pit8254::ns_at_tick(501));
  clock.retire(Pit8254::ns_at_tick(501) - 1);
  clock.run_expired();
  EXPECT_TRUE(rises.empty());
  clock.retire(1);
  clock.run_expired();
  EXPECT_EQ(rises, (std::vector<uint64_t>{501}));
  EXPECT_EQ(clock.next_deadline(), VirtualClock::kNever);
}

TEST_F(PitTest, Mode0FirstByteStopsCountingAndSecondRestarts) {
  program(0, 0, 10);
  go(20);
  EXPECT_EQ(rises, (std::vector<uint64_t>{11}));
  out(0x40, 5);  // LSB: counting stops, OUT low at once
  EXPECT_FALSE(pit.out(0));
  const uint16_t held = latched(0);
  EXPECT_EQ(held, static_cast<uint16_t>(10 - 19));
  go(30);
  EXPECT_EQ(latched(0), held);
  out(0x40, 0);  // MSB: count 5 loads at tick 31
  go(35);
  EXPECT_FALSE(pit.out(0));
  go(36);
  EXPECT_TRUE(pit.out(0));
  EXPECT_EQ(rises, (std::vector<uint64_t>{11, 36}));
}

TEST_F(PitTest, Mode0GateLowPausesCounting) {
  gate2(true);
  program(2, 0, 50);
  go(11);
  EXPECT_EQ(latched(2), 40);
  gate2(false);
  go(100);
  EXPECT_EQ(latched(2), 40);
  EXPECT_FALSE(out2());
  gate2(true);
  go(139);
  EXPECT_EQ(latched(2), 1);
  EXPECT_FALSE(out2());
  go(140);
  EXPECT_TRUE(out2());
}

TEST_F(PitTest, Mode0CountWrittenWithGateLowWaitsForGate) {
  program(2, 0, 20);  // gate 2 is low after reset
  go(50);
  EXPECT_EQ(latched(2), 20);  // loaded, not counting
  EXPECT_FALSE(out2());
  gate2(true);
  go(69);
  EXPECT_FALSE(out2());
  go(70);
  EXPECT_TRUE(out2());
}

TEST_F(PitTest, Mode1OneShotTriggeredAndRetriggeredByGate) {
  program(2, 1, 5);
  EXPECT_TRUE(out2());
  go(10);
  EXPECT_TRUE(out2());
  EXPECT_EQ(status(2) & 0x40, 0x40);  // count not loaded without a trigger
  gate2(true);
  go(11);
  EXPECT_FALSE(out2());
  EXPECT_EQ(latched(2), 5);
  EXPECT_EQ(status(2) & 0x40, 0x00);
  gate2(false);  // the gate level does not matter once triggered
  go(15);
  EXPECT_EQ(latched(2), 1);
  EXPECT_FALSE(out2());
  go(16);
  EXPECT_TRUE(out2());
  EXPECT_EQ(latched(2), 0);
  go(20);
  gate2(true);  // trigger at 20, load at 21
  go(23);
  gate2(false);
  gate2(true);  // retrigger at 23: the one-shot restarts at 24
  go(28);
  EXPECT_FALSE(out2());
  EXPECT_EQ(latched(2), 1);
  go(29);
  EXPECT_TRUE(out2());
}

TEST_F(PitTest, Mode1NewCountOnlyAtNextTrigger) {
  program(2, 1, 10);
  gate2(true);  // load at 1
  go(3);
  write_count(2, 3);
  go(10);
  EXPECT_FALSE(out2());  // still the first count
  go(11);
  EXPECT_TRUE(out2());
  gate2(false);
  gate2(true);  // trigger at 11, load 3 at 12
  go(14);
  EXPECT_FALSE(out2());
  go(15);
  EXPECT_TRUE(out2());
}

TEST_F(PitTest, Mode2RateGeneratorWaveformAndCounts) {
  program(0, 2, 10);
  for (uint64_t t = 1; t <= 31; ++t) {
    go(t);
    const uint64_t j = (t - 1) % 10;
    EXPECT_EQ(latched(0), 10 - j) << "tick " << t;
    EXPECT_EQ(pit.out(0), j != 9) << "tick " << t;
  }
  // The control word raises OUT (tick 0); then a rising edge per reload.
  EXPECT_EQ(rises, (std::vector<uint64_t>{0, 11, 21, 31}));
}

TEST_F(PitTest, Mode2GateLowForcesOutHighAndRisingEdgeReloads) {
  gate2(true);
  program(2, 2, 10);
  go(10);
  EXPECT_FALSE(out2());
  gate2(false);
  EXPECT_TRUE(out2());
  go(50);
  EXPECT_EQ(latched(2), 1);
  EXPECT_TRUE(out2());
  gate2(true);
  go(51);
  EXPECT_EQ(latched(2), 10);
  go(60);
  EXPECT_FALSE(out2());
  go(61);
  EXPECT_TRUE(out2());
  EXPECT_EQ(latched(2), 10);
}

TEST_F(PitTest, Mode2NewCountTakesEffectAtNextReload) {
  program(0, 2, 10);
  go(5);
  write_count(0, 4);
  EXPECT_EQ(status(0) & 0x40, 0x40);
  go(10);
  EXPECT_EQ(latched(0), 1);
  go(11);
  EXPECT_EQ(latched(0), 4);
  EXPECT_EQ(status(0) & 0x40, 0x00);
  go(14);
  EXPECT_FALSE(pit.out(0));
  go(23);
  EXPECT_EQ(rises, (std::vector<uint64_t>{0, 11, 15, 19, 23}));
}

TEST_F(PitTest, Mode3EvenCountSquareWave) {
  program(0, 3, 10);
  for (uint64_t t = 1; t <= 21; ++t) {
    go(t);
    const uint64_t j = (t - 1) % 10;
    EXPECT_EQ(pit.out(0), j < 5) << "tick " << t;
    EXPECT_EQ(latched(0), 10 - 2 * (j % 5)) << "tick " << t;
  }
  EXPECT_EQ(rises, (std::vector<uint64_t>{0, 11, 21}));
}

TEST_F(PitTest, Mode3OddCountIsHighOneTickLonger) {
  program(0, 3, 7);
  for (uint64_t t = 1; t <= 15; ++t) {
    go(t);
    const uint64_t j = (t - 1) % 7;
    EXPECT_EQ(pit.out(0), j < 4) << "tick " << t;
    EXPECT_EQ(latched(0), j < 4 ? 6 - 2 * j : 6 - 2 * (j - 4)) << "tick " << t;
  }
  EXPECT_EQ(rises, (std::vector<uint64_t>{0, 8, 15}));
}

TEST_F(PitTest, Mode3GateLowForcesOutHigh) {
  gate2(true);
  program(2, 3, 10);
  go(7);
  EXPECT_FALSE(out2());
  gate2(false);
  EXPECT_TRUE(out2());
  go(20);
  EXPECT_TRUE(out2());
  gate2(true);
  go(21);
  EXPECT_EQ(latched(2), 10);
  go(25);
  EXPECT_TRUE(out2());
  go(26);
  EXPECT_FALSE(out2());
}

TEST_F(PitTest, Mode3NewCountTakesEffectAtHalfCycle) {
  program(0, 3, 10);
  go(3);
  write_count(0, 4);
  go(5);
  EXPECT_TRUE(pit.out(0));
  EXPECT_EQ(latched(0), 2);
  go(6);  // the high half ended: the new count starts with its low half
  EXPECT_FALSE(pit.out(0));
  EXPECT_EQ(latched(0), 4);
  go(7);
  EXPECT_FALSE(pit.out(0));
  EXPECT_EQ(latched(0), 2);
  go(8);
  EXPECT_TRUE(pit.out(0));
  EXPECT_EQ(latched(0), 4);
  go(12);
  EXPECT_EQ(rises, (std::vector<uint64_t>{0, 8, 12}));
}

TEST_F(PitTest, Mode4SoftwareStrobeOnce) {
  program(0, 4, 5);
  go(5);
  EXPECT_TRUE(pit.out(0));
  EXPECT_EQ(latched(0), 1);
  go(6);
  EXPECT_FALSE(pit.out(0));
  EXPECT_EQ(latched(0), 0);
  go(7);
  EXPECT_TRUE(pit.out(0));
  go(7 + 65536 + 10);
  EXPECT_EQ(rises, (std::vector<uint64_t>{0, 7}));
}

TEST_F(PitTest, Mode4GateLowInhibitsCounting) {
  gate2(true);
  program(2, 4, 5);
  go(3);
  EXPECT_EQ(latched(2), 3);
  gate2(false);
  go(100);
  EXPECT_EQ(latched(2), 3);
  EXPECT_TRUE(out2());
  gate2(true);
  go(102);
  EXPECT_TRUE(out2());
  go(103);
  EXPECT_FALSE(out2());
  go(104);
  EXPECT_TRUE(out2());
}

TEST_F(PitTest, Mode4NewCountRestartsOnNextClock) {
  program(0, 4, 100);
  go(10);
  write_count(0, 5);  // loads at 11: strobe at 16 instead of 101
  go(15);
  EXPECT_TRUE(pit.out(0));
  go(16);
  EXPECT_FALSE(pit.out(0));
  go(200);
  EXPECT_EQ(rises, (std::vector<uint64_t>{0, 17}));
}

TEST_F(PitTest, Mode2GateReloadUsesTheLatestCount) {
  gate2(true);
  program(2, 2, 10);
  go(4);
  write_count(2, 3);  // pending until the reload at 11 ...
  gate2(false);       // ... but the gate stops the cycle first
  go(8);
  gate2(true);  // reload with the latest count (3) at 9
  go(9);
  EXPECT_EQ(latched(2), 3);
  go(11);
  EXPECT_FALSE(out2());
  go(12);
  EXPECT_TRUE(out2());
  EXPECT_EQ(latched(2), 3);
}

TEST_F(PitTest, Mode5HardwareTriggeredStrobe) {
  program(2, 5, 5);
  go(50);
  EXPECT_TRUE(out2());
  gate2(true);  // trigger at 50, load at 51, strobe at 56
  go(55);
  EXPECT_TRUE(out2());
  go(56);
  EXPECT_FALSE(out2());
  go(57);
  EXPECT_TRUE(out2());
  go(60);
  gate2(false);
  gate2(true);  // trigger at 60: strobe would be at 66 ...
  go(63);
  gate2(false);
  gate2(true);  // ... but the retrigger at 63 moves it to 69
  go(66);
  EXPECT_TRUE(out2());
  go(69);
  EXPECT_FALSE(out2());
  go(70);
  EXPECT_TRUE(out2());
}

TEST_F(PitTest, BcdCountingAndWrap) {
  program(0, 0, 0x0100, true);  // 100 decimal
  go(12);
  EXPECT_EQ(latched(0), 0x0089);
  go(101);
  EXPECT_EQ(latched(0), 0x0000);
  EXPECT_TRUE(pit.out(0));
  go(102);
  EXPECT_EQ(latched(0), 0x9999);
}

TEST_F(PitTest, BcdZeroMeansTenThousand) {
  program(0, 2, 0x0000, true);
  go(1);
  EXPECT_EQ(latched(0), 0x0000);  // 10000 reads as 0000
  go(2);
  EXPECT_EQ(latched(0), 0x9999);
  go(20001);
  EXPECT_EQ(rises, (std::vector<uint64_t>{0, 10001, 20001}));
}

TEST_F(PitTest, BinaryZeroMeans65536) {
  program(0, 2, 0);
  go(1);
  EXPECT_EQ(latched(0), 0);
  go(2);
  EXPECT_EQ(latched(0), 0xFFFF);
  go(65537);
  EXPECT_EQ(rises, (std::vector<uint64_t>{0, 65537}));
}

TEST_F(PitTest, InvalidBcdDigitIsLoggedNotFatal) {
  program(0, 0, 0x00A5, true);
  EXPECT_EQ(pit.ignored_writes(), 1u);
  EXPECT_EQ(log.size(), 1u);
  go(1);
  EXPECT_EQ(latched(0), 0x0105);  // A5 taken as 10*10 + 5
}

TEST_F(PitTest, LsbOnlyAndMsbOnlyAccess) {
  control(0x14);  // ch0, LSB only, mode 2
  out(0x40, 0x20);
  go(1);
  EXPECT_EQ(in(0x40), 0x20);
  go(2);
  EXPECT_EQ(in(0x40), 0x1F);
  EXPECT_EQ(in(0x40), 0x1F);  // every read is the LSB
  control(0x64);              // ch1, MSB only, mode 2
  out(0x41, 0x01);            // count 256
  go(3);
  EXPECT_EQ(in(0x41), 0x01);
  go(4);
  EXPECT_EQ(in(0x41), 0x00);  // 255
  EXPECT_EQ(status(1), 0x80 | 0x20 | 0x04);
}

TEST_F(PitTest, CounterLatchHoldsUntilRead) {
  program(0, 0, 1000);
  go(100);
  control(0x00);
  go(200);
  control(0x00);  // ignored: a latch is still unread
  EXPECT_EQ(read_word(0), 901);
  EXPECT_EQ(latched(0), 801);
  control(0x00);
  EXPECT_EQ(in(0x40), 801 & 0xFF);
  go(300);
  EXPECT_EQ(in(0x40), 801 >> 8);  // MSB of the same latched value
  EXPECT_EQ(read_word(0), 1000 - 299);  // live again
}

TEST_F(PitTest, ReadAndWriteFlipFlopsAreIndependent) {
  program(0, 0, 0x1234);
  go(1);
  EXPECT_EQ(in(0x40), 0x34);  // read LSB
  out(0x40, 0x78);            // write LSB
  EXPECT_EQ(in(0x40), 0x12);  // read MSB
  out(0x40, 0x56);            // write MSB: count 0x5678 loads at tick 2
  go(2);
  EXPECT_EQ(latched(0), 0x5678);
}

TEST_F(PitTest, ControlWordResetsByteSequence) {
  control(0x30);
  out(0x40, 0x99);  // a stray LSB
  control(0x30);
  write_count(0, 0x0300);
  go(1);
  EXPECT_EQ(latched(0), 0x0300);
}

TEST_F(PitTest, ReadBackStatusByte) {
  control(0xB7);  // ch2, LSB/MSB, mode 3, BCD
  EXPECT_EQ(status(2), 0x80 | 0x40 | 0x30 | 0x06 | 0x01);
  gate2(true);
  write_count(2, 0x0010);
  go(1);
  EXPECT_EQ(status(2), 0x80 | 0x30 | 0x06 | 0x01);
  go(6);  // low half of 10
  EXPECT_EQ(status(2), 0x30 | 0x06 | 0x01);
}

TEST_F(PitTest, ReadBackStatusThenCountForSeveralChannels) {
  program(0, 2, 100);
  program(1, 0, 200);
  go(11);
  control(0xC6);  // latch count and status of channels 0 and 1
  go(50);
  EXPECT_EQ(in(0x40), 0x80 | 0x30 | 0x04);
  EXPECT_EQ(read_word(0), 90);
  EXPECT_EQ(in(0x41), 0x00 | 0x30 | 0x00);  // mode 0, OUT low
  EXPECT_EQ(read_word(1), 190);
  EXPECT_EQ(read_word(0), 51);  // latches consumed: live values
}

TEST_F(PitTest, RepeatedStatusLatchKeepsTheFirst) {
  program(0, 0, 10);
  control(0xE2);  // status of ch0: OUT low, null count
  go(20);
  control(0xE2);  // ignored
  EXPECT_EQ(in(0x40), 0x40 | 0x30);
  EXPECT_EQ(status(0), 0x80 | 0x30);
}

TEST_F(PitTest, ReadBackCountOnlyLeavesStatusAlone) {
  program(0, 0, 10);
  go(5);
  control(0xD2);  // COUNT latch, no status, ch0
  EXPECT_EQ(read_word(0), 6);
}

TEST_F(PitTest, ReadBackReservedBitIsLogged) {
  control(0xE3);
  EXPECT_EQ(pit.ignored_writes(), 1u);
}

TEST_F(PitTest, ModeSixAndSevenAliasModesTwoAndThree) {
  control(0x3C);  // mode bits 110
  write_count(0, 4);
  go(9);
  EXPECT_EQ(rises, (std::vector<uint64_t>{0, 5, 9}));
  EXPECT_EQ(status(0) & 0x0E, 0x0C);
  control(0x7E);  // ch1, mode bits 111 = mode 3
  write_count(1, 4);
  go(12);
  EXPECT_FALSE(pit.out(1));  // loaded at 10: high 10-11, low 12-13
  go(14);
  EXPECT_TRUE(pit.out(1));
}

TEST_F(PitTest, IllegalCountOneInMode2IsLogged) {
  program(0, 2, 1);
  EXPECT_EQ(pit.ignored_writes(), 1u);
  go(100);
  EXPECT_FALSE(pit.out(0));
}

TEST_F(PitTest, ControlPortReadsAsFloatingBus) { EXPECT_EQ(in(0x43), 0xFF); }

TEST_F(PitTest, Irq0At1000HzOverOneSimulatedSecond) {
  program(0, 2, 1193);
  rises.clear();  // the control word's own edge
  const uint64_t one_second = 1'000'000'000;
  // The run loop's pattern: run up to the next deadline, then the timers.
  while (clock.now() < one_second) {
    uint64_t n = clock.budget(1'000'000);
    n = std::min<uint64_t>(n, one_second - clock.now());
    clock.retire(n);
    clock.run_expired();
  }
  ASSERT_EQ(rises.size(), 1000u);
  for (size_t i = 0; i < rises.size(); ++i) EXPECT_EQ(rises[i], 1 + 1193 * (i + 1));
}

TEST_F(PitTest, Irq0At18HzDefaultCountOverTenSeconds) {
  program(0, 3, 0);  // the BIOS's 18.2 Hz tick
  rises.clear();
  const uint64_t ten_seconds = 10'000'000'000;
  while (clock.next_deadline() <= ten_seconds) {
    ASSERT_TRUE(clock.advance_to_next_deadline());
    clock.run_expired();
  }
  // 1193182 * 10 / 65536 = 182.06 periods
  EXPECT_EQ(rises.size(), 182u);
  EXPECT_EQ(rises.back(), 1 + 65536ull * 182);
}

TEST(PitClockedByInstructions, Mode3At100HzWithTenNsInstructions) {
  VirtualClock clock(true, 10);
  IoBus bus;
  Pit8254 pit(clock);
  pit.attach(bus);
  int rises = 0;
  bool level = false;
  pit.irq0().connect([&](bool l) {
    if (l && !level) ++rises;
    level = l;
  });
  bus.write(0x43, 1, 0x36);  // ch0, LSB/MSB, mode 3 (the classic Linux setup)
  bus.write(0x40, 1, 11932 & 0xFF);
  bus.write(0x40, 1, 11932 >> 8);
  rises = 0;
  // 1 ms of instructions at a time: far finer than the 10 ms period.
  for (int ms = 0; ms < 1000; ++ms) {
    clock.retire(100'000);
    clock.run_expired();
  }
  EXPECT_EQ(clock.now(), 1'000'000'000u);
  EXPECT_EQ(rises, 99);  // 1193182 / 11932 = 99.998 Hz
}

TEST_F(PitTest, LateTimerCollapsesMissedEdgesIntoOne) {
  program(0, 2, 100);
  rises.clear();
  clock.retire(Pit8254::ns_at_tick(1050) - clock.now());  // past 10 reloads
  clock.run_expired();
  EXPECT_EQ(rises, (std::vector<uint64_t>{1050}));
  EXPECT_TRUE(irq_level);
  go(1101);
  EXPECT_EQ(rises, (std::vector<uint64_t>{1050, 1101}));
}

TEST_F(PitTest, ResetStopsIrq0) {
  program(0, 2, 100);
  go(150);
  pit.reset();
  EXPECT_FALSE(irq_level);
  EXPECT_EQ(clock.next_deadline(), VirtualClock::kNever);
  const size_t before = rises.size();
  go(10'000);
  EXPECT_EQ(rises.size(), before);
}

TEST_F(PitTest, Irq0DrivesThePic) {
  Pic8259Pair pic;
  pic.attach(bus);
  pit.irq0().connect(pic.input(0));
  out(0x20, 0x11);
  out(0x21, 0x08);
  out(0x21, 0x04);
  out(0x21, 0x01);
  program(0, 2, 100);
  go(1);
  EXPECT_TRUE(pic.intr_pending());  // the control word's edge
  EXPECT_EQ(pic.acknowledge(), 0x08);
  out(0x20, 0x20);
  go(100);
  EXPECT_FALSE(pic.intr_pending());
  go(101);
  ASSERT_TRUE(pic.intr_pending());
  EXPECT_EQ(pic.acknowledge(), 0x08);
  out(0x20, 0x20);
  go(201);
  EXPECT_TRUE(pic.intr_pending());
}

// ---------------------------------------------------------------------------
// Port 0x61
// ---------------------------------------------------------------------------

TEST_F(PitTest, Port61ControlBitsReadBack) {
  out(0x61, 0x03);
  EXPECT_EQ(in(0x61) & 0x0F, 0x03);
  EXPECT_TRUE(pit.gate(2));
  EXPECT_TRUE(pit.port61().timer2_gate());
  EXPECT_TRUE(pit.port61().speaker_data_enabled());
  out(0x61, 0xFC);  // bits 7..4 are read-only
  EXPECT_EQ(in(0x61) & 0xCF, 0x0C);
  EXPECT_FALSE(pit.gate(2));
}

TEST_F(PitTest, Port61RefreshToggleFlipsEvery15us) {
  const uint8_t first = in(0x61) & 0x10;
  clock.retire(SystemControlPortB::kRefreshToggleNs);
  const uint8_t second = in(0x61) & 0x10;
  clock.retire(SystemControlPortB::kRefreshToggleNs);
  const uint8_t third = in(0x61) & 0x10;
  EXPECT_NE(first, second);
  EXPECT_EQ(first, third);
}

TEST_F(PitTest, Port61Bit5IsTimer2OutAndSpeakerFollows) {
  program(2, 3, 8);  // gate low: not counting, OUT high
  EXPECT_TRUE(out2());
  out(0x61, 0x03);  // gate on at tick 0, speaker on; loads at 1
  go(4);
  EXPECT_TRUE(out2());
  EXPECT_TRUE(pit.port61().speaker_level());
  go(5);
  EXPECT_FALSE(out2());
  EXPECT_FALSE(pit.port61().speaker_level());
  go(9);
  EXPECT_TRUE(out2());
  out(0x61, 0x01);  // speaker data off
  EXPECT_FALSE(pit.port61().speaker_level());
}

TEST_F(PitTest, ResetClearsPort61) {
  out(0x61, 0x0F);
  pit.reset();
  EXPECT_EQ(in(0x61) & 0x0F, 0x00);
  EXPECT_FALSE(pit.gate(2));
}

}  // namespace
}  // namespace popek
