#include "translator/front_cache.h"

#include "translator/translation_cache.h"

namespace popek::dbt {

FrontCache::FrontCache() : entries_(std::make_unique<Entry[]>(kSets * kWays)) {}

void FrontCache::add(uint32_t linear, uint32_t cs_base, uint32_t cs_limit, uint16_t mode, Mapping mapping,
                     Block* b) {
  Entry* set = &entries_[set_of(linear) * kWays];
  for (unsigned w = kWays - 1; w > 0; --w) set[w] = set[w - 1];  // the least recently used way goes
  const uint32_t index = mapping.large ? region_index(linear) : page_bucket(linear);
  Entry& e = set[0];
  e.linear = linear;
  e.cs_base = cs_base;
  e.cs_limit = cs_limit;
  e.mode = mode;
  e.gen_index = static_cast<uint16_t>(index | (mapping.global ? kGlobalBit : 0));
  e.epoch = epochs_[mapping.global ? 1 : 0];
  e.gen = gens_[index];
  e.block = b;
}

void FrontCache::forget(const Block& b) {
  Entry* set = &entries_[set_of(b.key.linear) * kWays];
  for (unsigned w = 0; w < kWays; ++w)
    if (set[w].block == &b) set[w] = Entry{};
}

void FrontCache::invalidate_page(uint32_t linear) {
  // A counter that wraps could give an old entry its value back: start over.
  const bool wrapped = ++gens_[page_bucket(linear)] == 0;
  if ((++gens_[region_index(linear)] == 0) | wrapped) invalidate_all();
}

void FrontCache::invalidate_non_global() {
  if (++epochs_[0] == 0) clear();
}

void FrontCache::invalidate_all() {
  const bool wrapped = ++epochs_[0] == 0;
  if ((++epochs_[1] == 0) | wrapped) clear();
}

void FrontCache::clear() {
  for (unsigned i = 0; i < kSets * kWays; ++i) entries_[i] = Entry{};
  epochs_[0] = epochs_[1] = 1;
}

}  // namespace popek::dbt
