// Logic, shift and bit instructions: AND OR XOR TEST NOT, ROL ROR RCL RCR
// SHL SHR SAL SAR, SHLD SHRD, BT BTS BTR BTC, BSF BSR (also reached through
// the F3-prefixed TZCNT/LZCNT encodings, which an i686 runs as BSF/BSR).
//
// All results and flags come from the host instruction (core/alu.h), which
// also masks shift counts to 5 bits and leaves the flags untouched for a
// masked count of 0 (then no memory write happens either).
#include "core/interp_int_helpers.h"

namespace popek {

namespace {

using namespace intops;

void NOT_Ev(Interpreter& in, const DecodedInsn& d) {
  // NOT changes no flag.
  const uint32_t v = read_for_update(in, d, 0);
  in.op_write(d, 0, alu::unary(alu::UnaryOp::Not, operand_bits(d, 0), v, arith_flags(in)).value);
}

// ---------------------------------------------------------------- shifts and rotates

// How the count of a shift (operand `i`) is encoded.
alu::CountForm count_form(const DecodedInsn& d, int i) {
  if (d.ops[i].type == ZYDIS_OPERAND_TYPE_REGISTER) return alu::CountForm::Cl;
  if (d.insn.opcode == 0xd0 || d.insn.opcode == 0xd1) return alu::CountForm::One;
  return alu::CountForm::Imm8;
}

// ROL ROR RCL RCR SHL SHR SAL SAR: D0/D1 (by 1), D2/D3 (by CL), C0/C1 (by
// imm8). The operation is ModRM.reg, so the undocumented SAL (/6) encoding
// is replayed as itself.
void shift_Ev(Interpreter& in, const DecodedInsn& d) {
  const unsigned bits = operand_bits(d, 0);
  const auto op = static_cast<alu::ShiftOp>(d.insn.raw.modrm.reg);
  const uint8_t count = static_cast<uint8_t>(operand_value(in, d, 1, 8));
  const uint32_t v = read_for_update(in, d, 0);
  const alu::Result r = alu::shift(op, bits, v, count, arith_flags(in), count_form(d, 1), is_memory(d, 0));
  if (count & 0x1f) in.op_write(d, 0, r.value);
  in.set_arith_flags(r.flags);
}

// SHLD/SHRD r/m, reg, imm8|CL.
template <bool Left>
void double_shift_Ev_Gv(Interpreter& in, const DecodedInsn& d) {
  const unsigned bits = operand_bits(d, 0);
  const uint8_t count = static_cast<uint8_t>(operand_value(in, d, 2, 8));
  const uint32_t dst = read_for_update(in, d, 0);
  const uint32_t src = in.op_read(d, 1);
  const alu::Result r =
      alu::double_shift(Left, bits, dst, src, count, arith_flags(in), count_form(d, 2), is_memory(d, 0));
  if (count & 0x1f) in.op_write(d, 0, r.value);
  in.set_arith_flags(r.flags);
}

// ---------------------------------------------------------------- bit test

// BTx m16/m32, reg: the register's bit offset is signed and reaches outside
// the operand. The CPU accesses the word/dword that holds the bit:
// EA + (operand bytes) * (offset SAR log2(bits)), wrapped to the address size.
template <alu::BitOp Op>
void bit_test_memory_by_register(Interpreter& in, const DecodedInsn& d, unsigned bits) {
  const uint32_t offset = in.op_read(d, 1) & mask_of(bits);
  const int32_t signed_offset = static_cast<int32_t>(sign_extend(offset, bits));
  const int32_t unit = signed_offset >> (bits == 16 ? 4 : 5);
  uint32_t ea = in.effective_address(d.ops[0]) + static_cast<uint32_t>(unit) * (bits / 8);
  if (d.insn.address_width == 16) ea &= 0xffff;
  const SegReg seg = in.operand_segment(d.ops[0]);
  if (Op != alu::BitOp::Bt) in.check_write_mem(seg, ea, bits / 8);
  const uint32_t value = in.read_mem(seg, ea, bits / 8);
  const alu::Result r = alu::bit_test(Op, bits, value, offset & (bits - 1), arith_flags(in), false, true);
  if (Op != alu::BitOp::Bt) in.write_mem(seg, ea, bits / 8, r.value);
  in.set_arith_flags(r.flags);
}

template <alu::BitOp Op>
void bit_test_Ev(Interpreter& in, const DecodedInsn& d) {
  const unsigned bits = operand_bits(d, 0);
  if (is_memory(d, 0) && is_register(d, 1)) {
    bit_test_memory_by_register<Op>(in, d, bits);
    return;
  }
  // Register base, or an imm8 offset (taken modulo the operand size).
  constexpr bool writes = Op != alu::BitOp::Bt;
  const uint32_t value = writes ? read_for_update(in, d, 0) : in.op_read(d, 0);
  const uint32_t offset = operand_value(in, d, 1, bits);
  const bool imm_form = d.ops[1].type == ZYDIS_OPERAND_TYPE_IMMEDIATE;
  const alu::Result r = alu::bit_test(Op, bits, value, offset, arith_flags(in), imm_form, is_memory(d, 0));
  if (writes) in.op_write(d, 0, r.value);
  in.set_arith_flags(r.flags);
}

// BSF/BSR reg, r/m: the destination keeps its value when the source is 0.
template <bool Reverse>
void bit_scan_Gv_Ev(Interpreter& in, const DecodedInsn& d) {
  const unsigned bits = operand_bits(d, 0);
  const uint32_t src = in.op_read(d, 1);
  const alu::Result r = alu::bit_scan(Reverse, bits, in.op_read(d, 0), src, arith_flags(in));
  in.op_write(d, 0, r.value);
  in.set_arith_flags(r.flags);
}

}  // namespace

void register_logic_handlers(HandlerTable& t) {
  using alu::BinaryOp;
  t.set(ZYDIS_MNEMONIC_AND, binary_handler<BinaryOp::And>);
  t.set(ZYDIS_MNEMONIC_OR, binary_handler<BinaryOp::Or>);
  t.set(ZYDIS_MNEMONIC_XOR, binary_handler<BinaryOp::Xor>);
  t.set(ZYDIS_MNEMONIC_TEST, binary_handler<BinaryOp::Test>);
  t.set(ZYDIS_MNEMONIC_NOT, NOT_Ev);
  t.set(ZYDIS_MNEMONIC_ROL, shift_Ev);
  t.set(ZYDIS_MNEMONIC_ROR, shift_Ev);
  t.set(ZYDIS_MNEMONIC_RCL, shift_Ev);
  t.set(ZYDIS_MNEMONIC_RCR, shift_Ev);
  t.set(ZYDIS_MNEMONIC_SHL, shift_Ev);
  t.set(ZYDIS_MNEMONIC_SHR, shift_Ev);
  t.set(ZYDIS_MNEMONIC_SAR, shift_Ev);
  t.set(ZYDIS_MNEMONIC_SHLD, double_shift_Ev_Gv<true>);
  t.set(ZYDIS_MNEMONIC_SHRD, double_shift_Ev_Gv<false>);
  t.set(ZYDIS_MNEMONIC_BT, bit_test_Ev<alu::BitOp::Bt>);
  t.set(ZYDIS_MNEMONIC_BTS, bit_test_Ev<alu::BitOp::Bts>);
  t.set(ZYDIS_MNEMONIC_BTR, bit_test_Ev<alu::BitOp::Btr>);
  t.set(ZYDIS_MNEMONIC_BTC, bit_test_Ev<alu::BitOp::Btc>);
  t.set(ZYDIS_MNEMONIC_BSF, bit_scan_Gv_Ev<false>);
  t.set(ZYDIS_MNEMONIC_BSR, bit_scan_Gv_Ev<true>);
  // F3 0F BC / F3 0F BD decode as TZCNT/LZCNT, but an i686 ignores the F3
  // prefix and executes BSF/BSR (compilers emit "rep bsf" on purpose). The
  // translator must likewise drop the prefix rather than run TZCNT/LZCNT.
  t.set(ZYDIS_MNEMONIC_TZCNT, bit_scan_Gv_Ev<false>);
  t.set(ZYDIS_MNEMONIC_LZCNT, bit_scan_Gv_Ev<true>);
}

}  // namespace popek
