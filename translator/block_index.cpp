#include "translator/block_index.h"

#include <algorithm>

namespace popek::dbt {

void BlockIndex::insert(const BlockKey& key, Block* b) {
  if ((count_ + 1) * 2 > slots_.size()) grow();
  size_t i = home(key);
  while (slots_[i].block) i = (i + 1) & mask_;
  slots_[i] = Slot{key, b};
  ++count_;
}

bool BlockIndex::erase(const BlockKey& key, const Block* b) {
  size_t i = home(key);
  for (;; i = (i + 1) & mask_) {
    if (!slots_[i].block) return false;
    if (slots_[i].block == b) break;
  }
  // Backward shift: move each later slot of the run whose home is not in
  // (i, j] cyclically into the hole, so no probe run is broken.
  for (size_t j = (i + 1) & mask_; slots_[j].block; j = (j + 1) & mask_) {
    const size_t h = home(slots_[j].key);
    const bool stays = i <= j ? (i < h && h <= j) : (i < h || h <= j);
    if (stays) continue;
    slots_[i] = slots_[j];
    i = j;
  }
  slots_[i].block = nullptr;
  --count_;
  return true;
}

void BlockIndex::clear() {
  std::fill(slots_.begin(), slots_.end(), Slot{});
  count_ = 0;
}

void BlockIndex::grow() {
  std::vector<Slot> old(slots_.size() * 2);
  old.swap(slots_);
  mask_ = slots_.size() - 1;
  count_ = 0;
  for (const Slot& s : old)
    if (s.block) insert(s.key, s.block);
}

}  // namespace popek::dbt
