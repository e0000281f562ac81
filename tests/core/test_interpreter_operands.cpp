// Operand helpers of the interpreter core (op_read on immediates).
#include <gtest/gtest.h>

#include "tests/core/interp_fixture.h"

namespace popek::test {
namespace {

// Decodes `bytes` in the given mode and returns op_read of operand `i`.
uint32_t immediate_of(std::initializer_list<uint8_t> bytes, bool code32, int i) {
  InterpFixture f;
  if (code32) f.flat32(); else f.real_mode();
  f.load(f.cpu.eip, bytes);
  DecodedInsn d;
  f.interp.fetch_decode(d);
  f.interp.cur = &d;
  uint32_t v = f.interp.op_read(d, i);
  f.interp.cur = nullptr;
  return v;
}

TEST(InterpreterOperands, SignExtendedImm8TakesTheOperandSize) {
  EXPECT_EQ(immediate_of({0x83, 0xc0, 0xff}, true, 1), 0xffffffffu);  // add eax, -1
  EXPECT_EQ(immediate_of({0x83, 0xc0, 0xff}, false, 1), 0xffffu);     // add ax, -1
  EXPECT_EQ(immediate_of({0x6a, 0x80}, true, 0), 0xffffff80u);        // push -128
  EXPECT_EQ(immediate_of({0x83, 0xc0, 0x7f}, true, 1), 0x7fu);
}

TEST(InterpreterOperands, UnsignedImmediatesKeepTheirWidth) {
  EXPECT_EQ(immediate_of({0xcd, 0x80}, true, 0), 0x80u);              // int 0x80
  EXPECT_EQ(immediate_of({0xe6, 0xf4}, true, 0), 0xf4u);              // out 0xf4, al
  EXPECT_EQ(immediate_of({0xc2, 0xfe, 0xff}, true, 0), 0xfffeu);      // ret 0xfffe
  EXPECT_EQ(immediate_of({0x05, 0x00, 0x00, 0x00, 0x80}, true, 1), 0x80000000u);
}

}  // namespace
}  // namespace popek::test
