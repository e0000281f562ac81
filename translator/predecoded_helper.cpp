#include "translator/predecoded_helper.h"

namespace popek::dbt {
namespace {

bool register_class(const ZydisDecodedOperand& op, ZydisRegisterClass c) {
  return op.type == ZYDIS_OPERAND_TYPE_REGISTER && ZydisRegisterGetClass(op.reg.value) == c;
}

bool x87_environment(ZydisMnemonic m) {
  switch (m) {
    case ZYDIS_MNEMONIC_FNSAVE: case ZYDIS_MNEMONIC_FRSTOR:
    case ZYDIS_MNEMONIC_FNSTENV: case ZYDIS_MNEMONIC_FLDENV:
      return true;
    default:
      return false;
  }
}

}  // namespace

bool predecoded_helper_applies(const DecodedInsn& d) {
  if (d.has_lock()) return false;  // #UD: step()
  const ZydisMnemonic m = d.insn.mnemonic;
  switch (d.insn.meta.category) {
    case ZYDIS_CATEGORY_X87_ALU:
    case ZYDIS_CATEGORY_FCMOV:
      return !x87_environment(m);
    default:
      break;
  }
  switch (m) {
    case ZYDIS_MNEMONIC_MOV:
      // MOV Sreg, r/m16 (the reverse is rewritten inline); MOV to and from CRn, DRn.
      return register_class(d.ops[0], ZYDIS_REGCLASS_SEGMENT) || register_class(d.ops[0], ZYDIS_REGCLASS_CONTROL) ||
             register_class(d.ops[1], ZYDIS_REGCLASS_CONTROL) || register_class(d.ops[0], ZYDIS_REGCLASS_DEBUG) ||
             register_class(d.ops[1], ZYDIS_REGCLASS_DEBUG);
    case ZYDIS_MNEMONIC_POP:  // POP Sreg; POP m (its address uses the incremented ESP)
      return register_class(d.ops[0], ZYDIS_REGCLASS_SEGMENT) || d.ops[0].type == ZYDIS_OPERAND_TYPE_MEMORY;
    case ZYDIS_MNEMONIC_FXSAVE:
    case ZYDIS_MNEMONIC_FXRSTOR:
    case ZYDIS_MNEMONIC_LDS: case ZYDIS_MNEMONIC_LES: case ZYDIS_MNEMONIC_LFS:
    case ZYDIS_MNEMONIC_LGS: case ZYDIS_MNEMONIC_LSS:
    case ZYDIS_MNEMONIC_LAR: case ZYDIS_MNEMONIC_LSL: case ZYDIS_MNEMONIC_VERR: case ZYDIS_MNEMONIC_VERW:
    case ZYDIS_MNEMONIC_IRET: case ZYDIS_MNEMONIC_IRETD:
    case ZYDIS_MNEMONIC_SYSENTER: case ZYDIS_MNEMONIC_SYSEXIT:
    case ZYDIS_MNEMONIC_INVLPG:
      return true;
    default:
      return false;
  }
}

bool predecoded_helper_ready(const CpuState& cpu, const DecodedInsn& d) {
  // step() checks instruction breakpoints before and traps after.
  if ((cpu.dr[7] & 0xff) || (cpu.eflags & flag::TF)) return false;
  switch (d.insn.mnemonic) {
    case ZYDIS_MNEMONIC_IRET:
    case ZYDIS_MNEMONIC_IRETD:
      // NT = 1 in protected mode: a task switch through the back link.
      return !(cpu.eflags & flag::NT) || !(cpu.cr0 & cr0::PE) || (cpu.eflags & flag::VM);
    case ZYDIS_MNEMONIC_MOV:
      // MOV DRn with DR7.GD: #DB after clearing GD (a change before the fault).
      if (register_class(d.ops[0], ZYDIS_REGCLASS_DEBUG) || register_class(d.ops[1], ZYDIS_REGCLASS_DEBUG))
        return !(cpu.dr[7] & (1u << 13));
      return true;
    default:
      return true;
  }
}

}  // namespace popek::dbt
