// String instructions: MOVS CMPS SCAS LODS STOS INS OUTS, byte/word/dword,
// with REP / REPE / REPNE.
//
// - The address size selects SI/DI/CX or ESI/EDI/ECX; the operand width is
//   the element size; DF selects the direction.
// - The source (DS:(E)SI) takes a segment override; the destination ES:(E)DI
//   does not (Zydis already reports the segments that way).
// - F2 and F3 both mean REP for the instructions without a ZF condition.
// - Each iteration does its accesses first, then commits (E)SI/(E)DI, flags
//   and the count, so a fault in the middle leaves the CPU restartable at the
//   same instruction with the work done so far.
// - A REP instruction runs at most kMaxStringIterations iterations per step;
//   then EIP stays on it (next_eip = insn_eip) and the next step resumes it,
//   after any pending interrupt has been delivered. A zero count does nothing.
// - INS checks the write to ES:(E)DI before reading the port, so a faulting
//   destination does not consume port data.
#include "core/interp_int_helpers.h"

namespace popek {

namespace {

using namespace intops;

enum class StringOp { Movs, Cmps, Scas, Lods, Stos, Ins, Outs };

struct StringContext {
  unsigned size;        // element bytes
  unsigned abits;       // address size
  SegReg source;        // segment of the DS:(E)SI operand
  uint32_t delta;       // +size or -size
};

// The segment of the source operand (the memory operand based on (E)SI).
SegReg source_segment(const Interpreter& in, const DecodedInsn& d) {
  for (unsigned i = 0; i < d.insn.operand_count; ++i) {
    const ZydisDecodedOperand& op = d.ops[i];
    if (op.type == ZYDIS_OPERAND_TYPE_MEMORY &&
        (op.mem.base == ZYDIS_REGISTER_ESI || op.mem.base == ZYDIS_REGISTER_SI))
      return in.operand_segment(op);
  }
  return DS;
}

uint32_t index_reg(const Interpreter& in, Reg r, const StringContext& c) { return gpr(in, r, c.abits); }
void advance(Interpreter& in, Reg r, const StringContext& c) {
  set_gpr(in, r, c.abits, in.cpu.regs[r] + c.delta);
}

// One iteration: accesses first, then the index registers. CMPS/SCAS set
// the flags the REPE/REPNE loop tests.
template <StringOp Op>
void iterate(Interpreter& in, const StringContext& c) {
  const uint32_t si = index_reg(in, ESI, c), di = index_reg(in, EDI, c);
  const unsigned bits = c.size * 8;
  if constexpr (Op == StringOp::Movs) {
    in.write_mem(ES, di, c.size, in.read_mem(c.source, si, c.size));
    advance(in, ESI, c);
    advance(in, EDI, c);
  } else if constexpr (Op == StringOp::Cmps) {
    const uint32_t a = in.read_mem(c.source, si, c.size);
    const uint32_t b = in.read_mem(ES, di, c.size);
    in.set_arith_flags(alu::binary(alu::BinaryOp::Cmp, bits, a, b, arith_flags(in)).flags);
    advance(in, ESI, c);
    advance(in, EDI, c);
  } else if constexpr (Op == StringOp::Scas) {
    const uint32_t b = in.read_mem(ES, di, c.size);
    in.set_arith_flags(alu::binary(alu::BinaryOp::Cmp, bits, gpr(in, EAX, bits), b, arith_flags(in)).flags);
    advance(in, EDI, c);
  } else if constexpr (Op == StringOp::Lods) {
    set_gpr(in, EAX, bits, in.read_mem(c.source, si, c.size));
    advance(in, ESI, c);
  } else if constexpr (Op == StringOp::Stos) {
    in.write_mem(ES, di, c.size, gpr(in, EAX, bits));
    advance(in, EDI, c);
  } else if constexpr (Op == StringOp::Ins) {
    const uint16_t port = static_cast<uint16_t>(gpr(in, EDX, 16));
    if (!in.io_permitted(port, c.size)) raise_fault(vec::GP, 0);
    in.check_write_mem(ES, di, c.size);
    in.write_mem(ES, di, c.size, in.io_in(port, c.size));
    advance(in, EDI, c);
  } else {
    const uint16_t port = static_cast<uint16_t>(gpr(in, EDX, 16));
    if (!in.io_permitted(port, c.size)) raise_fault(vec::GP, 0);
    in.io_out(port, c.size, in.read_mem(c.source, si, c.size));
    advance(in, ESI, c);
  }
}

// Whether this opcode is the string form (MOVSD and CMPSD are also SSE2
// mnemonics, which an i686 does not have: those get #UD).
bool is_string_form(const DecodedInsn& d) { return d.insn.opcode_map == ZYDIS_OPCODE_MAP_DEFAULT; }

template <StringOp Op>
void string_insn(Interpreter& in, const DecodedInsn& d) {
  if (!is_string_form(d)) in.unimplemented(d);
  StringContext c;
  c.size = d.insn.operand_width / 8;
  c.abits = d.insn.address_width;
  c.source = source_segment(in, d);
  c.delta = (in.cpu.eflags & flag::DF) ? 0u - c.size : c.size;

  constexpr bool conditional = Op == StringOp::Cmps || Op == StringOp::Scas;
  const bool repeat = d.has_rep() || d.has_repe() || d.has_repne();
  if (!repeat) {
    iterate<Op>(in, c);
    return;
  }
  // For CMPS/SCAS, F2 (REPNE) stops on ZF=1 and F3 (REPE) on ZF=0.
  const bool stop_on_zf = d.has_repne();
  for (unsigned n = 0;; ++n) {
    if (gpr(in, ECX, c.abits) == 0) return;
    if (n == kMaxStringIterations) {
      in.next_eip = in.insn_eip;
      return;
    }
    iterate<Op>(in, c);
    set_gpr(in, ECX, c.abits, in.cpu.regs[ECX] - 1);
    if (conditional && bool(in.cpu.eflags & flag::ZF) == stop_on_zf) return;
  }
}

}  // namespace

void register_string_handlers(HandlerTable& t) {
  t.set(ZYDIS_MNEMONIC_MOVSB, string_insn<StringOp::Movs>);
  t.set(ZYDIS_MNEMONIC_MOVSW, string_insn<StringOp::Movs>);
  t.set(ZYDIS_MNEMONIC_MOVSD, string_insn<StringOp::Movs>);
  t.set(ZYDIS_MNEMONIC_CMPSB, string_insn<StringOp::Cmps>);
  t.set(ZYDIS_MNEMONIC_CMPSW, string_insn<StringOp::Cmps>);
  t.set(ZYDIS_MNEMONIC_CMPSD, string_insn<StringOp::Cmps>);
  t.set(ZYDIS_MNEMONIC_SCASB, string_insn<StringOp::Scas>);
  t.set(ZYDIS_MNEMONIC_SCASW, string_insn<StringOp::Scas>);
  t.set(ZYDIS_MNEMONIC_SCASD, string_insn<StringOp::Scas>);
  t.set(ZYDIS_MNEMONIC_LODSB, string_insn<StringOp::Lods>);
  t.set(ZYDIS_MNEMONIC_LODSW, string_insn<StringOp::Lods>);
  t.set(ZYDIS_MNEMONIC_LODSD, string_insn<StringOp::Lods>);
  t.set(ZYDIS_MNEMONIC_STOSB, string_insn<StringOp::Stos>);
  t.set(ZYDIS_MNEMONIC_STOSW, string_insn<StringOp::Stos>);
  t.set(ZYDIS_MNEMONIC_STOSD, string_insn<StringOp::Stos>);
  t.set(ZYDIS_MNEMONIC_INSB, string_insn<StringOp::Ins>);
  t.set(ZYDIS_MNEMONIC_INSW, string_insn<StringOp::Ins>);
  t.set(ZYDIS_MNEMONIC_INSD, string_insn<StringOp::Ins>);
  t.set(ZYDIS_MNEMONIC_OUTSB, string_insn<StringOp::Outs>);
  t.set(ZYDIS_MNEMONIC_OUTSW, string_insn<StringOp::Outs>);
  t.set(ZYDIS_MNEMONIC_OUTSD, string_insn<StringOp::Outs>);
}

}  // namespace popek
