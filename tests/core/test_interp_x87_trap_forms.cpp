// Every x87 register form against real hardware with exceptions unmasked at
// random: the host runs the form with the same state and takes the SIGFPE
// at the following FWAIT; the signal frame holds what an unmasked exception
// leaves behind (registers, TOP, tags, condition codes, EFLAGS, biased
// OE/UE results), which the guest model must reproduce bit for bit.
#include <signal.h>
#include <ucontext.h>

#include <array>
#include <random>
#include <utility>

#include "core/x87_host.h"
#include "tests/core/test_interp_x87_fixture.h"

namespace popek::test {
namespace {

// FPU state after the instruction, in stack order.
struct HwState {
  bool trapped;
  Float80 st[8];
  uint16_t sw;
  uint8_t abridged_tags;
  uint32_t eflags;
};
HwState g_hw;

void capture_trap(int, siginfo_t*, void* context) {
  auto* uc = static_cast<ucontext_t*>(context);
  auto* fp = uc->uc_mcontext.fpregs;
  g_hw.trapped = true;
  for (int i = 0; i < 8; ++i) {
    std::memcpy(&g_hw.st[i].mantissa, fp->_st[i].significand, 8);
    g_hw.st[i].sign_exponent = fp->_st[i].exponent;
  }
  g_hw.sw = fp->swd;
  g_hw.abridged_tags = static_cast<uint8_t>(fp->ftw);
  g_hw.eflags = static_cast<uint32_t>(uc->uc_mcontext.gregs[REG_EFL]);
  fp->swd &= static_cast<uint16_t>(~0x80ff);
  fp->cwd |= 0x3f;
}

using Runner = uint16_t (*)(x87::HostFpuImage*, uint8_t);

// FRSTOR the state (guest control word, exceptions live), load flags, run
// the form, FWAIT (the trap point), FNSAVE. Returns LAHF | SETO after it.
template <uint8_t Op, uint8_t ModRM>
uint16_t run_native(x87::HostFpuImage* img, uint8_t flags) {
  uint16_t saved = 0;
  uint16_t ax = static_cast<uint16_t>(flags << 8);
  asm volatile("fnstcw %[saved]\n\tfrstor (%[img])\n\tsahf\n\t.byte %c[op], %c[modrm]\n\tfwait\n\t"
               "lahf\n\tseto %%al\n\tfnsave (%[img])\n\tfldcw %[saved]"
               : [saved] "=m"(saved), "+a"(ax)
               : [img] "r"(img), [op] "i"(Op), [modrm] "i"(ModRM)
               : "cc", "memory", "st", "st(1)", "st(2)", "st(3)", "st(4)", "st(5)", "st(6)", "st(7)");
  return ax;
}

template <std::size_t... I>
constexpr std::array<Runner, sizeof...(I)> make_runners(std::index_sequence<I...>) {
  return {&run_native<static_cast<uint8_t>(0xD8 + (I >> 6)), static_cast<uint8_t>(0xC0 | (I & 63))>...};
}
constexpr auto kRunners = make_runners(std::make_index_sequence<512>());

Float80 special_value(std::mt19937_64& rng) {
  switch (rng() % 12) {
    case 0: return Float80{0xA000000000000000ull | (rng() >> 3), 0x7fff, {}};          // SNaN
    case 1: return Float80{0xC000000000000000ull | (rng() >> 2), 0xffff, {}};          // QNaN
    case 2: return Float80{rng() >> 1, static_cast<uint16_t>(rng() & 0x8000), {}};     // denormal
    case 3: return Float80{0, static_cast<uint16_t>(rng() & 0x8000), {}};              // zero
    case 4: return Float80{0x8000000000000000ull, static_cast<uint16_t>(0x7fff | (rng() & 0x8000)), {}};  // inf
    case 5: return Float80{rng() >> 1, 0x3fff, {}};                                     // unnormal
    case 6: return Float80{rng() | (1ull << 63), 0, {}};                                // pseudo-denormal
    case 7: case 8:  // near the ends of the exponent range
      return Float80{rng() | (1ull << 63),
                     static_cast<uint16_t>((rng() & 0x8000) | (rng() % 2 ? 1 + rng() % 64 : 0x7ffe - rng() % 64)), {}};
    default:
      return Float80{rng() | (1ull << 63),
                     static_cast<uint16_t>((rng() & 0x8000) | (0x3fff + static_cast<int>(rng() % 80) - 40)), {}};
  }
}

unsigned abridged(const X87State& f) {
  unsigned a = 0;
  for (unsigned r = 0; r < 8; ++r)
    if (x87::tag(f, r) != x87::kTagEmpty) a |= 1u << r;
  return a;
}

TEST_F(X87Test, UnmaskedExceptionsOfEveryRegisterFormMatchHardware) {
  std::mt19937_64 rng(4242);
  int trapped = 0, compared = 0;
  for (int round = 0; round < 60; ++round) {
    for (unsigned index = 0; index < 512; ++index) {
      const uint8_t op = static_cast<uint8_t>(0xD8 + (index >> 6));
      const uint8_t modrm = static_cast<uint8_t>(0xC0 | (index & 63));
      if (!x87::host_register_form_valid(op, modrm)) continue;
      X87State f{};
      static constexpr uint16_t kPrecision[] = {0x000, 0x200, 0x300};
      f.cw = static_cast<uint16_t>(0x40 | ((rng() % 4) << 10) | kPrecision[rng() % 3] | (rng() & 0x3f));
      f.sw = static_cast<uint16_t>((rng() % 8) << 11 | (rng() & 0x4700));
      f.tw = 0;
      for (unsigned r = 0; r < 8; ++r) {
        f.st[r] = special_value(rng);
        x87::set_tag(f, r, rng() % 5 == 0 ? x87::kTagEmpty : x87::classify(f.st[r]));
      }
      const uint8_t flags_in = static_cast<uint8_t>(rng() & 0xd5);
      // Hardware.
      x87::HostFpuImage img = x87::to_host_image(f);
      img.cw = 0xffff0000u | f.cw;  // exceptions live
      g_hw = HwState{};
      struct sigaction sa{}, old{};
      sa.sa_sigaction = capture_trap;
      sa.sa_flags = SA_SIGINFO;
      sigaction(SIGFPE, &sa, &old);
      const uint16_t hw_flags = kRunners[index](&img, flags_in);
      sigaction(SIGFPE, &old, nullptr);
      if (!g_hw.trapped) {
        for (int i = 0; i < 8; ++i) std::memcpy(&g_hw.st[i], img.st[i], 10);
        g_hw.sw = static_cast<uint16_t>(img.sw);
        g_hw.abridged_tags = 0;
        for (unsigned r = 0; r < 8; ++r)
          if (((img.tw >> (2 * r)) & 3) != 3) g_hw.abridged_tags |= static_cast<uint8_t>(1u << r);
      } else {
        ++trapped;
      }
      // Interpreter.
      cpu.fpu = f;
      cpu.eflags = (cpu.eflags & ~flag::ARITH) | flags_in;
      ok({op, modrm});
      ++compared;
      const std::string where = [&] {
        char b[64];
        std::snprintf(b, sizeof b, "%02x %02x cw %04x sw %04x round %d", op, modrm, f.cw, f.sw, round);
        return std::string(b);
      }();
      ASSERT_EQ(cpu.fpu.sw, g_hw.sw) << where;
      ASSERT_EQ(abridged(cpu.fpu), g_hw.abridged_tags) << where;
      for (unsigned i = 0; i < 8; ++i) {
        ASSERT_TRUE(bits_eq(st(i), g_hw.st[i])) << where << " ST" << i;
      }
      uint32_t eflags = (hw_flags >> 8) & (flag::SF | flag::ZF | flag::AF | flag::PF | flag::CF);
      if (hw_flags & 1) eflags |= flag::OF;
      ASSERT_EQ(cpu.eflags & flag::ARITH, eflags) << where;
      if (g_hw.trapped) {
        ASSERT_EQ(g_hw.eflags & flag::ARITH, eflags) << where;
      }
    }
  }
  EXPECT_GT(trapped, 6000);
  EXPECT_EQ(compared, 60 * 414);  // the 420 decodable forms but FNSTSW AX, FNCLEX, FNINIT, FENI, FDISI, FSETPM
}

// Memory forms: the operand lives at [rdi] (ModRM mod=00 rm=111).
using MemRunner = void (*)(x87::HostFpuImage*, void*);
template <uint8_t Op, uint8_t Reg>
void run_native_mem(x87::HostFpuImage* img, void* mem) {
  uint16_t saved = 0;
  asm volatile("fnstcw %[saved]\n\tfrstor (%[img])\n\t.byte %c[op], %c[modrm]\n\tfwait\n\t"
               "fnsave (%[img])\n\tfldcw %[saved]"
               : [saved] "=m"(saved)
               : [img] "r"(img), "D"(mem), [op] "i"(Op), [modrm] "i"((Reg << 3) | 7)
               : "cc", "memory", "st", "st(1)", "st(2)", "st(3)", "st(4)", "st(5)", "st(6)", "st(7)");
}
template <std::size_t... I>
constexpr std::array<MemRunner, sizeof...(I)> make_mem_runners(std::index_sequence<I...>) {
  return {&run_native_mem<static_cast<uint8_t>(0xD8 + (I >> 3)), static_cast<uint8_t>(I & 7)>...};
}
constexpr auto kMemRunners = make_mem_runners(std::make_index_sequence<64>());

unsigned memory_size(uint8_t op, unsigned reg) {
  switch (op) {
    case 0xDB: return reg >= 5 ? 10 : 4;
    case 0xDC: case 0xDD: return 8;
    case 0xDE: return 2;
    case 0xDF: return reg == 4 || reg == 6 ? 10 : reg >= 5 ? 8 : 2;
    default: return 4;
  }
}

// A memory operand with an interesting exponent field for its size.
void random_operand(std::mt19937_64& rng, uint8_t* m, unsigned size) {
  for (int i = 0; i < 16; ++i) m[i] = static_cast<uint8_t>(rng());
  const unsigned kind = rng() % 4;
  if (kind == 3) return;  // random bits
  auto set_exp = [&](unsigned bit, unsigned width) {  // exponent field [bit, bit+width)
    uint64_t v = 0;
    std::memcpy(&v, m, size == 4 ? 4 : 8);
    const uint64_t field = kind == 0 ? 0 : kind == 1 ? (1ull << width) - 1 : (rng() % 2 ? 1 : (1ull << width) - 2);
    v = (v & ~(((1ull << width) - 1) << bit)) | (field << bit);
    std::memcpy(m, &v, size == 4 ? 4 : 8);
  };
  if (size == 4) set_exp(23, 8);
  if (size == 8) set_exp(52, 11);
  if (size == 10) {
    const uint16_t se = static_cast<uint16_t>((m[9] & 0x80) << 8 | (kind == 0 ? 0 : kind == 1 ? 0x7fff : 0x3fff));
    std::memcpy(m + 8, &se, 2);
  }
}

TEST_F(X87Test, UnmaskedExceptionsOfEveryMemoryFormMatchHardware) {
  std::mt19937_64 rng(5150);
  int trapped = 0;
  for (int round = 0; round < 200; ++round) {
    for (unsigned index = 0; index < 64; ++index) {
      const uint8_t op = static_cast<uint8_t>(0xD8 + (index >> 3));
      const unsigned reg = index & 7;
      if (!x87::host_memory_form_valid(op, reg)) continue;
      const unsigned size = memory_size(op, reg);
      X87State f{};
      static constexpr uint16_t kPrecision[] = {0x000, 0x200, 0x300};
      f.cw = static_cast<uint16_t>(0x40 | ((rng() % 4) << 10) | kPrecision[rng() % 3] | (rng() & 0x3f));
      f.sw = static_cast<uint16_t>((rng() % 8) << 11 | (rng() & 0x4700));
      for (unsigned r = 0; r < 8; ++r) {
        f.st[r] = special_value(rng);
        x87::set_tag(f, r, rng() % 5 == 0 ? x87::kTagEmpty : x87::classify(f.st[r]));
      }
      alignas(16) uint8_t hw_mem[16];
      random_operand(rng, hw_mem, size);
      mem.write_bytes(kData, hw_mem, 16);
      x87::HostFpuImage img = x87::to_host_image(f);
      img.cw = 0xffff0000u | f.cw;
      g_hw = HwState{};
      struct sigaction sa{}, old{};
      sa.sa_sigaction = capture_trap;
      sa.sa_flags = SA_SIGINFO;
      sigaction(SIGFPE, &sa, &old);
      kMemRunners[index](&img, hw_mem);
      sigaction(SIGFPE, &old, nullptr);
      if (!g_hw.trapped) {
        for (int i = 0; i < 8; ++i) std::memcpy(&g_hw.st[i], img.st[i], 10);
        g_hw.sw = static_cast<uint16_t>(img.sw);
        g_hw.abridged_tags = 0;
        for (unsigned r = 0; r < 8; ++r)
          if (((img.tw >> (2 * r)) & 3) != 3) g_hw.abridged_tags |= static_cast<uint8_t>(1u << r);
      } else {
        ++trapped;
      }
      cpu.fpu = f;
      ok(m(op, reg, kData));
      char where[64];
      std::snprintf(where, sizeof where, "%02x /%u cw %04x sw %04x round %d", op, reg, f.cw, f.sw, round);
      ASSERT_EQ(cpu.fpu.sw, g_hw.sw) << where;
      ASSERT_EQ(abridged(cpu.fpu), g_hw.abridged_tags) << where;
      for (unsigned i = 0; i < 8; ++i) {
        ASSERT_TRUE(bits_eq(st(i), g_hw.st[i])) << where << " ST" << i;
      }
      uint8_t guest_mem[16];
      mem.read_bytes(kData, guest_mem, 16);
      ASSERT_EQ(0, std::memcmp(guest_mem, hw_mem, 16)) << where;
    }
  }
  EXPECT_GT(trapped, 2000);
}

}  // namespace
}  // namespace popek::test
