// Near control transfer: JMP, Jcc, CALL, RET, LOOPcc, JCXZ/JECXZ, BOUND;
// CS-limit #GP before any push or ESP change; far forms reach the system group.
#include "tests/core/test_interp_integer_util.h"

namespace popek::test {
namespace {

using namespace flag;

class IntegerControl : public IntegerTest {};

TEST_F(IntegerControl, JmpRelativeAndIndirect) {
  flat32();
  exec({0xeb, 0x10});  // jmp +0x10
  EXPECT_EQ(cpu.eip, kCode + 2 + 0x10);
  cpu.eip = kCode;
  exec({0xe9, 0x00, 0xf0, 0xff, 0xff});  // jmp -0x1000
  EXPECT_EQ(cpu.eip, kCode + 5 - 0x1000);
  cpu.eip = kCode;
  cpu.regs[EAX] = 0x123456;
  exec({0xff, 0xe0});  // jmp eax
  EXPECT_EQ(cpu.eip, 0x123456u);
  cpu.eip = kCode;
  mem.write32(0x5000, 0x2222);
  exec({0xff, 0x25, 0x00, 0x50, 0x00, 0x00});  // jmp [0x5000]
  EXPECT_EQ(cpu.eip, 0x2222u);
  cpu.eip = kCode;
  exec({0x66, 0xff, 0xe0});  // jmp ax: 16-bit operand size truncates
  EXPECT_EQ(cpu.eip, 0x3456u);
}

TEST_F(IntegerControl, RealModeRelativeJumpWrapsAt64K) {
  real_mode(0xfff0);
  exec({0xe9, 0x20, 0x00});  // jmp +0x20 from IP FFF3 → 0013
  EXPECT_EQ(cpu.eip, 0x0013u);
  real_mode(0x0010);
  exec({0xeb, 0xe0});  // jmp -0x20 from 0x12 → FFF2
  EXPECT_EQ(cpu.eip, 0xfff2u);
}

TEST_F(IntegerControl, JmpBeyondCsLimitIsGpAtTheJump) {
  flat32();
  cpu.seg[CS].limit = 0xffff;
  cpu.regs[EAX] = 0x10000;
  auto f = try_exec({0xff, 0xe0});  // jmp eax
  ASSERT_TRUE(f);
  EXPECT_EQ(f->vector, vec::GP);
  EXPECT_EQ(f->error_code, 0u);
  EXPECT_EQ(cpu.eip, kCode);
}

TEST_F(IntegerControl, JccAllConditionsShortAndNear) {
  flat32();
  struct Case {
    uint8_t cc;
    uint32_t flags;
    bool taken;
  } cases[] = {
      {0x0, OF, true},  {0x1, OF, false}, {0x2, CF, true},  {0x3, 0, true},
      {0x4, 0, false},  {0x5, 0, true},   {0x6, CF, true},  {0x7, ZF, false},
      {0x8, SF, true},  {0x9, 0, true},   {0xa, 0, false},  {0xb, 0, true},
      {0xc, OF, true},  {0xd, SF | OF, true}, {0xe, SF, true}, {0xf, 0, true},
      {0xf, ZF, false},
  };
  for (const Case& c : cases) {
    cpu.eflags = FIXED1 | c.flags;
    cpu.eip = kCode;
    exec({static_cast<uint8_t>(0x70 + c.cc), 0x40});
    EXPECT_EQ(cpu.eip, c.taken ? kCode + 0x42 : kCode + 2) << int(c.cc);
    cpu.eip = kCode;
    exec({0x0f, static_cast<uint8_t>(0x80 + c.cc), 0x00, 0x01, 0x00, 0x00});
    EXPECT_EQ(cpu.eip, c.taken ? kCode + 6 + 0x100 : kCode + 6) << int(c.cc);
  }
  real_mode();
  cpu.eflags = FIXED1 | ZF;
  exec({0x0f, 0x84, 0x00, 0x80});  // jz rel16 -0x8000
  EXPECT_EQ(cpu.eip, (kCode + 4 - 0x8000) & 0xffff);
}

TEST_F(IntegerControl, CallAndRetNear32) {
  flat32();
  exec({0xe8, 0xfb, 0x0f, 0x00, 0x00});  // call +0xffb → 0x2000
  EXPECT_EQ(cpu.eip, 0x2000u);
  EXPECT_EQ(cpu.regs[ESP], 0x80000u - 4);
  EXPECT_EQ(mem.read32(0x80000 - 4), kCode + 5);
  exec({0xc3});  // ret
  EXPECT_EQ(cpu.eip, kCode + 5);
  EXPECT_EQ(cpu.regs[ESP], 0x80000u);
  cpu.regs[EBX] = 0x3000;
  exec({0xff, 0xd3});  // call ebx
  EXPECT_EQ(cpu.eip, 0x3000u);
  EXPECT_EQ(mem.read32(0x80000 - 4), kCode + 7);
  exec({0xc2, 0x08, 0x00});  // ret 8
  EXPECT_EQ(cpu.eip, kCode + 7);
  EXPECT_EQ(cpu.regs[ESP], 0x80000u + 8);
}

TEST_F(IntegerControl, CallThroughEspUsesTheOldValue) {
  flat32();
  cpu.regs[ESP] = 0x7000;
  mem.write32(0x7000, 0x4444);
  exec({0xff, 0x14, 0x24});  // call [esp]
  EXPECT_EQ(cpu.eip, 0x4444u);
  EXPECT_EQ(cpu.regs[ESP], 0x6ffcu);
  EXPECT_EQ(mem.read32(0x6ffc), kCode + 3);
}

TEST_F(IntegerControl, CallAndRetRealModeAndOperandSizePrefix) {
  real_mode();
  exec({0xe8, 0x00, 0x01});  // call +0x100
  EXPECT_EQ(cpu.eip, kCode + 3 + 0x100);
  EXPECT_EQ(cpu.regs[ESP], 0x8000u - 2);
  EXPECT_EQ(mem.read16(0x8000 - 2), kCode + 3);
  exec({0xc3});
  EXPECT_EQ(cpu.eip, kCode + 3);
  exec({0x66, 0xe8, 0x00, 0x02, 0x00, 0x00});  // call rel32 in 16-bit code
  EXPECT_EQ(cpu.eip, kCode + 3 + 6 + 0x200);
  EXPECT_EQ(cpu.regs[ESP], 0x8000u - 4);
  EXPECT_EQ(mem.read32(0x8000 - 4), kCode + 9);
  exec({0x66, 0xc3});  // ret (32-bit)
  EXPECT_EQ(cpu.eip, kCode + 9);
  EXPECT_EQ(cpu.regs[ESP], 0x8000u);
}

TEST_F(IntegerControl, CallBeyondCsLimitFaultsBeforePushing) {
  flat32();
  cpu.seg[CS].limit = 0x1fff;
  mem.write32(0x80000 - 4, 0x5a5a5a5a);
  auto f = try_exec({0xe8, 0x00, 0x10, 0x00, 0x00});  // call 0x2005
  ASSERT_TRUE(f);
  EXPECT_EQ(f->vector, vec::GP);
  EXPECT_EQ(cpu.regs[ESP], 0x80000u);
  EXPECT_EQ(mem.read32(0x80000 - 4), 0x5a5a5a5au);
  EXPECT_EQ(cpu.eip, kCode);
}

TEST_F(IntegerControl, RetBeyondCsLimitFaultsWithEspUnchanged) {
  flat32();
  cpu.seg[CS].limit = 0x1fff;
  cpu.regs[ESP] = 0x7000;
  mem.write32(0x7000, 0x3000);
  auto f = try_exec({0xc2, 0x04, 0x00});  // ret 4
  ASSERT_TRUE(f);
  EXPECT_EQ(f->vector, vec::GP);
  EXPECT_EQ(cpu.regs[ESP], 0x7000u);
}

TEST_F(IntegerControl, LoopFamilyUsesAddressSizeForTheCounter) {
  flat32();
  cpu.regs[ECX] = 2;
  exec({0xe2, 0x10});  // loop: ECX=1, taken
  EXPECT_EQ(cpu.regs[ECX], 1u);
  EXPECT_EQ(cpu.eip, kCode + 0x12);
  cpu.eip = kCode;
  exec({0xe2, 0x10});  // ECX=0, not taken
  EXPECT_EQ(cpu.regs[ECX], 0u);
  EXPECT_EQ(cpu.eip, kCode + 2);
  cpu.eip = kCode;
  cpu.regs[ECX] = 0x00010000;
  exec({0x67, 0xe2, 0x10});  // loop with CX: CX 0 → FFFF, taken; upper half kept
  EXPECT_EQ(cpu.regs[ECX], 0x0001ffffu);
  EXPECT_EQ(cpu.eip, kCode + 0x13);
  cpu.eip = kCode;
  cpu.regs[ECX] = 5;
  cpu.eflags &= ~ZF;
  exec({0xe1, 0x10});  // loope: ZF=0 → not taken, ECX still decremented
  EXPECT_EQ(cpu.regs[ECX], 4u);
  EXPECT_EQ(cpu.eip, kCode + 2);
  cpu.eip = kCode;
  exec({0xe0, 0x10});  // loopne: taken
  EXPECT_EQ(cpu.regs[ECX], 3u);
  EXPECT_EQ(cpu.eip, kCode + 0x12);
}

TEST_F(IntegerControl, JcxzAndJecxz) {
  real_mode();
  cpu.regs[ECX] = 0x10000;
  exec({0xe3, 0x20});  // jcxz: CX = 0 → taken
  EXPECT_EQ(cpu.eip, kCode + 0x22);
  cpu.eip = kCode;
  exec({0x67, 0xe3, 0x20});  // jecxz: ECX != 0 → not taken
  EXPECT_EQ(cpu.eip, kCode + 3);
  flat32();
  cpu.regs[ECX] = 0;
  exec({0xe3, 0xfe});  // jecxz to itself
  EXPECT_EQ(cpu.eip, kCode);
}

TEST_F(IntegerControl, LoopBranchFaultLeavesCounterUnchanged) {
  flat32();
  cpu.seg[CS].limit = 0x100f;
  cpu.regs[ECX] = 3;
  auto f = try_exec({0xe2, 0x7f});  // loop to 0x1081 beyond the limit
  ASSERT_TRUE(f);
  EXPECT_EQ(f->vector, vec::GP);
  EXPECT_EQ(cpu.regs[ECX], 3u);
}

TEST_F(IntegerControl, BoundInRangeAndOutOfRange) {
  flat32();
  mem.write32(0x5000, static_cast<uint32_t>(-10));
  mem.write32(0x5004, 10);
  for (int32_t v : {-10, 0, 10}) {
    cpu.eip = kCode;
    cpu.regs[EAX] = static_cast<uint32_t>(v);
    EXPECT_FALSE(try_exec({0x62, 0x05, 0x00, 0x50, 0x00, 0x00})) << v;  // bound eax, [0x5000]
  }
  for (int32_t v : {-11, 11}) {
    cpu.eip = kCode;
    cpu.regs[EAX] = static_cast<uint32_t>(v);
    auto f = try_exec({0x62, 0x05, 0x00, 0x50, 0x00, 0x00});
    ASSERT_TRUE(f) << v;
    EXPECT_EQ(f->vector, vec::BR);
  }
}

TEST_F(IntegerControl, BoundRealModeDeliversBrWithTheBoundIp) {
  real_mode();
  set_ivt(5, 0, 0x4000);
  mem.write16(0x0600, 0xfff0);  // -16
  mem.write16(0x0602, 0x0010);  // 16
  cpu.regs[EBX] = 0x0600;
  cpu.regs[EAX] = 0x11;
  exec({0x62, 0x07});  // bound ax, [bx]
  EXPECT_EQ(cpu.eip, 0x4000u);
  EXPECT_EQ(mem.read16(0x8000 - 6), kCode);
  real_mode();
  cpu.regs[EBX] = 0x0600;
  cpu.regs[EAX] = 0xfff0;
  exec({0x62, 0x07});
  EXPECT_EQ(cpu.eip, kCode + 2);
}

TEST_F(IntegerControl, FarJumpAndCallInRealModeReachTheSystemGroup) {
  real_mode();
  exec({0xea, 0x34, 0x12, 0x00, 0x20});  // jmp 2000:1234
  EXPECT_EQ(cpu.seg[CS].selector, 0x2000u);
  EXPECT_EQ(cpu.seg[CS].base, 0x20000u);
  EXPECT_EQ(cpu.eip, 0x1234u);
  mem.write16(0x0500, 0x0010);
  mem.write16(0x0502, 0x0300);
  cpu.seg[DS].base = 0;
  cpu.regs[EBX] = 0x0500;
  exec({0xff, 0x1f});  // call far [bx]
  EXPECT_EQ(cpu.seg[CS].selector, 0x0300u);
  EXPECT_EQ(cpu.eip, 0x0010u);
  EXPECT_EQ(mem.read16(0x8000 - 2), 0x2000u);
  EXPECT_EQ(mem.read16(0x8000 - 4), 0x1236u);
  exec({0xcb});  // retf
  EXPECT_EQ(cpu.seg[CS].selector, 0x2000u);
  EXPECT_EQ(cpu.eip, 0x1236u);
  EXPECT_EQ(cpu.regs[ESP], 0x8000u);
}

}  // namespace
}  // namespace popek::test
