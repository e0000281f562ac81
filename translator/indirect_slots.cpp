#include "translator/indirect_slots.h"

#include <algorithm>

namespace popek::dbt {

IndirectSlots::IndirectSlots() {
  std::fill(std::begin(pos_), std::end(pos_), kNil);
  std::fill(std::begin(small_head_), std::end(small_head_), kNil);
  std::fill(std::begin(large_head_), std::end(large_head_), kNil);
  for (auto& list : filled_) list.reserve(kIndirectEntries);
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
  std::vector<uint16_t>& list = filled_[m.global];
  pos_[s] = static_cast<uint16_t>(list.size());
  list.push_back(s);
}

void IndirectSlots::erase(uint32_t slot) {
  const uint16_t s = static_cast<uint16_t>(slot);
  if (pos_[s] == kNil) return;
  if (prev_[s] != kNil) next_[prev_[s]] = next_[s];
  else head_of(map_[s]) = next_[s];
  if (next_[s] != kNil) prev_[next_[s]] = prev_[s];
  std::vector<uint16_t>& list = filled_[map_[s].global];
  const uint16_t last = list.back();
  list[pos_[s]] = last;
  pos_[last] = pos_[s];
  list.pop_back();
  pos_[s] = kNil;
}

void IndirectSlots::clear() {
  for (auto& list : filled_) {
    for (uint16_t s : list) {
      pos_[s] = kNil;
      head_of(map_[s]) = kNil;  // every list is emptied: only the heads of filled slots' buckets need it
    }
    list.clear();
  }
}

}  // namespace popek::dbt
