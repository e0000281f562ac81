// Linear-to-physical translation: i686 two-level paging with 4 KiB and
// 4 MiB (CR4.PSE) pages, global pages (CR4.PGE), CR0.WP, U/S and R/W checks,
// and accessed/dirty bit updates, behind a small software TLB.
#pragma once
#include <cstdint>

#include "core/cpu_state.h"
#include "core/fault.h"
#include "core/physical_memory.h"

namespace popek {

enum class AccessType : uint8_t { Read = 0, Write = 1, Fetch = 2 };

// What an invalidation of the TLB covers, as reported to the invalidation
// hook (the translator's inline TLB mirrors every one of them).
enum class TlbInvalidation : uint8_t {
  NonGlobal,  // a CR3 load (MOV CR3, task switch): global pages survive
  All,        // CR0.PG/PE/WP or CR4.PSE/PGE/PAE changed, reset, loaders
  Page,       // INVLPG or a page fault at `linear`: that page (its whole 4 MiB page if large)
};

class Mmu {
 public:
  Mmu(CpuState& cpu, PhysicalMemory& mem) : cpu_(cpu), mem_(mem) { flush(true); }

  // Translates `linear` for an access of `type`. `user` is true for accesses
  // made at CPL 3 (implicit supervisor accesses such as descriptor-table
  // reads pass false). Raises #PF with CR2 set on failure.
  uint32_t translate(uint32_t linear, AccessType type, bool user);

  // The outcome of a translation that does not raise: the physical address,
  // or the #PF error code the access faults with (P, W/R and U/S bits).
  struct Translation {
    uint32_t pa = 0;
    bool fault = false;
    uint32_t error_code = 0;
  };
  // translate() without the fault's side effects: on a fault nothing
  // changes (no CR2, no TLB invalidation, no accessed bit). The caller that
  // delivers the fault calls take_page_fault() first, and then gets exactly
  // what translate() would have thrown. Hot paths (the translator's TLB
  // fill and instruction fetch, the interpreter's fetch) use it so that a
  // guest page fault costs no C++ exception.
  Translation try_translate(uint32_t linear, AccessType type, bool user) {
    if (!(cpu_.cr0 & cr0::PG)) return {linear, false, 0};
    const uint32_t vpn = linear >> 12;
    const Entry& e = tlb_[vpn % kEntries];
    if (e.tag == vpn + 1 && (e.perms & needed(type, user))) {
      ++hits_;
      return {(e.phys_page << 12) | (linear & 0xfff), false, 0};
    }
    ++misses_;
    return walk(linear, type, user);
  }
  // What the CPU does on a page fault at `linear` before it delivers #PF:
  // drops the TLB entries of the faulting page (SDM 4.10.4.1) and sets CR2.
  // Returns the fault to deliver.
  GuestFault take_page_fault(uint32_t linear, uint32_t error_code);

  // Linear-address accesses of 1, 2 or 4 bytes (8 for read64). An access
  // that crosses a page is translated page by page; for writes both pages
  // are checked before any byte is stored, so a fault commits nothing.
  uint32_t read(uint32_t linear, unsigned size, AccessType type, bool user);
  uint64_t read64(uint32_t linear, bool user);
  void write(uint32_t linear, unsigned size, uint32_t value, bool user);
  void write64(uint32_t linear, uint64_t value, bool user);
  // Checks that a write of `size` bytes at `linear` would succeed.
  void check_write(uint32_t linear, unsigned size, bool user);

  void flush(bool include_global);
  void invlpg(uint32_t linear);
  // Called after every flush(), invlpg() and page fault, with what they
  // invalidated (`linear` only for Page). Other TLBs that cache this MMU's
  // translations (the translator's inline TLB) follow it through the hook,
  // so the interpreter stays the one place that decides when entries die.
  using InvalidationHook = void (*)(void* ctx, TlbInvalidation what, uint32_t linear);
  void set_invalidation_hook(InvalidationHook hook, void* ctx) {
    hook_ = hook;
    hook_ctx_ = ctx;
  }
  void* invalidation_hook_ctx() const { return hook_ctx_; }
  // True when translate(linear, type, user) would succeed from the TLB
  // alone: no walk, no accessed/dirty bit update, no fault. (The translator
  // fills its write entry beside a read entry only when the page is already
  // dirty and writable.)
  bool cached(uint32_t linear, AccessType type, bool user) const {
    if (!(cpu_.cr0 & cr0::PG)) return true;
    const Entry& e = tlb_[(linear >> 12) % kEntries];
    return e.tag == (linear >> 12) + 1 && (e.perms & needed(type, user));
  }

  // Attributes of the cached translation of `linear`, valid right after a
  // translate() of it succeeded: `global` when a CR3 load keeps it (a global
  // page with CR4.PGE, or paging off: the identity map does not depend on
  // CR3), `large` when it is a slice of a 4 MiB page.
  struct CachedAttrs {
    bool global = false, large = false;
  };
  CachedAttrs cached_attrs(uint32_t linear) const {
    if (!(cpu_.cr0 & cr0::PG)) return {true, false};
    const Entry& e = tlb_[(linear >> 12) % kEntries];
    if (e.tag != (linear >> 12) + 1) return {};
    return {(e.perms & kGlobal) != 0, (e.perms & kLarge) != 0};
  }

  // translate() without side effects: no accessed/dirty bit update, no
  // TLB fill, no fault. ok (and pa) only when translate(linear, type, user)
  // would succeed changing nothing but the TLB: a TLB hit, or a walk that
  // finds the accessed bits (and, for a write, the dirty bit) already set.
  // (The translator validates a block's second page with it.)
  struct Peek {
    bool ok = false;
    uint32_t pa = 0;
    bool global = false, large = false;  // as CachedAttrs
  };
  Peek peek(uint32_t linear, AccessType type, bool user) const;

  uint64_t tlb_hits() const { return hits_; }
  uint64_t tlb_misses() const { return misses_; }

 private:
  static constexpr unsigned kEntries = 256;
  enum Perm : uint8_t {
    kReadSup = 1, kReadUser = 2, kWriteSup = 4, kWriteUser = 8, kGlobal = 16,
    kLarge = 32  // a 4 KiB slice of a 4 MiB page (INVLPG drops every slice)
  };
  struct Entry {
    uint32_t tag;  // linear page number + 1 (0 = invalid)
    uint32_t phys_page;
    uint8_t perms;
  };
  static uint8_t needed(AccessType type, bool user) {
    if (type == AccessType::Write) return user ? kWriteUser : kWriteSup;
    return user ? kReadUser : kReadSup;
  }
  // The page walk behind a TLB miss: fills the TLB and sets the accessed
  // and dirty bits on success; changes nothing on a fault.
  Translation walk(uint32_t linear, AccessType type, bool user);

  CpuState& cpu_;
  PhysicalMemory& mem_;
  Entry tlb_[kEntries];
  uint64_t hits_ = 0, misses_ = 0;
  InvalidationHook hook_ = nullptr;
  void* hook_ctx_ = nullptr;
};

}  // namespace popek
