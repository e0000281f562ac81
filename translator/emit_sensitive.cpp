// Sensitive instructions rewritten against the virtual CPU state (the plan
// and its mode rules are in insn_plan_sensitive.cpp):
//
//   PUSHF   the image is CpuState.eflags (minus VM and RF) with the
//           arithmetic flags taken from the stash (LAHF/SETO layout), pushed
//           through the stack TLB path; ESP committed after the store.
//   POPF    the popped value through the stack TLB path, merged into
//           CpuState.eflags under the interpreter's mask for the mode
//           (real mode and CPL 0: everything writable; CPL > 0: not IOPL,
//           and IF only when CPL <= IOPL, checked inline). The arithmetic
//           flags go to the stash and ESP is committed. The block goes on
//           unless the new value sets TF, changes AC (part of the mode key
//           when CR0.AM is set) or sets IF while the interrupt controller
//           has a request pending (DbtContext::intr_pending); then it
//           leaves unchained right after the POPF, and the dispatcher
//           delivers the interrupt or hands TF to the interpreter.
//   CLI/STI the virtual IF in CpuState.eflags. Where CPL > 0 (or V86) the
//           IOPL is checked inline; a failing check runs the instruction in
//           the interpreter, which raises #GP(0) with nothing changed. An
//           STI that sets IF while an interrupt is pending opens the
//           interrupt shadow exactly as the interpreter does and leaves
//           unchained (the dispatcher runs the shadowed instruction in the
//           interpreter, then delivers). With nothing pending the shadow
//           cannot be observed, as long as the next instruction runs in the
//           same block: then the block simply goes on. As a block's last
//           instruction STI always opens the shadow and leaves, because a
//           timer may raise a request before the next block runs.
//   SMSW, SLDT, STR, MOV r,Sreg (register forms): a load of the CpuState
//           field; a 32-bit destination gets a selector zero-extended.
//   SGDT/SIDT m (limit, then the full 32-bit base), SMSW/SLDT/STR m16,
//   MOV m16,Sreg: CpuState stored through the TLB like any memory operand.
//   PUSH Sreg: the selector, written as 16 bits into a slot of the operand
//           size (the interpreter's choice), through the stack TLB path.
//
// None of these sequences reads or writes RFLAGS for the guest: the flags
// are stashed first where the sequence needs ALU instructions.
#include "core/system_internal.h"
#include "translator/emitter_internal.h"

namespace popek::dbt {

using asmjit::imm;

bool Emission::pushf(unsigned k) {
  const InsnPlan& ip = plan.insns[k];
  const int32_t size = ip.mem_size;
  asmjit::Label resume = a.newLabel();
  need_stash();  // the arithmetic flags come from the stash
  stack_offset(*this, -size);
  guarded_access(k, SS, size, TlbKind::Write, resume);
  const x86::Gp v = host::kTmp1.r32(), t = host::kTmp2.r32();
  a.mov(v, seq::cpu_field(offsetof(CpuState, eflags), 4));
  a.and_(v, imm(~(flag::ARITH | flag::VM | flag::RF)));
  a.mov(t, host::kStash.r32());
  a.shr(t, 8);
  a.and_(t, imm(flag::ARITH & 0xff));  // SF ZF AF PF CF
  a.or_(v, t);
  a.mov(t, host::kStash.r32());
  a.and_(t, imm(1));
  a.shl(t, 11);  // OF
  a.or_(v, t);
  if (size == 2) a.mov(x86::ptr(host::kAddr, 0, 2), v.r16());
  else a.mov(x86::ptr(host::kAddr, 0, 4), v);
  commit_stack_pointer(*this, -size);
  // The slow path joins with RFLAGS and the stash valid; this path with the
  // stash only.
  a.bind(resume);
  rflags_clobbered();
  return true;
}

bool Emission::popf(unsigned k) {
  const GuestInsn& gi = gb.insns[k];
  const InsnPlan& ip = plan.insns[k];
  const int32_t size = ip.mem_size;
  const x86::Mem eflags = seq::cpu_field(offsetof(CpuState, eflags), 4);
  asmjit::Label resume = a.newLabel();
  stack_offset(*this, 0);
  guarded_access(k, SS, size, TlbKind::Read, resume);
  const x86::Gp v = host::kTmp1.r32(), mask = host::kTmp2.r32(), alt = x86::r14d;
  if (size == 2) a.movzx(v, x86::ptr(host::kAddr, 0, 2));
  else a.mov(v, x86::ptr(host::kAddr, 0, 4));
  uint32_t full = sys::eflags::kWritable;
  if (size == 2) full &= 0xffff;
  if (ip.iopl_needed) {  // protected mode, CPL > 0: IOPL never, IF by CPL <= IOPL
    full &= ~flag::IOPL;
    a.mov(mask, eflags);
    a.and_(mask, imm(flag::IOPL));
    a.cmp(mask, imm(uint32_t(ip.iopl_needed) << 12));
    a.mov(mask, imm(full));
    a.mov(alt, imm(full & ~flag::IF));
    a.cmovb(mask, alt);
  } else {
    a.mov(mask, imm(full));
  }
  a.and_(v, mask);
  a.not_(mask);
  a.and_(mask, eflags);
  a.or_(mask, v);
  a.or_(mask, imm(flag::FIXED1));
  a.mov(alt, eflags);
  a.mov(eflags, mask);
  // The arithmetic flags into the stash layout: bits 8-15 as LAHF, OF in bit 0.
  a.mov(host::kStash.r32(), mask);
  a.and_(host::kStash.r32(), imm(0xff));
  a.shl(host::kStash.r32(), 8);
  a.mov(v, mask);
  a.shr(v, 11);
  a.and_(v, imm(1));
  a.or_(host::kStash.r32(), v);
  commit_stack_pointer(*this, size);
  stash_valid = true;
  // Leave when the dispatcher has to look: TF set, AC changed, or IF set
  // with a request pending. (The slow path below ran POPF in the
  // interpreter, whose helper makes the same checks.)
  const bool last = k + 1 == gb.insns.size();
  asmjit::Label leave = last ? asmjit::Label() : leave_after(k, false);
  asmjit::Label stay = a.newLabel();
  if (last) {
    // The block's own fall-through exit follows: leave through exit_to.
    leave = a.newLabel();
    cold.push_back([this, leave, next = gi.next_eip] {
      a.bind(leave);
      seq::unstash_flags(a);
      a.mov(seq::cpu_field(offsetof(CpuState, eip), 4), imm(next));
      a.jmp(imm(rt.exit_spill));
    });
  }
  a.xor_(alt, mask);
  a.test(alt, imm(flag::AC));
  a.jnz(leave);
  a.test(mask, imm(flag::TF));
  a.jnz(leave);
  a.test(mask, imm(flag::IF));
  a.jz(stay);
  a.cmp(ctx_field(offsetof(DbtContext, intr_pending), 4), imm(0));
  a.jne(leave);
  a.bind(stay);
  // The slow path joins with the flags in RFLAGS and the stash; this path
  // with the stash.
  a.bind(resume);
  rflags_clobbered();
  stash_valid = true;
  return true;
}

bool Emission::if_change(unsigned k) {
  const GuestInsn& gi = gb.insns[k];
  const InsnPlan& ip = plan.insns[k];
  const x86::Mem eflags = seq::cpu_field(offsetof(CpuState, eflags), 4);
  need_stash();
  rflags_clobbered();
  if (ip.iopl_needed) {
    asmjit::Label gp = a.newLabel();
    a.mov(host::kTmp1.r32(), eflags);
    a.and_(host::kTmp1.r32(), imm(flag::IOPL));
    a.cmp(host::kTmp1.r32(), imm(uint32_t(ip.iopl_needed) << 12));
    a.jb(gp);
    FallbackSite* site = new_site(k, site_flag::kAlwaysExit);
    cold.push_back([this, gp, site] {
      a.bind(gp);
      seq::unstash_flags(a);
      call_fallback(site);  // #GP(0): always leaves
      a.jmp(imm(rt.exit_spill));
    });
  }
  if (!ip.set_if) {
    a.and_(eflags, imm(~flag::IF));
    return true;
  }
  asmjit::Label was_set = a.newLabel();
  a.test(eflags, imm(flag::IF));
  a.jnz(was_set);
  a.or_(eflags, imm(flag::IF));
  if (k + 1 == gb.insns.size()) {
    a.mov(seq::cpu_field(offsetof(CpuState, inhibit_irq), 1), imm(1));
    a.bind(was_set);
    exit_to(gi.next_eip);
    return true;
  }
  a.cmp(ctx_field(offsetof(DbtContext, intr_pending), 4), imm(0));
  a.jne(leave_after(k, true));
  a.bind(was_set);
  return true;
}

bool Emission::read_state(unsigned k) {
  const GuestInsn& gi = gb.insns[k];
  const InsnPlan& ip = plan.insns[k];
  const x86::Gp dst = host_register(gi.d.ops[0].reg.value);
  if (!dst.isValid()) return false;
  const x86::Mem src = seq::cpu_field(ip.target, dst.size() < ip.mem_size ? dst.size() : ip.mem_size);
  if (dst.size() == 4 && ip.mem_size == 2) return !a.movzx(dst, src);
  return !a.mov(dst, src);
}

bool Emission::push_sreg(unsigned k) {
  const InsnPlan& ip = plan.insns[k];
  const int32_t size = ip.mem_size;
  asmjit::Label resume = a.newLabel();
  stack_offset(*this, -size);
  guarded_access(k, SS, size, TlbKind::Write, resume);
  a.mov(host::kTmp1.r16(), seq::cpu_field(ip.target, 2));
  a.mov(x86::ptr(host::kAddr, 0, 2), host::kTmp1.r16());
  commit_stack_pointer(*this, -size);
  a.bind(resume);
  return true;
}

bool Emission::store_state(unsigned k) {
  const InsnPlan& ip = plan.insns[k];
  asmjit::Label resume = a.newLabel();
  host_pointer(k, resume);
  const x86::Gp v = host::kTmp1.r32();
  if (ip.mem_size == 6) {  // DescriptorTableReg: base at +0, limit at +4
    a.mov(v, seq::cpu_field(ip.target + 4, 4));
    a.mov(x86::ptr(host::kAddr, 0, 2), v.r16());
    a.mov(v, seq::cpu_field(ip.target, 4));
    a.mov(x86::ptr(host::kAddr, 2, 4), v);
  } else {
    a.mov(v.r16(), seq::cpu_field(ip.target, 2));
    a.mov(x86::ptr(host::kAddr, 0, 2), v.r16());
  }
  a.bind(resume);
  return true;
}

}  // namespace popek::dbt
