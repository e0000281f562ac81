// The dispatcher's lookup structures on their own: the cache's key index
// (BlockIndex, open addressing with backward-shift deletion) against a
// reference map under random inserts and erases; the lookup cache's slot
// bookkeeping (IndirectSlots) dropping exactly the slots an invalidation
// can affect; the front cache (FrontCache) forgetting entries when their
// page, their epoch or their block goes, and only then.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <random>
#include <set>
#include <tuple>
#include <vector>

#include "translator/block_index.h"
#include "translator/front_cache.h"
#include "translator/indirect_slots.h"
#include "translator/translation_cache.h"

namespace popek::test {
namespace {

using dbt::Block;
using dbt::BlockIndex;
using dbt::BlockKey;
using dbt::FrontCache;
using dbt::IndirectSlots;

auto tie(const BlockKey& k) { return std::make_tuple(k.linear, k.phys, k.cs_base, k.cs_limit, k.mode); }

TEST(BlockIndex, MatchesAReferenceMapUnderRandomInsertsAndErases) {
  BlockIndex index;
  std::map<decltype(tie(BlockKey{})), Block*> ref;
  std::vector<std::unique_ptr<Block>> owned;
  std::mt19937 gen(12345);
  auto rng = [&] { return static_cast<uint32_t>(gen()); };
  // Few distinct values per field, so keys collide in all but one field
  // and probe runs get long and wrap around the table's end.
  auto key = [&] {
    return BlockKey{0x1000u * (rng() % 64) + (rng() % 4), 0x2000u * (rng() % 8), (rng() % 2) * 0x10u,
                    rng() % 2 ? 0xffffffffu : 0xffffu, static_cast<uint16_t>(rng() % 3)};
  };
  for (int step = 0; step < 60000; ++step) {
    const BlockKey k = key();
    auto it = ref.find(tie(k));
    if (it == ref.end()) {
      ASSERT_EQ(index.find(k), nullptr);
      if (rng() % 3) {
        owned.push_back(std::make_unique<Block>());
        owned.back()->key = k;
        index.insert(k, owned.back().get());
        ref[tie(k)] = owned.back().get();
      }
    } else {
      ASSERT_EQ(index.find(k), it->second);
      if (rng() % 2) {
        ASSERT_TRUE(index.erase(k, it->second));
        ASSERT_FALSE(index.erase(k, it->second));
        ref.erase(it);
        ASSERT_EQ(index.find(k), nullptr);
      }
    }
    ASSERT_EQ(index.size(), ref.size());
  }
  EXPECT_GT(index.slots().size(), BlockIndex::kInitialSlots) << "the table never grew";
  for (const auto& [k, b] : ref) EXPECT_EQ(index.find(b->key), b);
  index.clear();
  EXPECT_EQ(index.size(), 0u);
  for (const auto& [k, b] : ref) EXPECT_EQ(index.find(b->key), nullptr);
}

TEST(BlockIndex, EveryKeyFieldDistinguishes) {
  BlockIndex index;
  Block a, b;
  const BlockKey k{0x401000, 0x1000, 0, 0xffffffff, 3};
  index.insert(k, &a);
  for (int field = 0; field < 5; ++field) {
    BlockKey other = k;
    switch (field) {
      case 0: other.linear ^= 1; break;
      case 1: other.phys ^= 0x1000; break;
      case 2: other.cs_base ^= 0x10; break;
      case 3: other.cs_limit = 0xffff; break;
      case 4: other.mode ^= 1; break;
    }
    EXPECT_EQ(index.find(other), nullptr) << "field " << field;
  }
  EXPECT_EQ(index.find(k), &a);
  EXPECT_FALSE(index.erase(k, &b));  // erases only the block given
  EXPECT_TRUE(index.erase(k, &a));
}

// The slots the reference rule drops on an invalidation of `page`: the
// page's own 4 KiB mapping and every 4 MiB mapping of its region.
std::set<uint32_t> reference_drop(const std::map<uint32_t, IndirectSlots::Mapping>& filled, uint32_t linear) {
  std::set<uint32_t> out;
  const uint32_t page = linear & 0xfffff000u;
  for (const auto& [slot, m] : filled)
    if (m.linear_page == page || (m.large && (m.linear_page >> 22) == (page >> 22))) out.insert(slot);
  return out;
}

TEST(IndirectSlots, PageInvalidationDropsExactlyWhatAScanWould) {
  IndirectSlots slots;
  std::map<uint32_t, IndirectSlots::Mapping> ref;
  std::mt19937 gen(777);
  auto rng = [&] { return static_cast<uint32_t>(gen()); };
  // Pages in a few 4 MiB regions, so small and large mappings share them.
  auto page = [&] { return uint32_t(((rng() % 6) << 22) | ((rng() % 40) << 12)); };
  for (int step = 0; step < 20000; ++step) {
    const unsigned op = rng() % 10;
    if (op < 6) {
      const uint32_t slot = rng() % dbt::kIndirectEntries;
      const IndirectSlots::Mapping m{page(), rng() % 2 == 0, rng() % 4 == 0};
      slots.fill(slot, m);
      ref[slot] = m;
    } else if (op < 7) {
      const uint32_t slot = rng() % dbt::kIndirectEntries;
      slots.erase(slot);
      ref.erase(slot);
    } else if (op < 9) {
      const uint32_t linear = page() | (rng() & 0xfff);
      const std::set<uint32_t> expect = reference_drop(ref, linear);
      std::set<uint32_t> got;
      slots.drop_page(linear, [&](uint32_t s) { EXPECT_TRUE(got.insert(s).second) << "slot " << s << " twice"; });
      ASSERT_EQ(got, expect) << "linear " << std::hex << linear;
      for (uint32_t s : got) ref.erase(s);
    } else {
      std::set<uint32_t> expect, got;
      for (const auto& [s, m] : ref)
        if (!m.global) expect.insert(s);
      slots.drop_non_global([&](uint32_t s) { EXPECT_TRUE(got.insert(s).second) << "slot " << s << " twice"; });
      ASSERT_EQ(got, expect);
      for (uint32_t s : got) ref.erase(s);
    }
    ASSERT_EQ(slots.size(), ref.size());
    for (uint32_t s = step % 64; s < dbt::kIndirectEntries; s += 64) ASSERT_EQ(slots.filled(s), ref.count(s) != 0);
  }
  std::set<uint32_t> listed;
  slots.for_each_filled([&](uint32_t s) { listed.insert(s); });
  std::set<uint32_t> expect;
  for (const auto& [s, m] : ref) expect.insert(s);
  EXPECT_EQ(listed, expect);
  slots.clear();
  EXPECT_EQ(slots.size(), 0u);
  int dropped = 0;
  slots.drop_page(0, [&](uint32_t) { ++dropped; });
  for (uint32_t r = 0; r < 6; ++r) slots.drop_page(r << 22, [&](uint32_t) { ++dropped; });
  EXPECT_EQ(dropped, 0) << "clear() left entries in the page lists";
}

struct FrontCacheTest : ::testing::Test {
  FrontCache front;
  Block a, b;
  FrontCache::Mapping m;
  Block* find(uint32_t linear, uint16_t mode = 1) { return front.find(linear, 0, 0xffffffff, mode, m); }
  FrontCacheTest() {
    a.key = BlockKey{0x00401000, 0x5000, 0, 0xffffffff, 1};
    b.key = BlockKey{0xc0100010, 0x100010, 0, 0xffffffff, 1};
  }
};

TEST_F(FrontCacheTest, HitsOnTheWholeKeyOnly) {
  front.add(0x00401000, 0, 0xffffffff, 1, {false, false}, &a);
  EXPECT_EQ(find(0x00401000), &a);
  EXPECT_EQ(find(0x00401000, 2), nullptr);
  EXPECT_EQ(front.find(0x00401000, 0x10, 0xffffffff, 1, m), nullptr);
  EXPECT_EQ(front.find(0x00401000, 0, 0xffff, 1, m), nullptr);
  EXPECT_EQ(find(0x00401001), nullptr);
}

TEST_F(FrontCacheTest, PageInvalidationDropsItsPageOnly) {
  front.add(0x00401000, 0, 0xffffffff, 1, {false, false}, &a);
  front.add(0xc0100010, 0, 0xffffffff, 1, {true, true}, &b);
  front.invalidate_page(0x00402000);  // another page of a's region, not in b's
  EXPECT_EQ(find(0x00401000), &a);
  EXPECT_EQ(find(0xc0100010), &b);
  front.invalidate_page(0x00401abc);
  EXPECT_EQ(find(0x00401000), nullptr);
  EXPECT_EQ(find(0xc0100010), &b);
  // Any page of a 4 MiB page drops what was found through it.
  front.invalidate_page(0xc03ff000);
  EXPECT_EQ(find(0xc0100010), nullptr);
}

TEST_F(FrontCacheTest, Cr3LoadKeepsGlobalMappings) {
  front.add(0x00401000, 0, 0xffffffff, 1, {false, false}, &a);
  front.add(0xc0100010, 0, 0xffffffff, 1, {true, true}, &b);
  front.invalidate_non_global();
  EXPECT_EQ(find(0x00401000), nullptr);
  EXPECT_EQ(find(0xc0100010), &b);
  EXPECT_TRUE(m.global);
  EXPECT_TRUE(m.large);
  front.invalidate_all();
  EXPECT_EQ(find(0xc0100010), nullptr);
}

TEST_F(FrontCacheTest, ForgetDropsOnlyThatBlock) {
  front.add(0x00401000, 0, 0xffffffff, 1, {false, false}, &a);
  front.add(0xc0100010, 0, 0xffffffff, 1, {false, false}, &b);
  front.forget(a);
  EXPECT_EQ(find(0x00401000), nullptr);
  EXPECT_EQ(find(0xc0100010), &b);
}

TEST_F(FrontCacheTest, TwoWaysPerSetKeepTheMostRecent) {
  // Find three linear addresses of one set (the set index is a hash).
  std::vector<uint32_t> same;
  Block blocks[3];
  for (uint32_t l = 0x1000; same.size() < 3; l += 0x10) {
    const uint32_t set = (l * 0x9E3779B1u) >> 20;
    if (set == ((0x1000u * 0x9E3779B1u) >> 20)) same.push_back(l);
  }
  for (int i = 0; i < 3; ++i) {
    blocks[i].key = BlockKey{same[i], same[i], 0, 0xffffffff, 1};
    front.add(same[i], 0, 0xffffffff, 1, {}, &blocks[i]);
  }
  EXPECT_EQ(find(same[0]), nullptr);  // the least recently used way went
  EXPECT_EQ(find(same[1]), &blocks[1]);
  EXPECT_EQ(find(same[2]), &blocks[2]);
  front.add(same[0], 0, 0xffffffff, 1, {}, &blocks[0]);  // evicts same[1], found less recently than same[2]
  EXPECT_EQ(find(same[1]), nullptr);
  EXPECT_EQ(find(same[2]), &blocks[2]);
  EXPECT_EQ(find(same[0]), &blocks[0]);
}

}  // namespace
}  // namespace popek::test
