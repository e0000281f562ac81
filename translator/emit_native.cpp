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

// BT/BTS/BTR/BTC m16/m32, r: the signed register offset selects the unit
// (word or dword) EA + size * (offset SAR 4 or 5), wrapped to the address
// size as the interpreter does; that unit goes through the segment check
// and the TLB like any operand (a miss, a crossing or a fault runs the
// instruction in the interpreter, which raises #PF/#GP on the unit's
// address). The host instruction then gets the offset within the unit, so
// it reads exactly [r8] and its flags are those of the interpreter's (the
// same host memory form with the same offset).
bool Emission::bit_string(unsigned k) {
  const GuestInsn& gi = gb.insns[k];
  const InsnPlan& ip = plan.insns[k];
  const DecodedInsn& d = gi.d;
  const ZydisDecodedOperand& mem = d.ops[0];
  const x86::Gp reg = host_register(d.ops[1].reg.value);
  const unsigned bits = ip.mem_size * 8u;
  if (!reg.isValid() || (bits != 16 && bits != 32) || reg.size() * 8u != bits) return false;
  SegReg seg = Interpreter::sreg_index(mem.mem.segment);
  if (seg == SEG_NONE) seg = DS;
  asmjit::Label resume = a.newLabel();
  need_stash();  // the address arithmetic clobbers RFLAGS
  rflags_clobbered();
  effective_address(mem, d.insn.address_width);
  const x86::Gp unit = host::kTmp1.r32();
  if (bits == 16) a.movsx(unit, reg);
  else a.mov(unit, reg);
  a.sar(unit, bits == 16 ? 4 : 5);
  a.shl(unit, bits == 16 ? 1 : 2);
  a.add(host::kAddr.r32(), unit);
  if (d.insn.address_width == 16) a.movzx(host::kAddr.r32(), host::kAddr.r16());
  guarded_access(k, seg, ip.mem_size, ip.kind, resume);
  a.mov(unit, reg.r32());
  a.and_(unit, imm(bits - 1));
  before_guest(k);  // may restore RFLAGS (clobbers r11 only)
  const x86::Gp offset = bits == 16 ? x86::Gp(unit.r16()) : unit;
  if (a.emit(static_cast<asmjit::InstId>(ip.asm_id), x86::ptr(host::kAddr, 0, ip.mem_size), offset)) return false;
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
