// Helpers shared by the integer-instruction handler files (interp_arith,
// interp_logic, interp_datamove, interp_stack, interp_control, interp_string
// and interp_int_*.cpp). Internal to those files; not part of the
// interpreter's API.
#pragma once
#include <cstdint>

#include "core/alu.h"
#include "core/interpreter.h"

namespace popek::intops {

constexpr uint32_t mask_of(unsigned bits) { return bits >= 32 ? 0xffffffffu : (1u << bits) - 1; }

constexpr uint32_t sign_extend(uint32_t v, unsigned from_bits) {
  if (from_bits >= 32) return v;
  const uint32_t sign = 1u << (from_bits - 1);
  v &= mask_of(from_bits);
  return (v ^ sign) - sign;
}

inline bool is_memory(const DecodedInsn& d, int i) { return d.ops[i].type == ZYDIS_OPERAND_TYPE_MEMORY; }
inline bool is_register(const DecodedInsn& d, int i) { return d.ops[i].type == ZYDIS_OPERAND_TYPE_REGISTER; }
inline unsigned operand_bits(const DecodedInsn& d, int i) { return d.ops[i].size; }

// The operand's value at the width of the operation. Zydis keeps an imm8 that
// the encoding sign-extends (83 /n ib, 6B, 6A) as a 64-bit sign-extended value
// with operand size 8, which Interpreter::op_read would truncate to 8 bits.
inline uint32_t operand_value(Interpreter& in, const DecodedInsn& d, int i, unsigned bits) {
  const ZydisDecodedOperand& op = d.ops[i];
  if (op.type == ZYDIS_OPERAND_TYPE_IMMEDIATE) return static_cast<uint32_t>(op.imm.value.u) & mask_of(bits);
  return in.op_read(d, i) & mask_of(bits);
}

// Reads a read-modify-write destination. A memory destination is first
// checked for writing, so that a fault reports a write access (as the CPU's
// read-for-write does) and no register has changed yet.
inline uint32_t read_for_update(Interpreter& in, const DecodedInsn& d, int i) {
  const ZydisDecodedOperand& op = d.ops[i];
  if (op.type == ZYDIS_OPERAND_TYPE_MEMORY)
    in.check_write_mem(in.operand_segment(op), in.effective_address(op), op.size / 8);
  return in.op_read(d, i);
}

inline uint32_t arith_flags(const Interpreter& in) { return in.cpu.eflags & flag::ARITH; }

// General registers by number at 8 (low byte), 16 or 32 bits.
inline uint32_t gpr(const Interpreter& in, Reg r, unsigned bits) { return in.cpu.regs[r] & mask_of(bits); }
inline void set_gpr(Interpreter& in, Reg r, unsigned bits, uint32_t v) {
  const uint32_t m = mask_of(bits);
  in.cpu.regs[r] = (in.cpu.regs[r] & ~m) | (v & m);
}

// Condition code 0..15 of Jcc/SETcc/CMOVcc: the low nibble of the opcode
// (70+cc, 0F 80+cc, 0F 90+cc, 0F 40+cc).
inline unsigned condition_code(const DecodedInsn& d) { return d.insn.opcode & 0x0f; }

inline bool is_far_branch(const DecodedInsn& d) { return d.insn.meta.branch_type == ZYDIS_BRANCH_TYPE_FAR; }

// Whether operand i is a segment, control or debug register (the MOV/PUSH/POP
// forms that belong to the system group).
inline bool is_special_register(const DecodedInsn& d, int i) {
  if (d.ops[i].type != ZYDIS_OPERAND_TYPE_REGISTER) return false;
  const ZydisRegisterClass c = ZydisRegisterGetClass(d.ops[i].reg.value);
  return c == ZYDIS_REGCLASS_SEGMENT || c == ZYDIS_REGCLASS_CONTROL || c == ZYDIS_REGCLASS_DEBUG;
}

// ADD OR ADC SBB AND SUB XOR CMP TEST in every form: r/m,reg  reg,r/m
// r/m,imm  accumulator,imm. CMP and TEST only read their destination.
template <alu::BinaryOp Op>
void binary_handler(Interpreter& in, const DecodedInsn& d) {
  constexpr bool writes = Op != alu::BinaryOp::Cmp && Op != alu::BinaryOp::Test;
  const unsigned bits = operand_bits(d, 0);
  const uint32_t a = writes ? read_for_update(in, d, 0) : in.op_read(d, 0);
  const uint32_t b = operand_value(in, d, 1, bits);
  const alu::Result r = alu::binary(Op, bits, a, b, arith_flags(in));
  if (writes) in.op_write(d, 0, r.value);
  in.set_arith_flags(r.flags);
}

// Iterations a REP string instruction runs in one step() before it yields
// (EIP stays on the instruction) so that interrupts and timers are serviced.
constexpr unsigned kMaxStringIterations = 1024;

}  // namespace popek::intops
