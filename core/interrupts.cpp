// Interrupt and exception delivery (SDM vol. 2 INT n, vol. 3 ch. 6 and
// 20.3): the real-mode IVT, and the protected-mode IDT with interrupt, trap
// and task gates, privilege changes with a stack switch from the TSS, and
// interrupts from V86 mode to ring 0. No VME: a software INT n in V86 mode
// with IOPL < 3 is #GP(0).
//
// Error codes raised while delivering carry the EXT bit when the event came
// from outside the instruction stream (exceptions, hardware interrupts,
// ICEBP). The EFLAGS image pushed for a fault-class exception has RF set
// (SDM vol. 3 17.3.1.1), so the faulting instruction restarts without
// re-triggering an instruction breakpoint.
#include <cstdint>

#include "core/system_internal.h"

namespace popek {

using namespace sys;

namespace {

bool is_software(IntKind k) {
  return k == IntKind::Software || k == IntKind::SoftwareInt3 || k == IntKind::SoftwareInto;
}

bool is_fault_class(uint8_t v) {
  switch (v) {
    case vec::DE: case vec::BR: case vec::UD: case vec::NM: case vec::TS: case vec::NP:
    case vec::SS: case vec::GP: case vec::PF: case vec::MF: case vec::AC:
      return true;
    default:
      return false;
  }
}

struct Event {
  uint8_t vector;
  IntKind kind;
  bool has_error;
  uint32_t error_code;
  uint32_t return_eip;
  uint32_t ext;  // EXT bit for error codes raised while delivering
};

void deliver_real(Interpreter& in, const Event& e) {
  auto& cpu = in.cpu;
  if (e.vector * 4u + 3 > cpu.idtr.limit) raise_fault(vec::GP, 0);
  const uint32_t entry = in.read_sys(cpu.idtr.base + e.vector * 4u, 4);
  StackFrame f(cpu.seg[SS], cpu.regs[ESP], 0, 0);
  f.push(cpu.eflags, 2);
  f.push(cpu.seg[CS].selector, 2);
  f.push(e.return_eip, 2);
  f.check_limits();
  f.write(in);
  cpu.regs[ESP] = f.esp();
  cpu.eflags &= ~(flag::IF | flag::TF | flag::AC);
  in.load_segment_real(CS, static_cast<uint16_t>(entry >> 16));
  cpu.eip = in.next_eip = entry & 0xffff;
}

// Through a task gate: switch tasks, then push the error code (if any) on
// the new task's stack.
void deliver_task_gate(Interpreter& in, const Event& e, const Descriptor& gate) {
  const uint16_t tss_sel = gate.gate_selector();
  Descriptor tss = check_task_gate_target(in, tss_sel, e.ext);
  task_switch(in, tss_sel, tss, TaskSwitchReason::Interrupt, e.return_eip, e.ext);
  if (e.has_error) {
    StackFrame f(in.cpu.seg[SS], in.cpu.regs[ESP], in.cpl(), e.ext);
    f.push(e.error_code, (tss.type() & 8) ? 4 : 2);
    f.check_limits();
    f.write(in);
    in.cpu.regs[ESP] = f.esp();
  }
  in.cpu.eip = in.next_eip;
}

// Checks the code segment an interrupt/trap gate names.
Descriptor check_handler_segment(Interpreter& in, uint16_t sel, uint32_t ext) {
  if (selector_null(sel)) raise_fault(vec::GP, ext);
  Descriptor d;
  if (!fetch_descriptor(in, sel, d) || !d.is_code() || d.dpl() > in.cpl())
    raise_fault(vec::GP, selector_error(sel, ext));
  if (!d.present()) raise_fault(vec::NP, selector_error(sel, ext));
  return d;
}

// Interrupt or trap gate. `inner` (a more privileged non-conforming
// handler) switches to the TSS stack for the handler's DPL; from V86 mode
// the data segment registers are saved on it and nulled.
void deliver_trap_or_interrupt_gate(Interpreter& in, const Event& e, const Descriptor& gate) {
  auto& cpu = in.cpu;
  const uint16_t code_sel = gate.gate_selector();
  Descriptor code = check_handler_segment(in, code_sel, e.ext);
  const bool from_v86 = in.v86_mode();
  const bool inner = !code.conforming() && code.dpl() < in.cpl();
  if (from_v86 && (!inner || code.dpl() != 0)) raise_fault(vec::GP, selector_error(code_sel, e.ext));
  const unsigned new_cpl = inner ? code.dpl() : in.cpl();
  const unsigned size = gate.gate32() ? 4 : 2;
  const uint32_t offset = gate.gate32() ? gate.gate_offset() : (gate.gate_offset() & 0xffff);

  uint16_t ss_sel = cpu.seg[SS].selector;
  Descriptor ss;
  SegmentCache ss_cache = cpu.seg[SS];
  uint32_t esp = cpu.regs[ESP];
  uint32_t limit_error = e.ext;
  if (inner) {
    tss_inner_stack(in, new_cpl, e.ext, ss_sel, esp);
    ss = check_stack_segment(in, ss_sel, new_cpl, StackCheck::InnerTss, e.ext);
    ss_cache = ss.cache(ss_sel);
    limit_error = selector_error(ss_sel, e.ext);
  }
  StackFrame f(ss_cache, esp, new_cpl, limit_error);
  if (from_v86)
    for (SegReg s : {GS, FS, DS, ES}) f.push(cpu.seg[s].selector, size);
  if (inner) {
    f.push(cpu.seg[SS].selector, size);
    f.push(cpu.regs[ESP], size);
  }
  const uint32_t image = cpu.eflags | ((e.kind == IntKind::Exception && is_fault_class(e.vector)) ? flag::RF : 0);
  f.push(image, size);
  f.push(cpu.seg[CS].selector, size);
  f.push(e.return_eip, size);
  if (e.has_error) f.push(e.error_code, size);
  f.check_limits();
  if (offset > code.limit()) raise_fault(vec::GP, 0);
  f.write(in);
  if (inner) mark_accessed(in, ss);  // may #PF: before any register changes
  mark_accessed(in, code);

  if (inner) load_segment_descriptor(in, SS, ss_sel, ss);
  cpu.regs[ESP] = f.esp();
  if (from_v86)
    for (SegReg s : {GS, FS, DS, ES}) load_null_segment(in, s, 0);
  cpu.eflags &= ~(flag::TF | flag::NT | flag::RF | flag::VM);
  if (!(gate.type() & 1)) cpu.eflags &= ~flag::IF;  // interrupt gate (trap gates keep IF)
  load_code_segment(in, code_sel, code, new_cpl);
  cpu.eip = in.next_eip = offset;
}

void deliver_protected(Interpreter& in, const Event& e) {
  auto& cpu = in.cpu;
  if (in.v86_mode() && e.kind == IntKind::Software && in.iopl() < 3) raise_fault(vec::GP, 0);
  const uint32_t idt_error = e.vector * 8u + 2 + e.ext;
  if (e.vector * 8u + 7 > cpu.idtr.limit) raise_fault(vec::GP, idt_error);
  Descriptor gate;
  gate.addr = cpu.idtr.base + e.vector * 8u;
  gate.lo = in.read_sys(gate.addr, 4);
  gate.hi = in.read_sys(gate.addr + 4, 4);
  const unsigned t = gate.type();
  const bool valid = !gate.s() && (t == sys_type::TASK_GATE || t == sys_type::INT_GATE16 ||
                                   t == sys_type::TRAP_GATE16 || t == sys_type::INT_GATE32 ||
                                   t == sys_type::TRAP_GATE32);
  if (!valid) raise_fault(vec::GP, idt_error);
  if (is_software(e.kind) && gate.dpl() < in.cpl()) raise_fault(vec::GP, e.vector * 8u + 2);
  if (!gate.present()) raise_fault(vec::NP, idt_error);
  if (t == sys_type::TASK_GATE) {
    deliver_task_gate(in, e, gate);
  } else {
    deliver_trap_or_interrupt_gate(in, e, gate);
  }
}

}  // namespace

void Interpreter::interrupt(uint8_t vector, IntKind kind, bool has_error, uint32_t error_code, uint32_t return_eip) {
  // No single-step trap after an instruction that raised an interrupt: the
  // handler runs with TF clear and the trap resumes after its IRET.
  suppress_single_step = true;
  cpu.halted = 0;  // any delivered event ends HLT
  const uint32_t ext = is_software(kind) ? 0 : 1;
  const Event e{vector, kind, has_error, error_code, return_eip, ext};
  if (real_mode()) {
    deliver_real(*this, e);
  } else {
    deliver_protected(*this, e);
  }
}

}  // namespace popek
