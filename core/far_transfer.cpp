// Far JMP, far CALL and far RET (SDM vol. 2 JMP/CALL/RET, vol. 3 5.8).
//
// Real and V86 mode: CS is loaded the 8086 way. Protected mode: direct
// transfers to code segments, call gates (16/32-bit, same privilege or, for
// CALL, to a more privileged non-conforming segment with a stack switch
// from the TSS and parameter copy), task gates and TSS descriptors (task
// switch, core/task_switch.cpp), and RET to the same or an outer level.
//
// Choices where the SDM leaves room: a 32-bit push of CS (or of the old SS)
// writes the selector zero-extended to 32 bits, as Bochs and QEMU do.
#include <cstdint>

#include "core/system_internal.h"

namespace popek {

using namespace sys;

namespace {

uint32_t wrap_sp(const Interpreter& in, uint32_t sp) { return in.stack32() ? sp : (sp & 0xffff); }

// Checks a code segment reached directly by JMP/CALL (no gate).
void check_direct_code_target(Interpreter& in, uint16_t sel, const Descriptor& d) {
  if (d.conforming() ? d.dpl() > in.cpl() : (selector_rpl(sel) > in.cpl() || d.dpl() != in.cpl()))
    raise_fault(vec::GP, selector_error(sel));
  if (!d.present()) raise_fault(vec::NP, selector_error(sel));
}

// Checks the code segment a call gate names. JMP may not change the CPL;
// CALL may enter a more privileged non-conforming segment.
Descriptor check_gate_code_target(Interpreter& in, uint16_t code_sel, bool is_call) {
  if (selector_null(code_sel)) raise_fault(vec::GP, 0);
  Descriptor d;
  if (!fetch_descriptor(in, code_sel, d) || !d.is_code() || d.dpl() > in.cpl())
    raise_fault(vec::GP, selector_error(code_sel));
  if (!is_call && !d.conforming() && d.dpl() != in.cpl()) raise_fault(vec::GP, selector_error(code_sel));
  if (!d.present()) raise_fault(vec::NP, selector_error(code_sel));
  return d;
}

// Gate and TSS descriptors named by JMP/CALL: DPL >= max(CPL, RPL), present.
void check_system_target(Interpreter& in, uint16_t sel, const Descriptor& d) {
  if (d.dpl() < in.cpl() || d.dpl() < selector_rpl(sel)) raise_fault(vec::GP, selector_error(sel));
  if (!d.present()) raise_fault(vec::NP, selector_error(sel));
}

// JMP/CALL to a task gate or an available TSS.
void far_task_switch(Interpreter& in, uint16_t sel, Descriptor& d, TaskSwitchReason why) {
  if (d.type() == sys_type::TASK_GATE) {
    check_system_target(in, sel, d);
    const uint16_t tss_sel = d.gate_selector();
    Descriptor tss = check_task_gate_target(in, tss_sel, 0);
    task_switch(in, tss_sel, tss, why, in.next_eip, 0);
    return;
  }
  // A TSS named directly: a busy one is #GP before the present check.
  if (d.dpl() < in.cpl() || d.dpl() < selector_rpl(sel) || d.tss_busy()) raise_fault(vec::GP, selector_error(sel));
  if (!d.present()) raise_fault(vec::NP, selector_error(sel));
  task_switch(in, sel, d, why, in.next_eip, 0);
}

// Pushes the return address on the current stack and enters `code` at the
// same privilege level.
void call_same_level(Interpreter& in, uint16_t sel, Descriptor& code, uint32_t offset, unsigned size) {
  StackFrame f(in.cpu.seg[SS], in.cpu.regs[ESP], in.cpl(), 0);
  f.push(in.cpu.seg[CS].selector, size);
  f.push(in.next_eip, size);
  f.check_limits();
  if (offset > code.limit()) raise_fault(vec::GP, 0);
  f.write(in);
  mark_accessed(in, code);  // may #PF: before any register changes
  in.cpu.regs[ESP] = f.esp();
  load_code_segment(in, sel, code, in.cpl());
  in.next_eip = offset;
}

// CALL through a call gate to a more privileged non-conforming segment:
// stack switch from the TSS, copy of gate.param_count parameters.
void call_gate_inner(Interpreter& in, const Descriptor& gate, uint16_t code_sel, Descriptor& code,
                     uint32_t offset) {
  const unsigned new_cpl = code.dpl();
  const unsigned size = gate.gate32() ? 4 : 2;
  uint16_t ss_sel;
  uint32_t esp;
  tss_inner_stack(in, new_cpl, 0, ss_sel, esp);
  Descriptor ss = check_stack_segment(in, ss_sel, new_cpl, StackCheck::InnerTss);

  const unsigned count = gate.gate_param_count();
  uint32_t params[32];
  for (unsigned i = 0; i < count; ++i) params[i] = in.stack_read(i * size, size);

  StackFrame f(ss.cache(ss_sel), esp, new_cpl, selector_error(ss_sel));
  f.push(in.cpu.seg[SS].selector, size);
  f.push(in.cpu.regs[ESP], size);
  for (unsigned i = count; i-- > 0;) f.push(params[i], size);
  f.push(in.cpu.seg[CS].selector, size);
  f.push(in.next_eip, size);
  f.check_limits();
  if (offset > code.limit()) raise_fault(vec::GP, 0);
  f.write(in);
  mark_accessed(in, ss);  // may #PF: before any register changes
  mark_accessed(in, code);

  load_segment_descriptor(in, SS, ss_sel, ss);
  in.cpu.regs[ESP] = f.esp();
  load_code_segment(in, code_sel, code, new_cpl);
  in.next_eip = offset;
}

void far_transfer_protected(Interpreter& in, uint16_t sel, uint32_t offset, unsigned opsize, bool is_call) {
  if (selector_null(sel)) raise_fault(vec::GP, 0);
  Descriptor d;
  if (!fetch_descriptor(in, sel, d)) raise_fault(vec::GP, selector_error(sel));
  if (d.is_code()) {
    check_direct_code_target(in, sel, d);
    if (is_call) {
      call_same_level(in, sel, d, offset, opsize);
      return;
    }
    if (offset > d.limit()) raise_fault(vec::GP, 0);
    load_code_segment(in, sel, d, in.cpl());
    in.next_eip = offset;
    return;
  }
  const TaskSwitchReason why = is_call ? TaskSwitchReason::Call : TaskSwitchReason::Jump;
  switch (d.s() ? 0u : d.type()) {
    case sys_type::CALL_GATE16:
    case sys_type::CALL_GATE32: {
      check_system_target(in, sel, d);
      const uint16_t code_sel = d.gate_selector();
      Descriptor code = check_gate_code_target(in, code_sel, is_call);
      const uint32_t target = d.gate32() ? d.gate_offset() : (d.gate_offset() & 0xffff);
      if (is_call && !code.conforming() && code.dpl() < in.cpl()) {
        call_gate_inner(in, d, code_sel, code, target);
      } else if (is_call) {
        call_same_level(in, code_sel, code, target, d.gate32() ? 4 : 2);
      } else {
        if (target > code.limit()) raise_fault(vec::GP, 0);
        load_code_segment(in, code_sel, code, in.cpl());
        in.next_eip = target;
      }
      return;
    }
    case sys_type::TASK_GATE:
    case sys_type::TSS16_AVAIL:
    case sys_type::TSS32_AVAIL:
    case sys_type::TSS16_BUSY:
    case sys_type::TSS32_BUSY:
      far_task_switch(in, sel, d, why);
      return;
    default:
      raise_fault(vec::GP, selector_error(sel));
  }
}

// Real and V86 mode: the new CS's limit is the cached one (real mode) or
// 0xFFFF (V86).
void check_real_target(const Interpreter& in, uint32_t offset) {
  const uint32_t limit = in.v86_mode() ? 0xffff : in.cpu.seg[CS].limit;
  if (offset > limit) raise_fault(vec::GP, 0);
}

}  // namespace

void Interpreter::far_jump(uint16_t selector, uint32_t offset, unsigned opsize) {
  if (opsize == 2) offset &= 0xffff;
  if (protected_mode() && !v86_mode()) {
    far_transfer_protected(*this, selector, offset, opsize, false);
    return;
  }
  check_real_target(*this, offset);
  load_segment(CS, selector);
  next_eip = offset;
}

void Interpreter::far_call(uint16_t selector, uint32_t offset, unsigned opsize) {
  if (opsize == 2) offset &= 0xffff;
  if (protected_mode() && !v86_mode()) {
    far_transfer_protected(*this, selector, offset, opsize, true);
    return;
  }
  StackFrame f(cpu.seg[SS], cpu.regs[ESP], cpl(), 0);
  f.push(cpu.seg[CS].selector, opsize);
  f.push(next_eip, opsize);
  f.check_limits();
  check_real_target(*this, offset);
  f.write(*this);
  cpu.regs[ESP] = f.esp();
  load_segment(CS, selector);
  next_eip = offset;
}

void Interpreter::far_return(unsigned opsize, uint16_t imm) {
  uint32_t ip = stack_read(0, opsize);
  const uint16_t cs_sel = static_cast<uint16_t>(stack_read(opsize, opsize));
  if (opsize == 2) ip &= 0xffff;
  const uint32_t popped = 2 * opsize;
  if (!protected_mode() || v86_mode()) {
    check_real_target(*this, ip);
    load_segment(CS, cs_sel);
    set_stack_pointer(wrap_sp(*this, stack_pointer() + popped + imm));
    next_eip = ip;
    return;
  }
  Descriptor code = check_return_code_segment(*this, cs_sel);
  const unsigned rpl = selector_rpl(cs_sel);
  if (rpl == cpl()) {
    if (ip > code.limit()) raise_fault(vec::GP, 0);
    load_code_segment(*this, cs_sel, code, rpl);
    set_stack_pointer(wrap_sp(*this, stack_pointer() + popped + imm));
    next_eip = ip;
    return;
  }
  // Return to an outer level: the caller's SS:ESP lies above the parameters.
  const uint32_t new_esp = stack_read(popped + imm, opsize);
  const uint16_t ss_sel = static_cast<uint16_t>(stack_read(popped + imm + opsize, opsize));
  Descriptor ss = check_stack_segment(*this, ss_sel, rpl, StackCheck::OuterReturn);
  if (ip > code.limit()) raise_fault(vec::GP, 0);
  mark_accessed(*this, ss);  // may #PF: before any register changes
  load_code_segment(*this, cs_sel, code, rpl);
  load_segment_descriptor(*this, SS, ss_sel, ss);
  // A 16-bit SS takes only SP; ESP[31:16] keep the inner value (P6, the
  // reason for Linux's espfix).
  set_stack_pointer(wrap_sp(*this, new_esp + imm));
  null_inaccessible_data_segments(*this);
  next_eip = ip;
}

}  // namespace popek
