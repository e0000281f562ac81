// The translation cache's memory (CodeRegion): the mappings and their
// permissions as /proc/self/maps shows them, the guard pages, writes through
// the write view reaching the execute view, and the translator running the
// same in every W^X mode.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "tests/translator/dbt_fixture.h"
#include "translator/code_region.h"

namespace popek::test {
namespace {

using dbt::CodeRegion;
using dbt::WxMode;

struct Mapping {
  uint64_t lo = 0, hi = 0;
  std::string perms;  // "r-xs", "rw-p", "---p"...
  uint64_t inode = 0;
  std::string path;
};

std::vector<Mapping> read_maps() {
  std::vector<Mapping> maps;
  std::ifstream f("/proc/self/maps");
  std::string line;
  while (std::getline(f, line)) {
    std::istringstream in(line);
    Mapping m;
    std::string range, offset, dev;
    in >> range >> m.perms >> offset >> dev >> m.inode;
    std::getline(in >> std::ws, m.path);
    const size_t dash = range.find('-');
    m.lo = std::stoull(range.substr(0, dash), nullptr, 16);
    m.hi = std::stoull(range.substr(dash + 1), nullptr, 16);
    maps.push_back(m);
  }
  return maps;
}

// The mapping holding `p` ("" perms when none does).
Mapping mapping_at(const std::vector<Mapping>& maps, const void* p) {
  const auto a = reinterpret_cast<uint64_t>(p);
  for (const Mapping& m : maps)
    if (a >= m.lo && a < m.hi) return m;
  return {};
}

// Every mapping overlapping [lo, lo + n).
std::vector<Mapping> mappings_in(const std::vector<Mapping>& maps, const uint8_t* lo, size_t n) {
  std::vector<Mapping> out;
  const auto a = reinterpret_cast<uint64_t>(lo), b = a + n;
  for (const Mapping& m : maps)
    if (m.lo < b && m.hi > a) out.push_back(m);
  return out;
}

constexpr size_t kRuntime = 16 << 10, kBlocks = 1 << 20;

class Region : public ::testing::TestWithParam<WxMode> {};

TEST_P(Region, MappingsPermissionsAndGuards) {
  CodeRegion r(kRuntime, kBlocks, GetParam());
  ASSERT_EQ(r.mode(), GetParam()) << "memfd_create or its mapping is not available here";
  const std::vector<Mapping> maps = read_maps();
  const std::string exec_perms = GetParam() == WxMode::Off ? "rwx" : "r-x";
  const size_t G = CodeRegion::kGuardBytes;

  auto views = std::vector<const uint8_t*>{r.exec_reservation()};
  if (GetParam() == WxMode::Dual) views.push_back(r.write_reservation());
  for (size_t v = 0; v < views.size(); ++v) {
    const uint8_t* base = views[v];
    const std::string want = v == 0 ? exec_perms : "rw-";
    SCOPED_TRACE(v == 0 ? "execute view" : "write view");
    // [guard][runtime][guard][blocks][guard], nothing else, nothing writable and executable.
    const uint8_t* runtime = base + G;
    const uint8_t* gap = runtime + kRuntime;
    const uint8_t* blocks = gap + G;
    const uint8_t* tail = blocks + kBlocks;
    EXPECT_EQ(mapping_at(maps, base).perms.substr(0, 3), "---");
    EXPECT_EQ(mapping_at(maps, runtime - 1).perms.substr(0, 3), "---");
    EXPECT_EQ(mapping_at(maps, runtime).perms.substr(0, 3), want);
    EXPECT_EQ(mapping_at(maps, gap - 1).perms.substr(0, 3), want);
    EXPECT_EQ(mapping_at(maps, gap).perms.substr(0, 3), "---");
    EXPECT_EQ(mapping_at(maps, blocks - 1).perms.substr(0, 3), "---");
    EXPECT_EQ(mapping_at(maps, blocks).perms.substr(0, 3), want);
    EXPECT_EQ(mapping_at(maps, tail - 1).perms.substr(0, 3), want);
    EXPECT_EQ(mapping_at(maps, tail).perms.substr(0, 3), "---");
    EXPECT_EQ(mapping_at(maps, tail + G - 1).perms.substr(0, 3), "---");
    for (const Mapping& m : mappings_in(maps, base, r.reservation_bytes())) {
      if (GetParam() != WxMode::Off) EXPECT_FALSE(m.perms[1] == 'w' && m.perms[2] == 'x') << m.perms;
      // Guards are private and anonymous: they hold no memory.
      if (m.perms.substr(0, 3) == "---") EXPECT_EQ(m.inode, 0u);
    }
  }
  if (GetParam() == WxMode::Dual) {
    // One memfd behind both views, shared (a write through one is seen through the other).
    const Mapping x = mapping_at(maps, r.block_base());
    const Mapping w = mapping_at(maps, r.write_reservation() + (r.block_base() - r.exec_reservation()));
    EXPECT_EQ(x.perms, "r-xs");
    EXPECT_EQ(w.perms, "rw-s");
    EXPECT_NE(x.inode, 0u);
    EXPECT_EQ(x.inode, w.inode);
    EXPECT_NE(x.path.find("popek-translation-cache"), std::string::npos) << x.path;
  } else {
    EXPECT_EQ(r.write_reservation(), r.exec_reservation());
  }
}

// mov eax, imm32; ret
std::vector<uint8_t> return_value(uint32_t v) {
  return {0xb8, uint8_t(v), uint8_t(v >> 8), uint8_t(v >> 16), uint8_t(v >> 24), 0xc3};
}

uint32_t call(const uint8_t* code) { return reinterpret_cast<uint32_t (*)()>(const_cast<uint8_t*>(code))(); }

TEST_P(Region, WritesReachTheExecuteViewAndRunThere) {
  CodeRegion r(kRuntime, kBlocks, GetParam());
  for (uint8_t* at : {r.runtime_base(), r.block_base(), r.block_base() + kBlocks - 6}) {
    std::vector<uint8_t> code = return_value(0x1234);
    r.write(at, code.data(), code.size());
    EXPECT_EQ(call(at), 0x1234u);
    // Patch the immediate, as chaining patches a rel32, and run again.
    const uint32_t v = 0xabcdef01;
    r.write(at + 1, &v, 4);
    EXPECT_EQ(call(at), v);
  }
  // The pages written stay read+execute (mprotect mode restores them).
  const std::vector<Mapping> maps = read_maps();
  EXPECT_EQ(mapping_at(maps, r.block_base()).perms.substr(0, 3), GetParam() == WxMode::Off ? "rwx" : "r-x");
}

TEST_P(Region, WritesOutsideTheAreasAreRefused) {
  CodeRegion r(kRuntime, kBlocks, GetParam());
  const uint8_t byte = 0xcc;
  const uint8_t four[4] = {};
  EXPECT_THROW(r.write(r.runtime_base() - 1, &byte, 1), std::logic_error);
  EXPECT_THROW(r.write(r.runtime_base() + kRuntime, &byte, 1), std::logic_error);      // the middle guard
  EXPECT_THROW(r.write(r.runtime_base() + kRuntime - 2, four, 4), std::logic_error);   // straddles it
  EXPECT_THROW(r.write(r.block_base() - 1, &byte, 1), std::logic_error);
  EXPECT_THROW(r.write(r.block_base() + kBlocks, &byte, 1), std::logic_error);
  EXPECT_THROW(r.write(r.block_base() + kBlocks - 3, four, 4), std::logic_error);
  EXPECT_THROW(r.write(&byte, &byte, 1), std::logic_error);  // not in the region at all
  EXPECT_NO_THROW(r.write(r.block_base() + kBlocks - 4, four, 4));
}

INSTANTIATE_TEST_SUITE_P(Modes, Region, ::testing::Values(WxMode::Dual, WxMode::Mprotect, WxMode::Off),
                         [](const auto& info) { return std::string(dbt::to_string(info.param)); });

TEST(RegionDual, WriteViewIsAtAnUnpredictableDistance) {
  std::vector<std::unique_ptr<CodeRegion>> regions;
  std::set<int64_t> distances;
  for (int i = 0; i < 4; ++i) {
    regions.push_back(std::make_unique<CodeRegion>(kRuntime, kBlocks, WxMode::Dual));
    ASSERT_EQ(regions.back()->mode(), WxMode::Dual);
    const CodeRegion& r = *regions.back();
    const int64_t d = reinterpret_cast<int64_t>(r.write_reservation()) - reinterpret_cast<int64_t>(r.exec_reservation());
    // Not adjacent to the execute view (where a plain second mmap would land).
    EXPECT_GT(d > 0 ? d : -d, int64_t(1) << 32);
    distances.insert(d);
  }
  EXPECT_EQ(distances.size(), 4u) << "the views keep the same distance";
}

TEST(RegionModes, Names) {
  WxMode m;
  for (WxMode want : {WxMode::Dual, WxMode::Mprotect, WxMode::Off}) {
    ASSERT_TRUE(dbt::parse_wx_mode(dbt::to_string(want), m));
    EXPECT_EQ(m, want);
  }
  EXPECT_FALSE(dbt::parse_wx_mode("rwx", m));
  EXPECT_FALSE(dbt::parse_wx_mode("", m));
}

// The translator in each mode: same result as the interpreter, chains patched.
class TranslatorWx : public DualFixture, public ::testing::WithParamInterface<WxMode> {
 public:
  TranslatorWx() : DualFixture(options()) {}
  static dbt::DbtOptions options() {
    dbt::DbtOptions o = test_options();
    o.wx = GetParam();
    return o;
  }
};

TEST_P(TranslatorWx, RunsLikeTheInterpreter) {
  EXPECT_EQ(dbt->wx_mode(), GetParam());
  flat32();
  load(0x1000, {
                   0xbe, 0x80, 0x10, 0x00, 0x00,  // mov esi, 0x1080
                   0xb9, 0x40, 0x00, 0x00, 0x00,  // mov ecx, 64
                   0xff, 0xd6,                    // l: call esi
                   0x49,                          // dec ecx
                   0x75, 0xfb,                    // jnz l
                   0xf4,                          // hlt
               });
  load(0x1080, {0x40, 0xc3});  // inc eax; ret
  run();
  expect_same();
  EXPECT_EQ(dut.cpu.regs[EAX], 64u);
  EXPECT_GT(dbt->stats().chain_patches, 0u);
  EXPECT_EQ(dbt->check_cache(), std::vector<std::string>{});
}

INSTANTIATE_TEST_SUITE_P(Modes, TranslatorWx, ::testing::Values(WxMode::Dual, WxMode::Mprotect, WxMode::Off),
                         [](const auto& info) { return std::string(dbt::to_string(info.param)); });

}  // namespace
}  // namespace popek::test
