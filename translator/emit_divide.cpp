// DIV/IDIV r/m8/16/32, and two pieces shared with the REP string lowering:
// a cold "run the whole instruction in the interpreter" path and a
// mid-block exit.
//
// A guest divide must raise the guest's #DE, never a host SIGFPE, so the
// conditions under which the host divide would trap are checked first, on
// copies, with the guest flags stashed:
//   DIV:  divisor == 0, or the high half of the dividend >= divisor (AH for
//         8 bits, DX, EDX), which is exactly "the quotient does not fit";
//   IDIV: divisor == 0; for 32 bits also divisor == -1 (then the 64-bit
//         check below could itself overflow); otherwise the dividend
//         sign-extended to 64 bits is divided by the sign-extended divisor
//         with a 128/64-bit IDIV (|divisor| >= 2 or a dividend of at most
//         32 bits: it cannot trap) and the quotient must equal its own
//         sign extension from the operand width.
// Any failed check runs the instruction in the interpreter, which raises
// the #DE precisely (no register changed). Otherwise the guest flags go back
// to RFLAGS and the guest's divide runs as the same host instruction, with
// the divisor in r9: the flags it leaves (all undefined) are the ones the
// interpreter, which runs the same host instruction, produces.
#include "core/interpreter.h"
#include "translator/emitter_internal.h"

namespace popek::dbt {

using asmjit::imm;

asmjit::Label Emission::interpreter_path(unsigned k, asmjit::Label resume) {
  asmjit::Label slow = a.newLabel();
  FallbackSite* site = new_site(k, 0);
  cold.push_back([this, slow, resume, site] {
    a.bind(slow);
    stashed_fallback(site, resume);
  });
  return slow;
}

void Emission::yield_exit(unsigned k, uint32_t eip) {
  const uint32_t unretired = static_cast<uint32_t>(gb.insns.size() - k - 1);
  a.mov(ctx_field(offsetof(DbtContext, exit_unretired), 4), imm(unretired));
  a.mov(seq::cpu_field(offsetof(CpuState, eip), 4), imm(eip));
  a.jmp(imm(rt.exit_spill));
}

bool Emission::divide(unsigned k) {
  const GuestInsn& gi = gb.insns[k];
  const InsnPlan& ip = plan.insns[k];
  const ZydisDecodedOperand& op = gi.d.ops[0];
  const unsigned bits = op.size;
  const bool is_signed = gi.d.insn.mnemonic == ZYDIS_MNEMONIC_IDIV;
  asmjit::Label resume = a.newLabel();
  const x86::Gp r9 = host::kTmp1, r11 = host::kTmp2;

  // r9 := the divisor, zero- (DIV) or sign-extended (IDIV) to 64 bits.
  if (ip.mem_op >= 0) {
    host_pointer(k, resume);
    const x86::Mem src = x86::ptr(host::kAddr, 0, bits / 8);
    if (bits == 32) {
      if (is_signed) a.movsxd(r9, src);
      else a.mov(r9.r32(), src);
    } else {
      if (is_signed) a.movsx(r9, src);
      else a.movzx(r9.r32(), src);
    }
  } else {
    need_stash();
    rflags_clobbered();
    const ZydisRegister rv = op.reg.value;
    x86::Gp src;
    if (rv >= ZYDIS_REGISTER_AH && rv <= ZYDIS_REGISTER_BH) {
      // No REX-free way to extend AH..BH into r9: shift the word down.
      a.mov(r9.r32(), x86::gpd(rv - ZYDIS_REGISTER_AH));
      a.shr(r9.r32(), 8);
      src = r9.r8();
    } else {
      src = host_register(rv);
      if (!src.isValid()) return false;
    }
    if (bits == 32) {
      if (is_signed) a.movsxd(r9, src);
      else a.mov(r9.r32(), src);
    } else {
      if (is_signed) a.movsx(r9, src);
      else a.movzx(r9.r32(), src);
    }
  }
  const asmjit::Label fault = interpreter_path(k, resume);
  a.test(r9, r9);
  a.jz(fault);
  if (!is_signed) {
    if (bits == 8) {
      a.movzx(r11.r32(), x86::ax);
      a.shr(r11.r32(), 8);
      a.cmp(r11.r32(), r9.r32());
    } else if (bits == 16) {
      a.movzx(r11.r32(), x86::dx);
      a.cmp(r11.r32(), r9.r32());
    } else {
      a.cmp(x86::edx, r9.r32());
    }
    a.jae(fault);
  } else {
    if (bits == 32) {
      a.cmp(r9, imm(-1));
      a.je(fault);
    }
    const x86::Gp save_a = host::kAddr, save_d = x86::r14;
    a.mov(save_a, x86::rax);
    a.mov(save_d, x86::rdx);
    if (bits == 8) {
      a.movsx(x86::rax, x86::ax);
    } else if (bits == 16) {
      a.movzx(x86::eax, x86::ax);
      a.shl(x86::edx, 16);
      a.or_(x86::eax, x86::edx);
      a.movsxd(x86::rax, x86::eax);
    } else {
      a.shl(x86::rdx, 32);
      a.mov(x86::eax, x86::eax);
      a.or_(x86::rax, x86::rdx);
    }
    a.cqo();
    a.idiv(r9);
    if (bits == 8) a.movsx(r11, x86::al);
    else if (bits == 16) a.movsx(r11, x86::ax);
    else a.movsxd(r11, x86::eax);
    a.cmp(r11, x86::rax);
    a.mov(x86::rax, save_a);  // MOV leaves the flags alone
    a.mov(x86::rdx, save_d);
    a.jne(fault);
  }
  need_rflags();
  const x86::Gp divisor = bits == 8 ? r9.r8() : bits == 16 ? x86::Gp(r9.r16()) : x86::Gp(r9.r32());
  if (a.emit(static_cast<asmjit::InstId>(ip.asm_id), divisor)) return false;
  rflags_valid = true;
  stash_valid = false;
  a.bind(resume);
  return true;
}

}  // namespace popek::dbt
