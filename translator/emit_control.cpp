// Control transfers beyond Jcc/JMP rel, CALL rel and RET (emit_stack.cpp):
//
//   LOOP/LOOPE/LOOPNE/JCXZ/JECXZ  the count is decremented with LEA and
//       tested with JECXZ, so the guest flags stay in RFLAGS untouched
//       (LOOPE/LOOPNE then test the guest's ZF directly). With 16-bit
//       addressing (CX) the count is zero-extended into ecx for the test,
//       the full register kept in r11 and restored on both paths.
//   JMP r/m, CALL r/m (near)  the target is read (register, or memory
//       through the TLB), checked against the CS limit, and looked up in the
//       inline EIP -> code cache like RET. CALL pushes the return address
//       through the stack TLB path and commits ESP only after every access
//       went through; the target is kept in r14 meanwhile. Any failed
//       check or access runs the whole instruction in the interpreter.
#include "core/interpreter.h"
#include "translator/emitter_internal.h"

namespace popek::dbt {

using asmjit::imm;

namespace {

SegReg memory_segment(const ZydisDecodedOperand& op) {
  const SegReg seg = Interpreter::sreg_index(op.mem.segment);
  return seg == SEG_NONE ? DS : seg;
}

}  // namespace

bool Emission::loop_branch(unsigned k) {
  const GuestInsn& gi = gb.insns[k];
  const InsnPlan& ip = plan.insns[k];
  const ZydisMnemonic m = gi.d.insn.mnemonic;
  const bool jcxz = m == ZYDIS_MNEMONIC_JCXZ || m == ZYDIS_MNEMONIC_JECXZ;
  const bool count16 = jcxz ? m == ZYDIS_MNEMONIC_JCXZ : gi.d.insn.address_width == 16;
  need_rflags();  // exits expect them there; LOOPE/LOOPNE read ZF
  asmjit::Label zero = a.newLabel(), fall = a.newLabel();
  const x86::Gp saved = host::kTmp2;  // r11: the full rcx while ecx holds CX
  if (!jcxz) {
    if (count16) {
      a.lea(host::kTmp1.r32(), x86::ptr(x86::rcx, -1));
      a.mov(x86::cx, host::kTmp1.r16());
    } else {
      a.lea(x86::ecx, x86::ptr(x86::rcx, -1));
    }
  }
  if (count16) {
    a.mov(saved, x86::rcx);
    a.movzx(x86::ecx, x86::cx);
  }
  a.jecxz(x86::ecx, zero);
  if (count16) a.mov(x86::rcx, saved);
  if (jcxz) {
    chained_exit(gi.next_eip);  // CX/ECX != 0: not taken
    a.bind(zero);
    if (count16) a.mov(x86::rcx, saved);
    chained_exit(ip.target);
    return true;
  }
  if (m == ZYDIS_MNEMONIC_LOOPE) a.jnz(fall);
  if (m == ZYDIS_MNEMONIC_LOOPNE) a.jz(fall);
  chained_exit(ip.target);
  a.bind(zero);
  if (count16) a.mov(x86::rcx, saved);
  a.bind(fall);
  chained_exit(gi.next_eip);
  return true;
}

// Leaves through the slow-path label `slow` when `target` is beyond the CS limit.
static void check_cs_limit(Emission& e, const x86::Gp& target, asmjit::Label slow) {
  if (e.meta.key.cs_limit == 0xffffffffu) return;
  e.a.cmp(target, imm(e.meta.key.cs_limit));
  e.a.ja(slow);
}

// A slow path for a register-form check: the interpreter runs the whole
// instruction (raising the #GP) and the block is left.
static asmjit::Label register_form_slow_path(Emission& e, unsigned k) {
  asmjit::Label slow = e.a.newLabel();
  FallbackSite* site = e.new_site(k, 0);
  e.cold.push_back([&e, slow, site] {
    e.a.bind(slow);
    seq::unstash_flags(e.a);
    e.call_fallback(site);
    e.a.jmp(imm(e.rt.exit_spill));
  });
  return slow;
}

// target := the operand of JMP/CALL r/m (zero-extended for 16 bits). The
// flags end up stashed. Returns the slow-path label for a failed check.
static asmjit::Label read_indirect_target(Emission& e, unsigned k, const x86::Gp& target, asmjit::Label resume) {
  const GuestInsn& gi = e.gb.insns[k];
  const ZydisDecodedOperand& op = gi.d.ops[0];
  const unsigned size = gi.d.insn.operand_width / 8;
  if (op.type == ZYDIS_OPERAND_TYPE_MEMORY) {
    e.effective_address(op, gi.d.insn.address_width);
    asmjit::Label slow = e.guarded_access(k, memory_segment(op), size, TlbKind::Read, resume);
    if (size == 2) e.a.movzx(target, x86::ptr(host::kAddr, 0, 2));
    else e.a.mov(target, x86::ptr(host::kAddr, 0, 4));
    return slow;
  }
  e.need_stash();
  e.rflags_clobbered();
  const x86::Gp r = host_register(op.reg.value);
  if (size == 2) e.a.movzx(target, r);
  else e.a.mov(target, r);
  return register_form_slow_path(e, k);
}

bool Emission::jump_indirect(unsigned k) {
  asmjit::Label resume = a.newLabel();
  const x86::Gp target = host::kTmp1.r32();
  asmjit::Label slow = read_indirect_target(*this, k, target, resume);
  check_cs_limit(*this, target, slow);
  indirect_lookup(target);  // r8 = the target's code, or the ib_miss routine
  need_rflags();
  a.jmp(host::kAddr);
  // A slow path ran the JMP in the interpreter; it always leaves from the
  // helper (control transfer), CpuState.eip already current.
  a.bind(resume);
  a.jmp(imm(rt.exit_spill));
  return true;
}

bool Emission::call_indirect(unsigned k) {
  const GuestInsn& gi = gb.insns[k];
  const InsnPlan& ip = plan.insns[k];
  const int32_t size = ip.mem_size;
  asmjit::Label resume = a.newLabel();
  const x86::Gp target = x86::r14d;  // survives the stack access (callee-saved in C++ helpers)
  asmjit::Label slow = read_indirect_target(*this, k, target, resume);
  check_cs_limit(*this, target, slow);
  stack_offset(*this, -size);
  guarded_access(k, SS, size, TlbKind::Write, resume);
  const uint32_t ret = gi.next_eip;
  if (a.mov(x86::ptr(host::kAddr, 0, size), imm(size == 2 ? int64_t(int16_t(ret)) : int64_t(int32_t(ret)))))
    return false;
  commit_stack_pointer(*this, -size);
  push_return_prediction(*this, ret);  // r9, r11: the target stays in r14
  indirect_lookup(target);
  need_rflags();
  a.jmp(host::kAddr);
  a.bind(resume);
  a.jmp(imm(rt.exit_spill));
  return true;
}

}  // namespace popek::dbt
