// Unmasked overflow/underflow against real hardware: the host runs the
// operation with OE/UE unmasked, takes the SIGFPE at the following FWAIT,
// and the signal frame's FPU image holds the exponent-biased result the
// interpreter must reproduce (core/x87_bias.cpp).
#include <signal.h>
#include <ucontext.h>

#include <algorithm>
#include <limits>
#include <random>

#include "tests/core/test_interp_x87_fixture.h"

namespace popek::test {
namespace {

struct Trap {
  bool taken;
  Float80 st0;
  uint16_t sw;
};
Trap g_trap;

void on_sigfpe(int, siginfo_t*, void* context) {
  auto* uc = static_cast<ucontext_t*>(context);
  auto* fp = uc->uc_mcontext.fpregs;
  g_trap.taken = true;
  std::memcpy(&g_trap.st0.mantissa, fp->_st[0].significand, 8);
  g_trap.st0.sign_exponent = fp->_st[0].exponent;
  g_trap.sw = fp->swd;
  fp->swd &= static_cast<uint16_t>(~0x80ff);  // resume without the pending exception
  fp->cwd |= 0x3f;
}

#define X87_TRAP_CASE(REG, INSN)                                                                      \
  case REG:                                                                                           \
    asm volatile("fnstcw %[saved]\n\tfldt %[b]\n\tfldt %[a]\n\tfnclex\n\tfldcw %[cw]\n\t" INSN        \
                 "\n\tfwait\n\tfninit\n\tfldcw %[saved]"                                              \
                 : [saved] "=m"(saved)                                                                \
                 : [cw] "m"(cw), [a] "m"(a), [b] "m"(b)                                               \
                 : "memory", "st", "st(1)", "st(2)", "st(3)", "st(4)", "st(5)", "st(6)", "st(7)");    \
    break

// `reg` selects D8 /reg (ST(0) = ST(0) op ST(1)); 8 selects FSCALE.
Trap native_trapping(unsigned reg, long double a, long double b, uint16_t cw) {
  struct sigaction sa{}, old{};
  sa.sa_sigaction = on_sigfpe;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGFPE, &sa, &old);
  g_trap = Trap{};
  uint16_t saved = 0;
  switch (reg) {
    X87_TRAP_CASE(0, "fadd %%st(1), %%st");
    X87_TRAP_CASE(1, "fmul %%st(1), %%st");
    X87_TRAP_CASE(4, "fsub %%st(1), %%st");
    X87_TRAP_CASE(5, "fsubr %%st(1), %%st");
    X87_TRAP_CASE(6, "fdiv %%st(1), %%st");
    X87_TRAP_CASE(7, "fdivr %%st(1), %%st");
    X87_TRAP_CASE(8, "fscale");
    default: break;
  }
  sigaction(SIGFPE, &old, nullptr);
  return g_trap;
}

// A random value of magnitude [2^e, 2^(e+1)), denormal below 2^-16382.
long double with_exponent(std::mt19937_64& rng, int e) {
  uint64_t mantissa = rng() | (1ull << 63);
  const uint16_t sign = (rng() & 1) ? 0x8000 : 0;
  if (e < -16382) return ld_from(mantissa >> std::min(63, -16382 - e), sign);
  return ld_from(mantissa, static_cast<uint16_t>(sign | (e + 16383)));
}

int jitter(std::mt19937_64& rng, int n) { return static_cast<int>(rng() % (2 * n + 1)) - n; }

TEST_F(X87Test, BiasedResultsMatchHardwareTraps) {
  std::mt19937_64 rng(2024);
  const unsigned regs[] = {0, 1, 4, 5, 6, 7, 8};
  int traps = 0;
  int per_op[9][2] = {};
  for (int i = 0; i < 3000; ++i) {
    const unsigned reg = regs[i % 7];
    const bool overflow = (i / 7) % 2 == 0;
    static constexpr uint16_t kPrecision[] = {0x000, 0x200, 0x300};
    const uint16_t cw = static_cast<uint16_t>(((overflow ? 0x377 : 0x36f) & ~0x0f00) | ((rng() % 4) << 10) |
                                              kPrecision[rng() % 3]);
    long double a, b;
    // Target exponent of the true result: just past the range, or far past it.
    const int depth = (rng() % 4 == 0) ? static_cast<int>(rng() % 8000) : static_cast<int>(rng() % 70);
    const int t = overflow ? 16384 + depth : -16383 - depth;
    switch (reg) {
      case 0: case 4: case 5:  // same-sign or cancelling operands near the edge, some far apart
        if (overflow) {
          a = with_exponent(rng, 16383);
          b = with_exponent(rng, 16383 - static_cast<int>(rng() % 3));
          if (rng() % 4 == 0) b = with_exponent(rng, 100);
        } else {
          a = with_exponent(rng, -16383 - static_cast<int>(rng() % 60));
          b = with_exponent(rng, -16382 - static_cast<int>(rng() % 60));
        }
        break;
      case 1: {
        const int ea = t / 2 + jitter(rng, 50);
        a = with_exponent(rng, ea);
        b = with_exponent(rng, t - ea);
        break;
      }
      case 6: case 7: {
        const int ea = t / 2 + jitter(rng, 50);
        a = with_exponent(rng, ea);
        b = with_exponent(rng, ea - t);
        if (reg == 7) std::swap(a, b);
        break;
      }
      default:  // FSCALE
        a = with_exponent(rng, overflow ? 10000 : -10000);
        b = static_cast<long double>(overflow ? t - 10000 : t + 10000);
        break;
    }
    const Trap hw = native_trapping(reg, a, b, cw);
    if (!hw.taken) continue;
    if (!(hw.sw & (x87::swb::OE | x87::swb::UE))) continue;  // e.g. only PE, or IE
    ++traps;
    ++per_op[reg][overflow ? 0 : 1];
    fninit();
    set_cw(cw);
    push(b);
    push(a);
    ok({reg == 8 ? uint8_t{0xD9} : uint8_t{0xD8}, reg == 8 ? uint8_t{0xFD} : static_cast<uint8_t>(0xC1 | (reg << 3))});
    ASSERT_TRUE(bits_eq(st(0), hw.st0)) << "reg " << reg << " cw " << std::hex << cw << " i " << std::dec << i;
    ASSERT_EQ(cpu.fpu.sw & 0x2ff, hw.sw & 0x2ff) << "reg " << reg << " cw " << std::hex << cw << " i " << std::dec << i;
  }
  for (unsigned reg : regs) {
    EXPECT_GT(per_op[reg][0], 20) << "overflow, reg " << reg;
    EXPECT_GT(per_op[reg][1], 20) << "underflow, reg " << reg;
  }
  EXPECT_GT(traps, 2000);
}

// FSTP m32 with OE or UE unmasked, natively: what lands in memory and
// whether the stack was popped (TOP in the trapped status word). FXAM
// first leaves C1 = sign, so the store's own C1 shows.
struct StoreTrap {
  Trap trap;
  uint32_t memory;
};
StoreTrap native_trapping_store(long double v, uint16_t cw) {
  struct sigaction sa{}, old{};
  sa.sa_sigaction = on_sigfpe;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGFPE, &sa, &old);
  g_trap = Trap{};
  uint16_t saved = 0;
  uint32_t memory = 0xdeadbeef;
  asm volatile("fnstcw %[saved]\n\tfldt %[v]\n\tfxam\n\tfnclex\n\tfldcw %[cw]\n\tfstps %[m]\n\tfwait\n\tfninit\n\tfldcw %[saved]"
               : [saved] "=m"(saved), [m] "+m"(memory)
               : [cw] "m"(cw), [v] "m"(v)
               : "memory", "st", "st(1)", "st(2)", "st(3)", "st(4)", "st(5)", "st(6)", "st(7)");
  sigaction(SIGFPE, &old, nullptr);
  return StoreTrap{g_trap, memory};
}

TEST_F(X87Test, UnmaskedStoreExceptionsMatchHardware) {
  const long double values[] = {1e300L, -1e39L, 1e-40L, (long double)std::numeric_limits<float>::denorm_min(),
                                1e-50L, 3.0e38L};
  for (uint16_t cw : {0x377, 0x36f, 0x367}) {
    for (long double v : values) {
      const StoreTrap hw = native_trapping_store(v, cw);
      fninit();
      set_cw(cw);
      push(v);
      ok({0xD9, 0xE5});  // FXAM: C1 = sign, to see what the store does to it
      mem.write32(kData, 0xdeadbeef);
      ok(m(0xD9, 3, kData));  // FSTP m32
      EXPECT_EQ(mem.read32(kData), hw.memory) << std::hex << cw << " " << (double)v;
      if (hw.trap.taken) {
        EXPECT_EQ(cpu.fpu.sw & 0x3aff, hw.trap.sw & 0x3aff) << std::hex << cw << " " << (double)v;  // TOP too
      } else {
        EXPECT_FALSE(cpu.fpu.sw & x87::swb::ES);
      }
    }
  }
}

}  // namespace
}  // namespace popek::test
