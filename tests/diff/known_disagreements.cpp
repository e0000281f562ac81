#include "tests/diff/known_disagreements.h"

#include "core/cpu_state.h"

namespace popek::diff {

bool matches(const KnownDisagreement& k, const DecodedInsn& d) {
  if (k.mnemonic != d.insn.mnemonic) return false;
  if (k.operand_width && k.operand_width != d.insn.operand_width) return false;
  if (k.lock >= 0 && k.lock != (d.has_lock() ? 1 : 0)) return false;
  if (k.modrm_reg >= 0 &&
      (!(d.insn.attributes & ZYDIS_ATTRIB_HAS_MODRM) || d.insn.raw.modrm.reg != static_cast<unsigned>(k.modrm_reg)))
    return false;
  return true;
}

const std::vector<KnownDisagreement>& unicorn_known_disagreements() {
  static const std::vector<KnownDisagreement> kTable = {
      {ZYDIS_MNEMONIC_NEG, 0, 1, -1, flag::SF | flag::PF, false,
       "LOCK NEG m: Unicorn computes SF and PF from the operand before negation (ZF agrees only because "
       "x and -x are zero together)"},
      {ZYDIS_MNEMONIC_TEST, 0, -1, 1, 0, true,
       "TEST r/m, imm encoded F6/F7 /1 (the undocumented alias of /0): Unicorn raises #UD"},
  };
  return kTable;
}

}  // namespace popek::diff
