// Innocuous instructions: the guest instruction itself, re-encoded for the
// host with asmjit on the mapped registers. Its flags are the host's and stay
// in RFLAGS. A memory operand becomes [r8] after the inline TLB lookup.
// Only the visible (explicit and implicit) operands are passed: the hidden
// ones (EDX:EAX of MUL, EAX of CMPXCHG, AH of LAHF) are the same registers on
// the host. asmjit re-encodes INC/DEC r32 as FF /0, /1 (0x40-0x4F are REX
// prefixes in 64-bit mode).
#include "core/interpreter.h"
#include "translator/emitter_internal.h"

namespace popek::dbt {

using asmjit::imm;

x86::Gp host_register(ZydisRegister r) {
  if (r >= ZYDIS_REGISTER_EAX && r <= ZYDIS_REGISTER_EDI) return host::gpd(Reg(r - ZYDIS_REGISTER_EAX));
  if (r >= ZYDIS_REGISTER_AX && r <= ZYDIS_REGISTER_DI) return host::gpw(Reg(r - ZYDIS_REGISTER_AX));
  if (r >= ZYDIS_REGISTER_AL && r <= ZYDIS_REGISTER_BL)
    return x86::gpb_lo(host::kGuestToHost[r - ZYDIS_REGISTER_AL]);
  if (r >= ZYDIS_REGISTER_AH && r <= ZYDIS_REGISTER_BH) return x86::gpb_hi(r - ZYDIS_REGISTER_AH);
  return x86::Gp();
}

x86::Gp host_register64(ZydisRegister r) {
  const int i = Interpreter::gpr_index(r);
  return i < 0 ? x86::Gp() : host::gpq(Reg(i));
}

bool Emission::native_instruction(unsigned k) {
  const GuestInsn& gi = gb.insns[k];
  const InsnPlan& ip = plan.insns[k];
  const DecodedInsn& d = gi.d;
  asmjit::Label resume = a.newLabel();
  if (ip.mem_op >= 0) host_pointer(k, resume);

  asmjit::Operand ops[ZYDIS_MAX_OPERAND_COUNT_VISIBLE];
  unsigned n = 0;
  for (unsigned i = 0; i < d.insn.operand_count_visible; ++i) {
    const ZydisDecodedOperand& op = d.ops[i];
    switch (op.type) {
      case ZYDIS_OPERAND_TYPE_REGISTER: {
        x86::Gp r = host_register(op.reg.value);
        if (!r.isValid()) return false;
        ops[n++] = r;
        break;
      }
      case ZYDIS_OPERAND_TYPE_MEMORY:
        ops[n++] = x86::ptr(host::kAddr, 0, op.size / 8);
        break;
      case ZYDIS_OPERAND_TYPE_IMMEDIATE:
        ops[n++] = imm(op.imm.is_signed ? op.imm.value.s : static_cast<int64_t>(op.imm.value.u));
        break;
      default:
        return false;
    }
  }
  // The guest has one CPU and devices run on this thread, so LOCK (and
  // XCHG's implicit lock) buys nothing, and a locked access that splits a
  // cache line makes the host kernel throttle, or kill, the process
  // (split-lock detection). LOCK is therefore dropped, and XCHG with memory
  // becomes three moves.
  if (ip.mem_op >= 0 && d.insn.mnemonic == ZYDIS_MNEMONIC_XCHG) {
    const unsigned reg_op = ip.mem_op == 0 ? 1 : 0;
    x86::Gp r = host_register(d.ops[reg_op].reg.value);
    const x86::Gp high = r.isGpbHi() ? r : x86::Gp();
    if (high.isValid()) r = x86::gpb_lo(high.id());  // exchanged around the moves (see below)
    const x86::Gp tmp = x86::Gp::fromTypeAndId(r.type(), host::kTmp1.id());
    const x86::Mem mem = x86::ptr(host::kAddr, 0, r.size());
    if (high.isValid() && a.xchg(r, high)) return false;
    if (a.mov(tmp, mem) || a.mov(mem, r) || a.mov(r, tmp)) return false;
    if (high.isValid() && a.xchg(r, high)) return false;
    a.bind(resume);
    return true;
  }
  before_guest(k);
  // AH..BH beside [r8]: the instruction runs on the low partner (AL..BL)
  // with the two bytes exchanged around it (insn_plan.h).
  x86::Gp high, low;
  if (ip.mem_op >= 0) {
    for (unsigned i = 0; i < n; ++i) {
      if (!ops[i].isReg() || !ops[i].as<x86::Gp>().isGpbHi()) continue;
      high = ops[i].as<x86::Gp>();
      low = x86::gpb_lo(high.id());
      ops[i] = low;
    }
  }
  if (high.isValid() && a.xchg(low, high)) return false;
  if (a.emitOpArray(static_cast<asmjit::InstId>(ip.asm_id), ops, n)) return false;
  if (high.isValid() && a.xchg(low, high)) return false;
  after_guest(k);
  a.bind(resume);
  return true;
}

bool Emission::lea(unsigned k) {
  const GuestInsn& gi = gb.insns[k];
  const InsnPlan& ip = plan.insns[k];
  const ZydisDecodedOperand& dst = gi.d.ops[0];
  const ZydisDecodedOperand& src = gi.d.ops[ip.mem_op];
  x86::Gp r = host_register(dst.reg.value);
  if (!r.isValid() || dst.size < 16) return false;
  const auto& m = src.mem;
  if (gi.d.insn.address_width == 32 && m.base != ZYDIS_REGISTER_NONE) {
    // The common case in one instruction: lea dst, [base + index*scale + disp].
    const int32_t disp = static_cast<int32_t>(m.disp.value);
    if (m.index == ZYDIS_REGISTER_NONE) return !a.lea(r, x86::ptr(host_register64(m.base), disp));
    const unsigned shift = m.scale == 8 ? 3 : m.scale == 4 ? 2 : m.scale == 2 ? 1 : 0;
    return !a.lea(r, x86::ptr(host_register64(m.base), host_register64(m.index), shift, disp));
  }
  effective_address(src, gi.d.insn.address_width);
  return !a.mov(r, dst.size == 32 ? x86::Gp(host::kAddr.r32()) : x86::Gp(host::kAddr.r16()));
}

}  // namespace popek::dbt
