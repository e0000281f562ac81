#include "translator/inline_tlb.h"

#include <algorithm>
#include <iterator>

namespace popek::dbt {

namespace {
constexpr unsigned kRegionSlots = 1024;  // 4 KiB pages in a 4 MiB page
static_assert(kTlbEntries % kRegionSlots == 0, "a 4 MiB page occupies one contiguous window of slots");
}  // namespace

InlineTlb::InlineTlb(TlbEntry (&entries)[kTlbPrivileges][kTlbKinds][kTlbEntries]) : tlb_(entries) {
  local_.reserve(kSlots);
  global_.reserve(kSlots);
}

void InlineTlb::install(TlbPrivilege priv, TlbKind kind, const Mapping& m, uint8_t* host_page) {
  const uint32_t page = m.linear & 0xfffff000u;
  const unsigned index = (m.linear >> 12) & (kTlbEntries - 1);
  const unsigned i = (unsigned(priv) * kTlbKinds + unsigned(kind)) * kTlbEntries + index;
  TlbEntry& e = slot(i);
  e.tag = page;
  e.phys_page = m.phys >> 12;
  e.addend = reinterpret_cast<intptr_t>(host_page) - static_cast<int64_t>(page);
  uint8_t& meta = meta_[i];
  meta = static_cast<uint8_t>((meta & (kListedLocal | kListedGlobal)) | (m.global ? kGlobal : 0) |
                              (m.large ? kLarge : 0));
  // Listed in the list of its class, so the flush that can drop it finds it.
  if (m.global && !(meta & kListedGlobal)) {
    meta |= kListedGlobal;
    global_.push_back(static_cast<uint16_t>(i));
  } else if (!m.global && !(meta & kListedLocal)) {
    meta |= kListedLocal;
    local_.push_back(static_cast<uint16_t>(i));
  }
  if (m.large) {
    uint16_t& n = (m.global ? large_global_ : large_local_)[m.linear >> 22];
    if (n != 0xffff) ++n;
  }
}

void InlineTlb::invalidate_every_slot() {
  for (auto& priv : tlb_)
    for (auto& kind : priv) std::fill(std::begin(kind), std::end(kind), TlbEntry{kInvalidTag, 0, 0});
  meta_.fill(0);
  local_.clear();
  global_.clear();
  large_local_.fill(0);
  large_global_.fill(0);
}

void InlineTlb::flush_all() {
  if (local_.size() + global_.size() >= kSlots / 4) return invalidate_every_slot();
  for (uint16_t i : local_) invalidate(i);
  for (uint16_t i : global_) invalidate(i);
  for (uint16_t i : local_) meta_[i] = 0;
  for (uint16_t i : global_) meta_[i] = 0;
  local_.clear();
  global_.clear();
  large_local_.fill(0);
  large_global_.fill(0);
}

void InlineTlb::flush_non_global() {
  // Without global entries this is a whole flush (a guest that does not use
  // PGE reloading CR3): a plain fill of the table when most of it is in use.
  if (global_.empty()) return flush_all();
  for (uint16_t i : local_) {
    meta_[i] &= ~kListedLocal;
    if (!(meta_[i] & kGlobal)) invalidate(i);
  }
  local_.clear();
  large_local_.fill(0);
}

void InlineTlb::flush_page(uint32_t linear) {
  const uint32_t page = linear & 0xfffff000u;
  const unsigned index = (linear >> 12) & (kTlbEntries - 1);
  for (auto& priv : tlb_)
    for (auto& kind : priv)
      if (kind[index].tag == page) kind[index] = TlbEntry{kInvalidTag, 0, 0};
  // A 4 MiB page's slices sit in one window of kRegionSlots slots per array.
  const unsigned region = linear >> 22;
  if (!large_local_[region] && !large_global_[region]) return;
  const unsigned base = (region * kRegionSlots) & (kTlbEntries - 1);
  for (unsigned p = 0; p < kTlbPrivileges; ++p)
    for (unsigned k = 0; k < kTlbKinds; ++k)
      for (unsigned j = base; j < base + kRegionSlots; ++j) {
        const unsigned i = (p * kTlbKinds + k) * kTlbEntries + j;
        const TlbEntry& e = tlb_[p][k][j];
        if (e.tag != kInvalidTag && (e.tag >> 22) == region && (meta_[i] & kLarge)) invalidate(i);
      }
  large_local_[region] = large_global_[region] = 0;
}

void InlineTlb::drop_writes_to(uint32_t phys_page) {
  auto drop = [&](unsigned i) {
    const bool write = (i / kTlbEntries) % kTlbKinds == unsigned(TlbKind::Write);
    TlbEntry& e = slot(i);
    if (write && e.tag != kInvalidTag && e.phys_page == phys_page) invalidate(i);
  };
  if (local_.size() + global_.size() < kSlots / 2) {
    for (uint16_t i : local_) drop(i);
    for (uint16_t i : global_) drop(i);
  } else {
    for (unsigned i = 0; i < kSlots; ++i) drop(i);
  }
}

}  // namespace popek::dbt
