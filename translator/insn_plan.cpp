// The native-instruction table and the per-instruction lowering decision.
//
// Departures from "run it natively whenever the host can":
//  - DIV/IDIV check the divisor and the quotient's range inline first (a
//    zero divisor or a quotient overflow must become the guest's #DE, never
//    a host SIGFPE): the faulting case runs in the interpreter.
//  - REP string instructions are translated only for flat segments and
//    32-bit addressing (MOVS, STOS, SCAS); the rest fall back.
//  - BT/BTS/BTR/BTC with a memory operand and a register bit offset address
//    memory outside the operand: the unit (word or dword) that holds the bit,
//    at EA + size * (offset SAR log2(bits)), is looked up like any operand
//    (Lowering::BitString, emit_native.cpp).
//  - 16-bit BSWAP (undefined in the SDM) is a fallback so that the guest sees
//    exactly the interpreter's choice.
//  - Control transfers other than Jcc rel, JMP rel/r/m, CALL rel/r/m, near
//    RET, LOOPcc and JCXZ are fallbacks (INT, far transfers).
//  - POP m is a fallback (its address uses the incremented ESP); PUSH m is
//    native (two accesses, ESP committed after both).
#include "translator/insn_plan.h"

#include <asmjit/x86.h>

#include <array>
#include <cstring>

#include "core/cpu_state.h"
#include "translator/translation_cache.h"

namespace popek::dbt {
namespace {

enum class NativeKind : uint8_t {
  None, Generic, BitTest, Lea, Nop, Jcc, Jmp, Push, Pop, Call, Ret, Loop, String, PushAll, PopAll, Direction,
  Divide, Leave
};

struct NativeRow {
  ZydisMnemonic m;
  NativeKind kind;
};

#define MN(x) ZYDIS_MNEMONIC_##x
constexpr NativeRow kNativeTable[] = {
    // Arith / Logic
    {MN(ADD), NativeKind::Generic}, {MN(ADC), NativeKind::Generic}, {MN(SUB), NativeKind::Generic},
    {MN(SBB), NativeKind::Generic}, {MN(CMP), NativeKind::Generic}, {MN(INC), NativeKind::Generic},
    {MN(DEC), NativeKind::Generic}, {MN(NEG), NativeKind::Generic}, {MN(MUL), NativeKind::Generic},
    {MN(IMUL), NativeKind::Generic}, {MN(XADD), NativeKind::Generic},
    {MN(CMPXCHG), NativeKind::Generic}, {MN(CMPXCHG8B), NativeKind::Generic}, {MN(AND), NativeKind::Generic}, {MN(OR), NativeKind::Generic},
    {MN(XOR), NativeKind::Generic}, {MN(TEST), NativeKind::Generic}, {MN(NOT), NativeKind::Generic},
    // Shift
    {MN(ROL), NativeKind::Generic}, {MN(ROR), NativeKind::Generic}, {MN(RCL), NativeKind::Generic},
    {MN(RCR), NativeKind::Generic}, {MN(SHL), NativeKind::Generic}, {MN(SHR), NativeKind::Generic},
    {MN(SAR), NativeKind::Generic}, {MN(SHLD), NativeKind::Generic}, {MN(SHRD), NativeKind::Generic},
    // Bit
    {MN(BT), NativeKind::BitTest}, {MN(BTS), NativeKind::BitTest}, {MN(BTR), NativeKind::BitTest},
    {MN(BTC), NativeKind::BitTest}, {MN(BSF), NativeKind::Generic}, {MN(BSR), NativeKind::Generic},
    {MN(SETO), NativeKind::Generic}, {MN(SETNO), NativeKind::Generic}, {MN(SETB), NativeKind::Generic},
    {MN(SETNB), NativeKind::Generic}, {MN(SETZ), NativeKind::Generic}, {MN(SETNZ), NativeKind::Generic},
    {MN(SETBE), NativeKind::Generic}, {MN(SETNBE), NativeKind::Generic}, {MN(SETS), NativeKind::Generic},
    {MN(SETNS), NativeKind::Generic}, {MN(SETP), NativeKind::Generic}, {MN(SETNP), NativeKind::Generic},
    {MN(SETL), NativeKind::Generic}, {MN(SETNL), NativeKind::Generic}, {MN(SETLE), NativeKind::Generic},
    {MN(SETNLE), NativeKind::Generic},
    // DataMove
    {MN(MOV), NativeKind::Generic}, {MN(MOVZX), NativeKind::Generic}, {MN(MOVSX), NativeKind::Generic},
    {MN(XCHG), NativeKind::Generic}, {MN(BSWAP), NativeKind::Generic}, {MN(CBW), NativeKind::Generic},
    {MN(CWDE), NativeKind::Generic}, {MN(CWD), NativeKind::Generic}, {MN(CDQ), NativeKind::Generic},
    {MN(LEA), NativeKind::Lea},
    {MN(CMOVO), NativeKind::Generic}, {MN(CMOVNO), NativeKind::Generic}, {MN(CMOVB), NativeKind::Generic},
    {MN(CMOVNB), NativeKind::Generic}, {MN(CMOVZ), NativeKind::Generic}, {MN(CMOVNZ), NativeKind::Generic},
    {MN(CMOVBE), NativeKind::Generic}, {MN(CMOVNBE), NativeKind::Generic}, {MN(CMOVS), NativeKind::Generic},
    {MN(CMOVNS), NativeKind::Generic}, {MN(CMOVP), NativeKind::Generic}, {MN(CMOVNP), NativeKind::Generic},
    {MN(CMOVL), NativeKind::Generic}, {MN(CMOVNL), NativeKind::Generic}, {MN(CMOVLE), NativeKind::Generic},
    {MN(CMOVNLE), NativeKind::Generic},
    // Flag (only the arithmetic flags: host and guest agree)
    {MN(CLC), NativeKind::Generic}, {MN(STC), NativeKind::Generic}, {MN(CMC), NativeKind::Generic},
    {MN(LAHF), NativeKind::Generic}, {MN(SAHF), NativeKind::Generic},
    {MN(CLD), NativeKind::Direction}, {MN(STD), NativeKind::Direction},
    // Misc
    {MN(NOP), NativeKind::Nop}, {MN(PAUSE), NativeKind::Nop},
    // Control
    {MN(JO), NativeKind::Jcc}, {MN(JNO), NativeKind::Jcc}, {MN(JB), NativeKind::Jcc},
    {MN(JNB), NativeKind::Jcc}, {MN(JZ), NativeKind::Jcc}, {MN(JNZ), NativeKind::Jcc},
    {MN(JBE), NativeKind::Jcc}, {MN(JNBE), NativeKind::Jcc}, {MN(JS), NativeKind::Jcc},
    {MN(JNS), NativeKind::Jcc}, {MN(JP), NativeKind::Jcc}, {MN(JNP), NativeKind::Jcc},
    {MN(JL), NativeKind::Jcc}, {MN(JNL), NativeKind::Jcc}, {MN(JLE), NativeKind::Jcc},
    {MN(JNLE), NativeKind::Jcc}, {MN(JMP), NativeKind::Jmp},
    {MN(LOOP), NativeKind::Loop}, {MN(LOOPE), NativeKind::Loop}, {MN(LOOPNE), NativeKind::Loop},
    {MN(JCXZ), NativeKind::Loop}, {MN(JECXZ), NativeKind::Loop},
    // String (without REP; REP forms run in the interpreter's 1024-iteration chunks)
    {MN(STOSB), NativeKind::String}, {MN(STOSW), NativeKind::String}, {MN(STOSD), NativeKind::String},
    {MN(LODSB), NativeKind::String}, {MN(LODSW), NativeKind::String}, {MN(LODSD), NativeKind::String},
    {MN(MOVSB), NativeKind::String}, {MN(MOVSW), NativeKind::String}, {MN(MOVSD), NativeKind::String},
    {MN(SCASB), NativeKind::String}, {MN(SCASW), NativeKind::String}, {MN(SCASD), NativeKind::String},
    {MN(CMPSB), NativeKind::String}, {MN(CMPSW), NativeKind::String}, {MN(CMPSD), NativeKind::String},
    {MN(DIV), NativeKind::Divide}, {MN(IDIV), NativeKind::Divide}, {MN(LEAVE), NativeKind::Leave},
    // Stack (general forms; segment-register and memory forms fall back)
    {MN(PUSH), NativeKind::Push}, {MN(POP), NativeKind::Pop}, {MN(CALL), NativeKind::Call},
    {MN(RET), NativeKind::Ret}, {MN(PUSHA), NativeKind::PushAll}, {MN(PUSHAD), NativeKind::PushAll},
    {MN(POPA), NativeKind::PopAll}, {MN(POPAD), NativeKind::PopAll},
};
#undef MN

struct Tables {
  std::array<NativeKind, ZYDIS_MNEMONIC_MAX_VALUE + 1> kind{};
  std::array<uint16_t, ZYDIS_MNEMONIC_MAX_VALUE + 1> asm_id{};
  Tables() {
    kind.fill(NativeKind::None);
    for (const NativeRow& r : kNativeTable) kind[r.m] = r.kind;
    for (int m = 0; m <= ZYDIS_MNEMONIC_MAX_VALUE; ++m) {
      const char* s = ZydisMnemonicGetString(static_cast<ZydisMnemonic>(m));
      asm_id[m] = s ? static_cast<uint16_t>(asmjit::InstAPI::stringToInstId(asmjit::Arch::kX64, s, std::strlen(s)))
                    : 0;
    }
  }
};

const Tables& tables() {
  static const Tables t;  // immutable after construction
  return t;
}

constexpr uint32_t kStatus = insn_flags::kStatus;

bool is_high_byte(ZydisRegister r) { return r >= ZYDIS_REGISTER_AH && r <= ZYDIS_REGISTER_BH; }
bool is_stack_pointer(ZydisRegister r) { return r == ZYDIS_REGISTER_ESP || r == ZYDIS_REGISTER_SP; }

}  // namespace

bool high_byte_beside_memory(const DecodedInsn& d) {
  int high = 0, mem = 0;
  for (unsigned i = 0; i < d.insn.operand_count; ++i) {
    const ZydisDecodedOperand& op = d.ops[i];
    if (op.type == ZYDIS_OPERAND_TYPE_MEMORY) {
      ++mem;
    } else if (op.type == ZYDIS_OPERAND_TYPE_REGISTER) {
      if (ZydisRegisterGetClass(op.reg.value) == ZYDIS_REGCLASS_FLAGS) continue;
      if (!is_high_byte(op.reg.value) || op.visibility != ZYDIS_OPERAND_VISIBILITY_EXPLICIT) return false;
      ++high;
    }
  }
  return high == 1 && mem == 1;
}

namespace {

// Checks that every operand can be expressed on the host; finds the memory operand.
bool operands_expressible(const DecodedInsn& d, int& mem_index) {
  bool high_byte = false, needs_rex = false;
  mem_index = -1;
  for (unsigned i = 0; i < d.insn.operand_count; ++i) {
    const ZydisDecodedOperand& op = d.ops[i];
    switch (op.type) {
      case ZYDIS_OPERAND_TYPE_REGISTER: {
        const ZydisRegisterClass c = ZydisRegisterGetClass(op.reg.value);
        if (c == ZYDIS_REGCLASS_FLAGS) break;
        if (c != ZYDIS_REGCLASS_GPR8 && c != ZYDIS_REGCLASS_GPR16 && c != ZYDIS_REGCLASS_GPR32) return false;
        if (is_high_byte(op.reg.value)) high_byte = true;
        if (is_stack_pointer(op.reg.value)) {
          if (op.visibility == ZYDIS_OPERAND_VISIBILITY_HIDDEN) return false;  // implicit stack use
          needs_rex = true;
        }
        break;
      }
      case ZYDIS_OPERAND_TYPE_MEMORY:
        if (op.visibility != ZYDIS_OPERAND_VISIBILITY_EXPLICIT) return false;
        if (op.mem.type != ZYDIS_MEMOP_TYPE_MEM && op.mem.type != ZYDIS_MEMOP_TYPE_AGEN) return false;
        if (mem_index >= 0) return false;
        mem_index = static_cast<int>(i);
        needs_rex = true;  // [r8]
        break;
      case ZYDIS_OPERAND_TYPE_IMMEDIATE:
        break;
      default:
        return false;
    }
  }
  // AH..BH cannot share an instruction with a REX prefix, except the one
  // case the emitter rewrites: a memory operand ([r8]) beside a single
  // visible AH..BH and no other register (emit_native.cpp swaps the high
  // byte into its low partner around the instruction).
  return !(high_byte && needs_rex) || high_byte_beside_memory(d);
}

uint32_t branch_target(const GuestInsn& gi) {
  const ZydisDecodedOperand& op = gi.d.ops[0];
  uint32_t t = gi.eip + gi.d.insn.length + static_cast<uint32_t>(op.imm.value.s);
  return gi.d.insn.operand_width == 16 ? (t & 0xffff) : t;
}

bool relative_branch(const GuestInsn& gi) {
  return gi.d.insn.operand_count_visible >= 1 && gi.d.ops[0].type == ZYDIS_OPERAND_TYPE_IMMEDIATE &&
         gi.d.ops[0].imm.is_relative;
}

InsnPlan fallback() {
  InsnPlan p;
  p.how = Lowering::Fallback;
  p.flags_used = kStatus;  // the interpreter sees (and may pass through) all of them
  p.flags_killed = 0;
  p.flags_written = kStatus;
  return p;
}

bool is_gpr16_32(const ZydisDecodedOperand& op, unsigned width) {
  if (op.type != ZYDIS_OPERAND_TYPE_REGISTER || op.size != width) return false;
  const ZydisRegisterClass c = ZydisRegisterGetClass(op.reg.value);
  return c == ZYDIS_REGCLASS_GPR16 || c == ZYDIS_REGCLASS_GPR32;
}

// JMP/CALL r/m16/32 (near): the target operand is a register or a plain
// memory operand of the operand size.
bool indirect_target(const GuestInsn& gi, InsnPlan& p) {
  const DecodedInsn& d = gi.d;
  const unsigned width = d.insn.operand_width;
  if (gi.cls.form != InsnForm::Default || (width != 16 && width != 32) || d.insn.operand_count_visible < 1)
    return false;
  if (d.insn.meta.branch_type == ZYDIS_BRANCH_TYPE_FAR) return false;
  const ZydisDecodedOperand& op = d.ops[0];
  if (op.size != width) return false;
  if (is_gpr16_32(op, width)) return true;
  if (op.type != ZYDIS_OPERAND_TYPE_MEMORY || op.mem.type != ZYDIS_MEMOP_TYPE_MEM) return false;
  p.mem_op = 0;
  return true;
}

InsnPlan plan_stack(const GuestInsn& gi, NativeKind kind, const PlanContext& pc) {
  const DecodedInsn& d = gi.d;
  const unsigned width = d.insn.operand_width;
  if (gi.cls.form != InsnForm::Default || (width != 16 && width != 32)) return fallback();
  InsnPlan p;
  p.mem_size = static_cast<uint8_t>(width / 8);
  p.kind = TlbKind::Write;
  const ZydisDecodedOperand& op = d.ops[0];
  switch (kind) {
    case NativeKind::Push:
      if (op.type == ZYDIS_OPERAND_TYPE_MEMORY) {  // PUSH m: read, then the stack write
        if (op.mem.type != ZYDIS_MEMOP_TYPE_MEM || op.size != width) return fallback();
        p.mem_op = 0;
      } else if (!is_gpr16_32(op, width) && op.type != ZYDIS_OPERAND_TYPE_IMMEDIATE) {
        return fallback();
      }
      p.how = Lowering::Push;
      return p;
    case NativeKind::Pop:
      if (!is_gpr16_32(op, width)) return fallback();
      p.how = Lowering::Pop;
      p.kind = TlbKind::Read;
      return p;
    case NativeKind::Call:
      if (!relative_branch(gi)) {
        if (!indirect_target(gi, p)) return fallback();
        p.how = Lowering::CallIndirect;
        return p;
      }
      p.target = branch_target(gi);
      if (p.target > pc.cs_limit) return fallback();
      p.how = Lowering::CallDirect;
      return p;
    default:  // Ret
      p.how = Lowering::Ret;
      p.kind = TlbKind::Read;
      return p;
  }
}

}  // namespace

uint16_t asmjit_id(ZydisMnemonic m) {
  if (m < 0 || m > ZYDIS_MNEMONIC_MAX_VALUE) return 0;
  return tables().asm_id[m];
}

InsnPlan plan_instruction(const GuestInsn& gi, const PlanContext& pc) {
  const DecodedInsn& d = gi.d;
  if (gi.cls.sensitive() || gi.cls.form != InsnForm::Default) {
    InsnPlan s = plan_sensitive(gi, pc);
    if (s.how != Lowering::Fallback) return s;
  }
  const NativeKind kind = tables().kind[d.insn.mnemonic];
  if (kind == NativeKind::None || gi.cls.sensitive()) return fallback();

  InsnPlan p;
  switch (kind) {
    case NativeKind::Nop:
      p.how = Lowering::Nop;
      return p;
    case NativeKind::Direction:
      p.how = Lowering::SetDf;
      p.target = d.insn.mnemonic == ZYDIS_MNEMONIC_STD;
      return p;
    case NativeKind::String: {
      if (d.insn.meta.category != ZYDIS_CATEGORY_STRINGOP || d.insn.opcode_map != ZYDIS_OPCODE_MAP_DEFAULT ||
          d.has_lock() || gi.cls.form != InsnForm::Default)
        return fallback();
      const unsigned width = d.insn.operand_width;
      if (width != 8 && width != 16 && width != 32) return fallback();
      const ZydisMnemonic m = d.insn.mnemonic;
      const bool movs = m == ZYDIS_MNEMONIC_MOVSB || m == ZYDIS_MNEMONIC_MOVSW || m == ZYDIS_MNEMONIC_MOVSD;
      const bool scas = m == ZYDIS_MNEMONIC_SCASB || m == ZYDIS_MNEMONIC_SCASW || m == ZYDIS_MNEMONIC_SCASD;
      const bool cmps = m == ZYDIS_MNEMONIC_CMPSB || m == ZYDIS_MNEMONIC_CMPSW || m == ZYDIS_MNEMONIC_CMPSD;
      p.mem_size = static_cast<uint8_t>(width / 8);
      p.string_accesses = movs || cmps ? 2 : 1;
      if (d.has_rep() || d.has_repe() || d.has_repne()) {
        if (cmps) return fallback();  // REPE/REPNE CMPS: the interpreter
        // One chunk on one page in host REP form: flat DS/ES (a source
        // override only to another flat segment), 32-bit addressing, no
        // alignment checking. LODS keeps the interpreter.
        const bool lods = !movs && !scas && m != ZYDIS_MNEMONIC_STOSB && m != ZYDIS_MNEMONIC_STOSW &&
                          m != ZYDIS_MNEMONIC_STOSD;
        if (lods || d.insn.address_width != 32 || !(pc.mode & mode_bit::kFlat) || (pc.mode & mode_bit::kAlignCheck))
          return fallback();
        if (movs) {
          for (unsigned i = 0; i < d.insn.operand_count; ++i) {
            const ZydisDecodedOperand& op = d.ops[i];
            if (op.type == ZYDIS_OPERAND_TYPE_MEMORY && op.mem.base == ZYDIS_REGISTER_ESI &&
                op.mem.segment != ZYDIS_REGISTER_DS && op.mem.segment != ZYDIS_REGISTER_ES &&
                op.mem.segment != ZYDIS_REGISTER_SS)
              return fallback();
          }
        }
        p.how = Lowering::RepString;
        if (scas) {
          p.flags_used = kStatus;  // a zero count leaves them
          p.flags_written = kStatus;
        }
        return p;
      }
      p.how = Lowering::StringOp;
      if (scas || cmps) {  // CMP: all six flags defined
        p.flags_killed = kStatus;
        p.flags_written = kStatus;
      }
      return p;
    }
    case NativeKind::Leave: {
      const unsigned width = d.insn.operand_width;
      if (gi.cls.form != InsnForm::Default || (width != 16 && width != 32)) return fallback();
      p.how = Lowering::Leave;
      p.kind = TlbKind::Read;
      p.mem_size = static_cast<uint8_t>(width / 8);
      return p;
    }
    case NativeKind::Divide: {
      if (gi.cls.form != InsnForm::Default || d.has_lock() || d.insn.operand_count_visible < 1) return fallback();
      const ZydisDecodedOperand& op = d.ops[0];
      if (op.size != 8 && op.size != 16 && op.size != 32) return fallback();
      if (op.type == ZYDIS_OPERAND_TYPE_MEMORY) {
        if (op.mem.type != ZYDIS_MEMOP_TYPE_MEM) return fallback();
        p.mem_op = 0;
        p.kind = TlbKind::Read;
        p.mem_size = static_cast<uint8_t>(op.size / 8);
      } else if (op.type != ZYDIS_OPERAND_TYPE_REGISTER || !ZydisRegisterGetClass(op.reg.value) ||
                 (ZydisRegisterGetClass(op.reg.value) != ZYDIS_REGCLASS_GPR8 &&
                  ZydisRegisterGetClass(op.reg.value) != ZYDIS_REGCLASS_GPR16 &&
                  ZydisRegisterGetClass(op.reg.value) != ZYDIS_REGCLASS_GPR32)) {
        return fallback();
      }
      p.how = Lowering::Divide;
      p.asm_id = asmjit_id(d.insn.mnemonic);
      // The flags are undefined: the host's divide passes some through, as
      // the interpreter's (the same host instruction) does.
      p.flags_used = kStatus;
      p.flags_written = kStatus;
      return p;
    }
    case NativeKind::Loop: {
      if (gi.cls.form != InsnForm::Default || !relative_branch(gi)) return fallback();
      p.target = branch_target(gi);
      if (p.target > pc.cs_limit) return fallback();
      p.how = Lowering::LoopBranch;
      p.flags_used = gi.cls.flags_read & kStatus;
      return p;
    }
    case NativeKind::Jmp:
      if (!relative_branch(gi)) {
        if (!indirect_target(gi, p)) return fallback();
        p.how = Lowering::JumpIndirect;
        if (p.mem_op >= 0) p.mem_size = static_cast<uint8_t>(d.insn.operand_width / 8);
        return p;
      }
      [[fallthrough]];
    case NativeKind::Jcc: {
      if (gi.cls.form != InsnForm::Default || !relative_branch(gi)) return fallback();
      p.target = branch_target(gi);
      if (p.target > pc.cs_limit) return fallback();  // the interpreter raises #GP(0) when taken
      p.how = kind == NativeKind::Jcc ? Lowering::CondBranch : Lowering::DirectJump;
      p.asm_id = asmjit_id(d.insn.mnemonic);
      p.flags_used = gi.cls.flags_read & kStatus;
      if (p.how == Lowering::CondBranch && !p.asm_id) return fallback();
      return p;
    }
    case NativeKind::Push:
    case NativeKind::Pop:
    case NativeKind::Call:
    case NativeKind::Ret:
      return plan_stack(gi, kind, pc);
    case NativeKind::PushAll:
    case NativeKind::PopAll: {
      const unsigned width = d.insn.operand_width;
      if (gi.cls.form != InsnForm::Default || (width != 16 && width != 32)) return fallback();
      p.how = kind == NativeKind::PushAll ? Lowering::PushAll : Lowering::PopAll;
      p.kind = kind == NativeKind::PushAll ? TlbKind::Write : TlbKind::Read;
      p.mem_size = static_cast<uint8_t>(width / 8);  // one slot; the access is 8 slots
      return p;
    }
    default:
      break;
  }

  if (gi.cls.form != InsnForm::Default) return fallback();  // MOV Sreg/CRn/DRn forms
  int mem = -1;
  if (!operands_expressible(d, mem)) return fallback();
  if (kind == NativeKind::Lea) {
    if (mem < 0 || d.ops[mem].mem.type != ZYDIS_MEMOP_TYPE_AGEN) return fallback();
    p.how = Lowering::Lea;
    p.mem_op = static_cast<int8_t>(mem);
    return p;
  }
  if (mem >= 0 && d.ops[mem].mem.type != ZYDIS_MEMOP_TYPE_MEM) return fallback();
  const bool bit_string = kind == NativeKind::BitTest && mem >= 0 && d.ops[1].type == ZYDIS_OPERAND_TYPE_REGISTER;
  if (bit_string && mem != 0) return fallback();
  if (d.insn.mnemonic == ZYDIS_MNEMONIC_BSWAP && d.insn.operand_width != 32) return fallback();

  p.asm_id = asmjit_id(d.insn.mnemonic);
  if (!p.asm_id) return fallback();
  if (mem >= 0) {
    const ZydisDecodedOperand& m = d.ops[mem];
    const bool writes = m.actions & (ZYDIS_OPERAND_ACTION_WRITE | ZYDIS_OPERAND_ACTION_CONDWRITE);
    p.mem_op = static_cast<int8_t>(mem);
    p.kind = writes ? TlbKind::Write : TlbKind::Read;
    p.mem_size = static_cast<uint8_t>(m.size / 8);
    // CMPXCHG8B m64: EDX:EAX and ECX:EBX are the same host registers; it
    // always writes (the old value back on a mismatch), as the interpreter
    // does, so its access is a write.
    const bool m64 = p.mem_size == 8 && d.insn.mnemonic == ZYDIS_MNEMONIC_CMPXCHG8B;
    if (m64) p.kind = TlbKind::Write;
    if (p.mem_size != 1 && p.mem_size != 2 && p.mem_size != 4 && !m64) return fallback();
  }
  if (d.has_lock()) {
    // LOCK is legal only on a lockable instruction with a memory destination;
    // anything else is the guest's #UD, which the interpreter raises.
    if (!gi.cls.has(insn_attr::kLockable) || mem < 0 || p.kind != TlbKind::Write) return fallback();
    p.lock = true;
  }
  p.how = bit_string ? Lowering::BitString : Lowering::Native;
  p.flags_used = gi.cls.flags_used() & kStatus;
  // A flag the SDM calls undefined is not killed: the host may leave it as it
  // was (BT* and MUL do on current parts), and the interpreter, which runs
  // the same host instruction, then passes the incoming value through. So
  // only flags with a defined result end a flag's liveness.
  p.flags_killed = gi.cls.flags_killed() & ~gi.cls.flags_undefined & kStatus;
  p.flags_written = (gi.cls.flags_written | gi.cls.flags_undefined) & kStatus;
  return p;
}

// Checked against the interpreter's handlers:
//  - Native, BitString, Divide: one operand (BitString: the unit holding
//    the bit), read, or written; a read-modify-write destination is checked
//    for writing first (read_for_update, CMPXCHG8B), so its first fault is
//    the Write access the plan's kind names. Shifts by CL check the write
//    even for a zero count.
//  - Push, Pop, CallDirect, CallIndirect, Ret, Leave, JumpIndirect,
//    StringOp: the operand read (PUSH m, JMP/CALL m, MOVS/CMPS source)
//    comes before the stack or destination access in both; CALL checks its
//    target against the CS limit before the push in both, RET after the read.
//  - RepString (REP MOVS/STOS, REPE/REPNE SCAS): a zero count skips every
//    access in both; otherwise the block looks up the first byte of the
//    first element at ESI (MOVS), then, once the source chunk is known to
//    lie on that page, the first byte at EDI: the accesses the
//    interpreter's first iteration makes first, on the same pages
//    (emit_memory.cpp keeps a segment with a limit to check out unless the
//    looked-up size is the element's).
// Not exact: PUSHA (the interpreter checks the highest slot first, the
// block one access at the lowest), POPA, and the sensitive rewrites (IOPL
// and mode checks first): they re-run.
bool fill_fault_is_exact(Lowering how) {
  switch (how) {
    case Lowering::Native:
    case Lowering::BitString:
    case Lowering::Divide:
    case Lowering::Push:
    case Lowering::Pop:
    case Lowering::CallDirect:
    case Lowering::CallIndirect:
    case Lowering::Ret:
    case Lowering::Leave:
    case Lowering::JumpIndirect:
    case Lowering::StringOp:
    case Lowering::RepString:
      return true;
    default:
      return false;
  }
}

// One site per guarded access (its slow path) and per inline check that
// hands the instruction to the interpreter; the emitter asserts the count.
unsigned fallback_sites(const InsnPlan& ip) {
  switch (ip.how) {
    case Lowering::Push:
      return ip.mem_op >= 0 ? 2 : 1;
    case Lowering::Fallback:
    case Lowering::Pop:
    case Lowering::CallDirect:
    case Lowering::Ret:
    case Lowering::StoreState:
    case Lowering::PushAll:
    case Lowering::PopAll:
    case Lowering::Pushf:
    case Lowering::Popf:
    case Lowering::PushSreg:
      return 1;
    case Lowering::Native:
      return ip.mem_op >= 0 ? 1 : 0;
    case Lowering::BitString:
      return 1;
    case Lowering::JumpIndirect:
      return 1;  // the target's memory read, or the CS limit check
    case Lowering::StringOp:
    case Lowering::RepString:
      return ip.string_accesses;  // 1 (STOS, LODS, SCAS) or 2 (MOVS)
    case Lowering::Leave:
      return 1;
    case Lowering::Divide:
      return ip.mem_op >= 0 ? 2 : 1;  // the divisor's read; the #DE check
    case Lowering::CallIndirect:
      return 2;  // the target's read (or limit check), the stack write
    case Lowering::IfChange:
      return ip.iopl_needed ? 1 : 0;
    default:
      return 0;
  }
}

}  // namespace popek::dbt
