// TranslationCache::check(): clean after real runs (a small program, the
// calls_indirect and smc benchmark ROMs, the test ROMs), and reporting each
// kind of corruption made on purpose: patched jumps into the middle of a
// block or outside the cache, chains without their incoming entry, chains
// into invalid blocks, the key and page indexes disagreeing, overlapping
// code, indirect-cache entries pointing at non-entries.
#include <Zydis/Zydis.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "core/machine.h"
#include "tests/translator/dbt_fixture.h"

namespace popek::dbt {

// Reaches the cache's private index (declared a friend in translation_cache.h).
struct TranslationCacheTestAccess {
  static std::vector<std::unique_ptr<Block>>& blocks(TranslationCache& c) { return c.blocks_; }
  static std::vector<Block*>& page_blocks(TranslationCache& c, uint32_t page) { return c.by_page_[page].blocks; }
  static uint64_t* code_bits(TranslationCache& c, uint32_t page) { return c.by_page_[page].code_bits; }
  static std::vector<BlockIndex::Slot>& index_slots(TranslationCache& c) { return c.index_.slots_; }
  // The slot that holds b (the index's size if none).
  static size_t slot_of(TranslationCache& c, const Block* b) {
    auto& slots = c.index_.slots_;
    for (size_t i = 0; i < slots.size(); ++i)
      if (slots[i].block == b) return i;
    return slots.size();
  }
};

}  // namespace popek::dbt

namespace popek::test {
namespace {

using dbt::Block;
using dbt::ExitStub;
using Access = dbt::TranslationCacheTestAccess;

// True if some problem line contains `needle`.
bool reports(const std::vector<std::string>& problems, const std::string& needle) {
  return std::any_of(problems.begin(), problems.end(),
                     [&](const std::string& p) { return p.find(needle) != std::string::npos; });
}

std::string joined(const std::vector<std::string>& problems) {
  std::string s;
  for (const std::string& p : problems) s += p + "\n";
  return s;
}

// A loop that calls a function through a register: blocks chained by
// direct exits (the loop's jnz) and entered through the indirect-branch
// cache (call esi, ret).
class CacheCheck : public DualFixture {
 protected:
  void SetUp() override {
    flat32();
    load(0x1000, {
                     0xbe, 0x80, 0x10, 0x00, 0x00,  // mov esi, 0x1080
                     0xb9, 0x40, 0x00, 0x00, 0x00,  // mov ecx, 64
                     0xff, 0xd6,                    // l: call esi
                     0x81, 0xf9, 0xe8, 0x03, 0x00, 0x00,  // cmp ecx, 1000
                     0x74, 0x03,                    // je out (never taken: an exit left unchained)
                     0x49,                          // dec ecx
                     0x75, 0xf3,                    // jnz l
                     0xf4,                          // out: hlt
                 });
    load(0x1080, {0x40, 0xc3});  // inc eax; ret
    run();
    expect_same();
    ASSERT_EQ(dbt->check_cache(), std::vector<std::string>{});
    cache = &const_cast<dbt::TranslationCache&>(dbt->cache());
    for (auto& b : Access::blocks(*cache)) {
      for (uint32_t i = 0; i < b->exit_count; ++i)
        if (b->exits[i].chained_to) chained = &b->exits[i];
      if (b->eip == 0x1080) callee = b.get();
    }
    ASSERT_NE(chained, nullptr) << "no chained exit to corrupt";
    ASSERT_NE(callee, nullptr);
    ASSERT_GT(dbt->stats().indirect_hits, 0u);
  }
  // The rel32 of a direct exit, rewritten through the region.
  void patch(const ExitStub& s, const uint8_t* target) {
    const uint8_t* site = s.block->code + s.patch_offset;
    const int32_t rel = static_cast<int32_t>(target - (site + 4));
    cache->region().write(site, &rel, 4);
  }
  // A block other than `not_this` (and, if given, with code).
  Block* other_block(const Block* not_this) {
    for (auto& b : Access::blocks(*cache))
      if (b.get() != not_this && b->code_size > 16) return b.get();
    return nullptr;
  }
  std::vector<std::string> check() { return dbt->check_cache(); }

  dbt::TranslationCache* cache = nullptr;
  ExitStub* chained = nullptr;
  Block* callee = nullptr;
};

TEST_F(CacheCheck, ChainedJumpIntoTheMiddleOfABlock) {
  patch(*chained, chained->chained_to->code + 5);
  const auto p = check();
  EXPECT_TRUE(reports(p, "jumps to the middle of block")) << joined(p);
}

TEST_F(CacheCheck, ChainedJumpOutsideTheCache) {
  static const uint8_t elsewhere[16] = {};
  patch(*chained, elsewhere);
  const auto p = check();
  EXPECT_TRUE(reports(p, "outside the cache")) << joined(p);
}

TEST_F(CacheCheck, UnchainedExitPatchedBehindTheCachesBack) {
  // An exit the bookkeeping says is unchained, jumping to a block entry.
  ExitStub* unchained = nullptr;
  for (auto& b : Access::blocks(*cache))
    for (uint32_t i = 0; i < b->exit_count; ++i)
      if (!b->exits[i].chained_to) unchained = &b->exits[i];
  ASSERT_NE(unchained, nullptr);
  patch(*unchained, callee->code);
  const auto p = check();
  EXPECT_TRUE(reports(p, "unchained, but jumps to the entry of block 00001080")) << joined(p);
}

TEST_F(CacheCheck, ChainMissingFromIncoming) {
  auto& in = chained->chained_to->incoming;
  in.erase(std::remove(in.begin(), in.end(), chained), in.end());
  const auto p = check();
  EXPECT_TRUE(reports(p, "which does not list it in incoming")) << joined(p);
}

TEST_F(CacheCheck, IncomingEntryOfAnUnchainedExit) {
  ExitStub* target_stub = chained;
  Block* target = target_stub->chained_to;
  target_stub->chained_to = nullptr;  // bookkeeping says unchained; incoming still lists it; rel32 still patched
  const auto p = check();
  EXPECT_TRUE(reports(p, "is chained elsewhere")) << joined(p);
  EXPECT_TRUE(reports(p, "unchained, but jumps to the entry of")) << joined(p);
  target_stub->chained_to = target;
}

TEST_F(CacheCheck, ChainIntoAnInvalidBlock) {
  Block* target = chained->chained_to;
  target->valid = false;  // invalidated without unchaining or unlinking
  const auto p = check();
  EXPECT_TRUE(reports(p, "invalid, but block")) << joined(p);
  EXPECT_TRUE(reports(p, "in the key index")) << joined(p);
  EXPECT_TRUE(reports(p, "live blocks")) << joined(p);
}

TEST_F(CacheCheck, BlockMissingFromThePageIndex) {
  auto& list = Access::page_blocks(*cache, callee->key.phys >> 12);
  list.erase(std::remove(list.begin(), list.end(), callee), list.end());
  const auto p = check();
  EXPECT_TRUE(reports(p, "in the key index but not in the page index")) << joined(p);
}

TEST_F(CacheCheck, CodeBitmapMissesABlocksByte) {
  const uint32_t offset = callee->key.phys & 0xfff;
  Access::code_bits(*cache, callee->key.phys >> 12)[offset >> 6] &= ~(uint64_t(1) << (offset & 63));
  const auto p = check();
  EXPECT_TRUE(reports(p, "the code bitmap differs")) << joined(p);
}

TEST_F(CacheCheck, BlockMissingFromTheKeyIndex) {
  auto& slots = Access::index_slots(*cache);
  const size_t i = Access::slot_of(*cache, callee);
  ASSERT_LT(i, slots.size());
  slots[i].block = nullptr;
  const auto p = check();
  EXPECT_TRUE(reports(p, "in the page index but not in the key index")) << joined(p);
  EXPECT_TRUE(reports(p, "the key index counts")) << joined(p);
  slots[i].block = callee;
}

TEST_F(CacheCheck, KeyIndexSlotUnderTheWrongKey) {
  auto& slots = Access::index_slots(*cache);
  const size_t i = Access::slot_of(*cache, callee);
  ASSERT_LT(i, slots.size());
  slots[i].key.linear ^= 0x40;
  const auto p = check();
  EXPECT_TRUE(reports(p, "in the key index under another key")) << joined(p);
  slots[i].key.linear ^= 0x40;
}

TEST_F(CacheCheck, KeyIndexEntryPastAHole) {
  // Move the callee's slot one past an empty slot that follows its home:
  // a lookup stops at the hole and never finds it.
  auto& slots = Access::index_slots(*cache);
  const size_t i = Access::slot_of(*cache, callee);
  ASSERT_LT(i, slots.size());
  const size_t mask = slots.size() - 1;
  size_t hole = i;
  while (slots[hole].block) hole = (hole + 1) & mask;
  size_t past = (hole + 1) & mask;
  while (slots[past].block) past = (past + 1) & mask;
  slots[past] = slots[i];
  slots[i].block = nullptr;
  const auto p = check();
  EXPECT_TRUE(reports(p, "unreachable in the key index")) << joined(p);
  slots[i] = slots[past];
  slots[past].block = nullptr;
}

TEST_F(CacheCheck, PageIndexUnderTheWrongPage) {
  Access::page_blocks(*cache, 0x777).push_back(callee);
  const auto p = check();
  EXPECT_TRUE(reports(p, "listed under page 0x777")) << joined(p);
  EXPECT_TRUE(reports(p, "listed twice in the page index")) << joined(p);
}

TEST_F(CacheCheck, BlockTwiceInTheKeyIndex) {
  auto& slots = Access::index_slots(*cache);
  const size_t i = Access::slot_of(*cache, callee);
  ASSERT_LT(i, slots.size());
  const size_t mask = slots.size() - 1;
  size_t j = i;
  while (slots[j].block) j = (j + 1) & mask;  // the end of its probe run: still reachable
  slots[j] = slots[i];
  const auto p = check();
  EXPECT_TRUE(reports(p, "twice in the key index")) << joined(p);
  EXPECT_TRUE(reports(p, "the key index counts")) << joined(p);
  slots[j].block = nullptr;
}

TEST_F(CacheCheck, OverlappingCode) {
  Block* b = other_block(nullptr);
  ASSERT_NE(b, nullptr);
  // Claim the next block's first bytes.
  const uint32_t saved = b->code_size;
  b->code_size += 32;
  const auto p = check();
  EXPECT_TRUE(reports(p, "overlaps") || reports(p, "outside the used block area")) << joined(p);
  b->code_size = saved;
}

TEST_F(CacheCheck, BranchIntoAnotherBlocksMiddle) {
  // Overwrite the start of one block's code with jmp rel32 to +3 of another.
  Block* a = callee;
  Block* b = other_block(a);
  ASSERT_NE(b, nullptr);
  uint8_t jmp[5] = {0xe9};
  const int32_t rel = static_cast<int32_t>((b->code + 3) - (a->code + 5));
  std::memcpy(jmp + 1, &rel, 4);
  cache->region().write(a->code, jmp, sizeof jmp);
  const auto p = check();
  EXPECT_TRUE(reports(p, "branches to the middle of block")) << joined(p);
}

TEST_F(CacheCheck, BranchIntoTheMiddleOfAnInstruction) {
  // Replace an instruction of 3+ bytes followed by one of 2+ bytes with
  // "jmp rel8; nop..." aimed one byte into the second.
  Block* a = callee;
  ZydisDecoder dec;
  ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
  std::vector<std::pair<uint32_t, uint32_t>> insns;  // offset, length
  for (uint32_t off = 0; off < a->code_size;) {
    ZydisDecodedInstruction in;
    ASSERT_TRUE(ZYAN_SUCCESS(ZydisDecoderDecodeInstruction(&dec, nullptr, a->code + off, a->code_size - off, &in)));
    insns.emplace_back(off, in.length);
    off += in.length;
  }
  size_t k = 0;
  while (k + 1 < insns.size() && !(insns[k].second >= 3 && insns[k + 1].second >= 2)) ++k;
  ASSERT_LT(k + 1, insns.size());
  const auto [off, len] = insns[k];
  std::vector<uint8_t> code(len, 0x90);
  code[0] = 0xeb;
  code[1] = static_cast<uint8_t>(len - 2 + 1);
  cache->region().write(a->code + off, code.data(), code.size());
  const auto p = check();
  EXPECT_TRUE(reports(p, "into the middle of an instruction")) << joined(p);
}

TEST_F(CacheCheck, IndirectCacheEntryIntoTheMiddleOfABlock) {
  auto& ctx = const_cast<dbt::DbtContext&>(dbt->context());
  // (The HLT at the end cleared the cache; an entry as the dispatcher adds it is clean.)
  // Entries point at a block's checked entry.
  dbt::IndirectEntry& e = ctx.ib[dbt::indirect_index(0x1080)];
  e = dbt::IndirectEntry{0x1080, 0, callee->code + callee->checked_entry_offset};
  auto p = check();
  EXPECT_EQ(p, std::vector<std::string>{});
  e.code = callee->code + 4;
  p = check();
  EXPECT_TRUE(reports(p, "indirect-branch cache entry")) << joined(p);
  EXPECT_TRUE(reports(p, "the middle of block 00001080")) << joined(p);
  // A block's ordinary entry (it would run without the EIP check).
  e.code = callee->code;
  p = check();
  EXPECT_TRUE(reports(p, "not a block's checked entry")) << joined(p);
  // The checked entry of a block of another EIP.
  const Block* other = other_block(callee);
  e.code = other->code + other->checked_entry_offset;
  p = check();
  EXPECT_TRUE(reports(p, "of eip")) << joined(p);
  // A block made invalid.
  e.code = callee->code + callee->checked_entry_offset;
  callee->valid = false;
  p = check();
  EXPECT_TRUE(reports(p, "points at block 00001080 (phys 00001080 mode")) << joined(p);
}

TEST_F(CacheCheck, KeyIndexSlotHoldingAForeignBlock) {
  static Block foreign;
  auto& slots = Access::index_slots(*cache);
  size_t i = 0;
  while (slots[i].block) ++i;
  slots[i].block = &foreign;
  const auto p = check();
  EXPECT_TRUE(reports(p, "key index slot " + std::to_string(i) + " holds a block not in the cache")) << joined(p);
  slots[i].block = nullptr;
}

TEST_F(CacheCheck, RunTimeRoutineTargetsComeFromTheInput) {
  // Without the routine list, every branch to exit_spill is reported: the
  // rules are the caller's data, not built into the checker.
  const auto p = cache->check({});
  EXPECT_TRUE(reports(p, "in the cache, not a routine entry")) << joined(p);
  // A flush empties everything: nothing to report.
  dbt->flush();
  EXPECT_EQ(dbt->check_cache(), std::vector<std::string>{});
}

TEST_F(CacheCheck, CheckAtFlushStopsTheRun) {
  dbt::DbtOptions o = test_options();
  o.check_cache = true;
  dbt = std::make_unique<dbt::DbtEngine>(dut.interp, o);
  dut.flat32();
  run();
  cache = &const_cast<dbt::TranslationCache&>(dbt->cache());
  for (auto& b : Access::blocks(*cache))
    if (b->eip == 0x1080) b->valid = false;  // corrupt: invalid but still indexed
  dbt->flush();
  EXPECT_NE(dbt->last_error().find("translation cache check at a flush"), std::string::npos) << dbt->last_error();
  dut.flat32();
  EXPECT_EQ(dbt->run(1000).stop, dbt::DbtStop::HostError);
}

// ---------------------------------------------------------------- real ROM runs

namespace fs = std::filesystem;

fs::path build_dir() {
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return {};
  buf[n] = 0;
  return fs::path(buf).parent_path().parent_path();
}

// The translator as the machine's engine, checking the cache after every
// eighth run slice (slices are up to 10,000 steps; and, through
// DbtOptions::check_cache, at every flush).
class CheckingEngine : public CpuEngine {
 public:
  CheckingEngine(Interpreter& interp, const dbt::DbtOptions& o) : dbt_(interp, o) {}
  EngineRun run(uint64_t budget, const std::function<bool()>& should_stop) override {
    const dbt::DbtRunResult r = dbt_.run(budget, should_stop);
    EngineRun out;
    out.steps = r.steps;
    out.halted = r.stop == dbt::DbtStop::Halted;
    if (r.stop == dbt::DbtStop::HostError) {
      out.failed = true;
      out.message = dbt_.last_error();
    }
    if (++slices % 8 == 0) check();
    return out;
  }
  void check() {
    ++checks;
    for (std::string& p : dbt_.check_cache())
      if (problems.size() < 20) problems.push_back(std::move(p));
  }
  uint64_t retired() const override { return dbt_.retired(); }
  void after_reset() override { dbt_.flush(); }
  const char* name() const override { return "dbt-checking"; }
  dbt::DbtEngine dbt_;
  std::vector<std::string> problems;
  uint64_t slices = 0, checks = 0;
};

struct RomCase {
  const char* path;  // under the build directory
  bool expect_indirect;
};

class RomCheck : public ::testing::TestWithParam<RomCase> {};

TEST_P(RomCheck, EveryExitLandsOnABlockEntry) {
  const fs::path rom = build_dir() / GetParam().path;
  if (!fs::exists(rom)) GTEST_SKIP() << rom << " not built (target popek_roms)";
  std::ifstream f(rom, std::ios::binary);
  MachineConfig c;
  c.bios.assign(std::istreambuf_iterator<char>(f), {});
  c.deterministic = true;
  std::string output;
  c.debugcon = [&](char ch) { output += ch; };
  Machine m(c);
  dbt::DbtOptions o;
  o.check_cache = true;
  o.cache_bytes = 256u << 10;  // small: several flushes, each checked first
  auto engine = std::make_unique<CheckingEngine>(m.interpreter(), o);
  CheckingEngine& e = *engine;
  m.set_engine(std::move(engine));
  RunLimits limits;
  limits.max_instructions = 20000000;
  const RunOutcome out = m.run(limits);
  EXPECT_EQ(out.reason, StopReason::Exit) << out.message << output;
  EXPECT_EQ(out.exit_status, 1) << output;
  e.check();
  EXPECT_EQ(e.problems, std::vector<std::string>{});
  const dbt::DbtStats& st = e.dbt_.stats();
  std::printf("%s: %llu checks, %llu blocks, %llu chain patches, %llu chained exits, %llu indirect hits, %llu flushes, "
              "%llu SMC invalidations\n",
              GetParam().path, (unsigned long long)e.checks, (unsigned long long)st.blocks_translated,
              (unsigned long long)st.chain_patches, (unsigned long long)st.chained_exits,
              (unsigned long long)st.indirect_hits, (unsigned long long)st.flushes,
              (unsigned long long)st.smc_invalidations);
  // The check saw what it is about: chained direct exits (and indirect-cache entries).
  EXPECT_GT(st.chain_patches, 0u);
  EXPECT_GT(st.chained_exits, 0u);
  if (GetParam().expect_indirect) EXPECT_GT(st.indirect_hits, 0u);
}

INSTANTIATE_TEST_SUITE_P(Roms, RomCheck,
                         ::testing::Values(RomCase{"roms/bench/calls_indirect_quick.bin", true},
                                           RomCase{"roms/bench/smc_quick.bin", false},
                                           RomCase{"roms/paging.bin", false},
                                           RomCase{"roms/task_switch.bin", false}),
                         [](const auto& info) {
                           std::string n = fs::path(info.param.path).stem().string();
                           return n;
                         });

}  // namespace
}  // namespace popek::test
