// Unit tests for the MC146818 CMOS/RTC, driven through an IoBus on a
// deterministic VirtualClock (ns_per_insn = 1, so retire(n) advances n ns).
// The clock starts at the fixed time 2026-01-01 00:00:00 (a Thursday).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/io_bus.h"
#include "devices/cmos_rtc.h"

namespace popek {
namespace {

constexpr uint64_t kMs = 1'000'000;
constexpr uint64_t kSec = 1'000'000'000;

class CmosRtcTest : public ::testing::Test {
 protected:
  CmosRtcTest() {
    rtc.attach(bus);
    rtc.irq().connect([this](bool level) {
      if (level && !irq_level) ++irq_rises;
      irq_level = level;
    });
    rtc.set_log([this](std::string_view m) { log.emplace_back(m); });
  }

  // Advances virtual time to `ns`, stopping at every timer deadline on the
  // way as the CPU run loop does.
  void go(uint64_t ns) {
    ASSERT_GE(ns, clock.now());
    while (clock.now() < ns) {
      clock.retire(std::min<uint64_t>(clock.budget(UINT64_MAX), ns - clock.now()));
      clock.run_expired();
    }
    clock.run_expired();
  }
  void wait(uint64_t ns) { go(clock.now() + ns); }
  uint8_t rd(uint8_t index) {
    bus.write(0x70, 1, index);
    return static_cast<uint8_t>(bus.read(0x71, 1));
  }
  void wr(uint8_t index, uint8_t value) {
    bus.write(0x70, 1, index);
    bus.write(0x71, 1, value);
  }

  VirtualClock clock{true, 1};
  IoBus bus;
  CmosRtc rtc{clock, CmosRtc::to_epoch({2026, 1, 1, 0, 0, 0})};
  bool irq_level = false;
  int irq_rises = 0;
  std::vector<std::string> log;
};

TEST(CmosRtcEpoch, RoundTripsAndDayOfWeek) {
  EXPECT_EQ(CmosRtc::to_epoch({1970, 1, 1, 0, 0, 0}), 0);
  EXPECT_EQ(CmosRtc::to_epoch({2000, 3, 1, 0, 0, 0}), 951868800);
  const CmosRtc::DateTime t = CmosRtc::from_epoch(CmosRtc::to_epoch({2024, 2, 29, 23, 59, 58}));
  EXPECT_EQ(t.year, 2024);
  EXPECT_EQ(t.month, 2);
  EXPECT_EQ(t.day, 29);
  EXPECT_EQ(t.hour, 23);
  EXPECT_EQ(t.minute, 59);
  EXPECT_EQ(t.second, 58);
  EXPECT_EQ(t.day_of_week, 5);  // Thursday
  EXPECT_EQ(CmosRtc::from_epoch(0).day_of_week, 5);
  EXPECT_EQ(CmosRtc::from_epoch(CmosRtc::to_epoch({2026, 1, 4, 0, 0, 0})).day_of_week, 1);  // Sunday
}

TEST_F(CmosRtcTest, PowerOnRegistersAndFixedTimeInBcd) {
  EXPECT_EQ(rd(0x0A), 0x26);
  EXPECT_EQ(rd(0x0B), 0x02);
  EXPECT_EQ(rd(0x0C), 0x00);
  EXPECT_EQ(rd(0x0D), 0x80);  // VRT
  EXPECT_EQ(rd(0x00), 0x00);
  EXPECT_EQ(rd(0x02), 0x00);
  EXPECT_EQ(rd(0x04), 0x00);
  EXPECT_EQ(rd(0x06), 0x05);  // Thursday
  EXPECT_EQ(rd(0x07), 0x01);
  EXPECT_EQ(rd(0x08), 0x01);
  EXPECT_EQ(rd(0x09), 0x26);
  EXPECT_EQ(rd(0x32), 0x20);
  EXPECT_EQ(bus.read(0x70, 1), 0xFFu);  // index port is write-only
}

TEST_F(CmosRtcTest, AdvancesWithVirtualTimeBcdAndBinary) {
  go(75 * kSec + 10 * kMs);
  EXPECT_EQ(rd(0x00), 0x15);  // BCD 15
  EXPECT_EQ(rd(0x02), 0x01);
  wr(0x0B, 0x06);  // binary, 24h
  EXPECT_EQ(rd(0x00), 15);
  EXPECT_EQ(rd(0x09), 26);
  EXPECT_EQ(rd(0x32), 20);
  EXPECT_EQ(rtc.now().second, 15);
}

TEST_F(CmosRtcTest, TwelveHourMode) {
  rtc.set_time({2026, 1, 1, 13, 5, 0, 5});
  wr(0x0B, 0x00);  // BCD, 12-hour
  EXPECT_EQ(rd(0x04), 0x81);  // 1 PM
  rtc.set_time({2026, 1, 1, 0, 5, 0, 5});
  EXPECT_EQ(rd(0x04), 0x12);  // 12 AM
  rtc.set_time({2026, 1, 1, 12, 5, 0, 5});
  EXPECT_EQ(rd(0x04), 0x92);  // 12 PM
  wr(0x0B, 0x04);             // binary, 12-hour
  rtc.set_time({2026, 1, 1, 23, 0, 0, 5});
  EXPECT_EQ(rd(0x04), 0x8B);  // 11 PM
  // A guest write in 12-hour format: 7 AM and 7 PM.
  wr(0x04, 0x07);
  EXPECT_EQ(rtc.now().hour, 7);
  wr(0x04, 0x87);
  EXPECT_EQ(rtc.now().hour, 19);
  wr(0x0B, 0x06);  // back to 24-hour binary
  EXPECT_EQ(rd(0x04), 19);
}

TEST_F(CmosRtcTest, TwelveHourRolloverAndAlarmInTwelveHourFormat) {
  wr(0x0B, 0x80);  // SET, BCD, 12-hour
  wr(0x04, 0x11);  // 11 AM
  wr(0x02, 0x59);
  wr(0x00, 0x58);
  wr(0x05, 0x92);  // alarm 12 PM
  wr(0x03, 0x00);
  wr(0x01, 0x00);
  wr(0x0B, 0x20);  // AIE, BCD, 12-hour
  go(kSec + 1);
  EXPECT_EQ(rd(0x04), 0x11);
  EXPECT_FALSE(irq_level);
  go(2 * kSec + 1);
  EXPECT_EQ(rd(0x04), 0x92);
  EXPECT_EQ(rd(0x02), 0x00);
  EXPECT_EQ(rd(0x00), 0x00);
  EXPECT_TRUE(irq_level);
  EXPECT_EQ(rd(0x0C) & 0xA0, 0xA0);
  EXPECT_EQ(rtc.now().hour, 12);
}

TEST_F(CmosRtcTest, SetBitInhibitsUpdatesAndGuestSetsTime) {
  wr(0x0B, 0x82);  // SET, BCD, 24h
  wr(0x00, 0x59);
  wr(0x02, 0x59);
  wr(0x04, 0x23);
  wr(0x06, 0x04);
  wr(0x07, 0x31);
  wr(0x08, 0x12);
  wr(0x09, 0x99);
  wr(0x32, 0x19);
  go(3 * kSec);
  EXPECT_EQ(rd(0x00), 0x59);  // frozen while SET
  EXPECT_EQ(rd(0x0A) & 0x80, 0);  // no UIP while SET
  wr(0x0B, 0x02);
  wait(kSec);
  EXPECT_EQ(rd(0x00), 0x00);
  EXPECT_EQ(rd(0x02), 0x00);
  EXPECT_EQ(rd(0x04), 0x00);
  EXPECT_EQ(rd(0x06), 0x05);
  EXPECT_EQ(rd(0x07), 0x01);
  EXPECT_EQ(rd(0x08), 0x01);
  EXPECT_EQ(rd(0x09), 0x00);
  EXPECT_EQ(rd(0x32), 0x20);  // century carried
}

TEST_F(CmosRtcTest, SetClearsUie) {
  wr(0x0B, 0x12);
  wr(0x0B, 0x92);
  EXPECT_EQ(rd(0x0B), 0x82);
}

TEST_F(CmosRtcTest, LeapDayAndLongIdleCatchUp) {
  rtc.set_time({2028, 2, 28, 12, 0, 0, 2});
  go(kSec / 2);  // phase: updates at every whole second
  wait(86400 * kSec);
  EXPECT_EQ(rd(0x07), 0x29);
  EXPECT_EQ(rd(0x08), 0x02);
  // Nine days with no access at all, then read: lazily caught up.
  wait(9 * 86400 * kSec + 3 * kSec);
  EXPECT_EQ(rd(0x07), 0x09);
  EXPECT_EQ(rd(0x08), 0x03);
  EXPECT_EQ(rd(0x04), 0x12);
  EXPECT_EQ(rd(0x00), 0x03);
  EXPECT_EQ(rd(0x06), 0x05);  // 2028-03-09 is a Thursday
}

TEST_F(CmosRtcTest, UipIsSetJustBeforeEachUpdate) {
  go(kSec - 2'300'000);
  EXPECT_EQ(rd(0x0A) & 0x80, 0);
  go(kSec - 2'200'000);
  EXPECT_EQ(rd(0x0A) & 0x80, 0x80);
  go(kSec - 1000);
  EXPECT_EQ(rd(0x0A) & 0x80, 0x80);
  EXPECT_EQ(rd(0x00), 0x00);  // the update has not happened yet
  go(kSec);
  EXPECT_EQ(rd(0x0A) & 0x80, 0);
  EXPECT_EQ(rd(0x00), 0x01);
}

TEST_F(CmosRtcTest, UpdateEndedInterruptOncePerSecond) {
  wr(0x0B, 0x12);  // UIE
  int uf = 0;
  for (int step = 0; step < 500; ++step) {
    wait(10 * kMs);
    if (irq_level) {
      const uint8_t c = rd(0x0C);
      EXPECT_EQ(c & 0xB0, 0x90);  // IRQF, UF (PF runs too, unenabled)
      EXPECT_FALSE(irq_level);  // reading C lowers IRQ 8
      ++uf;
    }
  }
  EXPECT_EQ(uf, 5);
  EXPECT_EQ(irq_rises, 5);
  EXPECT_EQ(rd(0x00), 0x05);
}

TEST_F(CmosRtcTest, RegisterCFlagsWithoutEnablesDoNotInterrupt) {
  go(1500 * kMs);
  // UF and PF are set whether or not enabled; IRQF only when enabled.
  EXPECT_EQ(rd(0x0C), 0x50);
  EXPECT_EQ(rd(0x0C), 0x00);  // cleared by the read
  EXPECT_EQ(irq_rises, 0);
}

TEST_F(CmosRtcTest, PeriodicInterruptCountAt1024Hz) {
  wr(0x0A, 0x26);  // 1024 Hz
  wr(0x0B, 0x42);  // PIE
  int pf = 0;
  const uint64_t start = clock.now();
  while (clock.now() < start + kSec) {
    wait(100'000);  // 100 us
    if (irq_level) {
      EXPECT_EQ(rd(0x0C) & 0xC0, 0xC0);
      ++pf;
    }
  }
  EXPECT_NEAR(pf, 1024, 1);
  EXPECT_EQ(pf, irq_rises);
}

TEST_F(CmosRtcTest, PeriodicRateSelect) {
  EXPECT_EQ(CmosRtc::periodic_ticks(0), 0u);
  EXPECT_EQ(CmosRtc::periodic_ticks(1), 128u);   // 3.90625 ms
  EXPECT_EQ(CmosRtc::periodic_ticks(2), 256u);   // 7.8125 ms
  EXPECT_EQ(CmosRtc::periodic_ticks(3), 4u);     // 122.07 us
  EXPECT_EQ(CmosRtc::periodic_ticks(6), 32u);    // 976.56 us
  EXPECT_EQ(CmosRtc::periodic_ticks(15), 16384u);  // 500 ms
  wr(0x0A, 0x2F);  // 2 Hz
  wr(0x0B, 0x42);
  int count = 0;
  for (int i = 0; i < 300; ++i) {
    wait(10 * kMs);
    if (irq_level) {
      rd(0x0C);
      ++count;
    }
  }
  EXPECT_EQ(count, 6);  // 3 s at 2 Hz
}

TEST_F(CmosRtcTest, AlarmInterrupt) {
  wr(0x01, 0x03);  // 00:00:03
  wr(0x03, 0x00);
  wr(0x05, 0x00);
  wr(0x0B, 0x22);  // AIE
  go(2500 * kMs);
  EXPECT_FALSE(irq_level);
  go(3000 * kMs);
  EXPECT_TRUE(irq_level);
  EXPECT_EQ(rd(0x0C), 0xF0);  // IRQF, PF (not enabled), AF, UF
  EXPECT_FALSE(irq_level);
  // "Don't care" in all three: once a second.
  wr(0x01, 0xC0);
  wr(0x03, 0xFF);
  wr(0x05, 0xC0);
  wait(kSec);
  EXPECT_TRUE(irq_level);
  EXPECT_EQ(rd(0x0C) & 0xA0, 0xA0);
}

TEST_F(CmosRtcTest, DividerResetStopsClockAndFirstUpdateHalfSecondAfterRelease) {
  go(200 * kMs);
  wr(0x0A, 0x70);  // divider in reset
  go(5 * kSec);
  EXPECT_EQ(rd(0x00), 0x00);
  wr(0x0A, 0x26);
  wait(499 * kMs);
  EXPECT_EQ(rd(0x00), 0x00);
  wait(1 * kMs);
  EXPECT_EQ(rd(0x00), 0x01);
  wait(kSec);
  EXPECT_EQ(rd(0x00), 0x02);
}

TEST_F(CmosRtcTest, ReadOnlyRegistersAndNmiMask) {
  wr(0x0D, 0x00);
  wr(0x0C, 0xFF);
  EXPECT_EQ(rd(0x0D), 0x80);
  EXPECT_EQ(rd(0x0C), 0x00);
  EXPECT_EQ(log.size(), 2u);
  bus.write(0x70, 1, 0x8F);
  EXPECT_TRUE(rtc.nmi_masked());
  EXPECT_EQ(bus.read(0x71, 1), 0u);  // index 0x0F, RAM
  bus.write(0x70, 1, 0x0F);
  EXPECT_FALSE(rtc.nmi_masked());
  wr(0x0A, 0xA6);  // UIP is read-only
  EXPECT_EQ(rd(0x0A) & 0x7F, 0x26);
}

TEST_F(CmosRtcTest, RamBytesAndResetKeepsTime) {
  for (int i = 0x0E; i < 0x80; ++i) {
    if (i != 0x32) wr(static_cast<uint8_t>(i), static_cast<uint8_t>(i ^ 0x5A));
  }
  for (int i = 0x0E; i < 0x80; ++i) {
    if (i != 0x32) {
      EXPECT_EQ(rd(static_cast<uint8_t>(i)), i ^ 0x5A);
    }
  }
  wr(0x0B, 0x72);
  go(3 * kSec + 1);
  EXPECT_TRUE(irq_level);
  rtc.reset();
  EXPECT_FALSE(irq_level);
  EXPECT_EQ(rd(0x0B), 0x02);
  EXPECT_EQ(rd(0x0C), 0x00);
  EXPECT_EQ(rd(0x00), 0x03);
  EXPECT_EQ(rd(0x40), 0x40 ^ 0x5A);
}

TEST_F(CmosRtcTest, MemorySizeBytesAsQemuSetsThem) {
  rtc.set_memory_size(32u << 20);
  EXPECT_EQ(rd(0x15) | rd(0x16) << 8, 640);
  EXPECT_EQ(rd(0x17) | rd(0x18) << 8, 31744);
  EXPECT_EQ(rd(0x30) | rd(0x31) << 8, 31744);
  EXPECT_EQ(rd(0x34) | rd(0x35) << 8, 256);
  rtc.set_memory_size(128u << 20);
  EXPECT_EQ(rd(0x17) | rd(0x18) << 8, 65535);  // capped at ~64 MiB
  EXPECT_EQ(rd(0x34) | rd(0x35) << 8, 1792);
  EXPECT_EQ(rd(0x5B) | rd(0x5C) << 8 | rd(0x5D) << 16, 0);
  rtc.set_memory_size(0xC0000000u, 1ull << 32);
  EXPECT_EQ(rd(0x34) | rd(0x35) << 8, (0xC0000000 - (16 << 20)) >> 16);
  EXPECT_EQ(rd(0x5B) | rd(0x5C) << 8 | rd(0x5D) << 16, 65536);
  rtc.set_memory_size(512u << 10);
  EXPECT_EQ(rd(0x15) | rd(0x16) << 8, 512);
  EXPECT_EQ(rd(0x17) | rd(0x18) << 8, 0);
}

TEST_F(CmosRtcTest, EquipmentBootOrderCpusAndChecksum) {
  EXPECT_EQ(CmosRtc::equipment_byte(0), 0x06);
  EXPECT_EQ(CmosRtc::equipment_byte(1), 0x07);
  EXPECT_EQ(CmosRtc::equipment_byte(2), 0x47);
  rtc.set_equipment(CmosRtc::equipment_byte(1));
  EXPECT_EQ(rd(0x14), 0x07);
  EXPECT_TRUE(rtc.set_boot_order("cda"));
  EXPECT_EQ(rd(0x3D), 0x32);
  EXPECT_EQ(rd(0x38), 0x10);
  EXPECT_TRUE(rtc.set_boot_order("c", false));
  EXPECT_EQ(rd(0x3D), 0x02);
  EXPECT_EQ(rd(0x38), 0x01);
  EXPECT_FALSE(rtc.set_boot_order("cx"));
  EXPECT_FALSE(rtc.set_boot_order("cdan"));
  EXPECT_EQ(rd(0x3D), 0x02);
  rtc.set_cpu_count(1);
  EXPECT_EQ(rd(0x5F), 0x00);
  rtc.set_memory_size(32u << 20);
  unsigned sum = 0;
  for (int i = 0x10; i <= 0x2D; ++i) sum += rd(static_cast<uint8_t>(i));
  EXPECT_EQ(rd(0x2E) << 8 | rd(0x2F), static_cast<int>(sum));
  EXPECT_TRUE(rtc.set_byte(0x10, 0x40));  // 1.44 MB floppy A:
  sum += 0x40;
  EXPECT_EQ(rd(0x2E) << 8 | rd(0x2F), static_cast<int>(sum));
  EXPECT_FALSE(rtc.set_byte(0x00, 0));  // clock registers are not RAM
  rtc.set_century(21);
  EXPECT_EQ(rd(0x32), 0x21);
}

TEST_F(CmosRtcTest, RewoundVirtualClockDoesNotStallTheRtc) {
  go(5 * kSec + kMs);
  EXPECT_EQ(rd(0x00), 0x05);
  clock.reset();
  wait(kSec);
  rd(0x00);  // re-anchors
  wait(2 * kSec);
  EXPECT_GE(rd(0x00), 0x06);
}

TEST_F(CmosRtcTest, HostTimeModeStartsNearTheWallClock) {
  CmosRtc host(clock);
  const CmosRtc::DateTime t = host.now();
  EXPECT_GE(t.year, 2024);
  EXPECT_LE(t.year, 2200);
}

TEST_F(CmosRtcTest, RandomGuestTrafficIsHarmless) {
  uint32_t x = 12345;
  auto next = [&x] {
    x = x * 1103515245u + 12345u;
    return static_cast<uint8_t>(x >> 16);
  };
  for (int i = 0; i < 20000; ++i) {
    const uint8_t index = next();
    bus.write(0x70, 1, index);
    if (next() & 1) {
      bus.write(0x71, 1, next());
    } else {
      bus.read(0x71, 1);
    }
    if ((i & 63) == 0) wait(next() * 100'000ull);
  }
  // Whatever the guest did, the chip still answers and time still moves.
  wr(0x0A, 0x26);
  wr(0x0B, 0x06);
  const uint8_t before = rd(0x00);
  wait(2 * kSec);
  EXPECT_NE(rd(0x00), before);
  EXPECT_EQ(rd(0x0D), 0x80);
}

}  // namespace
}  // namespace popek
