// FrontCache: the dispatcher's first place to look for the block at CS:EIP.
// (linear EIP, CS base, CS limit, mode) -> block, two-way set associative,
// 32-byte entries. A hit skips the fetch translation (Mmu::translate) and
// the cache's key index.
//
// An entry holds only while the linear-to-physical translation of its page
// does. Rather than scanning the entries at each invalidation, an entry
// records the counters that an invalidation of its translation advances,
// and is live while they still hold the values it saw:
//  - an epoch: a full TLB flush (and a cache flush) advances both, a CR3
//    load only the non-global one; a global mapping records the other;
//  - a generation of its page: the bucket of its 4 KiB page, or for a
//    slice of a 4 MiB page the counter of its 4 MiB region. INVLPG and
//    page faults advance both counters of the page they name.
// A block dropped from the cache (self-modifying code) is forgotten
// through forget(). Nothing is allocated after construction.
#pragma once
#include <cstdint>
#include <memory>
#include <utility>

namespace popek::dbt {

struct Block;

class FrontCache {
 public:
  struct Mapping {  // of the page the block was found through (Mmu::CachedAttrs)
    bool global = false, large = false;
  };
  static constexpr unsigned kSets = 4096, kWays = 2;

  FrontCache();

  Block* find(uint32_t linear, uint32_t cs_base, uint32_t cs_limit, uint16_t mode, Mapping& mapping) {
    Entry* set = &entries_[set_of(linear) * kWays];
    for (unsigned w = 0; w < kWays; ++w) {
      const Entry& e = set[w];
      if (e.linear == linear && e.mode == mode && e.cs_base == cs_base && e.cs_limit == cs_limit && live(e)) {
        mapping = Mapping{(e.gen_index & kGlobalBit) != 0, (e.gen_index & kIndexMask) >= kPageBuckets};
        if (w) std::swap(set[0], set[w]);  // most recently used first
        return set[0].block;
      }
    }
    return nullptr;
  }
  // Adds b, found through a translation with these attributes now.
  void add(uint32_t linear, uint32_t cs_base, uint32_t cs_limit, uint16_t mode, Mapping mapping, Block* b);
  // Drops the entry of a block the cache invalidated.
  void forget(const Block& b);
  // INVLPG or a page fault at `linear` (its 4 KiB page, or its whole 4 MiB page).
  void invalidate_page(uint32_t linear);
  void invalidate_non_global();  // a CR3 load
  void invalidate_all();         // a full TLB flush, a cache flush

 private:
  struct Entry {
    uint32_t linear = 0;
    uint32_t cs_base = 0, cs_limit = 0;
    uint16_t mode = 0;
    uint16_t gen_index = 0;  // into gens_ (below kPageBuckets: a 4 KiB page's bucket), plus kGlobalBit
    uint32_t epoch = 0;      // 0: empty (the epochs start at 1)
    uint32_t gen = 0;
    Block* block = nullptr;
  };
  static_assert(sizeof(Entry) == 32);
  static constexpr unsigned kPageBuckets = 4096, kRegions = 1024;
  static constexpr uint16_t kGlobalBit = 0x8000, kIndexMask = 0x7fff;
  static uint32_t set_of(uint32_t linear) { return (linear * 0x9E3779B1u) >> 20; }  // 12 bits: kSets
  static uint32_t page_bucket(uint32_t linear) { return ((linear >> 12) * 0x9E3779B1u) >> 20; }
  static uint32_t region_index(uint32_t linear) { return kPageBuckets + (linear >> 22); }
  bool live(const Entry& e) const {
    return e.epoch == epochs_[(e.gen_index & kGlobalBit) != 0] && e.gen == gens_[e.gen_index & kIndexMask];
  }
  void clear();

  std::unique_ptr<Entry[]> entries_;
  uint32_t epochs_[2] = {1, 1};  // [0]: non-global mappings' (a CR3 load advances it), [1]: global ones'
  uint32_t gens_[kPageBuckets + kRegions] = {};
};

}  // namespace popek::dbt
