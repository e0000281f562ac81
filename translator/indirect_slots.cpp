#include "translator/indirect_slots.h"

#include <algorithm>

namespace popek::dbt {

IndirectSlots::IndirectSlots() {
  std::fill(std::begin(pos_), std::end(pos_), kNil);
  std::fill(std::begin(small_head_), std::end(small_head_), kNil);
  std::fill(std::begin(large_head_), std::end(large_head_), kNil);
  filled_.reserve(kIndirectEntries);
}

void IndirectSlots::fill(uint32_t slot, const Mapping& m) {
  erase(slot);
  const uint16_t s = static_cast<uint16_t>(slot);
  map_[s] = m;
  uint16_t& head = head_of(m);
  next_[s] = head;
  prev_[s] = kNil;
  if (head != kNil) prev_[head] = s;
  head = s;
  pos_[s] = static_cast<uint16_t>(filled_.size());
  filled_.push_back(s);
}

void IndirectSlots::erase(uint32_t slot) {
  const uint16_t s = static_cast<uint16_t>(slot);
  if (pos_[s] == kNil) return;
  if (prev_[s] != kNil) next_[prev_[s]] = next_[s];
  else head_of(map_[s]) = next_[s];
  if (next_[s] != kNil) prev_[next_[s]] = prev_[s];
  const uint16_t last = filled_.back();
  filled_[pos_[s]] = last;
  pos_[last] = pos_[s];
  filled_.pop_back();
  pos_[s] = kNil;
}

void IndirectSlots::clear() {
  for (uint16_t s : filled_) {
    pos_[s] = kNil;
    head_of(map_[s]) = kNil;  // every list is emptied: only the heads of filled slots' buckets need it
  }
  filled_.clear();
}

}  // namespace popek::dbt
