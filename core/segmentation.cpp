// Placeholder: real-mode-only segment loading (protected mode being written).
#include "core/interpreter.h"

namespace popek {

void Interpreter::load_segment_real(SegReg seg, uint16_t selector) {
  SegmentCache& sc = cpu.seg[seg];
  sc.selector = selector;
  sc.base = uint32_t(selector) << 4;
}

void Interpreter::load_segment(SegReg seg, uint16_t selector) { load_segment_real(seg, selector); }

bool Interpreter::read_descriptor(uint16_t selector, uint64_t& desc) {
  const DescriptorTableReg& t = cpu.gdtr;
  uint32_t off = selector & ~7u;
  if (off + 7 > t.limit) return false;
  desc = uint64_t(read_sys(t.base + off, 4)) | (uint64_t(read_sys(t.base + off + 4, 4)) << 32);
  return true;
}

void Interpreter::far_jump(uint16_t selector, uint32_t offset, unsigned) {
  load_segment_real(CS, selector);
  next_eip = offset;
}
void Interpreter::far_call(uint16_t selector, uint32_t offset, unsigned opsize) {
  push(cpu.seg[CS].selector, opsize);
  push(next_eip, opsize);
  far_jump(selector, offset, opsize);
}
void Interpreter::far_return(unsigned opsize, uint16_t imm) {
  uint32_t ip = pop(opsize);
  uint16_t cs = static_cast<uint16_t>(pop(opsize));
  set_stack_pointer(stack_pointer() + imm);
  far_jump(cs, ip, opsize);
}
void Interpreter::iret(unsigned opsize) {
  uint32_t ip = pop(opsize);
  uint16_t cs = static_cast<uint16_t>(pop(opsize));
  uint32_t fl = pop(opsize);
  far_jump(cs, ip, opsize);
  if (opsize == 2) fl = (cpu.eflags & 0xffff0000u) | (fl & 0xffff);
  cpu.eflags = (fl & 0x3f7fd5u) | flag::FIXED1;
}

}  // namespace popek
