// fw_cfg: signature, ID, fixed items, the file directory, and guest traffic
// that must be ignored without harm.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "core/io_bus.h"
#include "devices/fw_cfg.h"

namespace popek {
namespace {

struct FwCfgTest : ::testing::Test {
  IoBus bus;
  FwCfg cfg;
  FwCfgTest() { cfg.attach(bus); }
  void select(uint16_t key) { bus.write(FwCfg::kSelectorPort, 2, key); }
  std::vector<uint8_t> read(size_t n) {
    std::vector<uint8_t> out;
    for (size_t i = 0; i < n; ++i) out.push_back(static_cast<uint8_t>(bus.read(FwCfg::kDataPort, 1)));
    return out;
  }
  uint32_t be32(const std::vector<uint8_t>& d, size_t at) {
    return uint32_t(d[at]) << 24 | uint32_t(d[at + 1]) << 16 | uint32_t(d[at + 2]) << 8 | d[at + 3];
  }
};

TEST_F(FwCfgTest, SignatureAndId) {
  select(FwCfg::kSignature);
  EXPECT_EQ(read(4), (std::vector<uint8_t>{'Q', 'E', 'M', 'U'}));
  select(FwCfg::kId);
  EXPECT_EQ(read(4), (std::vector<uint8_t>{1, 0, 0, 0})) << "traditional interface, no DMA";
}

TEST_F(FwCfgTest, PowerOnSelectsSignature) {
  EXPECT_EQ(read(4), (std::vector<uint8_t>{'Q', 'E', 'M', 'U'}));
  select(FwCfg::kId);
  read(2);
  cfg.reset();
  EXPECT_EQ(cfg.selector(), FwCfg::kSignature);
  EXPECT_EQ(read(1)[0], 'Q');
}

TEST_F(FwCfgTest, ReadsPastTheEndAndUnknownItemsAreZero) {
  select(FwCfg::kSignature);
  read(4);
  EXPECT_EQ(read(3), (std::vector<uint8_t>{0, 0, 0}));
  select(0x1234);
  EXPECT_EQ(read(2), (std::vector<uint8_t>{0, 0}));
}

TEST_F(FwCfgTest, SelectingRewinds) {
  select(FwCfg::kSignature);
  read(2);
  select(FwCfg::kSignature);
  EXPECT_EQ(read(1)[0], 'Q');
}

TEST_F(FwCfgTest, LittleEndianItems) {
  cfg.set_u64(FwCfg::kRamSize, 0x0000000102030405ull);
  cfg.set_u16(FwCfg::kNbCpus, 1);
  select(FwCfg::kRamSize);
  EXPECT_EQ(read(8), (std::vector<uint8_t>{5, 4, 3, 2, 1, 0, 0, 0}));
  select(FwCfg::kNbCpus);
  EXPECT_EQ(read(2), (std::vector<uint8_t>{1, 0}));
}

TEST_F(FwCfgTest, ArchLocalKeysAreDistinct) {
  cfg.set_u16(FwCfg::kArchLocal | 1, 0xBEEF);
  select(FwCfg::kArchLocal | 1);
  EXPECT_EQ(read(2), (std::vector<uint8_t>{0xEF, 0xBE}));
  select(FwCfg::kId);
  EXPECT_EQ(read(1)[0], 1);
}

TEST_F(FwCfgTest, FileDirectory) {
  EXPECT_EQ(cfg.add_file("etc/boot-fail-wait", {0x10, 0x27, 0, 0}), FwCfg::kFirstFile);
  EXPECT_EQ(cfg.add_file("etc/e820", std::vector<uint8_t>(20, 0xAA)), FwCfg::kFirstFile + 1);
  select(FwCfg::kFileDir);
  std::vector<uint8_t> dir = read(4 + 2 * 64);
  EXPECT_EQ(be32(dir, 0), 2u);
  EXPECT_EQ(be32(dir, 4), 4u);                       // size
  EXPECT_EQ(dir[8] << 8 | dir[9], FwCfg::kFirstFile);  // select
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(&dir[12])), "etc/boot-fail-wait");
  EXPECT_EQ(be32(dir, 68), 20u);
  EXPECT_EQ(dir[72] << 8 | dir[73], FwCfg::kFirstFile + 1);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(&dir[76])), "etc/e820");
  select(FwCfg::kFirstFile);
  EXPECT_EQ(read(4), (std::vector<uint8_t>{0x10, 0x27, 0, 0}));
}

TEST_F(FwCfgTest, ReplacingAFileKeepsItsKey) {
  uint16_t k = cfg.add_file("bootorder", {'a'});
  EXPECT_EQ(cfg.add_file("bootorder", {'b', 'c'}), k);
  select(FwCfg::kFileDir);
  std::vector<uint8_t> dir = read(4 + 64);
  EXPECT_EQ(be32(dir, 0), 1u);
  EXPECT_EQ(be32(dir, 4), 2u);
}

TEST_F(FwCfgTest, BadFileNamesRejected) {
  EXPECT_EQ(cfg.add_file("", {1}), 0);
  EXPECT_EQ(cfg.add_file(std::string(56, 'x'), {1}), 0) << "no room for the NUL";
  EXPECT_NE(cfg.add_file(std::string(55, 'x'), {1}), 0);
  EXPECT_EQ(cfg.add_file(std::string("a\0b", 3), {1}), 0);
}

TEST_F(FwCfgTest, OddAccessesAreIgnored) {
  select(FwCfg::kSignature);
  bus.write(FwCfg::kSelectorPort, 1, FwCfg::kId);  // byte selector write: ignored
  bus.write(FwCfg::kDataPort, 1, 0x55);              // data write: ignored
  EXPECT_EQ(bus.read(FwCfg::kDataPort, 2), 0xFFFFu);  // wide data read: ignored
  EXPECT_EQ(bus.read(FwCfg::kSelectorPort, 2), 0xFFFFu);
  EXPECT_EQ(read(1)[0], 'Q') << "offset unchanged by the ignored accesses";
  EXPECT_EQ(cfg.selector(), FwCfg::kSignature);
  EXPECT_GE(cfg.ignored_accesses(), 4u);
  select(FwCfg::kWriteChannel | FwCfg::kId);  // write channel: selects, data stays read-only
  EXPECT_EQ(read(1)[0], 1);
}

TEST_F(FwCfgTest, RandomTrafficNeverEscapes) {
  cfg.add_file("etc/boot-fail-wait", {1, 2, 3, 4});
  std::mt19937 rng(42);
  for (int i = 0; i < 200000; ++i) {
    uint16_t port = static_cast<uint16_t>(0x50E + rng() % 8);
    unsigned size = 1u << (rng() % 3);
    if (rng() & 1) bus.write(port, size, rng());
    else bus.read(port, size);
  }
  select(FwCfg::kSignature);
  EXPECT_EQ(read(4), (std::vector<uint8_t>{'Q', 'E', 'M', 'U'}));
}

}  // namespace
}  // namespace popek
