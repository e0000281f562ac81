// Block emitter: turns a decoded guest block into x86-64 host code with
// asmjit, at a known base address in the translation cache.
//
// Layout of a block's code:
//   entry:  instruction-budget check (sub [ctx.budget_left], n; jl out)
//   body:   one host sequence per guest instruction, in guest order
//   exits:  mov [cpu.eip], next; jmp exit_spill
//   cold:   TLB misses, memory slow paths, the budget exit
// Every block ends in an explicit exit (asserted by the emitter).
#pragma once
#include <cstdint>
#include <vector>

#include "translator/block_builder.h"
#include "translator/block_profiler.h"
#include "translator/insn_plan.h"
#include "translator/runtime_routines.h"
#include "translator/translation_cache.h"

namespace popek::dbt {

enum class TranslateError : uint8_t {
  None,
  EmptyBlock,      // the first instruction cannot be translated (page/limit/#UD)
  NotCodeMemory,   // code in MMIO or unmapped memory
  AssemblerError,  // asmjit refused an instruction (see failed_insn)
  BlockTooLarge,   // larger than the whole block area
};
const char* to_string(TranslateError e);

struct EmitOptions {
  bool flat = false;      // DS/ES/SS/CS are flat: no segment checks for them
  bool validate = false;  // asmjit assembler validation
  // Instructions (by block index, < 64) to lower as fallbacks regardless of
  // the plan: set after asmjit refused one, so the block still translates.
  uint64_t force_fallback = 0;
  // --profile: the block's counters (block_profiler.h); null emits none.
  BlockCounters* profile = nullptr;
};

struct EmitResult {
  TranslateError error = TranslateError::None;
  int failed_insn = -1;
  std::vector<uint8_t> code;
};

// Emits `gb` as if placed at `base`. Fills `meta`'s sites, counts and
// per-instruction host offsets; `meta.key` and `meta.eip` must be set.
EmitResult emit_block(const GuestBlock& gb, const RuntimeRoutines& rt, const EmitOptions& opt,
                      uint64_t base, Block& meta);

// The lowering chosen for each instruction and the arithmetic flags live
// before each one for the block's own reads (informational: the emitter
// keeps flags exact at every exposure point, see emitter_internal.h).
struct BlockPlan {
  std::vector<InsnPlan> insns;
  std::vector<uint32_t> live_before;
};
BlockPlan plan_block(const GuestBlock& gb, const BlockKey& key, uint64_t force_fallback);

}  // namespace popek::dbt
