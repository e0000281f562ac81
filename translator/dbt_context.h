// DbtContext: the translator's run-time state that generated code reaches
// through a pinned host register (r13), next to CpuState (r15). It holds what
// is not architectural guest state: the inline software TLB, the segment
// check table, the instruction budget and the exit record. Generated code
// addresses every field by offsetof, so the layout is plain and checked.
//
// Nothing here is global: each DbtEngine owns one context.
#pragma once
#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace popek::dbt {

// One software TLB entry. `tag` is the linear page base (low 12 bits zero) or
// kInvalidTag; `addend` turns a linear address on that page into a host
// pointer: host = linear + addend. `phys_page` (the physical page number) is
// for the engine's bookkeeping; generated code does not read it.
struct TlbEntry {
  uint32_t tag;
  uint32_t phys_page;
  int64_t addend;
};
static_assert(sizeof(TlbEntry) == 16, "the inline lookup scales the index by 16");

constexpr uint32_t kInvalidTag = 1;  // never page aligned, so never matches

// One entry of the block lookup cache: (guest EIP, mode key) -> the
// block's checked entry, which compares r9 (mode << 32 | EIP, set by the
// jumping block from its own mode) with its own before it runs (a mismatch
// leaves through the lookup_miss routine). Empty entries point at
// lookup_miss itself. Indirect branches (JMP/CALL r/m, RET) compare the
// pair inline before the jump; direct exits to another guest page jump
// through the entry of their constant slot and rely on the checked entry.
// The mode in the tag lets user and kernel blocks share the cache across
// privilege changes. The dispatcher drops entries whenever what they were
// found through changes: their page's mapping, the code segment, SMC.
struct IndirectEntry {
  uint32_t eip;
  uint32_t mode;  // the block's mode key (the high half of the 64-bit tag)
  const void* code;
};
constexpr uint64_t lookup_tag(uint32_t eip, uint16_t mode) { return (uint64_t(mode) << 32) | eip; }
static_assert(sizeof(IndirectEntry) == 16);
// 16384 slots: every call site's return address is a RET target, and the
// Linux boot's working set overflowed 4096 (2.4 M of its 3.7 M indirect
// misses were a slot taken by another EIP; with 16384, 1.9 M misses in all
// and 2.5 M fewer returns to the dispatcher; 32768 saved only 0.3 M more).
constexpr unsigned kIndirectEntries = 16384;
static_assert((kIndirectEntries & (kIndirectEntries - 1)) == 0);
// The slot of a guest EIP (the emitter computes the same inline): the page
// number folded in, so that 16-byte aligned function entries of different
// pages do not all share the few slots their page offsets give.
constexpr uint32_t indirect_index(uint32_t eip) { return (eip ^ (eip >> 12)) & (kIndirectEntries - 1); }
// Return-address prediction (emit_stack.cpp). A CALL pushes the tag of its
// return address (lookup_tag: mode << 32 | EIP) and its block's ReturnLink
// (translation_cache.h) on a small ring in the context; a RET pops the top
// entry and, when the tag matches the address it popped from the guest
// stack and the link is of the current epoch, jumps to the link's code (a
// block's checked entry, which compares the tag again). The epoch
// (DbtContext::ret_epoch) advances whenever the lookup cache loses entries
// (a mapping change, SMC, a code segment change, a flush), so a link never
// outlives what an indirect-cache entry for the same target would: stale
// code never runs. Anything else (no CALL, overwritten return address, a
// ring that wrapped) falls back to the indirect-branch cache.
struct ReturnStackEntry {
  uint64_t tag;      // lookup_tag of the return address; kNoReturnTag when empty
  void* link;        // the calling block's ReturnLink
};
static_assert(sizeof(ReturnStackEntry) == 16);
constexpr unsigned kReturnStackEntries = 32;
static_assert((kReturnStackEntries & (kReturnStackEntries - 1)) == 0);
constexpr uint64_t kNoReturnTag = ~0ull;  // a mode key is 16 bits: no tag has the top bits set

// Per access kind, direct mapped: 16 MiB of guest pages each, so a working
// set of a few thousand pages stays resident between CR3 reloads. A flush
// resets only the entries filled since the last one (DbtEngine::flush_tlb).
constexpr unsigned kTlbEntries = 4096;
static_assert((kTlbEntries & (kTlbEntries - 1)) == 0);

// Access kinds of the inline TLB. A read-modify-write operand uses Write
// (an i686 page or segment that is writable is also readable).
enum class TlbKind : uint8_t { Read = 0, Write = 1 };
constexpr unsigned kTlbKinds = 2;
// Privilege of the accesses an entry was checked for: supervisor (CPL 0-2)
// or user (CPL 3). A block's CPL is part of its mode key, so its code picks
// the array at translation time and a CPL change never flushes the TLB.
enum class TlbPrivilege : uint8_t { Supervisor = 0, User = 1 };
constexpr unsigned kTlbPrivileges = 2;

// The request generated code passes to the fill routine on a miss.
constexpr uint32_t tlb_fill_request(TlbKind kind, TlbPrivilege priv, unsigned size) {
  return uint32_t(kind) | (uint32_t(priv) << 1) | (size << 8);
}

// Why generated code returned to the dispatcher.
enum class ExitReason : uint32_t {
  BlockEnd = 0,       // ran to a block exit; CpuState.eip is the next guest EIP
  Helper = 1,         // a fallback helper asked to leave (control flow, mode, SMC, fault)
  BudgetExhausted = 2,
  TripleFault = 3,
  HostError = 4,      // a C++ exception escaped a helper; the run stops
};

struct DbtContext {
  // ---- hot fields first (disp8 from r13) ----
  int64_t budget_left;      // steps the chained code may still take
  uint32_t exit_unretired;  // block slots not executed at the last exit
  uint32_t exit_reason;     // ExitReason
  uint64_t host_rsp;        // host stack pointer at entry, for exits from helpers
  uint64_t stash_save;      // fill routine: saves the flag stash register
  void* engine;             // the DbtEngine, for helpers
  void* chain_from;         // ExitStub* of the last unchained direct exit, or null
  const void* ib_miss_code;  // the ib_miss routine
  // Set by the miss routines: 1 (ib_miss: an indirect branch) or 2
  // (lookup_miss: a direct exit to another page); the dispatcher adds the
  // target it finds to the cache.
  uint32_t ib_pending;
  // Nonzero while the interrupt controller has a request (INTR) pending. It
  // changes only between engine runs (device timers) or through guest I/O
  // (a helper or fallback), so the dispatcher sets it at each entry and the
  // fallback helper after each instruction it runs. A POPF or STI that sets
  // IF leaves the block only when it is set.
  uint32_t intr_pending;
  // Segment check table, refreshed by the dispatcher and after helpers:
  // the largest offset of an access's last byte that passes the limit and
  // rights checks, or -1 when every access must take the slow path
  // (expand-down, not present, wrong rights). Indexed [TlbKind][SegReg].
  int64_t seg_limit[kTlbKinds][8];
  TlbEntry tlb[kTlbPrivileges][kTlbKinds][kTlbEntries];
  IndirectEntry ib[kIndirectEntries];
  // Statistics counted inline (cold fields, disp32): every block entry
  // (the budget check), and every inline indirect-cache lookup.
  uint64_t block_entries;
  uint64_t ib_lookups;
  uint64_t checked_entries;  // block entries through a matching checked entry
  // --profile only: the BlockProfile of the block running (set by each
  // block's entry code; null while the dispatcher runs).
  void* profile_current;
  // Return-address prediction (see ReturnStackEntry): the ring and its top,
  // the links' current epoch, the RETs that went through their link, and the
  // link of a RET that missed the indirect cache too (set right before it
  // leaves through ib_miss; the dispatcher fills the link with the block it
  // finds, and clears this at each entry).
  uint32_t rsb_top;
  uint64_t ret_epoch;
  uint64_t ret_predicted;
  void* ret_link;
  ReturnStackEntry rsb[kReturnStackEntries];
};

static_assert(std::is_standard_layout_v<DbtContext>);
static_assert(offsetof(DbtContext, budget_left) == 0);
static_assert(offsetof(DbtContext, seg_limit) < 128, "segment table reachable with disp8");
static_assert(offsetof(DbtContext, tlb) % 16 == 0);

}  // namespace popek::dbt
