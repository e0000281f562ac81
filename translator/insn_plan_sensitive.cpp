// Which sensitive instructions are rewritten against the virtual CPU state
// instead of running in the interpreter, and in which modes. The emission
// is in emit_sensitive.cpp; the catalogue is in docs/translator.md.
//
// The mode bits of the block key (PE, VM, CPL) are fixed for a block, so the
// rules that depend on them are decided here; IOPL is not in the key and is
// checked by the emitted code. Anything that could fault for a reason the
// emitted code does not check stays a fallback, so exceptions stay precise:
//  - PUSHF/POPF in V86 mode (#GP unless IOPL 3): fallback.
//  - SLDT/STR outside protected mode (#UD): fallback. Memory forms store
//    through the TLB path like any memory operand; a failed segment check
//    or a miss the TLB cannot fill runs the instruction in the interpreter.
//  - CLI/STI with CPL > IOPL (V86: IOPL < 3): the inline check sends the
//    instruction to the interpreter, which raises #GP(0).
#include "core/cpu_state.h"
#include "translator/insn_plan.h"
#include "translator/translation_cache.h"

namespace popek::dbt {
namespace {

bool register_operand(const ZydisDecodedOperand& op) {
  if (op.type != ZYDIS_OPERAND_TYPE_REGISTER) return false;
  const ZydisRegisterClass c = ZydisRegisterGetClass(op.reg.value);
  return c == ZYDIS_REGCLASS_GPR16 || c == ZYDIS_REGCLASS_GPR32;
}

bool segment_register(const ZydisDecodedOperand& op) {
  return op.type == ZYDIS_OPERAND_TYPE_REGISTER && ZydisRegisterGetClass(op.reg.value) == ZYDIS_REGCLASS_SEGMENT;
}

static_assert(offsetof(SegmentCache, selector) == 0);
static_assert(offsetof(DescriptorTableReg, base) == 0 && offsetof(DescriptorTableReg, limit) == 4);

size_t selector_offset(const ZydisDecodedOperand& op) {
  SegReg s = ES;
  switch (op.reg.value) {
    case ZYDIS_REGISTER_ES: s = ES; break;
    case ZYDIS_REGISTER_CS: s = CS; break;
    case ZYDIS_REGISTER_SS: s = SS; break;
    case ZYDIS_REGISTER_DS: s = DS; break;
    case ZYDIS_REGISTER_FS: s = FS; break;
    default: s = GS; break;
  }
  return offsetof(CpuState, seg) + s * sizeof(SegmentCache) + offsetof(SegmentCache, selector);
}

InsnPlan rewritten(Lowering how) {
  InsnPlan p;
  p.how = how;
  return p;
}

bool memory_operand(const ZydisDecodedOperand& op) {
  return op.type == ZYDIS_OPERAND_TYPE_MEMORY && op.mem.type == ZYDIS_MEMOP_TYPE_MEM &&
         op.visibility == ZYDIS_OPERAND_VISIBILITY_EXPLICIT;
}

// A store of `bytes` from CpuState at `field` to memory operand 0.
InsnPlan store_state(size_t field, uint8_t bytes) {
  InsnPlan p = rewritten(Lowering::StoreState);
  p.mem_op = 0;
  p.kind = TlbKind::Write;
  p.mem_size = bytes;
  p.target = static_cast<uint32_t>(field);
  return p;
}

}  // namespace

InsnPlan plan_sensitive(const GuestInsn& gi, const PlanContext& pc) {
  const DecodedInsn& d = gi.d;
  const bool pe = pc.mode & mode_bit::kPe, vm = pc.mode & mode_bit::kVm;
  const unsigned cpl = (pc.mode >> mode_bit::kCplShift) & 3;
  InsnPlan none;  // Fallback
  if (d.has_lock() || (pc.mode & mode_bit::kAlignCheck)) return none;
  switch (d.insn.mnemonic) {
    case ZYDIS_MNEMONIC_PUSHF:
    case ZYDIS_MNEMONIC_PUSHFD: {
      if (vm || (d.insn.operand_width != 16 && d.insn.operand_width != 32)) return none;
      InsnPlan p = rewritten(Lowering::Pushf);
      p.mem_size = static_cast<uint8_t>(d.insn.operand_width / 8);
      p.kind = TlbKind::Write;
      p.flags_used = insn_flags::kStatus;
      return p;
    }
    case ZYDIS_MNEMONIC_POPF:
    case ZYDIS_MNEMONIC_POPFD: {
      if (vm || (d.insn.operand_width != 16 && d.insn.operand_width != 32)) return none;
      InsnPlan p = rewritten(Lowering::Popf);
      p.mem_size = static_cast<uint8_t>(d.insn.operand_width / 8);
      p.kind = TlbKind::Read;
      p.iopl_needed = static_cast<uint8_t>(pe ? cpl : 0);  // IF writable only when CPL <= IOPL
      p.flags_killed = insn_flags::kStatus;
      p.flags_written = insn_flags::kStatus;
      return p;
    }
    case ZYDIS_MNEMONIC_CLI:
    case ZYDIS_MNEMONIC_STI: {
      InsnPlan p = rewritten(Lowering::IfChange);
      p.set_if = d.insn.mnemonic == ZYDIS_MNEMONIC_STI;
      p.iopl_needed = static_cast<uint8_t>(!pe ? 0 : vm ? 3 : cpl);
      return p;
    }
    case ZYDIS_MNEMONIC_SGDT:
    case ZYDIS_MNEMONIC_SIDT:
      if (!memory_operand(d.ops[0])) return none;
      return store_state(d.insn.mnemonic == ZYDIS_MNEMONIC_SGDT ? offsetof(CpuState, gdtr) : offsetof(CpuState, idtr),
                         6);
    case ZYDIS_MNEMONIC_SMSW:
    case ZYDIS_MNEMONIC_SLDT:
    case ZYDIS_MNEMONIC_STR: {
      if (d.insn.mnemonic != ZYDIS_MNEMONIC_SMSW && (!pe || vm)) return none;
      if (memory_operand(d.ops[0])) {
        const size_t field = d.insn.mnemonic == ZYDIS_MNEMONIC_SMSW   ? offsetof(CpuState, cr0)
                             : d.insn.mnemonic == ZYDIS_MNEMONIC_SLDT ? offsetof(CpuState, ldtr)
                                                                      : offsetof(CpuState, tr);
        return store_state(field, 2);  // the selector is the first field of SegmentCache
      }
      if (!register_operand(d.ops[0])) return none;
      InsnPlan p = rewritten(Lowering::ReadState);
      if (d.insn.mnemonic == ZYDIS_MNEMONIC_SMSW) {
        p.target = offsetof(CpuState, cr0);
        p.mem_size = 4;
      } else {
        p.target = d.insn.mnemonic == ZYDIS_MNEMONIC_SLDT
                       ? offsetof(CpuState, ldtr) + offsetof(SegmentCache, selector)
                       : offsetof(CpuState, tr) + offsetof(SegmentCache, selector);
        p.mem_size = 2;
      }
      return p;
    }
    case ZYDIS_MNEMONIC_MOV: {
      if (d.insn.operand_count_visible != 2 || !segment_register(d.ops[1])) return none;
      if (memory_operand(d.ops[0])) return store_state(selector_offset(d.ops[1]), 2);
      if (!register_operand(d.ops[0])) return none;
      InsnPlan p = rewritten(Lowering::ReadState);
      p.target = static_cast<uint32_t>(selector_offset(d.ops[1]));
      p.mem_size = 2;
      return p;
    }
    case ZYDIS_MNEMONIC_PUSH: {
      if (!segment_register(d.ops[0]) || (d.insn.operand_width != 16 && d.insn.operand_width != 32))
        return none;
      InsnPlan p = rewritten(Lowering::PushSreg);
      p.target = static_cast<uint32_t>(selector_offset(d.ops[0]));
      p.mem_size = static_cast<uint8_t>(d.insn.operand_width / 8);
      p.kind = TlbKind::Write;
      return p;
    }
    default:
      return none;
  }
}

}  // namespace popek::dbt
