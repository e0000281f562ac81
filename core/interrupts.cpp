// Placeholder: real-mode interrupt delivery (protected mode being written).
#include "core/interpreter.h"

namespace popek {

void Interpreter::interrupt(uint8_t vector, IntKind, bool, uint32_t, uint32_t return_eip) {
  uint32_t ivt = cpu.idtr.base + vector * 4u;
  if (vector * 4u + 3 > cpu.idtr.limit) raise_fault(vec::GP, 0);
  uint32_t entry = read_sys(ivt, 4);
  push(cpu.eflags & 0xffff, 2);
  push(cpu.seg[CS].selector, 2);
  push(return_eip & 0xffff, 2);
  cpu.eflags &= ~(flag::IF | flag::TF | flag::AC | flag::RF);
  load_segment_real(CS, static_cast<uint16_t>(entry >> 16));
  cpu.eip = entry & 0xffff;
  next_eip = cpu.eip;
}

}  // namespace popek
