// Data movement: MOV (GPR/memory/immediate/moffs), MOVZX MOVSX, XCHG,
// CMOVcc, SETcc, LEA, XLAT, CBW CWDE CWD CDQ, BSWAP, XADD, CMPXCHG,
// CMPXCHG8B, LAHF SAHF, CLC STC CMC CLD STD, SALC, NOP (all forms, incl. the
// hint-NOP space), PAUSE.
//
// MOV forms with a segment, control or debug register are the system
// group's: they are forwarded to exec_special_register_form().
#include "core/interp_int_helpers.h"

namespace popek {

// Until the system group defines it, the special-register forms are #UD.
__attribute__((weak)) void exec_special_register_form(Interpreter& in, const DecodedInsn& d) {
  in.unimplemented(d);
}

namespace {

using namespace intops;

void MOV_all(Interpreter& in, const DecodedInsn& d) {
  if (is_special_register(d, 0) || is_special_register(d, 1)) {
    exec_special_register_form(in, d);
    return;
  }
  in.op_write(d, 0, operand_value(in, d, 1, operand_bits(d, 0)));
}

template <bool Signed>
void move_extend_Gv_Eb(Interpreter& in, const DecodedInsn& d) {
  const uint32_t v = in.op_read(d, 1);
  in.op_write(d, 0, Signed ? sign_extend(v, operand_bits(d, 1)) : v);
}

// XCHG: the memory operand (if any) is written first, so a fault leaves the
// register untouched. XCHG with memory is always locked; nothing to model.
void XCHG_Ev_Gv(Interpreter& in, const DecodedInsn& d) {
  const uint32_t a = read_for_update(in, d, 0);
  const uint32_t b = read_for_update(in, d, 1);
  if (is_memory(d, 1)) {
    in.op_write(d, 1, a);
    in.op_write(d, 0, b);
  } else {
    in.op_write(d, 0, b);
    in.op_write(d, 1, a);
  }
}

// CMOVcc: the source is read (and may fault) whatever the condition.
void CMOVcc_Gv_Ev(Interpreter& in, const DecodedInsn& d) {
  const uint32_t v = in.op_read(d, 1);
  if (in.condition(condition_code(d))) in.op_write(d, 0, v);
}

void SETcc_Eb(Interpreter& in, const DecodedInsn& d) { in.op_write(d, 0, in.condition(condition_code(d)) ? 1 : 0); }

// LEA: the offset, already wrapped to the address size, truncated to the
// operand size.
void LEA_Gv_M(Interpreter& in, const DecodedInsn& d) {
  in.op_write(d, 0, in.effective_address(d.ops[1]) & mask_of(operand_bits(d, 0)));
}

// XLAT: AL = [seg:(E)BX + AL], DS overridable.
void XLAT(Interpreter& in, const DecodedInsn& d) {
  const ZydisDecodedOperand& table = d.ops[0];
  uint32_t offset = in.reg_read(table.mem.base) + gpr(in, EAX, 8);
  if (d.insn.address_width == 16) offset &= 0xffff;
  set_gpr(in, EAX, 8, in.read_mem(in.operand_segment(table), offset, 1));
}

// CBW CWDE (sign-extend the accumulator's low half), CWD CDQ (into DX/EDX).
template <unsigned Bits>
void extend_accumulator(Interpreter& in, const DecodedInsn&) {
  set_gpr(in, EAX, Bits, sign_extend(gpr(in, EAX, Bits / 2), Bits / 2));
}
template <unsigned Bits>
void extend_into_dx(Interpreter& in, const DecodedInsn&) {
  const bool negative = gpr(in, EAX, Bits) >> (Bits - 1);
  set_gpr(in, EDX, Bits, negative ? 0xffffffffu : 0);
}

void BSWAP_r(Interpreter& in, const DecodedInsn& d) {
  const unsigned bits = operand_bits(d, 0);
  in.op_write(d, 0, alu::byte_swap(bits, in.op_read(d, 0)));
}

// XADD r/m, reg: SRC ← DEST; DEST ← DEST + SRC. A memory destination is
// written first (it may fault); with two registers the destination is written
// last, so XADD reg, same-reg leaves the sum.
void XADD_Ev_Gv(Interpreter& in, const DecodedInsn& d) {
  const unsigned bits = operand_bits(d, 0);
  const uint32_t dst = read_for_update(in, d, 0);
  const alu::Pair r = alu::exchange_add(bits, dst, in.op_read(d, 1), arith_flags(in));
  if (is_memory(d, 0)) {
    in.op_write(d, 0, r.first);
    in.op_write(d, 1, r.second);
  } else {
    in.op_write(d, 1, r.second);
    in.op_write(d, 0, r.first);
  }
  in.set_arith_flags(r.flags);
}

// CMPXCHG r/m, reg. A memory destination is always written (with its own
// value when the comparison fails), as the CPU's locked cycle does; the
// accumulator is loaded only when the comparison fails.
void CMPXCHG_Ev_Gv(Interpreter& in, const DecodedInsn& d) {
  const unsigned bits = operand_bits(d, 0);
  const uint32_t dst = read_for_update(in, d, 0);
  const alu::CompareExchange r =
      alu::compare_exchange(bits, gpr(in, EAX, bits), dst, in.op_read(d, 1), arith_flags(in));
  const bool equal = r.flags & flag::ZF;
  if (is_memory(d, 0) || equal) in.op_write(d, 0, r.dst);
  if (!equal) set_gpr(in, EAX, bits, r.accumulator);
  in.set_arith_flags(r.flags);
}

// CMPXCHG8B m64 (the register form does not decode: #UD).
void CMPXCHG8B_Mq(Interpreter& in, const DecodedInsn& d) {
  const ZydisDecodedOperand& op = d.ops[0];
  const SegReg seg = in.operand_segment(op);
  const uint32_t ea = in.effective_address(op);
  in.check_write_mem(seg, ea, 8);
  const uint64_t mem = in.read_mem64(seg, ea);
  const uint64_t edx_eax = (uint64_t{in.cpu.regs[EDX]} << 32) | in.cpu.regs[EAX];
  const uint64_t ecx_ebx = (uint64_t{in.cpu.regs[ECX]} << 32) | in.cpu.regs[EBX];
  const alu::CompareExchange8b r = alu::compare_exchange_8b(edx_eax, ecx_ebx, mem, arith_flags(in));
  in.write_mem64(seg, ea, r.mem);
  if (!(r.flags & flag::ZF)) {
    in.cpu.regs[EAX] = static_cast<uint32_t>(r.edx_eax);
    in.cpu.regs[EDX] = static_cast<uint32_t>(r.edx_eax >> 32);
  }
  in.set_arith_flags(r.flags);
}

// ---------------------------------------------------------------- flags

constexpr uint32_t kLahfFlags = flag::SF | flag::ZF | flag::AF | flag::PF | flag::CF;

// LAHF: AH = SF:ZF:0:AF:0:PF:1:CF. SAHF: the reverse (OF untouched).
void LAHF(Interpreter& in, const DecodedInsn&) {
  in.reg_write(ZYDIS_REGISTER_AH, (in.cpu.eflags & kLahfFlags) | flag::FIXED1);
}
void SAHF(Interpreter& in, const DecodedInsn&) {
  in.set_arith_flags(in.reg_read(ZYDIS_REGISTER_AH), kLahfFlags);
}

template <uint32_t Flag, bool Value>
void set_flag(Interpreter& in, const DecodedInsn&) {
  if (Value) in.cpu.eflags |= Flag;
  else in.cpu.eflags &= ~Flag;
}
void CMC(Interpreter& in, const DecodedInsn&) { in.cpu.eflags ^= flag::CF; }

// SALC (D6, undocumented): AL = CF ? FF : 00, flags unchanged.
void SALC(Interpreter& in, const DecodedInsn&) { set_gpr(in, EAX, 8, (in.cpu.eflags & flag::CF) ? 0xff : 0); }

// NOP, multi-byte NOP (0F 1F /0 and the 0F 18-1F hint space, whatever
// newer CPUs made of it: PREFETCHh, ENDBR32/64 are NOPs on an i686), PAUSE.
// None of them accesses memory.
void NOP_any(Interpreter&, const DecodedInsn&) {}

constexpr ZydisMnemonic kCmov[16] = {
    ZYDIS_MNEMONIC_CMOVO, ZYDIS_MNEMONIC_CMOVNO, ZYDIS_MNEMONIC_CMOVB,  ZYDIS_MNEMONIC_CMOVNB,
    ZYDIS_MNEMONIC_CMOVZ, ZYDIS_MNEMONIC_CMOVNZ, ZYDIS_MNEMONIC_CMOVBE, ZYDIS_MNEMONIC_CMOVNBE,
    ZYDIS_MNEMONIC_CMOVS, ZYDIS_MNEMONIC_CMOVNS, ZYDIS_MNEMONIC_CMOVP,  ZYDIS_MNEMONIC_CMOVNP,
    ZYDIS_MNEMONIC_CMOVL, ZYDIS_MNEMONIC_CMOVNL, ZYDIS_MNEMONIC_CMOVLE, ZYDIS_MNEMONIC_CMOVNLE};
constexpr ZydisMnemonic kSet[16] = {
    ZYDIS_MNEMONIC_SETO, ZYDIS_MNEMONIC_SETNO, ZYDIS_MNEMONIC_SETB,  ZYDIS_MNEMONIC_SETNB,
    ZYDIS_MNEMONIC_SETZ, ZYDIS_MNEMONIC_SETNZ, ZYDIS_MNEMONIC_SETBE, ZYDIS_MNEMONIC_SETNBE,
    ZYDIS_MNEMONIC_SETS, ZYDIS_MNEMONIC_SETNS, ZYDIS_MNEMONIC_SETP,  ZYDIS_MNEMONIC_SETNP,
    ZYDIS_MNEMONIC_SETL, ZYDIS_MNEMONIC_SETNL, ZYDIS_MNEMONIC_SETLE, ZYDIS_MNEMONIC_SETNLE};

}  // namespace

void register_datamove_handlers(HandlerTable& t) {
  t.set(ZYDIS_MNEMONIC_MOV, MOV_all);
  t.set(ZYDIS_MNEMONIC_MOVZX, move_extend_Gv_Eb<false>);
  t.set(ZYDIS_MNEMONIC_MOVSX, move_extend_Gv_Eb<true>);
  t.set(ZYDIS_MNEMONIC_XCHG, XCHG_Ev_Gv);
  for (ZydisMnemonic m : kCmov) t.set(m, CMOVcc_Gv_Ev);
  for (ZydisMnemonic m : kSet) t.set(m, SETcc_Eb);
  t.set(ZYDIS_MNEMONIC_LEA, LEA_Gv_M);
  t.set(ZYDIS_MNEMONIC_XLAT, XLAT);
  t.set(ZYDIS_MNEMONIC_CBW, extend_accumulator<16>);
  t.set(ZYDIS_MNEMONIC_CWDE, extend_accumulator<32>);
  t.set(ZYDIS_MNEMONIC_CWD, extend_into_dx<16>);
  t.set(ZYDIS_MNEMONIC_CDQ, extend_into_dx<32>);
  t.set(ZYDIS_MNEMONIC_BSWAP, BSWAP_r);
  t.set(ZYDIS_MNEMONIC_XADD, XADD_Ev_Gv);
  t.set(ZYDIS_MNEMONIC_CMPXCHG, CMPXCHG_Ev_Gv);
  t.set(ZYDIS_MNEMONIC_CMPXCHG8B, CMPXCHG8B_Mq);
  t.set(ZYDIS_MNEMONIC_LAHF, LAHF);
  t.set(ZYDIS_MNEMONIC_SAHF, SAHF);
  t.set(ZYDIS_MNEMONIC_CLC, set_flag<flag::CF, false>);
  t.set(ZYDIS_MNEMONIC_STC, set_flag<flag::CF, true>);
  t.set(ZYDIS_MNEMONIC_CMC, CMC);
  t.set(ZYDIS_MNEMONIC_CLD, set_flag<flag::DF, false>);
  t.set(ZYDIS_MNEMONIC_STD, set_flag<flag::DF, true>);
  t.set(ZYDIS_MNEMONIC_SALC, SALC);
  for (ZydisMnemonic m : {ZYDIS_MNEMONIC_NOP, ZYDIS_MNEMONIC_PAUSE, ZYDIS_MNEMONIC_ENDBR32, ZYDIS_MNEMONIC_ENDBR64,
                          ZYDIS_MNEMONIC_PREFETCHNTA, ZYDIS_MNEMONIC_PREFETCHT0, ZYDIS_MNEMONIC_PREFETCHT1,
                          ZYDIS_MNEMONIC_PREFETCHT2})
    t.set(m, NOP_any);
}

}  // namespace popek
