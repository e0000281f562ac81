// The shared run-time routines of translated code, emitted once at the start
// of the translation cache's region (never flushed):
//
//   enter(ctx, cpu, code)  C++ -> generated code. Saves the host's
//                          callee-saved registers, aligns the host stack,
//                          pins r13/r15, loads the guest registers and
//                          arithmetic flags, jumps to `code`.
//   exit_spill             block exit: stores guest registers and flags to
//                          CpuState, returns to the C++ caller of enter().
//   exit_nospill           the same when CpuState is already current (after
//                          a helper that asked to leave).
//   fallback               called from a block with r9 = FallbackSite*: runs
//                          one guest instruction in the interpreter, then
//                          returns into the block or leaves it.
//   tlb_fill               called from a block on an inline TLB miss with
//                          r8d = linear address, r9d = kind | size << 8;
//                          returns r9d = 1 if the entry is now present.
//   ib_miss                jumped to by an indirect exit whose target is not
//                          in the indirect-branch cache (r9d = guest EIP):
//                          leaves through exit_spill, asking the dispatcher
//                          to add the target.
//   lookup_miss            the same for a direct exit to another page whose
//                          cache entry was empty or held another EIP
//                          (r9d = guest EIP; the guest flags in RFLAGS).
//
// Shared tails of the blocks' cold paths (each replaces a dozen instructions
// that every block, or every memory access, used to carry: fewer host bytes
// and less to assemble per translation):
//   slow_path              called from a block with r9 = FallbackSite* and
//                          the guest flags stashed in r10: restores them,
//                          runs `fallback`, stashes them again and returns
//                          (a memory access that missed, a failed check).
//   budget_exit            jumped to by a block's entry when the budget is
//                          exhausted, r9 = EIP << 32 | the block's slots,
//                          flags stashed: gives the slots back and leaves.
//   stashed_lookup_miss    a checked entry whose tag does not match (flags
//                          stashed): restores them and goes to lookup_miss.
//
// Generated code runs with the host stack 16-byte aligned; the routines
// re-align before calling C++.
#pragma once
#include <cstdint>

#include "translator/dbt_context.h"
#include "translator/translation_cache.h"

namespace popek {
struct CpuState;
}

namespace popek::dbt {

using EnterFn = void (*)(DbtContext* ctx, CpuState* cpu, const void* code);
using FallbackHelperFn = uint32_t (*)(DbtContext* ctx, const FallbackSite* site);
using TlbFillHelperFn = uint32_t (*)(DbtContext* ctx, uint32_t linear, uint32_t request);

struct RuntimeRoutines {
  EnterFn enter = nullptr;
  uint64_t exit_spill = 0;
  uint64_t exit_nospill = 0;
  uint64_t fallback = 0;
  uint64_t tlb_fill = 0;
  uint64_t ib_miss = 0;
  uint64_t lookup_miss = 0;
  uint64_t slow_path = 0;
  uint64_t budget_exit = 0;
  uint64_t stashed_lookup_miss = 0;
  uint32_t size = 0;  // bytes used in the runtime area
};

// Emits the routines into `cache`'s runtime area. Returns false if they do
// not fit (a build error, not a guest condition).
bool emit_runtime_routines(TranslationCache& cache, FallbackHelperFn fallback_helper,
                           TlbFillHelperFn fill_helper, bool validate, RuntimeRoutines& out);

}  // namespace popek::dbt
