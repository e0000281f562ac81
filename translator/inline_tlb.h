// InlineTlb: the bookkeeping behind the inline software TLB that generated
// code reads (DbtContext::tlb). Generated code only looks entries up; this
// class installs them (from DbtEngine::fill_tlb) and invalidates them when
// the interpreter's MMU invalidates its own (the Mmu invalidation hook), so
// the two TLBs die together and the interpreter stays the oracle.
//
// Entries are indexed [privilege][kind][page % kTlbEntries]: supervisor
// (CPL 0-2) and user (CPL 3) have their own entries, filled by translations
// checked at that privilege, so a CPL change never flushes anything.
//
// Side metadata per entry records whether it came from a global page (it
// survives a CR3 load) and from a 4 MiB page (INVLPG of any address in it
// drops it), and which entries were filled since the last flush, so a
// flush touches those only.
#pragma once
#include <array>
#include <cstdint>
#include <vector>

#include "translator/dbt_context.h"

namespace popek::dbt {

class InlineTlb {
 public:
  // What an installed entry maps (besides the host pointer).
  struct Mapping {
    uint32_t linear = 0;  // any address in the page
    uint32_t phys = 0;    // the physical address it translates to
    bool global = false;  // kept by a CR3 load (PTE.G with CR4.PGE, or paging off)
    bool large = false;   // a 4 KiB slice of a 4 MiB page
  };

  // `entries` is DbtContext::tlb; every entry must be invalid.
  explicit InlineTlb(TlbEntry (&entries)[kTlbPrivileges][kTlbKinds][kTlbEntries]);

  // Installs the entry for `m` in the given array; `host_page` is the host
  // pointer of the start of the physical page.
  void install(TlbPrivilege priv, TlbKind kind, const Mapping& m, uint8_t* host_page);

  // The MMU's invalidations (TlbInvalidation in core/mmu.h).
  void flush_all();
  void flush_non_global();  // a CR3 load: global entries stay
  // INVLPG (and a page fault): the page of `linear`, every kind and both
  // privileges; the whole 4 MiB page when the entries came from one.
  void flush_page(uint32_t linear);
  // A physical page became a code page: its host write pointer is gone, so
  // no write entry may point at it any more.
  void drop_writes_to(uint32_t phys_page);

  // For tests: the entry generated code would read.
  const TlbEntry& entry(TlbPrivilege priv, TlbKind kind, uint32_t linear) const {
    return tlb_[unsigned(priv)][unsigned(kind)][(linear >> 12) & (kTlbEntries - 1)];
  }
  bool holds(TlbPrivilege priv, TlbKind kind, uint32_t linear) const {
    return entry(priv, kind, linear).tag == (linear & 0xfffff000u);
  }

 private:
  static constexpr unsigned kSlots = kTlbPrivileges * kTlbKinds * kTlbEntries;
  enum Meta : uint8_t { kGlobal = 1, kLarge = 2, kListedLocal = 4, kListedGlobal = 8 };
  TlbEntry& slot(unsigned i) { return tlb_[i / (kTlbKinds * kTlbEntries)][(i / kTlbEntries) % kTlbKinds][i % kTlbEntries]; }
  void invalidate(unsigned i) { slot(i) = TlbEntry{kInvalidTag, 0, 0}; }
  void invalidate_every_slot();

  TlbEntry (&tlb_)[kTlbPrivileges][kTlbKinds][kTlbEntries];
  std::array<uint8_t, kSlots> meta_{};
  // Slots filled since the last flush that could drop them, by class. A slot
  // is listed at most once per list; a listed slot may since have been
  // invalidated or refilled (a flush checks what it holds now).
  std::vector<uint16_t> local_, global_;
  // Per 4 MiB region: large entries filled since the last flush that could
  // drop them (upper bounds; zero means INVLPG need not scan the region).
  std::array<uint16_t, 1024> large_local_{}, large_global_{};
};

}  // namespace popek::dbt
