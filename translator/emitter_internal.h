// Shared state of one block emission (block_emitter.cpp, emit_memory.cpp,
// emit_native.cpp). Not part of the translator's interface.
#pragma once
#include <asmjit/x86.h>

#include <functional>
#include <vector>

#include "translator/block_emitter.h"
#include "translator/host_sequences.h"

namespace popek::dbt {

namespace x86 = asmjit::x86;

struct Emission {
  x86::Assembler& a;
  const RuntimeRoutines& rt;
  const GuestBlock& gb;
  const EmitOptions& opt;
  Block& meta;
  BlockPlan plan;
  std::vector<std::function<void()>> cold;  // emitted after the body, in order
  uint32_t next_site = 0;

  // ---- block_emitter.cpp ----
  // Leaves the block for guest `eip` through exit_spill.
  void exit_to(uint32_t eip);
  // The same through a patchable jump that the dispatcher may chain.
  void chained_exit(uint32_t eip);
  // Indirect-branch cache lookup for the guest EIP in `eip` (kept in r9d):
  // r8 := the target block's code, or the ib_miss routine (which leaves to
  // the dispatcher). Clobbers the flags; the caller then jumps to r8.
  void indirect_lookup(const x86::Gp& eip);
  // A fallback site for instruction k, and the call that runs it (the
  // guest flags must be in RFLAGS at the call).
  FallbackSite* new_site(unsigned k, uint8_t site_flags);
  void call_fallback(FallbackSite* site);

  // ---- emit_memory.cpp ----
  // Guest effective address (offset) of memory operand `op` into r8d,
  // wrapped to 16 bits for 16-bit addressing.
  void effective_address(const ZydisDecodedOperand& op, unsigned address_width);
  // Memory operand of instruction k: leaves the host pointer in r8, with
  // the slow path (limit/rights failure, TLB miss, MMIO, SMC page) running
  // the whole instruction in the interpreter and continuing at `resume`.
  // Stashes and restores live flags around the lookup.
  void host_pointer(unsigned k, asmjit::Label resume);
  // The checks and lookup of one access of instruction k, with r8d holding
  // the guest offset in `seg`: leaves the host pointer in r8. Stashes the
  // flags first if `live` and restores them at the end unless `hold_stash`
  // (the caller then restores them). Returns the slow-path label: it
  // expects the flags still stashed if `live`, runs the whole instruction in
  // the interpreter and continues at `resume`.
  asmjit::Label guarded_access(unsigned k, SegReg seg, unsigned size, TlbKind kind, bool live, bool hold_stash,
                               asmjit::Label resume);

  // ---- emit_stack.cpp ----
  // PUSH r/imm, POP r, CALL rel, RET [imm16]: the stack access through the
  // TLB, ESP committed after it succeeded.
  bool push(unsigned k);
  bool pop(unsigned k);
  bool call_direct(unsigned k);
  bool ret(unsigned k);

  // ---- emit_native.cpp ----
  // Emits the guest instruction on host registers ([r8] for memory).
  // Returns false if asmjit refused it.
  bool native_instruction(unsigned k);
  bool lea(unsigned k);
};

// Host register for a guest GPR operand (8/16/32-bit).
x86::Gp host_register(ZydisRegister r);
// 64-bit host register holding the guest register named by `r` (any width).
x86::Gp host_register64(ZydisRegister r);

inline x86::Mem ctx_field(size_t offset, uint32_t size) {
  return x86::ptr(host::kCtx, static_cast<int32_t>(offset), size);
}

}  // namespace popek::dbt
