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
#include <asmjit/x86.h>

#include <cstdint>
#include <memory>
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
  // The block's code (valid until the emitter's next emit()).
  const uint8_t* code = nullptr;
  size_t code_size = 0;
};

// The lowering chosen for each instruction and the arithmetic flags live
// before each one for the block's own reads (informational: the emitter
// keeps flags exact at every exposure point, see emitter_internal.h).
struct BlockPlan {
  std::vector<InsnPlan> insns;
  std::vector<uint32_t> live_before;
};
BlockPlan plan_block(const GuestBlock& gb, const BlockKey& key, uint64_t force_fallback);
// The same into `p`, reusing its storage.
void plan_block(const GuestBlock& gb, const BlockKey& key, uint64_t force_fallback, BlockPlan& p);

class ColdPaths;

// Emits blocks one after the other. It keeps what every block needs
// between blocks (asmjit's CodeHolder and Assembler with their zone memory,
// the plan, the cold-path list, the output buffer), so a translation makes
// no allocation of its own beyond the block's metadata: big_code translates
// about 10,000 blocks, each once, and their setup showed in the profile.
class BlockEmitter {
 public:
  BlockEmitter();
  ~BlockEmitter();
  BlockEmitter(const BlockEmitter&) = delete;
  BlockEmitter& operator=(const BlockEmitter&) = delete;

  // Emits `gb` as if placed at `base`. Fills `meta`'s sites, counts and
  // per-instruction host offsets; `meta.key` and `meta.eip` must be set.
  EmitResult emit(const GuestBlock& gb, const RuntimeRoutines& rt, const EmitOptions& opt, uint64_t base,
                  Block& meta);

 private:
  asmjit::CodeHolder holder_;
  asmjit::x86::Assembler assembler_;
  BlockPlan plan_;
  std::unique_ptr<ColdPaths> cold_;
  std::vector<uint8_t> code_;
};

}  // namespace popek::dbt
