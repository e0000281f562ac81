// Arithmetic instructions: ADD ADC SUB SBB CMP, INC DEC NEG, MUL IMUL DIV
// IDIV, and the BCD adjusts DAA DAS AAA AAS AAM AAD.
//
// Results and flags come from the host instruction (core/alu.h). The BCD
// adjusts have no 64-bit encoding, so they are computed in C++; their
// undefined flags are documented in alu.h. LOCK is validated by the decoder
// (Zydis rejects LOCK on register destinations and non-lockable opcodes, and
// the step loop raises #UD for an undecodable instruction).
#include "core/interp_int_helpers.h"

namespace popek {

namespace {

using namespace intops;

template <alu::UnaryOp Op>
void unary_Ev(Interpreter& in, const DecodedInsn& d) {
  const unsigned bits = operand_bits(d, 0);
  const alu::Result r = alu::unary(Op, bits, read_for_update(in, d, 0), arith_flags(in));
  in.op_write(d, 0, r.value);
  in.set_arith_flags(r.flags);
}

// ---------------------------------------------------------------- multiply

// MUL/IMUL r/m: accumulator * src into AX, DX:AX or EDX:EAX.
template <bool Signed>
void multiply_accumulator(Interpreter& in, const DecodedInsn& d) {
  const unsigned bits = operand_bits(d, 0);
  const uint32_t src = in.op_read(d, 0);
  const alu::Pair r = alu::multiply(Signed, bits, gpr(in, EAX, bits), src, arith_flags(in));
  if (bits == 8) {
    set_gpr(in, EAX, 16, (r.second << 8) | r.first);
  } else {
    set_gpr(in, EAX, bits, r.first);
    set_gpr(in, EDX, bits, r.second);
  }
  in.set_arith_flags(r.flags);
}

void MUL_Ev(Interpreter& in, const DecodedInsn& d) { multiply_accumulator<false>(in, d); }

// IMUL r/m (one operand), IMUL r, r/m and IMUL r, r/m, imm.
void IMUL_all(Interpreter& in, const DecodedInsn& d) {
  const unsigned visible = d.insn.operand_count_visible;
  if (visible == 1) {
    multiply_accumulator<true>(in, d);
    return;
  }
  const unsigned bits = operand_bits(d, 0);
  const int first = visible == 2 ? 0 : 1;
  const uint32_t a = in.op_read(d, first);
  const uint32_t b = operand_value(in, d, first + 1, bits);
  const alu::Result r = alu::imul_truncated(bits, a, b, arith_flags(in));
  in.op_write(d, 0, r.value);
  in.set_arith_flags(r.flags);
}

// ---------------------------------------------------------------- divide

// DIV/IDIV r/m: AX, DX:AX or EDX:EAX by src. #DE on a zero divisor or a
// quotient that does not fit, with no register changed.
template <bool Signed>
void divide_accumulator(Interpreter& in, const DecodedInsn& d) {
  const unsigned bits = operand_bits(d, 0);
  const uint32_t divisor = in.op_read(d, 0);
  uint64_t dividend;
  if (bits == 8) dividend = gpr(in, EAX, 16);
  else dividend = (uint64_t{gpr(in, EDX, bits)} << bits) | gpr(in, EAX, bits);
  alu::Pair r{};
  if (!alu::divide(Signed, bits, dividend, divisor, arith_flags(in), r)) raise_fault(vec::DE);
  if (bits == 8) {
    set_gpr(in, EAX, 16, (r.second << 8) | r.first);
  } else {
    set_gpr(in, EAX, bits, r.first);
    set_gpr(in, EDX, bits, r.second);
  }
  in.set_arith_flags(r.flags);
}

// ---------------------------------------------------------------- BCD

using BcdAdjust = alu::BcdResult (*)(uint16_t ax, uint32_t flags);

template <BcdAdjust Adjust>
void bcd_adjust(Interpreter& in, const DecodedInsn&) {
  const alu::BcdResult r = Adjust(static_cast<uint16_t>(gpr(in, EAX, 16)), arith_flags(in));
  set_gpr(in, EAX, 16, r.ax);
  in.set_arith_flags(r.flags);
}

// AAM imm8 / AAD imm8 (D4 0A / D5 0A are the documented base-10 forms).
template <bool Multiply>
void bcd_base_adjust(Interpreter& in, const DecodedInsn& d) {
  const uint8_t base = static_cast<uint8_t>(d.ops[0].imm.value.u);
  const uint16_t ax = static_cast<uint16_t>(gpr(in, EAX, 16));
  const alu::BcdResult r = Multiply ? alu::aam(ax, base, arith_flags(in)) : alu::aad(ax, base, arith_flags(in));
  if (r.divide_error) raise_fault(vec::DE);
  set_gpr(in, EAX, 16, r.ax);
  in.set_arith_flags(r.flags);
}

}  // namespace

void register_arith_handlers(HandlerTable& t) {
  using alu::BinaryOp;
  t.set(ZYDIS_MNEMONIC_ADD, binary_handler<BinaryOp::Add>);
  t.set(ZYDIS_MNEMONIC_ADC, binary_handler<BinaryOp::Adc>);
  t.set(ZYDIS_MNEMONIC_SUB, binary_handler<BinaryOp::Sub>);
  t.set(ZYDIS_MNEMONIC_SBB, binary_handler<BinaryOp::Sbb>);
  t.set(ZYDIS_MNEMONIC_CMP, binary_handler<BinaryOp::Cmp>);
  t.set(ZYDIS_MNEMONIC_INC, unary_Ev<alu::UnaryOp::Inc>);
  t.set(ZYDIS_MNEMONIC_DEC, unary_Ev<alu::UnaryOp::Dec>);
  t.set(ZYDIS_MNEMONIC_NEG, unary_Ev<alu::UnaryOp::Neg>);
  t.set(ZYDIS_MNEMONIC_MUL, MUL_Ev);
  t.set(ZYDIS_MNEMONIC_IMUL, IMUL_all);
  t.set(ZYDIS_MNEMONIC_DIV, divide_accumulator<false>);
  t.set(ZYDIS_MNEMONIC_IDIV, divide_accumulator<true>);
  t.set(ZYDIS_MNEMONIC_DAA, bcd_adjust<alu::daa>);
  t.set(ZYDIS_MNEMONIC_DAS, bcd_adjust<alu::das>);
  t.set(ZYDIS_MNEMONIC_AAA, bcd_adjust<alu::aaa>);
  t.set(ZYDIS_MNEMONIC_AAS, bcd_adjust<alu::aas>);
  t.set(ZYDIS_MNEMONIC_AAM, bcd_base_adjust<true>);
  t.set(ZYDIS_MNEMONIC_AAD, bcd_base_adjust<false>);
}

}  // namespace popek
