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
  uint32_t size = 0;  // bytes used in the runtime area
};

// Emits the routines into `cache`'s runtime area. Returns false if they do
// not fit (a build error, not a guest condition).
bool emit_runtime_routines(TranslationCache& cache, FallbackHelperFn fallback_helper,
                           TlbFillHelperFn fill_helper, bool validate, RuntimeRoutines& out);

}  // namespace popek::dbt
