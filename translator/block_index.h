// BlockIndex: the translation cache's index of valid blocks by their full
// key (linear EIP, physical address, CS base and limit, mode), an
// open-addressing hash table with linear probing.
//
// Each slot holds the key beside the block pointer, so a lookup reads one
// or two adjacent 32-byte slots and never touches a Block (the node-based
// std::unordered_map it replaces chased a bucket node and then every block
// of the chain, a cache miss each). Erasing shifts the following slots of
// the probe run back (no tombstones), so a lookup's cost depends only on
// the live blocks. Nothing is allocated except when an insert grows the
// table (kept at most half full).
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace popek::dbt {

struct Block;

struct BlockKey {
  uint32_t linear;    // CS.base + EIP
  uint32_t phys;      // physical address of the first byte (A20 applied)
  uint32_t cs_base;
  uint32_t cs_limit;
  uint16_t mode;
  bool operator==(const BlockKey&) const = default;
};

class BlockIndex {
 public:
  struct Slot {
    BlockKey key;
    Block* block;  // null: empty
  };
  static constexpr size_t kInitialSlots = 4096;

  BlockIndex() : slots_(kInitialSlots), mask_(kInitialSlots - 1) {}

  Block* find(const BlockKey& key) const {
    for (size_t i = home(key);; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (!s.block) return nullptr;
      if (s.key == key) return s.block;
    }
  }
  // Adds b under `key` (the caller has found no block under it).
  void insert(const BlockKey& key, Block* b);
  // Removes b, indexed under `key`; false if it is not there.
  bool erase(const BlockKey& key, const Block* b);
  // Empties the table (keeps its size).
  void clear();
  size_t size() const { return count_; }
  // Every slot, empty ones included (the cache's consistency check).
  const std::vector<Slot>& slots() const { return slots_; }
  // The slot a key's probe starts at.
  size_t home(const BlockKey& key) const { return static_cast<size_t>(hash(key)) & mask_; }

 private:
  friend struct TranslationCacheTestAccess;  // tests corrupt the index on purpose
  static uint64_t hash(const BlockKey& k) {
    uint64_t x = (uint64_t(k.linear) << 32) ^ k.phys ^ (uint64_t(k.mode) << 13) ^ (uint64_t(k.cs_base) << 7) ^
                 k.cs_limit;
    x ^= x >> 33;  // MurmurHash3's 64-bit finalizer: every key bit reaches the low bits
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    return x ^ (x >> 33);
  }
  void grow();

  std::vector<Slot> slots_;
  size_t mask_;
  size_t count_ = 0;
};

}  // namespace popek::dbt
