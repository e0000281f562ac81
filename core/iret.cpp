// IRET/IRETD (SDM vol. 2 IRET): real mode, V86 mode (IOPL 3 only; no VME),
// task return through the back link (NT = 1), return to V86 mode (VM = 1 in
// the popped EFLAGS at CPL 0), and protected-mode returns to the same or an
// outer privilege level. Any IRET ends NMI blocking.
#include <cstdint>

#include "core/system_internal.h"

namespace popek {

using namespace sys;

namespace {

// EFLAGS after a protected-mode IRET (same or outer level). The CPL and
// IOPL rules use the privilege level the IRET executes at.
uint32_t protected_iret_flags(const Interpreter& in, uint32_t popped, unsigned opsize) {
  uint32_t mask = flag::ARITH | flag::TF | flag::DF | flag::NT;
  if (opsize == 4) mask |= flag::RF | flag::AC | flag::ID;
  if (in.cpl() <= in.iopl()) mask |= flag::IF;
  if (in.cpl() == 0) {
    mask |= flag::IOPL;
    if (opsize == 4) mask |= flag::VIF | flag::VIP;
  }
  return (in.cpu.eflags & ~mask) | (popped & mask) | flag::FIXED1;
}

// Real mode, or V86 mode at IOPL 3 (which may not change IOPL, VM, VIF, VIP).
void iret_real_or_v86(Interpreter& in, unsigned opsize) {
  uint32_t ip = in.stack_read(0, opsize);
  const uint16_t cs_sel = static_cast<uint16_t>(in.stack_read(opsize, opsize));
  const uint32_t popped = in.stack_read(2 * opsize, opsize);
  if (opsize == 2) ip &= 0xffff;
  const uint32_t limit = in.v86_mode() ? 0xffff : in.cpu.seg[CS].limit;
  if (ip > limit) raise_fault(vec::GP, 0);

  uint32_t writable = opsize == 4 ? (eflags::kWritable | flag::RF) : (eflags::kWritable & 0xffff);
  if (in.v86_mode()) writable &= ~flag::IOPL;
  in.cpu.eflags = (in.cpu.eflags & ~writable) | (popped & writable) | flag::FIXED1;
  in.load_segment(CS, cs_sel);
  in.set_stack_pointer(in.stack_pointer() + 3 * opsize);
  in.next_eip = ip;
}

// NT = 1: switch back to the task in the current TSS's back link.
void iret_task_return(Interpreter& in) {
  const uint16_t link = static_cast<uint16_t>(in.read_sys(in.cpu.tr.base, 2));
  Descriptor tss;
  if (selector_ldt(link) || !fetch_descriptor(in, link, tss) || !tss.is_tss() || !tss.tss_busy())
    raise_fault(vec::TS, selector_error(link));
  if (!tss.present()) raise_fault(vec::NP, selector_error(link));
  task_switch(in, link, tss, TaskSwitchReason::Iret, in.next_eip, 0);
}

// IRETD at CPL 0 with VM = 1 in the popped EFLAGS.
void iret_to_v86(Interpreter& in, uint32_t ip, uint16_t cs_sel, uint32_t popped) {
  uint32_t v[6];  // ESP, SS, ES, DS, FS, GS
  for (int i = 0; i < 6; ++i) v[i] = in.stack_read(12 + 4 * i, 4);
  if (ip > 0xffff) raise_fault(vec::GP, 0);
  in.cpu.eflags = (popped & eflags::kDefined) | flag::FIXED1;
  load_v86_segment(in, CS, cs_sel);
  load_v86_segment(in, SS, static_cast<uint16_t>(v[1]));
  load_v86_segment(in, ES, static_cast<uint16_t>(v[2]));
  load_v86_segment(in, DS, static_cast<uint16_t>(v[3]));
  load_v86_segment(in, FS, static_cast<uint16_t>(v[4]));
  load_v86_segment(in, GS, static_cast<uint16_t>(v[5]));
  in.cpu.regs[ESP] = v[0];
  in.set_cpl(3);
  in.next_eip = ip;
}

void iret_protected(Interpreter& in, unsigned opsize) {
  uint32_t ip = in.stack_read(0, opsize);
  const uint16_t cs_sel = static_cast<uint16_t>(in.stack_read(opsize, opsize));
  const uint32_t popped = in.stack_read(2 * opsize, opsize);
  if (opsize == 2) ip &= 0xffff;
  if (opsize == 4 && (popped & flag::VM) && in.cpl() == 0) {
    iret_to_v86(in, ip, cs_sel, popped);
    return;
  }
  Descriptor code = check_return_code_segment(in, cs_sel);
  const unsigned rpl = selector_rpl(cs_sel);
  const uint32_t new_flags = protected_iret_flags(in, popped, opsize);
  if (rpl == in.cpl()) {
    if (ip > code.limit()) raise_fault(vec::GP, 0);
    load_code_segment(in, cs_sel, code, rpl);  // sets the accessed bit first
    in.cpu.eflags = new_flags;
    in.set_stack_pointer(in.stack_pointer() + 3 * opsize);
    in.next_eip = ip;
    return;
  }
  const uint32_t new_esp = in.stack_read(3 * opsize, opsize);
  const uint16_t ss_sel = static_cast<uint16_t>(in.stack_read(4 * opsize, opsize));
  Descriptor ss = check_stack_segment(in, ss_sel, rpl, StackCheck::OuterReturn);
  if (ip > code.limit()) raise_fault(vec::GP, 0);
  mark_accessed(in, ss);  // may #PF: before any register changes
  mark_accessed(in, code);
  in.cpu.eflags = new_flags;
  load_code_segment(in, cs_sel, code, rpl);
  load_segment_descriptor(in, SS, ss_sel, ss);
  // A 16-bit SS takes only SP (ESP[31:16] keep the inner value, as on P6).
  in.set_stack_pointer(new_esp);
  null_inaccessible_data_segments(in);
  in.next_eip = ip;
}

}  // namespace

void Interpreter::iret(unsigned opsize) {
  if (real_mode()) {
    iret_real_or_v86(*this, opsize);
  } else if (v86_mode()) {
    if (iopl() < 3) raise_fault(vec::GP, 0);
    iret_real_or_v86(*this, opsize);
  } else if (cpu.eflags & flag::NT) {
    iret_task_return(*this);
  } else {
    iret_protected(*this, opsize);
  }
  cpu.in_nmi = 0;
}

}  // namespace popek
