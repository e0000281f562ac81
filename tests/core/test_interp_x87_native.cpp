// The native reference for the x87 tests: each operation executed directly
// by the host x87 with GCC's mnemonics (independent of the .byte stubs of
// core/x87_host.cpp), plus a check of the reference itself.
#include "tests/core/test_interp_x87_fixture.h"

namespace popek::test {

#define X87_NATIVE_CASE(OP, INSN)                                                               \
  case NativeOp::OP:                                                                            \
    asm volatile(                                                                               \
        "fnstcw %[saved]\n\tfldcw %[cw]\n\tfnclex\n\tfldt %[b]\n\tfldt %[a]\n\t" INSN           \
        "\n\tfnstsw %[sw]\n\tfstpt %[r0]\n\tfstpt %[r1]\n\tfninit\n\tfldcw %[saved]"            \
        : [saved] "=m"(saved), [sw] "=m"(out.sw), [r0] "=m"(out.st0), [r1] "=m"(out.st1)        \
        : [cw] "m"(masked), [a] "m"(a), [b] "m"(b)                                              \
        : "memory", "st", "st(1)", "st(2)", "st(3)", "st(4)", "st(5)", "st(6)", "st(7)");       \
    break

NativeResult native(NativeOp op, long double a, long double b, uint16_t cw) {
  NativeResult out{};
  uint16_t saved = 0;
  const uint16_t masked = static_cast<uint16_t>(cw | 0x3f);
  switch (op) {
    X87_NATIVE_CASE(Add, "fadd %%st(1), %%st");
    X87_NATIVE_CASE(Sub, "fsub %%st(1), %%st");
    X87_NATIVE_CASE(SubR, "fsubr %%st(1), %%st");
    X87_NATIVE_CASE(Mul, "fmul %%st(1), %%st");
    X87_NATIVE_CASE(Div, "fdiv %%st(1), %%st");
    X87_NATIVE_CASE(DivR, "fdivr %%st(1), %%st");
    X87_NATIVE_CASE(Sqrt, "fsqrt");
    X87_NATIVE_CASE(Sin, "fsin");
    X87_NATIVE_CASE(Cos, "fcos");
    X87_NATIVE_CASE(Tan, "fptan");
    X87_NATIVE_CASE(SinCos, "fsincos");
    X87_NATIVE_CASE(Atan, "fpatan");
    X87_NATIVE_CASE(Yl2x, "fyl2x");
    X87_NATIVE_CASE(Yl2xp1, "fyl2xp1");
    X87_NATIVE_CASE(F2xm1, "f2xm1");
    X87_NATIVE_CASE(Scale, "fscale");
    X87_NATIVE_CASE(Prem, "fprem");
    X87_NATIVE_CASE(Prem1, "fprem1");
    X87_NATIVE_CASE(Rndint, "frndint");
    X87_NATIVE_CASE(Xtract, "fxtract");
    X87_NATIVE_CASE(LdPi, "fldpi");
    X87_NATIVE_CASE(LdL2t, "fldl2t");
    X87_NATIVE_CASE(LdL2e, "fldl2e");
    X87_NATIVE_CASE(LdLg2, "fldlg2");
    X87_NATIVE_CASE(LdLn2, "fldln2");
  }
  return out;
}

TEST(X87Native, ReferenceIsSane) {
  EXPECT_EQ(native(NativeOp::Add, 1.5L, 2.25L, 0x37f).st0, 3.75L);
  EXPECT_EQ(native(NativeOp::Sub, 1.5L, 2.25L, 0x37f).st0, -0.75L);
  EXPECT_EQ(native(NativeOp::SubR, 1.5L, 2.25L, 0x37f).st0, 0.75L);
  EXPECT_EQ(native(NativeOp::Div, 3.0L, 2.0L, 0x37f).st0, 1.5L);
  EXPECT_EQ(native(NativeOp::DivR, 3.0L, 6.0L, 0x37f).st0, 2.0L);
  // 1/3 rounded to nearest in 64 bits: ...AAAB; toward zero: ...AAAA.
  EXPECT_EQ(f80(native(NativeOp::Div, 1.0L, 3.0L, 0x37f).st0).mantissa, 0xAAAAAAAAAAAAAAABull);
  EXPECT_EQ(f80(native(NativeOp::Div, 1.0L, 3.0L, 0xf7f).st0).mantissa, 0xAAAAAAAAAAAAAAAAull);
  EXPECT_EQ(native(NativeOp::Tan, 0.0L, 0.0L, 0x37f).st0, 1.0L);  // FPTAN pushes 1.0
}

}  // namespace popek::test
