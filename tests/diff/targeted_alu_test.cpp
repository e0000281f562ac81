// Targeted differential tests, arithmetic side: every form of the integer
// ALU, INC/DEC/NEG/NOT, shifts and rotates, SHLD/SHRD, MUL/IMUL and
// DIV/IDIV over edge operand values, run on Popek, Unicorn and the real CPU.
// Registers not under test carry a pattern in their upper bits, so partial
// register writes are checked too.
#include "core/cpu_state.h"
#include "tests/diff/targeted_support.h"

namespace popek::diff::targeted {
namespace {

using B = std::vector<uint8_t>;
constexpr uint32_t kAllArith = 0x8d5;

uint8_t u8(unsigned v) { return static_cast<uint8_t>(v); }
B o16(unsigned bits) { return bits == 16 ? B{0x66} : B{}; }
B le(uint32_t v, unsigned bytes) {
  B b(bytes);
  for (unsigned i = 0; i < bytes; ++i) b[i] = u8(v >> (8 * i));
  return b;
}
// Puts `v` in the low `bits` of a register whose other bits hold a pattern.
uint32_t with_pattern(uint32_t v, unsigned bits, uint32_t pattern = 0xa55a3cc3) {
  if (bits == 32) return v;
  uint32_t mask = (1u << bits) - 1;
  return (pattern & ~mask) | (v & mask);
}
GuestState state(uint32_t eax, uint32_t ecx, uint32_t flags) {
  GuestState s = base_state();
  s.regs[EAX] = eax;
  s.regs[ECX] = ecx;
  s.regs[EDX] = 0x13572468;
  s.eflags = 0x202 | flags;
  return s;
}

TEST(DiffTargeted, AluRegisterForms) {
  Suite suite("alu reg,reg");
  for (unsigned op = 0; op < 8; ++op)
    for (unsigned bits : {8u, 16u, 32u})
      for (uint32_t a : edges(bits))
        for (uint32_t b : edges(bits))
          for (uint32_t fl : {0u, kAllArith}) {
            // op eAX, eCX (ModRM 0xC8: reg=ECX, rm=EAX); 8-bit: op al, cl
            B code = bytes({o16(bits), {u8(op * 8 + (bits == 8 ? 0 : 1)), 0xc8}});
            suite.run(code, state(with_pattern(a, bits), with_pattern(b, bits, 0x3cc3a55a), fl));
          }
  suite.expect_clean();
}

TEST(DiffTargeted, AluImmediateAndHighByteForms) {
  Suite suite("alu imm");
  for (unsigned op = 0; op < 8; ++op)
    for (uint32_t a : edges32())
      for (uint32_t fl : {0u, kAllArith}) {
        for (uint32_t imm : {0u, 1u, 0x7fu, 0x80u, 0xffu}) {
          suite.run(bytes({{0x83, u8(0xc0 | op << 3), u8(imm)}}), state(a, 0, fl));             // op eax, imm8 (sext)
          suite.run(bytes({{0x66, 0x83, u8(0xc0 | op << 3), u8(imm)}}), state(a, 0, fl));       // op ax, imm8
          suite.run(bytes({{0x80, u8(0xc4 | op << 3), u8(imm)}}), state(a, 0, fl));             // op ah, imm8
          suite.run(bytes({{0x82, u8(0xc0 | op << 3), u8(imm)}}), state(a, 0, fl));             // 82 alias
          suite.run(bytes({{u8(op * 8 + 4), u8(imm)}}), state(a, 0, fl));                       // op al, imm8
        }
        for (uint32_t imm : edges32()) {
          suite.run(bytes({{u8(op * 8 + 5)}, le(imm, 4)}), state(a, 0, fl));                    // op eax, imm32
          suite.run(bytes({{0x81, u8(0xc1 | op << 3)}, le(imm, 4)}), state(0, a, fl));          // op ecx, imm32
        }
        // op bh, ch / op [ebx], ah
        suite.run(bytes({{u8(op * 8), 0xef}}), state(a, a * 0x9e3779b1u, fl));
        suite.run(bytes({{u8(op * 8), 0x23}}), state(a, 0, fl));
      }
  suite.expect_clean();
}

TEST(DiffTargeted, AluMemoryOperandsAndLock) {
  Suite suite("alu memory");
  for (unsigned op = 0; op < 7; ++op)  // CMP takes no LOCK
    for (unsigned bits : {8u, 16u, 32u})
      for (uint32_t a : edges(bits))
        for (uint32_t b : {0u, 1u, 0x80u, 0xffffffffu, 0x7fffffffu}) {
          GuestState s = state(0, b, 0x1);
          const uint32_t off = 0x400;
          for (unsigned i = 0; i < 4; ++i) s.data[off + i] = u8(a >> (8 * i));
          const uint8_t w = bits == 8 ? 0 : 1;
          suite.run(bytes({o16(bits), {u8(op * 8 + w), 0x0b}}), s);          // op [ebx], ecx
          suite.run(bytes({{0xf0}, o16(bits), {u8(op * 8 + w), 0x0b}}), s);  // lock op [ebx], ecx
          suite.run(bytes({o16(bits), {u8(op * 8 + 2 + w), 0x0b}}), s);      // op ecx, [ebx]
          // Across the page boundary in the data area (no LOCK: a split
          // locked access is not something to do to the host).
          GuestState x = s;
          x.regs[EBX] = kDataBase + 0x1000 - 2;
          for (unsigned i = 0; i < 4; ++i) x.data[0x1000 - 2 + i] = u8(a >> (8 * i));
          suite.run(bytes({o16(bits), {u8(op * 8 + w), 0x0b}}), x);
          suite.run(bytes({o16(bits), {u8(op * 8 + 2 + w), 0x0b}}), x);
        }
  suite.expect_clean();
}

TEST(DiffTargeted, IncDecNegNot) {
  Suite suite("inc dec neg not");
  for (unsigned bits : {8u, 16u, 32u})
    for (uint32_t a : edges(bits))
      for (uint32_t fl : {0u, kAllArith}) {
        const uint8_t w = bits == 8 ? 0xfe : 0xff;
        const uint8_t g3 = bits == 8 ? 0xf6 : 0xf7;
        GuestState s = state(with_pattern(a, bits), 0, fl);
        for (unsigned i = 0; i < 4; ++i) s.data[0x400 + i] = u8(a >> (8 * i));
        suite.run(bytes({o16(bits), {w, 0xc0}}), s);   // inc eax
        suite.run(bytes({o16(bits), {w, 0xc8}}), s);   // dec eax
        suite.run(bytes({o16(bits), {g3, 0xd8}}), s);  // neg eax
        suite.run(bytes({o16(bits), {g3, 0xd0}}), s);  // not eax
        for (uint8_t modrm : {0x03, 0x0b, 0x13, 0x1b}) {  // inc/dec/not/neg [ebx]
          const uint8_t opc = modrm <= 0x0b ? w : g3;
          suite.run(bytes({o16(bits), {opc, modrm}}), s);
          suite.run(bytes({{0xf0}, o16(bits), {opc, modrm}}), s);
        }
        if (bits != 8) {
          suite.run(bytes({o16(bits), {0x40}}), s);  // 40+r / 48+r
          suite.run(bytes({o16(bits), {0x48}}), s);
        }
      }
  suite.expect_clean();
}

TEST(DiffTargeted, ShiftsAndRotates) {
  Suite suite("shifts rotates");
  static constexpr uint32_t kCounts[] = {0, 1, 2, 3, 7, 8, 9, 15, 16, 17, 24, 31, 32, 33, 63, 255};
  for (unsigned op = 0; op < 8; ++op)  // ROL ROR RCL RCR SHL SHR SAL(/6) SAR
    for (unsigned bits : {8u, 16u, 32u})
      for (uint32_t a : edges(bits))
        for (uint32_t fl : {0u, kAllArith}) {
          const uint8_t w = bits == 8 ? 0 : 1;
          for (uint32_t count : kCounts) {
            GuestState s = state(with_pattern(a, bits), with_pattern(count, 8, 0x77777700), fl);
            suite.run(bytes({o16(bits), {u8(0xd2 + w), u8(0xc0 | op << 3)}}), s);          // op eax, cl
            suite.run(bytes({o16(bits), {u8(0xc0 + w), u8(0xc0 | op << 3), u8(count)}}), s);  // op eax, imm8
          }
          suite.run(bytes({o16(bits), {u8(0xd0 + w), u8(0xc0 | op << 3)}}), state(a, 0, fl));  // op eax, 1
        }
  suite.expect_clean();
}

TEST(DiffTargeted, DoubleShifts) {
  Suite suite("shld shrd");
  static const uint32_t kVals[] = {0, 1, 0x80000000, 0xffffffff, 0x12345678, 0x8000, 0x7fff, 0xfedcba98};
  for (uint8_t base : {0xa4, 0xac})
    for (unsigned bits : {16u, 32u})
      for (uint32_t a : kVals)
        for (uint32_t b : kVals)
          for (uint32_t count : {0u, 1u, 2u, 7u, 15u, 16u, 17u, 31u, 32u, 33u}) {
            // shld/shrd eax, edx, cl / imm8 (EDX is the source)
            GuestState s = state(with_pattern(a, bits), count, 0x8d5 * (count & 1));
            s.regs[EDX] = with_pattern(b, bits, 0x24682468);
            // A 16-bit count above 16 leaves the result undefined: real CPU only.
            const bool undefined = bits == 16 && (count & 31) > 16;
            suite.run(bytes({o16(bits), {0x0f, u8(base + 1), 0xd0}}), s, undefined);
            suite.run(bytes({o16(bits), {0x0f, base, 0xd0, u8(count)}}), s, undefined);
          }
  suite.expect_clean();
}

TEST(DiffTargeted, MultiplyForms) {
  Suite suite("mul imul");
  for (unsigned bits : {8u, 16u, 32u})
    for (uint32_t a : edges(bits))
      for (uint32_t b : edges(bits)) {
        GuestState s = state(with_pattern(a, bits), with_pattern(b, bits, 0x11223344), kAllArith);
        const uint8_t g3 = bits == 8 ? 0xf6 : 0xf7;
        suite.run(bytes({o16(bits), {g3, 0xe1}}), s);  // mul ecx
        suite.run(bytes({o16(bits), {g3, 0xe9}}), s);  // imul ecx
        if (bits == 8) continue;
        suite.run(bytes({o16(bits), {0x0f, 0xaf, 0xc1}}), s);                         // imul eax, ecx
        suite.run(bytes({o16(bits), {0x6b, 0xc1, u8(a)}}), s);                        // imul eax, ecx, imm8
        suite.run(bytes({o16(bits), {0x69, 0xc1}, le(a ^ 0x5555, bits / 8)}), s);     // imul eax, ecx, imm
      }
  suite.expect_clean();
}

TEST(DiffTargeted, DivideFormsIncludingDivideError) {
  Suite suite("div idiv");
  for (unsigned bits : {8u, 16u, 32u})
    for (uint32_t high : {0u, 1u, 0x80u, 0x8000u, 0x7fffffffu, 0x80000000u, 0xffffffffu})
      for (uint32_t a : edges(bits))
        for (uint32_t b : edges(bits)) {
          GuestState s = state(with_pattern(a, bits), with_pattern(b, bits, 0x11223344), 0);
          if (bits == 8) s.regs[EAX] = (s.regs[EAX] & 0xffff00ff) | (high & 0xff) << 8;
          else s.regs[EDX] = with_pattern(high, bits, 0x99999999);
          const uint8_t g3 = bits == 8 ? 0xf6 : 0xf7;
          suite.run(bytes({o16(bits), {g3, 0xf1}}), s);  // div ecx (#DE on 0 or overflow)
          suite.run(bytes({o16(bits), {g3, 0xf9}}), s);  // idiv ecx
        }
  suite.expect_clean();
}

}  // namespace
}  // namespace popek::diff::targeted
