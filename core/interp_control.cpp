// Control transfer: JMP, Jcc, CALL, RET (near forms here; the far forms of
// the same mnemonics are forwarded to the system group's
// exec_far_transfer_form), LOOP LOOPE LOOPNE, JCXZ JECXZ, and BOUND.
//
// Near targets are truncated to 16 bits under a 16-bit operand size and
// checked against the CS limit (#GP(0)) by Interpreter::branch_near before
// anything is committed: a CALL whose target is beyond the limit faults
// before pushing, and a RET that would fault has not moved ESP yet.
#include "core/interp_int_helpers.h"

namespace popek {

// JMP/CALL ptr16:16/32 or m16:16/32 and RETF [imm16] (defined by the system
// group in interp_system.cpp; declared in interpreter.h). This weak default,
// used only while that definition is absent, decodes the far pointer and
// calls the Interpreter's far-transfer helpers.
void exec_far_transfer_form(Interpreter& in, const DecodedInsn& d);
__attribute__((weak)) void exec_far_transfer_form(Interpreter& in, const DecodedInsn& d) {
  const unsigned size = d.insn.operand_width / 8;
  const ZydisDecodedOperand& op = d.ops[0];
  if (d.insn.mnemonic == ZYDIS_MNEMONIC_RET) {
    in.far_return(size, d.insn.operand_count_visible ? static_cast<uint16_t>(op.imm.value.u) : 0);
    return;
  }
  uint16_t selector;
  uint32_t offset;
  if (op.type == ZYDIS_OPERAND_TYPE_POINTER) {
    selector = op.ptr.segment;
    offset = op.ptr.offset;
  } else {
    const SegReg seg = in.operand_segment(op);
    const uint32_t ea = in.effective_address(op);
    const uint32_t selector_at = d.insn.address_width == 16 ? ((ea + size) & 0xffff) : ea + size;
    offset = in.read_mem(seg, ea, size);
    selector = static_cast<uint16_t>(in.read_mem(seg, selector_at, 2));
  }
  if (d.insn.mnemonic == ZYDIS_MNEMONIC_CALL) in.far_call(selector, offset, size);
  else in.far_jump(selector, offset, size);
}

namespace {

using namespace intops;

unsigned operand_bytes(const DecodedInsn& d) { return d.insn.operand_width / 8; }

// Target of a relative branch: the next instruction plus the displacement.
uint32_t relative_target(const Interpreter& in, const DecodedInsn& d) {
  return in.next_eip + static_cast<uint32_t>(d.ops[0].imm.value.s);
}

void JMP_all(Interpreter& in, const DecodedInsn& d) {
  if (is_far_branch(d)) {
    exec_far_transfer_form(in, d);
    return;
  }
  const bool relative = d.ops[0].type == ZYDIS_OPERAND_TYPE_IMMEDIATE;
  in.branch_near(relative ? relative_target(in, d) : in.op_read(d, 0), operand_bytes(d));
}

void Jcc_rel(Interpreter& in, const DecodedInsn& d) {
  if (in.condition(condition_code(d))) in.branch_near(relative_target(in, d), operand_bytes(d));
}

// CALL rel / CALL r/m: the target is checked, then the return address pushed.
void CALL_all(Interpreter& in, const DecodedInsn& d) {
  const unsigned size = operand_bytes(d);
  if (is_far_branch(d)) {
    exec_far_transfer_form(in, d);
    return;
  }
  const bool relative = d.ops[0].type == ZYDIS_OPERAND_TYPE_IMMEDIATE;
  const uint32_t target = relative ? relative_target(in, d) : in.op_read(d, 0);
  const uint32_t return_eip = in.next_eip;
  in.branch_near(target, size);
  in.push(return_eip, size);
}

// RET / RET imm16 (near), RETF / RETF imm16 (far, system helper).
void RET_all(Interpreter& in, const DecodedInsn& d) {
  if (is_far_branch(d)) {
    exec_far_transfer_form(in, d);
    return;
  }
  const unsigned size = operand_bytes(d);
  const uint16_t release = d.insn.operand_count_visible ? static_cast<uint16_t>(d.ops[0].imm.value.u) : 0;
  const uint32_t target = in.stack_read(0, size);
  in.branch_near(target, size);
  const uint32_t sp = in.stack_pointer() + size + release;
  in.set_stack_pointer(in.stack32() ? sp : (sp & 0xffff));
}

// LOOP/LOOPE/LOOPNE: the address size picks CX or ECX. The decremented count
// is committed only once the branch (which may #GP) has been taken or not.
enum class LoopKind { Always, WhileEqual, WhileNotEqual };
template <LoopKind Kind>
void loop_rel8(Interpreter& in, const DecodedInsn& d) {
  const unsigned abits = d.insn.address_width;
  const uint32_t count = (gpr(in, ECX, abits) - 1) & mask_of(abits);
  bool taken = count != 0;
  if (Kind == LoopKind::WhileEqual) taken = taken && (in.cpu.eflags & flag::ZF);
  if (Kind == LoopKind::WhileNotEqual) taken = taken && !(in.cpu.eflags & flag::ZF);
  if (taken) in.branch_near(relative_target(in, d), operand_bytes(d));
  set_gpr(in, ECX, abits, count);
}

// JCXZ/JECXZ: the mnemonic follows the address size.
void JCXZ_rel8(Interpreter& in, const DecodedInsn& d) {
  if (gpr(in, ECX, d.insn.address_width) == 0) in.branch_near(relative_target(in, d), operand_bytes(d));
}

// BOUND reg, m16&16 / m32&32: signed bounds; out of range → #BR (a fault).
void BOUND_Gv_Ma(Interpreter& in, const DecodedInsn& d) {
  const unsigned bits = operand_bits(d, 0), size = bits / 8;
  const ZydisDecodedOperand& op = d.ops[1];
  const SegReg seg = in.operand_segment(op);
  const uint32_t ea = in.effective_address(op);
  uint32_t upper_offset = ea + size;
  if (d.insn.address_width == 16) upper_offset &= 0xffff;
  const auto lower = static_cast<int32_t>(sign_extend(in.read_mem(seg, ea, size), bits));
  const auto upper = static_cast<int32_t>(sign_extend(in.read_mem(seg, upper_offset, size), bits));
  const auto index = static_cast<int32_t>(sign_extend(in.op_read(d, 0), bits));
  if (index < lower || index > upper) raise_fault(vec::BR);
}

constexpr ZydisMnemonic kJcc[16] = {
    ZYDIS_MNEMONIC_JO, ZYDIS_MNEMONIC_JNO, ZYDIS_MNEMONIC_JB,  ZYDIS_MNEMONIC_JNB,
    ZYDIS_MNEMONIC_JZ, ZYDIS_MNEMONIC_JNZ, ZYDIS_MNEMONIC_JBE, ZYDIS_MNEMONIC_JNBE,
    ZYDIS_MNEMONIC_JS, ZYDIS_MNEMONIC_JNS, ZYDIS_MNEMONIC_JP,  ZYDIS_MNEMONIC_JNP,
    ZYDIS_MNEMONIC_JL, ZYDIS_MNEMONIC_JNL, ZYDIS_MNEMONIC_JLE, ZYDIS_MNEMONIC_JNLE};

}  // namespace

void register_control_handlers(HandlerTable& t) {
  t.set(ZYDIS_MNEMONIC_JMP, JMP_all);
  for (ZydisMnemonic m : kJcc) t.set(m, Jcc_rel);
  t.set(ZYDIS_MNEMONIC_CALL, CALL_all);
  t.set(ZYDIS_MNEMONIC_RET, RET_all);
  t.set(ZYDIS_MNEMONIC_LOOP, loop_rel8<LoopKind::Always>);
  t.set(ZYDIS_MNEMONIC_LOOPE, loop_rel8<LoopKind::WhileEqual>);
  t.set(ZYDIS_MNEMONIC_LOOPNE, loop_rel8<LoopKind::WhileNotEqual>);
  t.set(ZYDIS_MNEMONIC_JCXZ, JCXZ_rel8);
  t.set(ZYDIS_MNEMONIC_JECXZ, JCXZ_rel8);
  t.set(ZYDIS_MNEMONIC_BOUND, BOUND_Gv_Ma);
}

}  // namespace popek
