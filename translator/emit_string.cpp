// String instructions without a REP prefix: STOS, LODS, MOVS.
//
// Each access goes through the segment check and inline TLB like any memory
// operand (ES:[EDI] for the destination, never overridden; DS or the
// override for [ESI]), with SI/DI and a 16-bit wrap for 16-bit addressing.
// MOVS reads into r14 first and writes second; ESI/EDI are committed only
// after every access went through, so a slow path (which runs the whole
// instruction in the interpreter) starts from the original registers. The
// step is +size or -size by EFLAGS.DF, read from CpuState (the host's DF
// stays clear). REP forms stay in the interpreter, whose 1024-iteration
// chunks define the step accounting.
#include "core/interpreter.h"
#include "translator/emitter_internal.h"

namespace popek::dbt {

using asmjit::imm;

namespace {

x86::Gp accumulator(unsigned size) {
  if (size == 1) return x86::al;
  if (size == 2) return x86::ax;
  return x86::eax;
}

// The segment of the [ESI] operand (DS unless overridden).
SegReg source_segment(const DecodedInsn& d) {
  for (unsigned i = 0; i < d.insn.operand_count; ++i) {
    const ZydisDecodedOperand& op = d.ops[i];
    if (op.type != ZYDIS_OPERAND_TYPE_MEMORY) continue;
    if (op.mem.base != ZYDIS_REGISTER_ESI && op.mem.base != ZYDIS_REGISTER_SI) continue;
    const SegReg s = Interpreter::sreg_index(op.mem.segment);
    return s == SEG_NONE ? DS : s;
  }
  return DS;
}

}  // namespace

bool Emission::string_op(unsigned k) {
  const GuestInsn& gi = gb.insns[k];
  const InsnPlan& ip = plan.insns[k];
  const unsigned size = ip.mem_size;
  const bool addr16 = gi.d.insn.address_width == 16;
  const ZydisMnemonic m = gi.d.insn.mnemonic;
  const bool stos = m == ZYDIS_MNEMONIC_STOSB || m == ZYDIS_MNEMONIC_STOSW || m == ZYDIS_MNEMONIC_STOSD;
  const bool lods = m == ZYDIS_MNEMONIC_LODSB || m == ZYDIS_MNEMONIC_LODSW || m == ZYDIS_MNEMONIC_LODSD;
  asmjit::Label resume = a.newLabel();
  auto offset_of = [&](Reg r) {
    if (addr16) a.movzx(host::kAddr.r32(), host::gpw(r));
    else a.mov(host::kAddr.r32(), host::gpd(r));
  };
  const x86::Gp value = x86::Gp::fromTypeAndId(accumulator(size).type(), x86::Gp::kIdR14);
  if (!stos) {  // LODS, MOVS: read [ESI]
    offset_of(ESI);
    guarded_access(k, source_segment(gi.d), size, TlbKind::Read, resume);
    if (lods) {
      // LODS has a single access: nothing can fail after it.
      a.mov(accumulator(size), x86::ptr(host::kAddr, 0, size));
    } else {
      a.mov(value, x86::ptr(host::kAddr, 0, size));
    }
  }
  if (!lods) {  // STOS, MOVS: write ES:[EDI]
    offset_of(EDI);
    guarded_access(k, ES, size, TlbKind::Write, resume);
    a.mov(x86::ptr(host::kAddr, 0, size), stos ? accumulator(size) : value);
  }
  // step := DF ? -size : +size (flags are stashed: the accesses clobbered them)
  const x86::Gp step = host::kTmp1.r32();
  a.mov(step, seq::cpu_field(offsetof(CpuState, eflags), 4));
  a.and_(step, imm(flag::DF));
  a.shr(step, size == 1 ? 9 : size == 2 ? 8 : 7);  // DF * 2 * size
  a.neg(step);
  a.add(step, imm(size));
  auto advance = [&](Reg r) {
    if (addr16) {
      a.lea(host::kTmp2.r32(), x86::ptr(host::gpq(r), host::kTmp1));
      a.mov(host::gpw(r), host::kTmp2.r16());
    } else {
      a.lea(host::gpd(r), x86::ptr(host::gpq(r), host::kTmp1));
    }
  };
  if (!stos) advance(ESI);
  if (!lods) advance(EDI);
  a.bind(resume);
  rflags_clobbered();
  return true;
}

}  // namespace popek::dbt
