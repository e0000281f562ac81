// Port I/O: IN and OUT (imm8 and DX forms), and the protection check every
// port access goes through (INS/OUTS included, via io_in/io_out).
//
// SDM vol. 1 18.5: in protected mode with CPL > IOPL, and always in V86
// mode, the access is allowed only if the 32-bit TSS's I/O permission
// bitmap has a 0 for every byte the access touches. The bitmap starts at
// the offset stored at TSS+0x66; the CPU reads two bytes of it, both of
// which must lie inside the TSS limit. A 16-bit TSS has no bitmap (denied).
#include <cstdint>

#include "core/system_internal.h"

namespace popek {

using namespace sys;

bool Interpreter::io_permitted(uint16_t port, unsigned size) {
  if (!protected_mode()) return true;
  if (!v86_mode() && cpl() <= iopl()) return true;
  const SegmentCache& tr = cpu.tr;
  if (!tss_is_32bit(*this) || !tr.present() || tr.limit < 0x67) return false;
  const uint32_t bitmap = read_sys(tr.base + 0x66, 2);
  const uint32_t at = bitmap + port / 8u;
  if (at + 1 > tr.limit) return false;
  const uint32_t bits = read_sys(tr.base + at, 2);
  const uint32_t mask = ((1u << size) - 1) << (port & 7);
  return (bits & mask) == 0;
}

uint32_t Interpreter::io_in(uint16_t port, unsigned size) {
  if (!io_permitted(port, size)) raise_fault(vec::GP, 0);
  return io.read(port, size);
}

void Interpreter::io_out(uint16_t port, unsigned size, uint32_t value) {
  if (!io_permitted(port, size)) raise_fault(vec::GP, 0);
  io.write(port, size, value);
}

namespace {

// The port operand: imm8 or DX.
uint16_t port_operand(const Interpreter& in, const ZydisDecodedOperand& op) {
  if (op.type == ZYDIS_OPERAND_TYPE_IMMEDIATE) return static_cast<uint16_t>(op.imm.value.u & 0xff);
  return static_cast<uint16_t>(in.cpu.regs[EDX]);
}

// IN AL/AX/EAX, imm8|DX
void IN_acc_port(Interpreter& in, const DecodedInsn& d) {
  const unsigned size = d.ops[0].size / 8;
  in.op_write(d, 0, in.io_in(port_operand(in, d.ops[1]), size));
}

// OUT imm8|DX, AL/AX/EAX
void OUT_port_acc(Interpreter& in, const DecodedInsn& d) {
  const unsigned size = d.ops[1].size / 8;
  in.io_out(port_operand(in, d.ops[0]), size, in.op_read(d, 1));
}

}  // namespace

void sys::register_io_handlers(HandlerTable& t) {
  t.set(ZYDIS_MNEMONIC_IN, IN_acc_port);
  t.set(ZYDIS_MNEMONIC_OUT, OUT_port_acc);
}

}  // namespace popek
