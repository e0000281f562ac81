#include "tests/translator/random_program.h"

#include <Zydis/Zydis.h>

#include <algorithm>
#include <cstring>

namespace popek::test {
namespace {

using Operand = ZydisEncoderOperand;

#define MN(x) ZYDIS_MNEMONIC_##x
#define RG(x) ZYDIS_REGISTER_##x

const ZydisMnemonic kBinary[] = {MN(ADD), MN(ADC), MN(SUB), MN(SBB), MN(AND), MN(OR), MN(XOR), MN(CMP), MN(TEST)};
const ZydisMnemonic kUnary[] = {MN(INC), MN(DEC), MN(NEG), MN(NOT)};
const ZydisMnemonic kShift[] = {MN(ROL), MN(ROR), MN(RCL), MN(RCR), MN(SHL), MN(SHR), MN(SAR)};
const ZydisMnemonic kBitTest[] = {MN(BT), MN(BTS), MN(BTR), MN(BTC)};
const ZydisMnemonic kCmov[] = {MN(CMOVO), MN(CMOVNO), MN(CMOVB),  MN(CMOVNB), MN(CMOVZ), MN(CMOVNZ),
                               MN(CMOVBE), MN(CMOVNBE), MN(CMOVS), MN(CMOVNS), MN(CMOVP), MN(CMOVNP),
                               MN(CMOVL), MN(CMOVNL), MN(CMOVLE), MN(CMOVNLE)};
const ZydisMnemonic kSet[] = {MN(SETO), MN(SETNO), MN(SETB),  MN(SETNB), MN(SETZ), MN(SETNZ),
                              MN(SETBE), MN(SETNBE), MN(SETS), MN(SETNS), MN(SETP), MN(SETNP),
                              MN(SETL), MN(SETNL), MN(SETLE), MN(SETNLE)};
const ZydisMnemonic kNoOperand[] = {MN(CLC), MN(STC), MN(CMC), MN(LAHF), MN(SAHF), MN(CBW), MN(CWDE),
                                    MN(CWD), MN(CDQ), MN(CLD), MN(STD), MN(NOP)};

struct Gen {
  std::mt19937& rng;
  bool code32;
  uint32_t buffer;
  bool with_stack;
  ZydisInstructionAttributes prefixes = 0;

  unsigned pick(unsigned n) { return std::uniform_int_distribution<unsigned>(0, n - 1)(rng); }
  bool chance(unsigned one_in) { return pick(one_in) == 0; }
  template <typename T, size_t N>
  T any(const T (&a)[N]) { return a[pick(N)]; }

  unsigned width() { return (unsigned[]){8, 16, 32}[pick(3)]; }
  unsigned wide() { return pick(2) ? 32 : 16; }

  // Registers: (E)BX and (E)SI are read-only pointers (BL/BH too).
  ZydisRegister reg(unsigned bits, bool dest) {
    static const ZydisRegister d32[] = {RG(EAX), RG(ECX), RG(EDX), RG(EDI), RG(EBP), RG(ESP)};
    static const ZydisRegister s32[] = {RG(EAX), RG(ECX), RG(EDX), RG(EDI), RG(EBP), RG(ESP), RG(EBX), RG(ESI)};
    static const ZydisRegister d16[] = {RG(AX), RG(CX), RG(DX), RG(DI), RG(BP), RG(SP)};
    static const ZydisRegister s16[] = {RG(AX), RG(CX), RG(DX), RG(DI), RG(BP), RG(SP), RG(BX), RG(SI)};
    static const ZydisRegister d8[] = {RG(AL), RG(CL), RG(DL), RG(AH), RG(CH), RG(DH)};
    static const ZydisRegister s8[] = {RG(AL), RG(CL), RG(DL), RG(AH), RG(CH), RG(DH), RG(BL), RG(BH)};
    if (with_stack && dest && bits >= 16) {  // ESP/SP is the stack pointer
      ZydisRegister r;
      do r = bits == 32 ? any(d32) : any(d16);
      while (r == RG(ESP) || r == RG(SP));
      return r;
    }
    if (bits == 32) return dest ? any(d32) : any(s32);
    if (bits == 16) return dest ? any(d16) : any(s16);
    return dest ? any(d8) : any(s8);
  }
  Operand r(unsigned bits, bool dest) {
    Operand o{};
    o.type = ZYDIS_OPERAND_TYPE_REGISTER;
    o.reg.value = reg(bits, dest);
    return o;
  }
  Operand m(unsigned bits) {
    Operand o{};
    o.type = ZYDIS_OPERAND_TYPE_MEMORY;
    o.mem.size = static_cast<uint16_t>(bits / 8);
    // Mostly aligned, sometimes odd (and sometimes near the buffer's end).
    uint32_t disp = pick(buffer - 160);
    if (!chance(4)) disp &= ~3u;
    o.mem.displacement = disp;
    o.mem.base = code32 ? RG(EBX) : RG(BX);
    if (chance(2)) {
      o.mem.index = code32 ? RG(ESI) : RG(SI);
      o.mem.scale = code32 ? static_cast<uint8_t>(1u << pick(4)) : 1;
    }
    if (chance(8)) prefixes |= chance(2) ? ZYDIS_ATTRIB_HAS_SEGMENT_FS : ZYDIS_ATTRIB_HAS_SEGMENT_ES;
    return o;
  }
  Operand sreg() {
    static const ZydisRegister s[] = {RG(ES), RG(CS), RG(SS), RG(DS), RG(FS), RG(GS)};
    Operand o{};
    o.type = ZYDIS_OPERAND_TYPE_REGISTER;
    o.reg.value = any(s);
    return o;
  }
  Operand rm(unsigned bits, bool dest) { return chance(3) ? m(bits) : r(bits, dest); }
  Operand i(int64_t v) {
    Operand o{};
    o.type = ZYDIS_OPERAND_TYPE_IMMEDIATE;
    o.imm.s = v;
    return o;
  }
  Operand imm_for(unsigned bits) {
    switch (pick(4)) {
      case 0: return i(static_cast<int8_t>(pick(256)));
      case 1: return i(pick(2) ? 0 : -1);
      default:
        return i(bits == 8 ? static_cast<int8_t>(pick(256)) : bits == 16 ? static_cast<int16_t>(pick(65536))
                                                                          : static_cast<int32_t>(rng()));
    }
  }

  bool encode(ZydisMnemonic mn, std::initializer_list<Operand> ops, std::vector<uint8_t>& out) {
    ZydisEncoderRequest req;
    std::memset(&req, 0, sizeof req);
    req.machine_mode = code32 ? ZYDIS_MACHINE_MODE_LEGACY_32 : ZYDIS_MACHINE_MODE_LEGACY_16;
    req.mnemonic = mn;
    req.prefixes = prefixes;
    for (const Operand& o : ops) req.operands[req.operand_count++] = o;
    uint8_t buf[ZYDIS_MAX_INSTRUCTION_LENGTH];
    ZyanUSize len = sizeof buf;
    prefixes = 0;
    if (!ZYAN_SUCCESS(ZydisEncoderEncodeInstruction(&req, buf, &len))) return false;
    out.assign(buf, buf + len);
    return true;
  }

  // Appends one encoded instruction to `out`.
  bool add(ZydisMnemonic mn, std::initializer_list<Operand> ops, std::vector<uint8_t>& out) {
    std::vector<uint8_t> b;
    if (!encode(mn, ops, b)) return false;
    out.insert(out.end(), b.begin(), b.end());
    return true;
  }
  Operand fixed(ZydisRegister r) {
    Operand o{};
    o.type = ZYDIS_OPERAND_TYPE_REGISTER;
    o.reg.value = r;
    return o;
  }
  Operand at_buffer(uint32_t disp) {  // [(E)BX + disp], for LEA
    Operand o{};
    o.type = ZYDIS_OPERAND_TYPE_MEMORY;
    o.mem.base = code32 ? RG(EBX) : RG(BX);
    o.mem.displacement = disp;
    o.mem.size = code32 ? 4 : 2;  // the LEA destination's size
    return o;
  }

  // Forms that were interpreter fallbacks on the Linux boot, each as one
  // slot of several instructions that keeps the register discipline:
  //  - DIV/IDIV after a dividend set-up (zero or sign extension, sometimes
  //    none: then #DE is likely, which both engines must raise alike);
  //  - LEAVE after a frame set-up (ESP stays in the buffer);
  //  - REP MOVS/STOS and REPE/REPNE SCAS (and a plain SCAS) with EDI/ESI in
  //    the buffer and counts from 0 to beyond one 1024-iteration chunk
  //    (either direction: DF is whatever CLD/STD left), then (E)SI reset to
  //    a small index.
  bool lowered(std::vector<uint8_t>& out) {
    out.clear();
    const ZydisRegister cx = code32 ? RG(ECX) : RG(CX);
    const ZydisRegister si = code32 ? RG(ESI) : RG(SI), di = code32 ? RG(EDI) : RG(DI);
    switch (pick(3)) {
      case 0: {  // DIV/IDIV, set up so that they do not fault (the targeted test has #DE)
        const unsigned w = width();
        const bool is_signed = pick(2);
        if (w == 8) {
          if (is_signed ? !add(MN(CBW), {}, out) : !add(MN(MOV), {fixed(RG(AH)), i(0)}, out)) return false;
        } else if (is_signed) {
          if (!add(w == 32 ? MN(CDQ) : MN(CWD), {}, out)) return false;
        } else {
          const ZydisRegister dx = w == 32 ? RG(EDX) : RG(DX);
          if (!add(MN(XOR), {fixed(dx), fixed(dx)}, out)) return false;
        }
        // A non-zero divisor outside the dividend's registers.
        Operand divisor;
        do divisor = rm(w, true);
        while (divisor.type == ZYDIS_OPERAND_TYPE_REGISTER &&
               (divisor.reg.value == RG(EAX) || divisor.reg.value == RG(EDX) || divisor.reg.value == RG(AX) ||
                divisor.reg.value == RG(DX) || divisor.reg.value == RG(AL) || divisor.reg.value == RG(AH)));
        const ZydisInstructionAttributes seg = prefixes;
        if (!add(MN(OR), {divisor, i(1)}, out)) return false;
        prefixes = seg;
        return add(is_signed ? MN(IDIV) : MN(DIV), {divisor}, out);
      }
      case 1: {  // LEAVE
        if (!with_stack) return false;
        const ZydisRegister bp = code32 ? RG(EBP) : RG(BP), sp = code32 ? RG(ESP) : RG(SP);
        if (!add(MN(MOV), {fixed(bp), fixed(sp)}, out)) return false;
        if (chance(2) && !add(MN(SUB), {fixed(sp), i(4 * pick(8))}, out)) return false;
        if (chance(3)) prefixes |= ZYDIS_ATTRIB_HAS_OPERANDSIZE;
        return add(MN(LEAVE), {}, out);
      }
      default: {  // string instructions
        static const ZydisMnemonic kRep[] = {MN(MOVSB), MN(MOVSW), MN(MOVSD), MN(STOSB), MN(STOSW), MN(STOSD),
                                             MN(SCASB), MN(SCASW), MN(SCASD), MN(CMPSB), MN(CMPSW), MN(CMPSD)};
        const ZydisMnemonic mn = any(kRep);
        const bool scas = mn == MN(SCASB) || mn == MN(SCASW) || mn == MN(SCASD) || mn == MN(CMPSB) ||
                          mn == MN(CMPSW) || mn == MN(CMPSD);  // compares: with or without REPE/REPNE
        const unsigned size = mn == MN(MOVSB) || mn == MN(STOSB) || mn == MN(SCASB) || mn == MN(CMPSB) ? 1
                              : mn == MN(MOVSW) || mn == MN(STOSW) || mn == MN(SCASW) || mn == MN(CMPSW) ? 2 : 4;
        // Up to 1,250 bytes each way from the middle: inside the buffer.
        const unsigned count = chance(8) ? (1000 + pick(250)) / size : pick(4) == 0 ? 0 : pick(40);
        const uint32_t mid = buffer / 2;
        if (!add(MN(LEA), {fixed(di), at_buffer(mid - 64 + pick(128))}, out)) return false;
        if (!add(MN(LEA), {fixed(si), at_buffer(mid - 64 + pick(128))}, out)) return false;
        if (!add(MN(MOV), {fixed(cx), i(count)}, out)) return false;
        if (scas && !add(MN(MOV), {fixed(RG(AL)), i(static_cast<int8_t>(pick(256)))}, out)) return false;
        // The encoder wants explicit operands for string instructions: the
        // bytes are simple enough to write directly.
        const bool wide_default = code32 ? size == 4 : size == 2;
        if (!(scas && chance(3)))  // SCAS/CMPS without REP now and then
          out.push_back(scas ? (pick(2) ? 0xf3 : 0xf2) : 0xf3);
        if (size > 1 && !wide_default) out.push_back(0x66);
        const uint8_t base = mn == MN(MOVSB) || mn == MN(MOVSW) || mn == MN(MOVSD)   ? 0xa4
                             : mn == MN(CMPSB) || mn == MN(CMPSW) || mn == MN(CMPSD) ? 0xa6
                             : mn == MN(STOSB) || mn == MN(STOSW) || mn == MN(STOSD) ? 0xaa
                                                                                      : 0xae;
        out.push_back(static_cast<uint8_t>(base + (size > 1)));
        return add(MN(MOV), {fixed(si), i(pick(16))}, out);
      }
    }
  }

  bool one(std::vector<uint8_t>& out) {
    if (chance(12)) return lowered(out);
    if (with_stack && chance(5)) {
      const unsigned w = wide();
      if (chance(6)) {  // rewritten stack forms: PUSHF, PUSHA, PUSH Sreg
        switch (pick(3)) {
          case 0: return encode(pick(2) ? MN(PUSHF) : MN(PUSHFD), {}, out);
          case 1: return encode(pick(2) ? MN(PUSHA) : MN(PUSHAD), {}, out);
          default: return encode(MN(PUSH), {sreg()}, out);
        }
      }
      if (chance(2)) return encode(MN(POP), {r(w, true)}, out);
      return encode(MN(PUSH), {chance(3) ? imm_for(w) : r(w, false)}, out);
    }
    switch (pick(16)) {
      case 0: case 1: case 2: {  // binary ALU
        const unsigned w = width();
        switch (pick(4)) {
          case 0: return encode(any(kBinary), {r(w, true), r(w, false)}, out);
          case 1: return encode(any(kBinary), {rm(w, true), imm_for(w)}, out);
          case 2: return encode(any(kBinary), {r(w, true), m(w)}, out);
          default: return encode(any(kBinary), {m(w), r(w, false)}, out);
        }
      }
      case 3: return encode(any(kUnary), {rm(width(), true)}, out);
      case 4: {  // shifts by imm, 1 or CL
        const unsigned w = width();
        Operand count = pick(3) == 0 ? r(8, false) : i(pick(3) == 0 ? 1 : pick(40));
        if (count.type == ZYDIS_OPERAND_TYPE_REGISTER) count.reg.value = RG(CL);
        return encode(any(kShift), {rm(w, true), count}, out);
      }
      case 5: {  // SHLD/SHRD
        const unsigned w = wide();
        Operand count = i(pick(32));
        if (chance(2)) {
          count.type = ZYDIS_OPERAND_TYPE_REGISTER;
          count.reg.value = RG(CL);
        }
        return encode(pick(2) ? MN(SHLD) : MN(SHRD), {rm(w, true), r(w, false), count}, out);
      }
      case 6: {  // multiplies
        const unsigned w = wide();
        switch (pick(3)) {
          case 0: return encode(pick(2) ? MN(MUL) : MN(IMUL), {rm(width(), false)}, out);
          case 1: return encode(MN(IMUL), {r(w, true), rm(w, false)}, out);
          default: return encode(MN(IMUL), {r(w, true), rm(w, false), imm_for(w)}, out);
        }
      }
      case 7: case 8: {  // MOV
        const unsigned w = width();
        switch (pick(4)) {
          case 0: return encode(MN(MOV), {r(w, true), r(w, false)}, out);
          case 1: return encode(MN(MOV), {rm(w, true), imm_for(w)}, out);
          case 2: return encode(MN(MOV), {r(w, true), m(w)}, out);
          default: return encode(MN(MOV), {m(w), r(w, false)}, out);
        }
      }
      case 9: {  // MOVZX/MOVSX, LEA
        if (chance(3)) {
          // The encoder wants the size of the destination on LEA's operand.
          const unsigned w = wide();
          Operand mem = m(w);
          prefixes = 0;
          return encode(MN(LEA), {r(w, true), mem}, out);
        }
        const unsigned src = pick(2) ? 8 : 16;
        return encode(pick(2) ? MN(MOVZX) : MN(MOVSX), {r(src == 16 ? 32 : wide(), true), rm(src, false)}, out);
      }
      case 10: {  // CMOVcc / SETcc
        if (chance(2)) return encode(any(kSet), {rm(8, true)}, out);
        const unsigned w = wide();
        return encode(any(kCmov), {r(w, true), rm(w, false)}, out);
      }
      case 11: {  // XCHG, XADD, CMPXCHG, CMPXCHG8B
        if (chance(6)) return encode(MN(CMPXCHG8B), {m(64)}, out);
        const unsigned w = width();
        const ZydisMnemonic mn = (ZydisMnemonic[]){MN(XCHG), MN(XADD), MN(CMPXCHG)}[pick(3)];
        return encode(mn, {rm(w, true), r(w, true)}, out);
      }
      case 12: {  // bit tests and scans, BSWAP
        const unsigned w = wide();
        switch (pick(4)) {
          case 0: return encode(any(kBitTest), {rm(w, true), i(pick(256))}, out);
          case 1: return encode(any(kBitTest), {r(w, true), r(w, false)}, out);
          case 2: return encode(pick(2) ? MN(BSF) : MN(BSR), {r(w, true), rm(w, false)}, out);
          default: return encode(MN(BSWAP), {r(32, true)}, out);
        }
      }
      case 13:
        if (chance(4)) {  // rewritten reads of virtual state: MOV r,Sreg and SMSW r
          if (chance(2)) return encode(MN(SMSW), {r(wide(), true)}, out);
          return encode(MN(MOV), {r(wide(), true), sreg()}, out);
        }
        return encode(any(kNoOperand), {}, out);
      default: {  // TEST/CMP against memory to feed the flags to later CMOV/SET/Jcc
        const unsigned w = width();
        return encode(pick(2) ? MN(CMP) : MN(TEST), {m(w), r(w, false)}, out);
      }
    }
  }
};

}  // namespace

RandomProgram generate_program(std::mt19937& rng, bool code32, unsigned instructions, uint32_t buffer_bytes,
                               bool with_stack) {
  Gen g{rng, code32, buffer_bytes, with_stack};
  std::vector<std::vector<uint8_t>> insns;
  while (insns.size() < instructions) {
    std::vector<uint8_t> bytes;
    if (g.one(bytes)) insns.push_back(std::move(bytes));
  }
  // Now and then a forward Jcc over the next 0..3 instructions: decide where
  // they go first, then lay out, so that targets are instruction starts.
  std::vector<int> skip(insns.size(), -1);
  for (auto& s : skip)
    if (g.chance(6)) s = static_cast<int>(g.pick(4));
  std::vector<uint32_t> slot_start(insns.size() + 1, 0);  // a slot: optional Jcc + instruction
  for (size_t k = 0; k < insns.size(); ++k)
    slot_start[k + 1] = slot_start[k] + (skip[k] >= 0 ? 2 : 0) + static_cast<uint32_t>(insns[k].size());
  RandomProgram p;
  for (size_t k = 0; k < insns.size(); ++k) {
    if (skip[k] >= 0) {
      const size_t target = std::min(insns.size(), k + static_cast<size_t>(skip[k]));
      const uint32_t after_jcc = slot_start[k] + 2;
      const uint32_t rel = target == k ? 0 : slot_start[target] - after_jcc;
      p.code.push_back(static_cast<uint8_t>(0x70 + g.pick(16)));
      p.code.push_back(static_cast<uint8_t>(rel));
      ++p.instructions;
    }
    p.code.insert(p.code.end(), insns[k].begin(), insns[k].end());
    ++p.instructions;
  }
  p.code.push_back(0xf4);  // hlt
  return p;
}

}  // namespace popek::test
