// Stack instructions: PUSH r/imm/m, POP r, CALL rel, RET [imm16], PUSHA/POPA.
//
// Guest ESP lives in r12d, never in the host's rsp. The stack slot goes
// through the same segment check and inline TLB as any memory operand (SS,
// with SS.B choosing ESP or SP and the 16-bit wrap). ESP is committed only
// after the access went through, so a fault (taken on the slow path, where
// the interpreter redoes the whole instruction) leaves ESP as it was.
// RET also checks its target against the CS limit before committing ESP.
// PUSHA/POPA are one access of eight slots: a range that wraps a 16-bit SP,
// crosses a page or leaves the segment takes the slow path, where the
// interpreter checks slot by slot.
#include "core/interpreter.h"
#include "translator/emitter_internal.h"

namespace popek::dbt {

using asmjit::imm;

namespace {

int64_t immediate_value(const ZydisDecodedOperand& op) {
  return op.imm.is_signed ? op.imm.value.s : static_cast<int64_t>(op.imm.value.u);
}

x86::Gp sized(const x86::Gp& r64, unsigned bytes) {
  return bytes == 2 ? x86::Gp(r64.r16()) : x86::Gp(r64.r32());
}

}  // namespace

// r8d := (ESP + delta) wrapped to the stack size.
void stack_offset(Emission& e, int32_t delta) {
  e.a.lea(host::kAddr.r32(), x86::ptr(host::gpq(ESP), delta));
  if (!e.gb.stack32) e.a.movzx(host::kAddr.r32(), host::kAddr.r16());
}

// ESP += delta (SP only, for a 16-bit stack). Flags untouched.
void commit_stack_pointer(Emission& e, int32_t delta) {
  if (e.gb.stack32) {
    e.a.lea(host::gpd(ESP), x86::ptr(host::gpq(ESP), delta));
  } else {
    e.a.lea(host::kTmp2.r32(), x86::ptr(host::gpq(ESP), delta));
    e.a.mov(host::gpw(ESP), host::kTmp2.r16());
  }
}

bool Emission::push(unsigned k) {
  const GuestInsn& gi = gb.insns[k];
  const InsnPlan& ip = plan.insns[k];
  const int32_t size = ip.mem_size;
  const ZydisDecodedOperand& op = gi.d.ops[0];
  asmjit::Label resume = a.newLabel();
  const x86::Gp held = sized(x86::r14, size);  // PUSH m: the value, across the stack access
  if (op.type == ZYDIS_OPERAND_TYPE_MEMORY) {
    SegReg seg = Interpreter::sreg_index(op.mem.segment);
    if (seg == SEG_NONE) seg = DS;
    effective_address(op, gi.d.insn.address_width);
    guarded_access(k, seg, size, TlbKind::Read, resume);  // a read: no dirty bit
    a.mov(held, x86::ptr(host::kAddr, 0, size));
  }
  stack_offset(*this, -size);
  guarded_access(k, SS, size, TlbKind::Write, resume);
  const x86::Mem slot = x86::ptr(host::kAddr, 0, size);
  if (op.type == ZYDIS_OPERAND_TYPE_MEMORY) {
    a.mov(slot, held);
  } else if (op.type == ZYDIS_OPERAND_TYPE_REGISTER) {
    const x86::Gp r = host_register(op.reg.value);  // ESP pushes its value before the push
    if (!r.isValid() || a.mov(slot, r)) return false;
  } else {
    const int64_t v = immediate_value(op);
    if (a.mov(slot, imm(size == 2 ? int64_t(int16_t(v)) : int64_t(int32_t(v))))) return false;
  }
  commit_stack_pointer(*this, -size);
  a.bind(resume);
  return true;
}

bool Emission::pop(unsigned k) {
  const GuestInsn& gi = gb.insns[k];
  const InsnPlan& ip = plan.insns[k];
  const int32_t size = ip.mem_size;
  const x86::Gp dst = host_register(gi.d.ops[0].reg.value);
  if (!dst.isValid()) return false;
  asmjit::Label resume = a.newLabel();
  stack_offset(*this, 0);
  guarded_access(k, SS, size, TlbKind::Read, resume);
  const x86::Gp value = sized(host::kTmp1, size);
  a.mov(value, x86::ptr(host::kAddr, 0, size));
  commit_stack_pointer(*this, size);
  a.mov(dst, value);  // after the increment: POP ESP loads the popped value
  a.bind(resume);
  return true;
}

void push_return_prediction(Emission& e, uint32_t return_eip) {
  x86::Assembler& a = e.a;
  const x86::Mem top = ctx_field(offsetof(DbtContext, rsb_top), 4);
  const int32_t rsb = static_cast<int32_t>(offsetof(DbtContext, rsb));
  a.mov(host::kTmp2.r32(), top);
  a.add(host::kTmp2.r32(), imm(1));
  a.and_(host::kTmp2.r32(), imm(kReturnStackEntries - 1));
  a.mov(top, host::kTmp2.r32());
  a.shl(host::kTmp2.r32(), 4);
  a.mov(host::kTmp1, imm(lookup_tag(return_eip, e.meta.key.mode)));
  a.mov(x86::ptr(host::kCtx, host::kTmp2, 0, rsb + offsetof(ReturnStackEntry, tag), 8), host::kTmp1);
  a.mov(host::kTmp1, imm(reinterpret_cast<uint64_t>(&e.meta.return_link)));
  a.mov(x86::ptr(host::kCtx, host::kTmp2, 0, rsb + offsetof(ReturnStackEntry, link), 8), host::kTmp1);
}

bool Emission::call_direct(unsigned k) {
  const GuestInsn& gi = gb.insns[k];
  const InsnPlan& ip = plan.insns[k];
  const int32_t size = ip.mem_size;
  asmjit::Label resume = a.newLabel();
  stack_offset(*this, -size);
  guarded_access(k, SS, size, TlbKind::Write, resume);
  const uint32_t ret = gi.next_eip;
  if (a.mov(x86::ptr(host::kAddr, 0, size), imm(size == 2 ? int64_t(int16_t(ret)) : int64_t(int32_t(ret)))))
    return false;
  commit_stack_pointer(*this, -size);
  push_return_prediction(*this, ret);
  chained_exit(ip.target);
  // The slow path ran the CALL in the interpreter and always leaves from
  // the helper; should it ever return, CpuState.eip is already current.
  a.bind(resume);
  a.jmp(imm(rt.exit_spill));
  return true;
}

// RET's target (in r9d, checked against the CS limit) -> r8: the code to
// jump to, through the return-prediction ring when its top entry was pushed
// by the CALL that returns here (dbt_context.h, ReturnStackEntry):
//   pop the top entry; tag of the target == entry tag?
//     no:  the indirect-branch cache (as JMP r/m).
//     yes: r14 := the entry's link; link of the current epoch?
//       yes: its code (a checked entry: it compares the tag again).
//       no:  the indirect-branch cache; a hit refreshes the link, a miss
//            hands the link to the dispatcher (DbtContext::ret_link), which
//            fills it with the block it finds.
// The flags are stashed throughout (RFLAGS is free here).
static void predicted_return(Emission& e, const x86::Gp& target) {
  x86::Assembler& a = e.a;
  const x86::Gp tag = host::kTmp1;   // r9
  const x86::Gp slot = host::kAddr;  // r8
  const x86::Gp link = x86::r14;
  asmjit::Label cache = a.newLabel(), stale = a.newLabel(), done = a.newLabel(), refresh = a.newLabel();
  if (target.id() != tag.id()) a.mov(tag.r32(), target.r32());
  e.profile_indirect_lookup();  // a predicted RET counts as a lookup that hit
  if (e.meta.key.mode) {
    a.mov(slot, imm(lookup_tag(0, e.meta.key.mode)));
    a.or_(tag, slot);
  }
  const x86::Mem top = ctx_field(offsetof(DbtContext, rsb_top), 4);
  const int32_t rsb = static_cast<int32_t>(offsetof(DbtContext, rsb));
  a.mov(host::kTmp2.r32(), top);
  a.mov(slot.r32(), host::kTmp2.r32());
  a.sub(host::kTmp2.r32(), imm(1));
  a.and_(host::kTmp2.r32(), imm(kReturnStackEntries - 1));
  a.mov(top, host::kTmp2.r32());
  a.shl(slot.r32(), 4);
  a.cmp(tag, x86::ptr(host::kCtx, slot, 0, rsb + offsetof(ReturnStackEntry, tag), 8));
  a.jne(cache);
  a.mov(link, x86::ptr(host::kCtx, slot, 0, rsb + offsetof(ReturnStackEntry, link), 8));
  a.mov(host::kTmp2, ctx_field(offsetof(DbtContext, ret_epoch), 8));
  a.cmp(host::kTmp2, x86::ptr(link, offsetof(ReturnLink, epoch), 8));
  a.jne(stale);
  a.mov(slot, x86::ptr(link, offsetof(ReturnLink, code), 8));
  a.add(ctx_field(offsetof(DbtContext, ret_predicted), 8), imm(1));
  a.jmp(done);
  a.bind(stale);
  e.indirect_lookup(tag, true);
  a.cmp(slot, ctx_field(offsetof(DbtContext, ib_miss_code), 8));
  a.jne(refresh);
  a.mov(ctx_field(offsetof(DbtContext, ret_link), 8), link);
  a.jmp(done);
  a.bind(refresh);
  a.mov(x86::ptr(link, offsetof(ReturnLink, code), 8), slot);
  a.mov(host::kTmp2, ctx_field(offsetof(DbtContext, ret_epoch), 8));
  a.mov(x86::ptr(link, offsetof(ReturnLink, epoch), 8), host::kTmp2);
  a.jmp(done);
  a.bind(cache);
  e.indirect_lookup(tag, true);
  a.bind(done);
}

bool Emission::ret(unsigned k) {
  const GuestInsn& gi = gb.insns[k];
  const InsnPlan& ip = plan.insns[k];
  const int32_t size = ip.mem_size;
  int32_t release = 0;
  if (gi.d.insn.operand_count_visible >= 1 && gi.d.ops[0].type == ZYDIS_OPERAND_TYPE_IMMEDIATE)
    release = static_cast<int32_t>(gi.d.ops[0].imm.value.u & 0xffff);
  asmjit::Label resume = a.newLabel();
  stack_offset(*this, 0);
  asmjit::Label slow = guarded_access(k, SS, size, TlbKind::Read, resume);
  const x86::Gp target = host::kTmp1.r32();
  if (size == 2) a.movzx(target, x86::ptr(host::kAddr, 0, 2));
  else a.mov(target, x86::ptr(host::kAddr, 0, 4));
  if (meta.key.cs_limit != 0xffffffffu) {
    a.cmp(target, imm(meta.key.cs_limit));
    a.ja(slow);  // #GP(0): the interpreter raises it, ESP untouched
  }
  predicted_return(*this, target);  // r8 = the target's code, or a miss routine
  need_rflags();                     // the next block expects the guest flags in RFLAGS
  commit_stack_pointer(*this, size + release);
  a.jmp(host::kAddr);
  a.bind(resume);
  a.jmp(imm(rt.exit_spill));
  return true;
}

// Slot i (0 = the lowest address) holds EDI, ESI, EBP, ESP, EBX, EDX, ECX, EAX.
static constexpr Reg kPushAllOrder[8] = {EDI, ESI, EBP, ESP, EBX, EDX, ECX, EAX};

bool Emission::push_all(unsigned k) {
  const int32_t slot = plan.insns[k].mem_size;
  asmjit::Label resume = a.newLabel();
  stack_offset(*this, -8 * slot);
  guarded_access(k, SS, 8 * slot, TlbKind::Write, resume);
  for (int i = 0; i < 8; ++i) {
    const Reg r = kPushAllOrder[i];
    const x86::Gp src = slot == 2 ? host::gpw(r) : host::gpd(r);  // ESP: its value before the instruction
    a.mov(x86::ptr(host::kAddr, i * slot, slot), src);
  }
  commit_stack_pointer(*this, -8 * slot);
  a.bind(resume);
  return true;
}

bool Emission::pop_all(unsigned k) {
  const int32_t slot = plan.insns[k].mem_size;
  asmjit::Label resume = a.newLabel();
  stack_offset(*this, 0);
  guarded_access(k, SS, 8 * slot, TlbKind::Read, resume);
  for (int i = 0; i < 8; ++i) {
    const Reg r = kPushAllOrder[i];
    if (r == ESP) continue;  // skipped
    const x86::Gp dst = slot == 2 ? host::gpw(r) : host::gpd(r);
    a.mov(dst, x86::ptr(host::kAddr, i * slot, slot));
  }
  commit_stack_pointer(*this, 8 * slot);
  a.bind(resume);
  return true;
}

// LEAVE: (E)SP := (E)BP (stack size), then POP (E)BP (operand size). The
// slot at (E)BP is read through the stack TLB path first; ESP and EBP are
// committed after it succeeded (the slow path runs the whole LEAVE).
bool Emission::leave(unsigned k) {
  const int32_t size = plan.insns[k].mem_size;
  asmjit::Label resume = a.newLabel();
  if (gb.stack32) a.mov(host::kAddr.r32(), host::gpd(EBP));
  else a.movzx(host::kAddr.r32(), host::gpw(EBP));
  guarded_access(k, SS, size, TlbKind::Read, resume);
  const x86::Gp value = sized(host::kTmp1, size);
  a.mov(value, x86::ptr(host::kAddr, 0, size));
  if (gb.stack32) {
    a.lea(host::gpd(ESP), x86::ptr(host::gpq(EBP), size));
  } else {
    a.lea(host::kTmp2.r32(), x86::ptr(host::gpq(EBP), size));
    a.mov(host::gpw(ESP), host::kTmp2.r16());
  }
  a.mov(size == 2 ? host::gpw(EBP) : host::gpd(EBP), value);
  a.bind(resume);
  return true;
}

}  // namespace popek::dbt
