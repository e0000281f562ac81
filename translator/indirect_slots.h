// IndirectSlots: the dispatcher's bookkeeping of the lookup cache
// (DbtContext::ib): which slots are filled and, for each, the linear page
// its block was found through and whether that mapping is global (survives
// a CR3 load) or a slice of a 4 MiB page.
//
// Filled slots are listed by what invalidates them: 4 KiB mappings in
// buckets by linear page (hashed), 4 MiB mappings in buckets by 4 MiB
// region (one per region). An INVLPG or page fault at one page then visits
// only its two buckets instead of every filled slot (the Linux boot makes
// about 250,000 such invalidations; a full scan of up to 4,096 slots each
// was the dispatcher's largest host cost). The lists are intrusive, in
// fixed arrays: nothing is allocated after construction.
#pragma once
#include <cstdint>
#include <vector>

#include "translator/dbt_context.h"

namespace popek::dbt {

class IndirectSlots {
 public:
  struct Mapping {
    uint32_t linear_page = 0;  // the block's linear address, low 12 bits clear
    bool global = false, large = false;
  };

  IndirectSlots();
  bool filled(uint32_t slot) const { return pos_[slot] != kNil; }
  const Mapping& mapping(uint32_t slot) const { return map_[slot]; }
  size_t size() const { return filled_[0].size() + filled_[1].size(); }
  // Records (or replaces) the mapping of a slot the caller has just filled.
  void fill(uint32_t slot, const Mapping& m);
  // Forgets a slot the caller has emptied (no effect if it is not filled).
  void erase(uint32_t slot);
  // The slots whose mapping an invalidation of the page at `linear` drops:
  // its own 4 KiB mapping, and every 4 MiB mapping of its region (INVLPG
  // anywhere in a large page drops all of it). Calls empty(slot) for each
  // and forgets them.
  template <class Empty>
  void drop_page(uint32_t linear, Empty&& empty) {
    const uint32_t page = linear & 0xfffff000u;
    for (uint16_t s = small_head_[small_bucket(page)], next; s != kNil; s = next) {
      next = next_[s];
      if (map_[s].linear_page == page) {
        empty(uint32_t(s));
        erase(s);
      }
    }
    for (uint16_t s = large_head_[large_bucket(page)], next; s != kNil; s = next) {
      next = next_[s];
      empty(uint32_t(s));
      erase(s);
    }
  }
  // A CR3 load: calls empty(slot) for, and forgets, every filled slot whose
  // mapping is not global. Only those are visited (they have their own
  // list): the kernel's global entries stay, however many.
  template <class Empty>
  void drop_non_global(Empty&& empty) {
    std::vector<uint16_t>& list = filled_[0];
    while (!list.empty()) {
      const uint16_t s = list.back();
      empty(uint32_t(s));
      erase(s);
    }
  }
  // Forgets every slot; the caller empties them first (for_each_filled).
  void clear();
  template <class F>
  void for_each_filled(F&& f) const {
    for (const auto& list : filled_)
      for (uint16_t s : list) f(uint32_t(s));
  }

  static constexpr unsigned kSmallBuckets = 4096;
  static constexpr unsigned kLargeBuckets = 1024;  // 4 MiB regions of the 4 GiB linear space

 private:
  static constexpr uint16_t kNil = 0xffff;
  static_assert(kIndirectEntries < kNil);
  static uint32_t small_bucket(uint32_t page) { return ((page >> 12) * 0x9E3779B1u) >> 20; }  // 12 bits
  static uint32_t large_bucket(uint32_t page) { return page >> 22; }
  uint16_t& head_of(const Mapping& m) {
    return m.large ? large_head_[large_bucket(m.linear_page)] : small_head_[small_bucket(m.linear_page)];
  }

  Mapping map_[kIndirectEntries];
  uint16_t next_[kIndirectEntries], prev_[kIndirectEntries];  // within the bucket list (prev kNil: the head)
  uint16_t pos_[kIndirectEntries];                            // index in filled_[global], or kNil
  uint16_t small_head_[kSmallBuckets];
  uint16_t large_head_[kLargeBuckets];
  std::vector<uint16_t> filled_[2];  // the filled slots: [0] non-global mappings, [1] global ones
};

}  // namespace popek::dbt
