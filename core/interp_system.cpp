// The system group: flags and interrupt control (PUSHF POPF CLI STI),
// HLT, software interrupts (INT n, INT3, INTO, INT1), IRET, far
// JMP/CALL/RET forms, UD2, and the registration of the rest of the group
// (interp_segment.cpp, interp_privileged.cpp, io_permission.cpp,
// cpuid_msr.cpp). The mechanics of far transfers, interrupts and task
// switches live in far_transfer.cpp, iret.cpp, interrupts.cpp and
// task_switch.cpp.
//
// No VME/PVI: in V86 mode PUSHF, POPF, CLI, STI, INT n and IRET are #GP(0)
// unless IOPL = 3.
#include <cstdint>

#include "core/system_internal.h"

namespace popek {

using namespace sys;

namespace {

bool iopl_sensitive_in_v86(const Interpreter& in) { return in.v86_mode() && in.iopl() < 3; }

// PUSHF/PUSHFD: the image has VM and RF clear.
void PUSHF_all(Interpreter& in, const DecodedInsn& d) {
  if (iopl_sensitive_in_v86(in)) raise_fault(vec::GP, 0);
  in.push(in.cpu.eflags & ~(flag::VM | flag::RF), operand_bytes(d));
}

// POPF/POPFD: VM, RF, VIF, VIP never change; IOPL only at CPL 0; IF only
// when CPL <= IOPL (V86 at IOPL 3: IF yes, IOPL no).
void POPF_all(Interpreter& in, const DecodedInsn& d) {
  if (iopl_sensitive_in_v86(in)) raise_fault(vec::GP, 0);
  const unsigned size = operand_bytes(d);
  const uint32_t popped = in.stack_read(0, size);
  uint32_t mask = eflags::kWritable;
  if (size == 2) mask &= 0xffff;
  if (in.v86_mode()) {
    mask &= ~flag::IOPL;
  } else if (in.protected_mode() && in.cpl() > 0) {
    mask &= ~flag::IOPL;
    if (in.cpl() > in.iopl()) mask &= ~flag::IF;
  }
  in.set_stack_pointer(in.stack_pointer() + size);
  in.cpu.eflags = (in.cpu.eflags & ~mask) | (popped & mask) | flag::FIXED1;
}

// CLI/STI: #GP(0) when CPL > IOPL (V86: IOPL < 3).
void check_if_change_allowed(const Interpreter& in) {
  if (in.protected_mode() && in.cpl() > in.iopl()) raise_fault(vec::GP, 0);
}

void CLI(Interpreter& in, const DecodedInsn&) {
  check_if_change_allowed(in);
  in.cpu.eflags &= ~flag::IF;
}

// STI: when it sets IF, interrupts stay blocked until after the next instruction.
void STI(Interpreter& in, const DecodedInsn&) {
  check_if_change_allowed(in);
  if (!(in.cpu.eflags & flag::IF)) in.cpu.inhibit_irq = 1;
  in.cpu.eflags |= flag::IF;
}

void HLT(Interpreter& in, const DecodedInsn&) {
  require_cpl0(in);
  in.cpu.halted = 1;
}

void INT_Ib(Interpreter& in, const DecodedInsn& d) {
  in.interrupt(static_cast<uint8_t>(d.ops[0].imm.value.u), IntKind::Software, false, 0, in.next_eip);
}
void INT3(Interpreter& in, const DecodedInsn&) {
  in.interrupt(vec::BP, IntKind::SoftwareInt3, false, 0, in.next_eip);
}
void INTO(Interpreter& in, const DecodedInsn&) {
  if (in.cpu.eflags & flag::OF) in.interrupt(vec::OF, IntKind::SoftwareInto, false, 0, in.next_eip);
}
void INT1(Interpreter& in, const DecodedInsn&) {
  in.interrupt(vec::DB, IntKind::Icebp, false, 0, in.next_eip);
}

void IRET_all(Interpreter& in, const DecodedInsn& d) { in.iret(operand_bytes(d)); }

void UD2(Interpreter&, const DecodedInsn&) { raise_fault(vec::UD); }

bool is_control_register(ZydisRegister r) { return r >= ZYDIS_REGISTER_CR0 && r <= ZYDIS_REGISTER_CR15; }
bool is_debug_register(ZydisRegister r) { return r >= ZYDIS_REGISTER_DR0 && r <= ZYDIS_REGISTER_DR15; }
bool operand_is(const DecodedInsn& d, int i, bool (*pred)(ZydisRegister)) {
  return d.ops[i].type == ZYDIS_OPERAND_TYPE_REGISTER && pred(d.ops[i].reg.value);
}

}  // namespace

void exec_special_register_form(Interpreter& in, const DecodedInsn& d) {
  switch (d.insn.mnemonic) {
    case ZYDIS_MNEMONIC_PUSH:
      PUSH_Sreg(in, d);
      return;
    case ZYDIS_MNEMONIC_POP:
      POP_Sreg(in, d);
      return;
    case ZYDIS_MNEMONIC_MOV:
      if (operand_is(d, 0, is_control_register) || operand_is(d, 1, is_control_register)) MOV_CRn(in, d);
      else if (operand_is(d, 0, is_debug_register) || operand_is(d, 1, is_debug_register)) MOV_DRn(in, d);
      else MOV_Sreg(in, d);
      return;
    default:
      in.unimplemented(d);
  }
}

// JMP/CALL ptr16:16/32 or m16:16/32; RETF [imm16].
void exec_far_transfer_form(Interpreter& in, const DecodedInsn& d) {
  const unsigned opsize = operand_bytes(d);
  if (d.insn.mnemonic == ZYDIS_MNEMONIC_RET) {
    const bool has_imm = d.insn.operand_count_visible > 0 && d.ops[0].type == ZYDIS_OPERAND_TYPE_IMMEDIATE;
    in.far_return(opsize, has_imm ? static_cast<uint16_t>(d.ops[0].imm.value.u) : 0);
    return;
  }
  const ZydisDecodedOperand& op = d.ops[0];
  uint16_t sel;
  uint32_t offset;
  if (op.type == ZYDIS_OPERAND_TYPE_POINTER) {
    sel = op.ptr.segment;
    offset = op.ptr.offset;
  } else if (op.type == ZYDIS_OPERAND_TYPE_MEMORY) {
    const SegReg seg = in.operand_segment(op);
    const uint32_t ea = in.effective_address(op);
    offset = in.read_mem(seg, ea, opsize);
    sel = static_cast<uint16_t>(in.read_mem(seg, ea + opsize, 2));
  } else {
    raise_fault(vec::UD);
  }
  if (d.insn.mnemonic == ZYDIS_MNEMONIC_CALL) in.far_call(sel, offset, opsize);
  else in.far_jump(sel, offset, opsize);
}

void Interpreter::fpu_check_available(bool waiting) {
  if (cpu.cr0 & (cr0::EM | cr0::TS)) raise_fault(vec::NM);
  // A pending unmasked x87 exception (status word ES) is reported by the
  // next waiting instruction as #MF when CR0.NE = 1. With NE = 0 a PC routes
  // FERR# to IRQ 13 instead, which this CPU model does not drive.
  if (waiting && (cpu.fpu.sw & 0x80) && (cpu.cr0 & cr0::NE)) raise_fault(vec::MF);
}

void register_system_handlers(HandlerTable& t) {
  t.set(ZYDIS_MNEMONIC_PUSHF, PUSHF_all);
  t.set(ZYDIS_MNEMONIC_PUSHFD, PUSHF_all);
  t.set(ZYDIS_MNEMONIC_POPF, POPF_all);
  t.set(ZYDIS_MNEMONIC_POPFD, POPF_all);
  t.set(ZYDIS_MNEMONIC_CLI, CLI);
  t.set(ZYDIS_MNEMONIC_STI, STI);
  t.set(ZYDIS_MNEMONIC_HLT, HLT);
  t.set(ZYDIS_MNEMONIC_INT, INT_Ib);
  t.set(ZYDIS_MNEMONIC_INT3, INT3);
  t.set(ZYDIS_MNEMONIC_INTO, INTO);
  t.set(ZYDIS_MNEMONIC_INT1, INT1);
  t.set(ZYDIS_MNEMONIC_IRET, IRET_all);
  t.set(ZYDIS_MNEMONIC_IRETD, IRET_all);
  t.set(ZYDIS_MNEMONIC_UD2, UD2);
  register_segment_handlers(t);
  register_privileged_handlers(t);
  register_io_handlers(t);
  register_identity_handlers(t);
}

}  // namespace popek
