// PhysicalMemory::set_page_access: independent read and write mappings of a
// page (chipset shadowing), with the fast path and code-page protection kept.
#include <gtest/gtest.h>

#include <algorithm>
#include <iterator>
#include <vector>

#include "core/physical_memory.h"

namespace popek {
namespace {

constexpr uint32_t kPage = 0xF0;  // 0xF0000
constexpr uint32_t kBase = kPage << PhysicalMemory::kPageShift;

struct ShadowTest : ::testing::Test {
  PhysicalMemory mem{2 * 1024 * 1024};
  std::vector<uint8_t> rom = std::vector<uint8_t>(PhysicalMemory::kPageSize, 0xAB);
  uint8_t* ram_page() { return mem.ram() + kBase; }
};

TEST_F(ShadowTest, ReadRomWriteRam) {
  mem.set_page_access(kPage, rom.data(), ram_page());
  EXPECT_EQ(mem.read8(kBase + 5), 0xAB);
  mem.write32(kBase + 4, 0x11223344);
  EXPECT_EQ(mem.read32(kBase + 4), 0xABABABABu) << "reads still come from the ROM";
  EXPECT_EQ(ram_page()[4], 0x44);
  EXPECT_EQ(rom[4], 0xAB) << "the ROM is never written";
  EXPECT_EQ(mem.host_ptr_read(kBase), rom.data());
  EXPECT_EQ(mem.host_ptr_write(kBase), ram_page());
}

TEST_F(ShadowTest, ReadRamWritesDropped) {
  ram_page()[0] = 0x5A;
  mem.set_page_access(kPage, ram_page(), nullptr);
  EXPECT_EQ(mem.read8(kBase), 0x5A);
  mem.write8(kBase, 0x77);
  EXPECT_EQ(ram_page()[0], 0x5A) << "write-protected shadow drops writes";
  EXPECT_EQ(mem.host_ptr_write(kBase), nullptr);
}

TEST_F(ShadowTest, UnmappedReadsAllOnes) {
  mem.set_page_access(kPage, nullptr, nullptr);
  EXPECT_EQ(mem.read32(kBase), 0xFFFFFFFFu);
  mem.write8(kBase, 1);
  EXPECT_EQ(mem.read8(kBase), 0xFF);
}

TEST_F(ShadowTest, CrossPageAccessUsesBothMappings) {
  mem.set_page_access(kPage, rom.data(), ram_page());
  ram_page()[PhysicalMemory::kPageSize] = 0x01;  // next page is plain RAM
  EXPECT_EQ(mem.read16(kBase + PhysicalMemory::kPageSize - 1), 0x01AB);
  mem.write16(kBase + PhysicalMemory::kPageSize - 1, 0x3344);
  EXPECT_EQ(ram_page()[PhysicalMemory::kPageSize - 1], 0x44);
  EXPECT_EQ(ram_page()[PhysicalMemory::kPageSize], 0x33);
}

TEST_F(ShadowTest, BumpsMapGenerationAndReplacesMmio) {
  struct Mmio : MmioDevice {
    uint32_t mmio_read(uint32_t, unsigned) override { return 0x12; }
    void mmio_write(uint32_t, unsigned, uint32_t) override { ++writes; }
    int writes = 0;
  } mmio;
  mem.map_mmio(kBase, PhysicalMemory::kPageSize, &mmio);
  EXPECT_EQ(mem.read8(kBase), 0x12);
  uint64_t gen = mem.map_generation();
  mem.set_page_access(kPage, rom.data(), ram_page());
  EXPECT_GT(mem.map_generation(), gen);
  EXPECT_EQ(mem.read8(kBase), 0xAB);
  mem.write8(kBase, 1);
  EXPECT_EQ(mmio.writes, 0);
}

TEST_F(ShadowTest, CodeProtectionSurvivesRemap) {
  struct Ctx {
    std::vector<uint32_t> hits;
  } ctx;
  mem.set_code_write_hook([](void* c, uint32_t pa, unsigned) { static_cast<Ctx*>(c)->hits.push_back(pa); }, &ctx);
  mem.protect_code_page(kPage);
  mem.set_page_access(kPage, ram_page(), ram_page());
  EXPECT_EQ(mem.host_ptr_write(kBase), nullptr) << "protected page keeps no direct write pointer";
  mem.write8(kBase + 3, 0x9C);
  EXPECT_EQ(ram_page()[3], 0x9C);
  ASSERT_EQ(ctx.hits.size(), 1u);
  EXPECT_EQ(ctx.hits[0], kBase + 3);
  mem.unprotect_code_page(kPage);
  EXPECT_EQ(mem.host_ptr_write(kBase), ram_page());
  mem.set_page_access(kPage, ram_page(), nullptr);
  mem.protect_code_page(kPage);
  mem.unprotect_code_page(kPage);
  EXPECT_EQ(mem.host_ptr_write(kBase), nullptr) << "unprotecting restores the dropped-write mapping";
}

TEST_F(ShadowTest, OutOfRangePageIgnored) {
  mem.set_page_access(PhysicalMemory::kPages, rom.data(), nullptr);
  EXPECT_EQ(mem.page_read_pointer(PhysicalMemory::kPages), nullptr);
}

}  // namespace
}  // namespace popek

namespace popek {
namespace {

// Bulk copies take the direct path on plain RAM and the slow path's rules
// (SMC hook, dropped ROM writes) elsewhere, also across page boundaries.
TEST(PhysicalMemoryBulk, WriteAndReadBytesAcrossPageKinds) {
  PhysicalMemory mem(1u << 20);
  int hook_bytes = 0;
  mem.set_code_write_hook([](void* ctx, uint32_t, unsigned size) { *static_cast<int*>(ctx) += size; }, &hook_bytes);
  mem.protect_code_page(0x2);
  std::vector<uint8_t> src(3 * 4096);
  for (size_t i = 0; i < src.size(); ++i) src[i] = static_cast<uint8_t>(i * 7);
  mem.write_bytes(0x1800, src.data(), static_cast<uint32_t>(src.size()));  // pages 1..4
  EXPECT_EQ(hook_bytes, 4096);  // every byte of the code page went through the hook
  std::vector<uint8_t> back(src.size());
  mem.read_bytes(0x1800, back.data(), static_cast<uint32_t>(back.size()));
  EXPECT_EQ(back, src);

  const uint8_t rom[4096] = {0x5a};
  mem.map_rom(0x8000, rom, sizeof rom);
  uint8_t ones[16];
  std::fill(std::begin(ones), std::end(ones), 0xff);
  mem.write_bytes(0x8ff8, ones, sizeof ones);  // ROM half dropped, RAM half written
  EXPECT_EQ(mem.read8(0x8ff8), 0x00);
  EXPECT_EQ(mem.read8(0x9000), 0xff);
}

}  // namespace
}  // namespace popek
