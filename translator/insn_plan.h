// How each guest instruction of a block is lowered, decided before any code
// is emitted (so that flag liveness can see the whole block).
//
// The native set is a table (insn_plan.cpp): innocuous integer instructions
// that run as the same host instruction on the mapped host registers, with
// the host's flags. Everything else, and every native candidate whose
// operands the host cannot express (AH..BH next to a REX register, an
// implicit stack operand, a LOCK the guest must fault on), is a fallback:
// the interpreter executes it from the block, and the fallback is counted.
#pragma once
#include <cstdint>

#include "translator/block_builder.h"
#include "translator/dbt_context.h"

namespace popek::dbt {

enum class Lowering : uint8_t {
  Fallback,    // interpreter helper
  Native,      // same instruction on host registers (memory operand via the TLB)
  Lea,         // LEA: address arithmetic only, no access
  Nop,         // NOP/PAUSE (and hint NOPs with a memory operand: no access)
  CondBranch,  // Jcc rel: native condition, two exits
  DirectJump,  // JMP rel: one exit
  Push,        // PUSH r16/r32/imm
  Pop,         // POP r16/r32
  CallDirect,  // CALL rel: push the return address, exit to the target
  Ret,         // RET [imm16]: pop the target, indirect exit
};

struct InsnPlan {
  Lowering how = Lowering::Fallback;
  int8_t mem_op = -1;           // index of the memory operand for Native/Lea
  TlbKind kind = TlbKind::Read;  // access kind of that operand (or of the stack slot)
  uint8_t mem_size = 0;          // bytes (of the memory operand or the stack slot)
  uint16_t asm_id = 0;           // asmjit instruction id (Native, CondBranch)
  bool lock = false;             // emit a LOCK prefix
  uint32_t target = 0;           // branch target EIP (CondBranch, DirectJump, CallDirect)
  uint32_t flags_used = 0;       // arithmetic flags read (or passed through)
  uint32_t flags_killed = 0;     // arithmetic flags certainly overwritten (with a defined value)
  uint32_t flags_written = 0;    // arithmetic flags it may change (written or undefined)
};

struct PlanContext {
  uint32_t cs_limit;
};

InsnPlan plan_instruction(const GuestInsn& gi, const PlanContext& pc);

// asmjit's x86 instruction id for a Zydis mnemonic, or 0.
uint16_t asmjit_id(ZydisMnemonic m);

}  // namespace popek::dbt
