// Instruction families for the random generator: integer ALU, shifts,
// multiply/divide, bit operations, moves and flag/BCD instructions. Each
// family writes one group (the instruction plus the setup it needs) through
// GenContext, which validates it with Zydis and tracks register state.
//
// Deliberately left out of the random stream (covered, if at all, by the
// targeted tests): 16-bit SHLD/SHRD with a count above 16 and 16-bit BSWAP
// (undefined results that Unicorn cannot be compared on), SALC, TZCNT/LZCNT
// encodings (F3 0F BC/BD are BSF/BSR on an i686 but not on the host).
#include "core/cpu_state.h"
#include "tests/diff/insn_gen.h"

namespace popek::diff {
namespace {

using B = std::vector<uint8_t>;

uint8_t u8(unsigned v) { return static_cast<uint8_t>(v); }

Encoding modrm_insn(B opcode, unsigned size, unsigned reg_field, RmOperand rm) {
  Encoding e;
  e.opsize16 = size == 16;
  e.opcode = std::move(opcode);
  e.has_modrm = true;
  e.reg_field = u8(reg_field);
  e.rm = std::move(rm);
  return e;
}

// Immediate of the operand size (iz: 16 or 32 bits; 8 for byte forms).
B imm_of(GenContext& c, unsigned size) { return GenContext::le(c.imm_value(size), size / 8); }

// Occasionally a redundant 0x66 on a byte instruction (the CPU ignores it).
void maybe_junk_66(GenContext& c, Encoding& e, unsigned size) {
  if (size == 8 && c.rng.chance(3)) e.opsize16 = true;
}

// The r/m operand of an instruction that may take LOCK; only memory built
// as atomic_safe (never crossing a cache line) gets the prefix.
RmOperand lockable_rm(GenContext& c, unsigned size) { return c.rm_operand(size, true, c.rng.chance(15)); }

void maybe_lock(Encoding& e) {
  if (!e.rm.is_reg && e.rm.atomic_safe) e.lock = true;
}

bool gen_alu(GenContext& c) {
  const unsigned op = c.rng.below(8);  // ADD OR ADC SBB AND SUB XOR CMP
  const unsigned size = c.any_size();
  const unsigned w = size == 8 ? 0 : 1;
  Encoding e;
  switch (c.rng.below(4)) {
    case 0:  // Eb/Ev, Gb/Gv
      e = modrm_insn({u8(op * 8 + w)}, size, c.src_reg(), lockable_rm(c, size));
      if (op != 7) maybe_lock(e);
      break;
    case 1:  // Gb/Gv, Eb/Ev
      e = modrm_insn({u8(op * 8 + 2 + w)}, size, c.dest_reg(size),
                     c.rng.chance(c.opt.mem_percent) ? c.mem_operand(size / 8) : c.reg_operand(c.src_reg()));
      break;
    case 2: {  // group 1 with an immediate: 80 ib, 82 ib (alias), 81 iz, 83 ib sign-extended
      unsigned opc = size == 8 ? (c.rng.chance(15) ? 0x82 : 0x80) : (c.rng.chance(50) ? 0x83 : 0x81);
      e = modrm_insn({u8(opc)}, size, op, lockable_rm(c, size));
      e.imm = opc == 0x81 ? imm_of(c, size) : imm_of(c, 8);
      if (op != 7) maybe_lock(e);
      break;
    }
    default:  // AL/eAX, imm
      e.opsize16 = size == 16;
      e.opcode = {u8(op * 8 + 4 + w)};
      e.imm = imm_of(c, size);
      break;
  }
  maybe_junk_66(c, e, size);
  return c.emit(e);
}

bool gen_test(GenContext& c) {
  const unsigned size = c.any_size();
  const unsigned w = size == 8 ? 0 : 1;
  Encoding e;
  switch (c.rng.below(3)) {
    case 0: e = modrm_insn({u8(0x84 + w)}, size, c.src_reg(), c.rm_operand(size)); break;
    case 1:
      e.opsize16 = size == 16;
      e.opcode = {u8(0xa8 + w)};
      e.imm = imm_of(c, size);
      break;
    default:  // F6/F7 /0, and the undocumented /1 alias
      e = modrm_insn({u8(0xf6 + w)}, size, c.rng.chance(10) ? 1 : 0, c.rm_operand(size));
      e.imm = imm_of(c, size);
      break;
  }
  return c.emit(e);
}

bool gen_incdec(GenContext& c) {
  const unsigned size = c.any_size();
  const unsigned dec = c.rng.below(2);
  if (size != 8 && c.rng.chance(40)) {
    Encoding e;
    e.opsize16 = size == 16;
    e.opcode = {u8(0x40 + dec * 8 + c.dest_reg(size))};
    return c.emit(e);
  }
  Encoding e = modrm_insn({u8(size == 8 ? 0xfe : 0xff)}, size, dec, lockable_rm(c, size));
  maybe_lock(e);
  return c.emit(e);
}

bool gen_negnot(GenContext& c) {
  const unsigned size = c.any_size();
  Encoding e = modrm_insn({u8(size == 8 ? 0xf6 : 0xf7)}, size, 2 + c.rng.below(2), lockable_rm(c, size));
  maybe_lock(e);
  return c.emit(e);
}

bool gen_mul(GenContext& c) {
  switch (c.rng.below(3)) {
    case 0: {  // MUL/IMUL r/m (one operand)
      const unsigned size = c.any_size();
      RmOperand src = c.rng.chance(c.opt.mem_percent) ? c.mem_operand(size / 8) : c.reg_operand(c.src_reg());
      return c.emit(modrm_insn({u8(size == 8 ? 0xf6 : 0xf7)}, size, 4 + c.rng.below(2), src));
    }
    case 1: {  // IMUL r, r/m
      const unsigned size = c.opsize();
      RmOperand src = c.rng.chance(c.opt.mem_percent) ? c.mem_operand(size / 8) : c.reg_operand(c.src_reg());
      return c.emit(modrm_insn({0x0f, 0xaf}, size, c.dest_reg(size), src));
    }
    default: {  // IMUL r, r/m, imm8 / imm
      const unsigned size = c.opsize();
      const bool imm8 = c.rng.chance(50);
      RmOperand src = c.rng.chance(c.opt.mem_percent) ? c.mem_operand(size / 8) : c.reg_operand(c.src_reg());
      Encoding e = modrm_insn({u8(imm8 ? 0x6b : 0x69)}, size, c.dest_reg(size), src);
      e.imm = imm8 ? imm_of(c, 8) : imm_of(c, size);
      return c.emit(e);
    }
  }
}

// DIV/IDIV. Guarded (the usual case): the divisor is made nonzero with OR and
// the dividend's high half cleared (DIV) or sign-extended (IDIV), so only
// IDIV of the most negative value by -1 can still raise #DE.
bool gen_div(GenContext& c) {
  const unsigned size = c.any_size();
  const bool is_signed = c.rng.chance(50);
  const bool guard = !c.opt.allow_faults || c.rng.chance(80);
  RmOperand divisor;
  if (c.rng.chance(c.opt.mem_percent)) {
    c.avoid_bases(1 << EAX | 1 << EDX);  // the guards write them
    divisor = c.mem_operand(size / 8);
  } else {
    unsigned r;
    do r = c.dest_reg(size);  // never the dividend registers when guarded
    while (guard && (r == EAX || (size == 8 ? r == 4 : r == EDX)));
    divisor = c.reg_operand(r);
  }
  if (guard) {
    Encoding nz = modrm_insn({u8(size == 8 ? 0x80 : 0x83)}, size, 1, divisor);  // OR r/m, imm8
    nz.imm = {u8(1 + c.rng.below(255))};
    if (!c.emit(nz)) return false;
    Encoding high;
    if (is_signed) {  // CBW / CWD / CDQ
      high.opcode = {u8(size == 8 ? 0x98 : 0x99)};
      high.opsize16 = size != 32;
    } else if (size == 8) {  // MOV AH, 0
      high.opcode = {0xb4, 0x00};
    } else {  // XOR eDX, eDX
      high.opcode = {0x31, 0xd2};
      high.opsize16 = size == 16;
    }
    if (!c.emit(high)) return false;
  }
  return c.emit(modrm_insn({u8(size == 8 ? 0xf6 : 0xf7)}, size, is_signed ? 7 : 6, divisor));
}

unsigned shift_count(GenContext& c) {
  static constexpr uint8_t kCounts[] = {0, 1, 2, 3, 7, 8, 9, 15, 16, 17, 24, 31, 32, 33, 63, 255};
  return c.rng.chance(70) ? kCounts[c.rng.below(sizeof kCounts)] : c.rng.below(256);
}

bool gen_shift(GenContext& c) {
  const unsigned size = c.any_size();
  const unsigned w = size == 8 ? 0 : 1;
  unsigned op = c.rng.below(8);
  if (op == 6 && c.rng.chance(70)) op = 4;  // /6 is the undocumented SAL alias; keep it rare
  c.avoid_bases(1 << ECX);  // a MOV CL may come first
  RmOperand dst = c.rm_operand(size);
  switch (c.rng.below(3)) {
    case 0: return c.emit(modrm_insn({u8(0xd0 + w)}, size, op, dst));
    case 1: {
      Encoding e = modrm_insn({u8(0xc0 + w)}, size, op, dst);
      e.imm = {u8(shift_count(c))};
      return c.emit(e);
    }
    default:
      if (c.rng.chance(50)) {
        Encoding cl;
        cl.opcode = {0xb1, u8(shift_count(c))};  // MOV CL, imm8
        if (!c.emit(cl)) return false;
      }
      return c.emit(modrm_insn({u8(0xd2 + w)}, size, op, dst));
  }
}

bool gen_shld(GenContext& c) {
  const unsigned size = c.opsize();
  const unsigned base = c.rng.chance(50) ? 0xa4 : 0xac;  // SHLD / SHRD
  const bool by_cl = c.rng.chance(50);
  unsigned count = shift_count(c);
  if (size == 16 && (count & 31) > 16) count &= 15;  // above 16 the result is undefined
  c.avoid_bases(1 << ECX);  // a MOV CL may come first
  RmOperand dst = c.rm_operand(size);
  if (by_cl) {
    if (size == 16 || c.rng.chance(50)) {
      Encoding cl;
      cl.opcode = {0xb1, u8(count)};
      if (!c.emit(cl)) return false;
    }
    return c.emit(modrm_insn({0x0f, u8(base + 1)}, size, c.src_reg(), dst));
  }
  Encoding e = modrm_insn({0x0f, u8(base)}, size, c.src_reg(), dst);
  e.imm = {u8(count)};
  return c.emit(e);
}

// BT/BTS/BTR/BTC. With a register bit offset and a memory operand the
// access can reach far from the operand: the offset register is loaded with
// a value within +-512 bits first and the operand placed with 68 bytes of room.
bool gen_bittest(GenContext& c) {
  const unsigned op = c.rng.below(4);  // BT BTS BTR BTC
  const unsigned size = c.opsize();
  if (c.rng.chance(40)) {  // 0F BA /4-7 ib
    Encoding e = modrm_insn({0x0f, 0xba}, size, 4 + op, lockable_rm(c, size));
    e.imm = {u8(c.rng.below(256))};
    if (op) maybe_lock(e);
    return c.emit(e);
  }
  static constexpr uint8_t kOps[4] = {0xa3, 0xab, 0xb3, 0xbb};
  if (!c.rng.chance(c.opt.mem_percent)) {
    return c.emit(modrm_insn({0x0f, kOps[op]}, size, c.src_reg(), c.reg_operand(c.dest_reg(size))));
  }
  const unsigned offset_reg = c.dest_reg(32);
  if (!c.mov_imm(offset_reg, static_cast<uint32_t>(static_cast<int32_t>(c.rng.below(1024)) - 512))) return false;
  // No LOCK here: the bit offset moves the access, so its line is not controlled.
  Encoding e = modrm_insn({0x0f, kOps[op]}, size, offset_reg, c.mem_operand(size / 8, 68, 68));
  Effect fx;
  fx.skip_mem_check = true;
  return c.emit(e, fx);
}

bool gen_bitscan(GenContext& c) {
  const unsigned size = c.opsize();
  RmOperand src;
  if (c.rng.chance(c.opt.mem_percent)) {
    src = c.mem_operand(size / 8);
  } else {
    src = c.reg_operand(c.dest_reg(size));
    if (c.rng.chance(20)) {  // a zero source: ZF=1, destination left as it was
      Encoding zero = modrm_insn({0x31}, size, src.reg, src);
      if (!c.emit(zero)) return false;
    }
  }
  return c.emit(modrm_insn({0x0f, u8(c.rng.chance(50) ? 0xbc : 0xbd)}, size, c.dest_reg(size), src));
}

// XADD and CMPXCHG; a CMPXCHG is sometimes repeated so the second one
// finds the accumulator equal (the first loads it on a mismatch).
bool gen_xadd_cmpxchg(GenContext& c) {
  const unsigned size = c.any_size();
  const unsigned w = size == 8 ? 0 : 1;
  const bool xadd = c.rng.chance(40);
  c.avoid_bases(1 << EAX);  // a repeated CMPXCHG finds EAX rewritten
  Encoding e = modrm_insn({0x0f, u8((xadd ? 0xc0 : 0xb0) + w)}, size, xadd ? c.dest_reg(size) : c.src_reg(),
                          lockable_rm(c, size));
  maybe_lock(e);
  if (!c.emit(e)) return false;
  return xadd || !c.rng.chance(40) || c.emit(e);
}

bool gen_cmpxchg8b(GenContext& c) {
  c.avoid_bases(1 << EAX | 1 << EDX);  // a repeated CMPXCHG8B finds EDX:EAX rewritten
  Encoding e = modrm_insn({0x0f, 0xc7}, 32, 1, c.mem_operand(8, 0, 0, true, c.rng.chance(15)));
  maybe_lock(e);
  if (!c.emit(e)) return false;
  return !c.rng.chance(50) || c.emit(e);
}

bool gen_bswap(GenContext& c) {
  Encoding e;
  e.opcode = {0x0f, u8(0xc8 + c.dest_reg(32))};
  return c.emit(e);
}

bool gen_cmov_setcc(GenContext& c) {
  const unsigned cc = c.rng.below(16);
  if (c.rng.chance(55)) {
    const unsigned size = c.opsize();
    RmOperand src = c.rng.chance(c.opt.mem_percent) ? c.mem_operand(size / 8) : c.reg_operand(c.src_reg());
    return c.emit(modrm_insn({0x0f, u8(0x40 + cc)}, size, c.dest_reg(size), src));
  }
  return c.emit(modrm_insn({0x0f, u8(0x90 + cc)}, 8, c.rng.chance(5) ? c.rng.below(8) : 0, c.rm_operand(8)));
}

bool gen_movx(GenContext& c) {
  static constexpr uint8_t kOps[4] = {0xb6, 0xb7, 0xbe, 0xbf};  // MOVZX Eb/Ew, MOVSX Eb/Ew
  const uint8_t op = kOps[c.rng.below(4)];
  const unsigned dst_size = c.opsize();
  const unsigned src_size = (op & 1) ? 16 : 8;
  RmOperand src = c.rng.chance(c.opt.mem_percent) ? c.mem_operand(src_size / 8) : c.reg_operand(c.src_reg());
  return c.emit(modrm_insn({0x0f, op}, dst_size, c.dest_reg(dst_size), src));
}

bool gen_lea(GenContext& c) {
  const unsigned size = c.opsize();
  return c.emit(modrm_insn({0x8d}, size, c.dest_reg(size), c.free_address()));
}

bool gen_xchg(GenContext& c) {
  if (c.rng.chance(30)) {  // 90+r: XCHG eAX, r (r = 0 is NOP)
    Encoding e;
    const unsigned size = c.opsize();
    e.opsize16 = size == 16;
    e.opcode = {u8(0x90 + c.dest_reg(size))};
    return c.emit(e);
  }
  // XCHG with memory is locked even without the prefix.
  const unsigned size = c.any_size();
  Encoding e = modrm_insn({u8(size == 8 ? 0x86 : 0x87)}, size, c.dest_reg(size), c.rm_operand(size, true, true));
  if (c.rng.chance(15)) maybe_lock(e);
  return c.emit(e);
}

bool gen_mov(GenContext& c) {
  const unsigned size = c.any_size();
  const unsigned w = size == 8 ? 0 : 1;
  switch (c.rng.below(5)) {
    case 0: return c.emit(modrm_insn({u8(0x88 + w)}, size, c.src_reg(), c.rm_operand(size)));
    case 1: {
      RmOperand src = c.rng.chance(c.opt.mem_percent) ? c.mem_operand(size / 8) : c.reg_operand(c.src_reg());
      return c.emit(modrm_insn({u8(0x8a + w)}, size, c.dest_reg(size), src));
    }
    case 2: {
      const unsigned r = c.dest_reg(size);
      if (size == 32) return c.mov_imm(r, c.imm_value(32));
      Encoding e;
      e.opsize16 = size == 16;
      e.opcode = {u8((size == 8 ? 0xb0 : 0xb8) + r)};
      e.imm = imm_of(c, size);
      return c.emit(e);
    }
    case 3: {
      Encoding e = modrm_insn({u8(0xc6 + w)}, size, 0, c.rm_operand(size));
      e.imm = imm_of(c, size);
      return c.emit(e);
    }
    default: {  // A0-A3: accumulator <-> [moffs]
      RmOperand m = c.mem_operand(size / 8);  // only to pick a valid address and prefixes
      const bool a16 = c.rng.chance(c.opt.addr16_percent);
      uint32_t ea = kDataBase + c.rng.below(kDataSize - 4);
      Encoding e;
      e.opsize16 = size == 16;
      e.addr16 = a16;
      e.opcode = {u8(0xa0 + w + (c.rng.chance(50) ? 2 : 0))};
      if (m.seg_prefix) e.opcode.insert(e.opcode.begin(), m.seg_prefix);
      e.imm = GenContext::le(ea, a16 ? 2 : 4);
      return c.emit(e);
    }
  }
}

bool gen_convert(GenContext& c) {  // CBW CWDE CWD CDQ
  Encoding e;
  e.opcode = {u8(0x98 + c.rng.below(2))};
  e.opsize16 = c.rng.chance(50);
  return c.emit(e);
}

bool gen_flag_ops(GenContext& c) {  // CLC STC CMC CLD STD SAHF LAHF SALC
  static constexpr uint8_t kOps[8] = {0xf8, 0xf9, 0xf5, 0xfc, 0xfd, 0x9e, 0x9f, 0xd6};
  Encoding e;
  e.opcode = {kOps[c.rng.below(8)]};
  return c.emit(e);
}

// BOUND r, m16&16 / m32&32: #BR when the signed index is outside the pair.
// Mostly against a pair just stored at an absolute address that admits
// every index (so the snippet goes on); otherwise against whatever is in
// memory, which usually raises #BR.
bool gen_bound(GenContext& c) {
  const unsigned size = c.opsize();
  const unsigned bytes = size / 8;
  if (c.rng.chance(40)) return c.emit(modrm_insn({0x62}, size, c.src_reg(), c.mem_operand(2 * bytes)));
  const uint32_t at = kDataBase + c.rng.below(kDataSize - 8);
  auto absolute = [&](uint32_t addr) {
    RmOperand m;
    m.is_reg = false;
    m.tail = {0x05};
    B d = GenContext::le(addr, 4);
    m.tail.insert(m.tail.end(), d.begin(), d.end());
    return m;
  };
  Encoding lower = modrm_insn({0xc7}, size, 0, absolute(at));
  lower.imm = GenContext::le(size == 16 ? 0x8000 : 0x80000000u, bytes);
  Encoding upper = modrm_insn({0xc7}, size, 0, absolute(at + bytes));
  upper.imm = GenContext::le(size == 16 ? 0x7fff : 0x7fffffffu, bytes);
  return c.emit(lower) && c.emit(upper) && c.emit(modrm_insn({0x62}, size, c.src_reg(), absolute(at)));
}

// Encodings every executor must reject with #UD: LOCK on a register
// destination or on a non-lockable instruction, and UD2.
bool gen_invalid(GenContext& c) {
  if (!c.rng.chance(30)) return false;  // each one ends its snippet: keep them rare
  Effect fx;
  fx.invalid = true;
  switch (c.rng.below(3)) {
    case 0: return c.emit_bytes({0xf0, GenContext::le(c.rng.below(8) * 8 + 1, 1)[0], 0xc8}, fx);  // lock add eax, ecx
    case 1: {
      Encoding e = modrm_insn({0x89}, 32, c.src_reg(), c.mem_operand(4));  // lock mov [m], r
      e.lock = true;
      return c.emit_bytes(GenContext::encode(e), fx);
    }
    default: {  // UD2 decodes; it just always faults
      Effect ud;
      ud.unconditional = true;
      return c.emit_bytes({0x0f, 0x0b}, ud);
    }
  }
}

bool gen_bcd(GenContext& c) {  // DAA DAS AAA AAS AAM ib AAD ib
  Encoding e;
  switch (c.rng.below(6)) {
    case 0: e.opcode = {0x27}; break;
    case 1: e.opcode = {0x2f}; break;
    case 2: e.opcode = {0x37}; break;
    case 3: e.opcode = {0x3f}; break;
    default: {
      unsigned base = c.rng.chance(60) ? 10 : 1 + c.rng.below(255);
      if (c.opt.allow_faults && c.rng.chance(3)) base = 0;  // AAM 0 raises #DE
      e.opcode = {u8(c.rng.chance(50) ? 0xd4 : 0xd5), u8(base)};
    }
  }
  return c.emit(e);
}

bool gen_nop(GenContext& c) {
  Encoding e;
  switch (c.rng.below(3)) {
    case 0: e.opcode = {0x90}; break;
    case 1: e.opcode = {0x90}; e.opsize16 = true; break;
    default: e = modrm_insn({0x0f, 0x1f}, c.opsize(), 0, c.rng.chance(30) ? c.reg_operand(c.src_reg()) : c.free_address());
  }
  return c.emit(e);
}

}  // namespace

const std::vector<Family>& alu_families() {
  static const std::vector<Family> kFamilies = {
      {"alu", 16, gen_alu},
      {"test", 4, gen_test},
      {"incdec", 5, gen_incdec},
      {"negnot", 3, gen_negnot},
      {"mul", 5, gen_mul},
      {"div", 4, gen_div},
      {"shift", 10, gen_shift},
      {"shld", 4, gen_shld},
      {"bittest", 6, gen_bittest},
      {"bitscan", 3, gen_bitscan},
      {"xadd_cmpxchg", 4, gen_xadd_cmpxchg},
      {"cmpxchg8b", 2, gen_cmpxchg8b},
      {"bswap", 2, gen_bswap},
      {"cmov_setcc", 8, gen_cmov_setcc},
      {"movx", 5, gen_movx},
      {"lea", 4, gen_lea},
      {"xchg", 3, gen_xchg},
      {"mov", 8, gen_mov},
      {"convert", 3, gen_convert},
      {"flag_ops", 4, gen_flag_ops},
      {"bcd", 4, gen_bcd},
      {"nop", 1, gen_nop},
      {"bound", 1, gen_bound},
      {"invalid", 1, gen_invalid},
  };
  return kFamilies;
}

}  // namespace popek::diff
