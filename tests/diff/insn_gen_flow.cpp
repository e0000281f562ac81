// Instruction families for the random generator: stack, string, and
// forward-only control flow. Stack instructions declare their ESP effect so
// that GenContext keeps ESP inside the stack area; string instructions get
// their index registers pointed into the data area with room for the whole
// REP run in either direction (DF may be either); branches only go forward
// to a later group start.
#include "core/cpu_state.h"
#include "tests/diff/insn_gen.h"

namespace popek::diff {
namespace {

using B = std::vector<uint8_t>;

uint8_t u8(unsigned v) { return static_cast<uint8_t>(v); }

Effect stack_effect(int32_t delta) {
  Effect fx;
  fx.writes_esp = true;
  fx.esp_delta = delta;
  return fx;
}

// An EFLAGS image POPF may load at CPL 3 on every executor: arithmetic
// flags, DF, NT and ID as they come, IF=1 and IOPL=0 (neither may change at
// CPL 3, and Unicorn runs at CPL 0), never TF or AC; reserved bits random
// (the CPU must ignore them).
uint32_t popf_image(GenContext& c) {
  uint32_t v = c.rng.next() & (0x8d5u | 0x400u | 0x4000u | 0x200000u);
  if (c.rng.chance(70)) v &= ~0x4000u;
  v |= 0x202;
  if (c.rng.chance(30)) v |= c.rng.next() & 0xffc08028u;  // reserved bits 3, 5, 15, 22-31
  return v;
}

bool gen_push_pop(GenContext& c) {
  const bool o16 = c.rng.chance(c.opt.opsize16_percent);
  const int32_t sz = o16 ? 2 : 4;
  Encoding e;
  e.opsize16 = o16;
  switch (c.rng.below(9)) {
    case 0:  // PUSH r (ESP included: pushes its old value)
      e.opcode = {u8(0x50 + c.src_reg())};
      return c.emit(e, stack_effect(-sz));
    case 1:
      e.opcode = {u8(0x58 + c.dest_reg(32))};
      return c.emit(e, stack_effect(sz));
    case 2:  // PUSH imm8 (sign-extended) / imm
      if (c.rng.chance(50)) {
        e.opcode = {0x6a, u8(c.imm_value(8))};
      } else {
        e.opcode = {0x68};
        e.imm = GenContext::le(c.imm_value(o16 ? 16 : 32), o16 ? 2 : 4);
      }
      return c.emit(e, stack_effect(-sz));
    case 3:  // PUSH r/m
      e.opcode = {0xff};
      e.has_modrm = true;
      e.reg_field = 6;
      e.rm = c.mem_operand(static_cast<unsigned>(sz));
      return c.emit(e, stack_effect(-sz));
    case 4:  // POP r/m (an ESP base would address after the increment)
      e.opcode = {0x8f};
      e.has_modrm = true;
      e.rm = c.mem_operand(static_cast<unsigned>(sz), 0, 0, false);
      return c.emit(e, stack_effect(sz));
    case 5:
      e.opcode = {0x60};  // PUSHA/PUSHAD
      return c.emit(e, stack_effect(-8 * sz));
    case 6:
      if (!c.rng.chance(30)) return false;  // POPA forgets every base register: keep it rare
      e.opcode = {0x61};
      return c.emit(e, stack_effect(8 * sz));
    case 7:
      e.opcode = {0x9c};  // PUSHF/PUSHFD
      return c.emit(e, stack_effect(-sz));
    default: {  // PUSH imm; POPF
      Encoding push;
      push.opsize16 = o16;
      push.opcode = {0x68};
      push.imm = GenContext::le(popf_image(c), o16 ? 2 : 4);
      if (!c.emit(push, stack_effect(-sz))) return false;
      e.opcode = {0x9d};
      return c.emit(e, stack_effect(sz));
    }
  }
}

// Does the string-op index register `r` (SI/DI with 16-bit addressing) stay
// inside the data or stack area for `room` bytes either way?
bool index_fits(const GenContext& c, unsigned r, bool a16, uint32_t room) {
  const RegTrack& t = c.track().regs[r];
  if (!t.known || t.width > 0x200) return false;
  uint32_t lo = a16 ? (t.lo & 0xffff) : t.lo;
  const uint32_t areas[2][2] = {{kDataBase, kDataSize}, {kStackBase, kStackSize}};
  for (const auto& [base, size] : areas) {
    if (lo >= base + room && uint64_t{lo} + t.width + room <= base + size) return true;
  }
  return false;
}

// MOVS CMPS STOS LODS SCAS, byte/word/dword, with or without REP (count
// 0..7 set just before), 32- or 16-bit addressing, optional source override.
bool gen_string(GenContext& c) {
  static constexpr uint8_t kOps[5] = {0xa4, 0xa6, 0xaa, 0xac, 0xae};  // MOVS CMPS STOS LODS SCAS
  const unsigned which = c.rng.below(5);
  const unsigned size = c.rng.chance(30) ? 1 : c.rng.chance(c.opt.opsize16_percent) ? 2 : 4;
  const bool a16 = c.rng.chance(c.opt.addr16_percent + 5);
  const bool uses_si = which <= 1 || which == 3;
  const bool uses_di = which != 3;
  const bool rep = c.rng.chance(60);
  const uint32_t count = rep ? c.rng.below(8) : 1;
  const uint32_t room = count * size + 8;
  for (unsigned r : {unsigned{ESI}, unsigned{EDI}}) {
    if ((r == ESI ? !uses_si : !uses_di) || index_fits(c, r, a16, room)) continue;
    if (!c.point_into_data(r, room)) return false;
  }
  if (rep && !c.mov_imm(ECX, count)) return false;
  Encoding e;
  e.opcode = {u8(kOps[which] + (size == 1 ? 0 : 1))};
  e.opsize16 = size == 2;
  e.addr16 = a16;
  if (rep) e.rep = (which == 1 || which == 4) && c.rng.chance(50) ? 0xf2 : 0xf3;
  if (uses_si && c.rng.chance(10)) e.opcode.insert(e.opcode.begin(), u8(c.rng.chance(50) ? 0x26 : 0x36));
  Effect fx;
  fx.widen_reg[0] = uses_si ? ESI : -1;
  fx.widen_reg[1] = uses_di ? EDI : -1;
  fx.widen_by = count * size;
  return c.emit(e, fx);
}

bool gen_enter_leave(GenContext& c) {
  const RegTrack& ebp = c.track().regs[EBP];
  const bool ebp_in_stack = ebp.known && ebp.lo >= kStackBase + 64 && ebp.lo + ebp.width < kStackBase + kStackSize - 64;
  if (ebp_in_stack && c.rng.chance(50)) {
    Encoding e;
    e.opcode = {0xc9};  // LEAVE
    Effect fx;
    fx.frame = 2;
    return c.emit(e, fx);
  }
  // ENTER size, level. Level 2 copies one frame pointer from [EBP-4].
  unsigned level = c.rng.chance(70) ? 0 : 1;
  if (ebp_in_stack && c.rng.chance(30)) level = 2;
  const unsigned size = c.rng.below(12) * 4 + (c.rng.chance(10) ? c.rng.below(4) : 0);
  Encoding e;
  e.opcode = {0xc8, u8(size), u8(size >> 8), u8(level)};
  Effect fx;
  fx.frame = 1;
  fx.writes_esp = true;
  fx.esp_delta = -static_cast<int32_t>(4 + 4 * level + size);
  return c.emit(e, fx);
}

Effect branch_effect(SnippetInsn::Fixup kind, unsigned at, int skip, bool unconditional) {
  Effect fx;
  fx.fixup = kind;
  fx.fixup_at = u8(at);
  fx.skip_insns = skip;
  fx.unconditional = unconditional;
  return fx;
}

bool gen_jcc(GenContext& c) {
  const unsigned cc = c.rng.below(16);
  const int skip = static_cast<int>(c.rng.below(4));
  Encoding e;
  if (c.rng.chance(20)) {
    e.opcode = {0x0f, u8(0x80 + cc), 0, 0, 0, 0};
    return c.emit(e, branch_effect(SnippetInsn::Fixup::Rel32, 2, skip, false));
  }
  e.opcode = {u8(0x70 + cc), 0};
  return c.emit(e, branch_effect(SnippetInsn::Fixup::Rel8, 1, skip, false));
}

bool gen_jmp(GenContext& c) {
  const int skip = static_cast<int>(c.rng.below(3));
  Encoding e;
  if (c.rng.chance(30)) {
    e.opcode = {0xe9, 0, 0, 0, 0};
    return c.emit(e, branch_effect(SnippetInsn::Fixup::Rel32, 1, skip, true));
  }
  e.opcode = {0xeb, 0};
  return c.emit(e, branch_effect(SnippetInsn::Fixup::Rel8, 1, skip, true));
}

// LOOPNE LOOPE LOOP JECXZ (JCXZ/LOOP on CX with 0x67), targets kept near.
bool gen_loop(GenContext& c) {
  if (c.rng.chance(50) && !c.mov_imm(ECX, c.rng.below(3))) return false;
  const bool a16 = c.rng.chance(20);
  Encoding e;
  e.addr16 = a16;
  e.opcode = {u8(0xe0 + c.rng.below(4)), 0};
  return c.emit(e, branch_effect(SnippetInsn::Fixup::Rel8, a16 ? 2 : 1, static_cast<int>(c.rng.below(2)), false));
}

bool gen_call(GenContext& c) {
  Encoding e;
  e.opcode = {0xe8, 0, 0, 0, 0};
  Effect fx = branch_effect(SnippetInsn::Fixup::Rel32, 1, static_cast<int>(c.rng.below(3)), true);
  fx.writes_esp = true;
  fx.esp_delta = -4;
  return c.emit(e, fx);
}

// Indirect transfers to a label: PUSH label; RET [imm16] / MOV r, label;
// JMP r or CALL r / MOV [m], label; JMP [m].
bool gen_indirect(GenContext& c) {
  const int skip = 1 + static_cast<int>(c.rng.below(3));  // counted from the label instruction
  Effect label = branch_effect(SnippetInsn::Fixup::Abs32, 1, skip, false);
  label.label_only = true;
  Effect go;
  go.unconditional = true;
  go.takes_label = true;
  switch (c.rng.below(3)) {
    case 0: {
      Encoding push;
      push.opcode = {0x68, 0, 0, 0, 0};
      label.writes_esp = true;
      label.esp_delta = -4;
      if (!c.emit(push, label)) return false;
      Encoding ret;
      const unsigned imm = c.rng.chance(30) ? 2 * c.rng.below(8) : 0;
      ret.opcode = imm ? B{0xc2, u8(imm), 0} : B{0xc3};
      go.writes_esp = true;
      go.esp_delta = 4 + static_cast<int32_t>(imm);
      return c.emit(ret, go);
    }
    case 1: {
      const unsigned r = c.dest_reg(32);
      Encoding mov;
      mov.opcode = {u8(0xb8 + r), 0, 0, 0, 0};
      if (!c.emit(mov, label)) return false;
      Encoding jmp;
      const bool call = c.rng.chance(30);
      jmp.opcode = {0xff, u8(0xc0 | (call ? 2 : 4) << 3 | r)};
      if (call) {
        go.writes_esp = true;
        go.esp_delta = -4;
      }
      return c.emit(jmp, go);
    }
    default: {
      RmOperand m = c.mem_operand(4);
      Encoding mov;
      mov.opcode = {0xc7};
      mov.has_modrm = true;
      mov.rm = m;
      mov.imm = {0, 0, 0, 0};
      label.fixup_at = u8(GenContext::encode(mov).size() - 4);
      if (!c.emit(mov, label)) return false;
      Encoding jmp;
      jmp.opcode = {0xff};
      jmp.has_modrm = true;
      jmp.reg_field = 4;
      jmp.rm = m;
      return c.emit(jmp, go);
    }
  }
}

bool gen_xlat(GenContext& c) {
  const bool a16 = c.rng.chance(c.opt.addr16_percent);
  const RegTrack& ebx = c.track().regs[EBX];
  const uint32_t lo = a16 ? (ebx.lo & 0xffff) : ebx.lo;
  const bool fits = ebx.known && ebx.width < 0x100 &&
                    ((lo >= kDataBase && uint64_t{lo} + ebx.width + 256 <= kDataBase + kDataSize) ||
                     (lo >= kStackBase && uint64_t{lo} + ebx.width + 256 <= kStackBase + kStackSize));
  if (!fits && !c.mov_imm(EBX, kDataBase + c.rng.below(kDataSize - 256))) return false;
  Encoding e;
  e.addr16 = a16;
  e.opcode = {0xd7};
  Effect fx;
  fx.skip_mem_check = true;
  return c.emit(e, fx);
}

}  // namespace

const std::vector<Family>& flow_families() {
  static const std::vector<Family> kFamilies = {
      {"push_pop", 9, gen_push_pop},
      {"string", 8, gen_string},
      {"enter_leave", 2, gen_enter_leave},
      {"jcc", 8, gen_jcc},
      {"jmp", 2, gen_jmp},
      {"loop", 3, gen_loop},
      {"call", 1, gen_call},
      {"indirect", 2, gen_indirect},
      {"xlat", 1, gen_xlat},
  };
  return kFamilies;
}

}  // namespace popek::diff
