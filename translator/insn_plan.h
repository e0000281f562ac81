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
  SetDf,       // CLD/STD: EFLAGS.DF in CpuState (the host's DF stays clear)
  CondBranch,  // Jcc rel: native condition, two exits
  DirectJump,  // JMP rel: one exit
  Push,        // PUSH r16/r32/imm
  Pop,         // POP r16/r32
  CallDirect,  // CALL rel: push the return address, exit to the target
  Ret,         // RET [imm16]: pop the target, indirect exit
  PushAll,     // PUSHA/PUSHAD: one 16/32-byte access below ESP
  PopAll,      // POPA/POPAD: one 16/32-byte access at ESP
  LoopBranch,  // LOOP/LOOPE/LOOPNE/JCXZ/JECXZ: flag-free count test, two exits
  JumpIndirect,  // JMP r/m16/32: the indirect-branch cache
  CallIndirect,  // CALL r/m16/32: push the return address, the indirect-branch cache
  StringOp,    // STOS/LODS/MOVS without REP: accesses through the TLB, DF from CpuState
  RepString,   // REP MOVS/STOS, REPE/REPNE SCAS (flat, 32-bit addressing): one
               // interpreter chunk (at most 1024 iterations) as a host REP on one page
  Leave,       // LEAVE: ESP := EBP, POP EBP through the stack TLB path
  Divide,      // DIV/IDIV: #DE checked inline (the interpreter raises it), then the host divide
  BitString,   // BT/BTS/BTR/BTC m, r: the word/dword holding the bit through the TLB, then the host op
  // Sensitive instructions rewritten against the virtual CPU state
  // (emit_sensitive.cpp):
  Pushf,       // PUSHF/PUSHFD: CpuState.eflags with the host's arithmetic flags
  Popf,        // POPF/POPFD: the mode's writable mask (IF by IOPL inline), then leave
  IfChange,    // CLI/STI: virtual IF, with the CPL/IOPL check inline
  ReadState,   // SMSW/SLDT/STR/MOV r,Sreg (register forms): a CpuState field
  PushSreg,    // PUSH Sreg: the selector from CpuState
  StoreState,  // SGDT/SIDT m, SMSW/SLDT/STR m16, MOV m16,Sreg: CpuState through the store TLB path
};

struct InsnPlan {
  Lowering how = Lowering::Fallback;
  int8_t mem_op = -1;           // index of the memory operand for Native/Lea
  TlbKind kind = TlbKind::Read;  // access kind of that operand (or of the stack slot)
  uint8_t mem_size = 0;          // bytes (of the memory operand or the stack slot)
  uint16_t asm_id = 0;           // asmjit instruction id (Native, CondBranch)
  bool lock = false;             // emit a LOCK prefix
  uint32_t target = 0;           // branch target EIP (CondBranch, DirectJump, CallDirect);
                                 // CpuState field offset (ReadState, PushSreg)
  bool set_if = false;           // IfChange: STI (else CLI)
  uint8_t string_accesses = 0;   // StringOp, RepString: memory operands (1 or 2)
  uint8_t iopl_needed = 0;       // IfChange: minimum IOPL, checked inline (0: no check)
  uint32_t flags_used = 0;       // arithmetic flags read (or passed through)
  uint32_t flags_killed = 0;     // arithmetic flags certainly overwritten (with a defined value)
  uint32_t flags_written = 0;    // arithmetic flags it may change (written or undefined)
};

struct PlanContext {
  uint32_t cs_limit;
  uint16_t mode;  // the block key's mode bits (mode_bit::)
};

InsnPlan plan_instruction(const GuestInsn& gi, const PlanContext& pc);

// The rewriting of sensitive instructions (insn_plan_sensitive.cpp): a
// plan, or a Fallback plan when the form or mode is not rewritten.
InsnPlan plan_sensitive(const GuestInsn& gi, const PlanContext& pc);
// Whether every guarded access of a lowering is one the interpreter makes
// too, at the same linear address, of the same kind and size, in the same
// order, with no other check of the instruction able to fault before it:
// then a page fault of such an access's TLB fill is the instruction's first
// fault, and the fill path delivers it without the interpreter.
bool fill_fault_is_exact(Lowering how);
// Fallback sites (cold interpreter paths) the lowering of `ip` needs
// (insn_plan.cpp).
unsigned fallback_sites(const InsnPlan& ip);

// A memory operand beside exactly one register operand, AH..BH (explicit),
// and nothing else: the host cannot encode AH..BH with [r8] (REX), so the
// emitter exchanges the high byte with its low partner around the
// instruction (XCHG r8,r8 changes no flag).
bool high_byte_beside_memory(const DecodedInsn& d);

// asmjit's x86 instruction id for a Zydis mnemonic, or 0.
uint16_t asmjit_id(ZydisMnemonic m);

}  // namespace popek::dbt
