#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "devices/debug_ports.h"

namespace popek {
namespace {

struct DebugPortsTest : ::testing::Test {
  std::string out;
  std::vector<int> exits;
  IoBus bus;
  DebugPorts dev{[this](char c) { out += c; }, [this](int s) { exits.push_back(s); }};
  void SetUp() override { dev.attach(bus); }
  void write_string(uint16_t port, const std::string& s) {
    for (char c : s) bus.write(port, 1, static_cast<uint8_t>(c));
  }
};

TEST_F(DebugPortsTest, ConsolePorts) {
  write_string(0xe9, "hi ");
  write_string(0x402, "bios");
  EXPECT_EQ(out, "hi bios");
  EXPECT_EQ(bus.read(0xe9, 1), 0xe9u);
  EXPECT_EQ(bus.read(0x402, 1), 0xe9u);  // SeaBIOS checks this before logging
}

TEST_F(DebugPortsTest, IsaDebugExitStatus) {
  bus.write(0xf4, 1, 0);
  bus.write(0xf4, 1, 1);
  bus.write(0xf4, 1, 0x7f);
  EXPECT_EQ(exits, (std::vector<int>{1, 3, 255}));
}

TEST_F(DebugPortsTest, ShutdownString) {
  write_string(0x8900, "Shut");
  EXPECT_TRUE(exits.empty());
  write_string(0x8900, "down");
  EXPECT_EQ(exits, std::vector<int>{0});
  // A broken sequence does not match; a restart mid-way does.
  write_string(0x8900, "ShutXdownSShutdown");
  EXPECT_EQ(exits, (std::vector<int>{0, 0}));
}

TEST(Port92, A20AndReset) {
  bool a20 = false;
  int resets = 0;
  IoBus bus;
  Port92 p([&](bool on) { a20 = on; }, [&] { return a20; }, [&] { ++resets; });
  p.attach(bus);
  bus.write(0x92, 1, 0x02);
  EXPECT_TRUE(a20);
  EXPECT_EQ(bus.read(0x92, 1), 0x02u);
  bus.write(0x92, 1, 0x00);
  EXPECT_FALSE(a20);
  EXPECT_EQ(resets, 0);
  bus.write(0x92, 1, 0x03);
  EXPECT_EQ(resets, 1);
}

TEST(IoBus, UnclaimedPortsFloatHighAndWideAccessSplits) {
  IoBus bus;
  EXPECT_EQ(bus.read(0x1234, 1), 0xffu);
  EXPECT_EQ(bus.read(0x1234, 4), 0xffffffffu);
  std::string out;
  DebugPorts dev([&](char c) { out += c; }, [](int) {});
  dev.attach(bus);
  bus.write(0xe9, 2, 0x4241);  // byte device: only the low byte lands on 0xE9
  EXPECT_EQ(out, "A");
}

}  // namespace
}  // namespace popek
