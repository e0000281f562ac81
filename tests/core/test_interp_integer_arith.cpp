// Arithmetic and logic instructions executed by the interpreter, in real mode
// and flat 32-bit protected mode: results, flags, memory forms, 16- vs 32-bit
// operand sizes, #DE, LOCK, segment-limit faults.
#include "tests/core/test_interp_integer_util.h"

namespace popek::test {
namespace {

using namespace flag;

class IntegerArith : public IntegerTest {};

TEST_F(IntegerArith, AddRegisterFormsFlat32) {
  flat32();
  cpu.regs[EAX] = 0x7fffffff;
  cpu.regs[ECX] = 1;
  exec({0x01, 0xc8});  // add eax, ecx
  EXPECT_EQ(cpu.regs[EAX], 0x80000000u);
  EXPECT_EQ(arith_flags(), OF | SF | AF | PF);
  EXPECT_EQ(cpu.eip, kCode + 2);
}

TEST_F(IntegerArith, AddImm8IsSignExtended) {
  flat32();
  cpu.regs[EAX] = 5;
  exec({0x83, 0xc0, 0xff});  // add eax, -1
  EXPECT_EQ(cpu.regs[EAX], 4u);
  EXPECT_EQ(arith_flags() & CF, CF);
  real_mode();
  cpu.regs[EBX] = 0xdead0010;
  exec({0x83, 0xeb, 0xfe});  // sub bx, -2 (16-bit in real mode)
  EXPECT_EQ(cpu.regs[EBX], 0xdead0012u);
  EXPECT_EQ(arith_flags() & CF, CF);
}

TEST_F(IntegerArith, OperandSizePrefixSelects16Bit) {
  flat32();
  cpu.regs[EAX] = 0x1234ffff;
  exec({0x66, 0x05, 0x01, 0x00});  // add ax, 1
  EXPECT_EQ(cpu.regs[EAX], 0x12340000u);
  EXPECT_EQ(arith_flags() & (CF | ZF), CF | ZF);
  real_mode();
  cpu.regs[EAX] = 0x0000ffff;
  exec({0x66, 0x05, 0x01, 0x00, 0x00, 0x00});  // add eax, 1 in real mode
  EXPECT_EQ(cpu.regs[EAX], 0x00010000u);
  EXPECT_EQ(arith_flags() & (CF | ZF), 0u);
}

TEST_F(IntegerArith, ByteRegistersHighAndLow) {
  real_mode();
  cpu.regs[EAX] = 0x11223344;
  exec({0x00, 0xe0});  // add al, ah
  EXPECT_EQ(cpu.regs[EAX], 0x11223377u);
  exec({0x28, 0xc4});  // sub ah, al
  EXPECT_EQ(cpu.regs[EAX], 0x1122bc77u);
  EXPECT_EQ(arith_flags() & CF, CF);
}

TEST_F(IntegerArith, MemoryDestinationRealMode) {
  real_mode();
  cpu.seg[DS].base = 0x20000;
  cpu.seg[DS].selector = 0x2000;
  mem.write16(0x20000 + 0x0104, 0x00ff);
  cpu.regs[EBX] = 0x100;
  cpu.regs[ESI] = 0x4;
  exec({0x83, 0x00, 0x01});  // add word [bx+si], 1
  EXPECT_EQ(mem.read16(0x20104), 0x0100u);
  EXPECT_EQ(arith_flags() & (AF | CF), AF);
}

TEST_F(IntegerArith, SixteenBitAddressingWraps) {
  real_mode();
  cpu.regs[EBX] = 0xffff;
  cpu.regs[ESI] = 0x0002;
  mem.write8(0x0001, 0x41);
  exec({0x80, 0x00, 0x01});  // add byte [bx+si], 1 → DS:0001
  EXPECT_EQ(mem.read8(0x0001), 0x42u);
}

TEST_F(IntegerArith, AdcSbbChainThroughCarry) {
  flat32();
  cpu.regs[EAX] = 0xffffffff;
  cpu.regs[EDX] = 0;
  exec({0x83, 0xc0, 0x01});  // add eax, 1
  exec({0x83, 0xd2, 0x00});  // adc edx, 0
  EXPECT_EQ(cpu.regs[EAX], 0u);
  EXPECT_EQ(cpu.regs[EDX], 1u);
  exec({0x83, 0xe8, 0x01});  // sub eax, 1
  exec({0x83, 0xda, 0x00});  // sbb edx, 0
  EXPECT_EQ(cpu.regs[EAX], 0xffffffffu);
  EXPECT_EQ(cpu.regs[EDX], 0u);
  EXPECT_EQ(arith_flags() & ZF, ZF);
}

TEST_F(IntegerArith, CmpAndTestOnlySetFlags) {
  flat32();
  mem.write32(0x5000, 10);
  cpu.regs[EAX] = 10;
  exec({0x3b, 0x05, 0x00, 0x50, 0x00, 0x00});  // cmp eax, [0x5000]
  EXPECT_EQ(arith_flags() & (ZF | CF), ZF);
  EXPECT_EQ(cpu.regs[EAX], 10u);
  exec({0xa8, 0x01});  // test al, 1
  EXPECT_EQ(arith_flags() & (ZF | CF | OF), ZF);
  exec({0xf7, 0x05, 0x00, 0x50, 0x00, 0x00, 0x08, 0, 0, 0});  // test dword [0x5000], 8
  EXPECT_EQ(arith_flags() & ZF, 0u);
  EXPECT_EQ(mem.read32(0x5000), 10u);
}

TEST_F(IntegerArith, IncDecNegMemoryAndRegister) {
  flat32();
  cpu.eflags |= CF;
  cpu.regs[ECX] = 0xffffffff;
  exec({0x41});  // inc ecx
  EXPECT_EQ(cpu.regs[ECX], 0u);
  EXPECT_EQ(arith_flags() & (ZF | CF), ZF | CF);  // CF preserved
  mem.write16(0x6000, 0x8000);
  exec({0x66, 0xff, 0x0d, 0x00, 0x60, 0x00, 0x00});  // dec word [0x6000]
  EXPECT_EQ(mem.read16(0x6000), 0x7fffu);
  EXPECT_EQ(arith_flags() & OF, OF);
  cpu.regs[EDX] = 5;
  exec({0xf7, 0xda});  // neg edx
  EXPECT_EQ(cpu.regs[EDX], 0xfffffffbu);
  EXPECT_EQ(arith_flags() & (CF | SF), CF | SF);
}

TEST_F(IntegerArith, LogicClearsCarryAndOverflow) {
  flat32();
  cpu.eflags |= CF | OF;
  cpu.regs[EAX] = 0xf0f0;
  cpu.regs[EBX] = 0x0ff0;
  exec({0x21, 0xd8});  // and eax, ebx
  EXPECT_EQ(cpu.regs[EAX], 0x00f0u);
  EXPECT_EQ(arith_flags() & (CF | OF | ZF), 0u);
  exec({0x31, 0xc0});  // xor eax, eax
  EXPECT_EQ(cpu.regs[EAX], 0u);
  EXPECT_EQ(arith_flags() & (ZF | PF), ZF | PF);
  exec({0x0c, 0x80});  // or al, 0x80
  EXPECT_EQ(cpu.regs[EAX], 0x80u);
  EXPECT_EQ(arith_flags() & SF, SF);
  const uint32_t before = cpu.eflags;
  exec({0xf7, 0xd0});  // not eax
  EXPECT_EQ(cpu.regs[EAX], 0xffffff7fu);
  EXPECT_EQ(cpu.eflags, before);
}

TEST_F(IntegerArith, LockedMemoryAddWorksAndLockOnRegisterIsUd) {
  flat32();
  mem.write32(0x7000, 41);
  cpu.regs[EAX] = 0x7000;
  exec({0xf0, 0xff, 0x00});  // lock inc dword [eax]
  EXPECT_EQ(mem.read32(0x7000), 42u);
  EXPECT_EQ(cpu.eip, kCode + 3);
  auto f = try_exec({0xf0, 0x01, 0xc0});  // lock add eax, eax
  ASSERT_TRUE(f);
  EXPECT_EQ(f->vector, vec::UD);
  f = try_exec({0xf0, 0x0f, 0xa3, 0x00});  // lock bt [eax], eax (BT is not lockable)
  ASSERT_TRUE(f);
  EXPECT_EQ(f->vector, vec::UD);
}

TEST_F(IntegerArith, MulAndImulForms) {
  real_mode();
  cpu.regs[EAX] = 0xff;
  cpu.regs[ECX] = 0x02;
  exec({0xf6, 0xe1});  // mul cl
  EXPECT_EQ(cpu.regs[EAX] & 0xffff, 0x01feu);
  EXPECT_EQ(arith_flags() & (CF | OF), CF | OF);
  cpu.regs[EAX] = 0x8000;
  cpu.regs[EDX] = 0xdead0000;
  exec({0xf7, 0xe9});  // imul cx → DX:AX = -65536
  EXPECT_EQ(cpu.regs[EAX] & 0xffff, 0u);
  EXPECT_EQ(cpu.regs[EDX], 0xdeadffffu);
  flat32();
  cpu.regs[EAX] = 0x10000;
  cpu.regs[EBX] = 0x10000;
  exec({0xf7, 0xe3});  // mul ebx
  EXPECT_EQ(cpu.regs[EAX], 0u);
  EXPECT_EQ(cpu.regs[EDX], 1u);
  cpu.regs[ESI] = 7;
  exec({0x6b, 0xfe, 0xfd});  // imul edi, esi, -3
  EXPECT_EQ(cpu.regs[EDI], static_cast<uint32_t>(-21));
  EXPECT_EQ(arith_flags() & (CF | OF), 0u);
  exec({0x0f, 0xaf, 0xfe});  // imul edi, esi
  EXPECT_EQ(cpu.regs[EDI], static_cast<uint32_t>(-147));
  cpu.regs[EDX] = 0x12340000;
  exec({0x66, 0x69, 0xd6, 0x00, 0x40});  // imul dx, si, 0x4000 → overflow
  EXPECT_EQ(cpu.regs[EDX], 0x1234c000u);
  EXPECT_EQ(arith_flags() & (CF | OF), CF | OF);
}

TEST_F(IntegerArith, DivAndIdivResults) {
  flat32();
  cpu.regs[EDX] = 0;
  cpu.regs[EAX] = 100;
  cpu.regs[ECX] = 7;
  exec({0xf7, 0xf1});  // div ecx
  EXPECT_EQ(cpu.regs[EAX], 14u);
  EXPECT_EQ(cpu.regs[EDX], 2u);
  cpu.regs[EAX] = 0x12340000u | static_cast<uint16_t>(-7);
  cpu.regs[EBX] = 2;
  exec({0xf6, 0xfb});  // idiv bl: AX=-7 / 2 → AL=-3, AH=-1
  EXPECT_EQ(cpu.regs[EAX], 0x1234fffdu);
}

TEST_F(IntegerArith, DivideByZeroDeliversDeThroughIvtWithFaultingIp) {
  real_mode();
  set_ivt(0, 0x0100, 0x0020);  // handler at 0100:0020
  cpu.regs[EAX] = 0x1234;
  cpu.regs[EDX] = 0x5678;
  cpu.regs[ECX] = 0;
  cpu.eflags = FIXED1 | IF | ZF;
  exec({0xf7, 0xf1});  // div cx
  EXPECT_EQ(cpu.seg[CS].selector, 0x0100u);
  EXPECT_EQ(cpu.eip, 0x0020u);
  EXPECT_EQ(cpu.regs[EAX], 0x1234u);
  EXPECT_EQ(cpu.regs[EDX], 0x5678u);
  EXPECT_EQ(cpu.regs[ESP], 0x8000u - 6);
  EXPECT_EQ(mem.read16(0x8000 - 6), kCode);  // IP of the DIV itself
  EXPECT_EQ(mem.read16(0x8000 - 4), 0u);     // CS
  EXPECT_EQ(mem.read16(0x8000 - 2), FIXED1 | IF | ZF);
}

TEST_F(IntegerArith, QuotientOverflowIsDe) {
  real_mode();
  set_ivt(0, 0, 0x3000);
  cpu.regs[EAX] = 0x8000;
  cpu.regs[EDX] = 0xffff;  // DX:AX = -32768
  cpu.regs[EBX] = 0xffff;  // -1
  exec({0xf7, 0xfb});      // idiv bx → +32768 does not fit
  EXPECT_EQ(cpu.eip, 0x3000u);
  EXPECT_EQ(cpu.regs[EAX], 0x8000u);
  flat32();
  cpu.regs[EDX] = 1;
  cpu.regs[EAX] = 0;
  cpu.regs[ECX] = 1;
  auto f = try_exec({0xf7, 0xf1});  // div ecx: 2^32 / 1
  ASSERT_TRUE(f);
  EXPECT_EQ(f->vector, vec::DE);
  EXPECT_EQ(cpu.regs[EDX], 1u);
  EXPECT_EQ(cpu.regs[EAX], 0u);
}

TEST_F(IntegerArith, ShiftsRotatesAllCountForms) {
  flat32();
  cpu.regs[EAX] = 0x80000001;
  exec({0xd1, 0xe0});  // shl eax, 1
  EXPECT_EQ(cpu.regs[EAX], 2u);
  EXPECT_EQ(arith_flags() & (CF | OF), CF | OF);
  cpu.regs[ECX] = 0x24;  // masked to 4
  cpu.regs[EBX] = 0xf000;
  exec({0x66, 0xd3, 0xeb});  // shr bx, cl
  EXPECT_EQ(cpu.regs[EBX], 0x0f00u);
  cpu.regs[EDX] = 0x80;
  exec({0xc0, 0xfa, 0x03});  // sar dl, 3
  EXPECT_EQ(cpu.regs[EDX], 0xf0u);
  cpu.eflags |= CF;
  cpu.regs[EDX] = 0;
  exec({0xd0, 0xd2});  // rcl dl, 1
  EXPECT_EQ(cpu.regs[EDX], 1u);
  EXPECT_EQ(arith_flags() & CF, 0u);
  cpu.regs[EDX] = 0x12345678;
  exec({0xc1, 0xc2, 0x08});  // rol edx, 8
  EXPECT_EQ(cpu.regs[EDX], 0x34567812u);
  exec({0xc1, 0xca, 0x10});  // ror edx, 16
  EXPECT_EQ(cpu.regs[EDX], 0x78123456u);
}

TEST_F(IntegerArith, ShiftByZeroKeepsFlagsAndDoesNotWriteMemory) {
  flat32();
  enable_paging();
  set_page_flags(0x9000, 0x1);  // present, read-only
  mem.write32(0x9000, 0x55);
  cpu.eflags = FIXED1 | CF | ZF | OF;
  cpu.regs[ECX] = 0x20;  // masked to 0
  auto f = try_exec({0xd3, 0x25, 0x00, 0x90, 0x00, 0x00});  // shl dword [0x9000], cl
  // The read-for-write check faults on the read-only page even for a zero count.
  ASSERT_TRUE(f);
  EXPECT_EQ(f->vector, vec::PF);
  set_page_flags(0x9000, 0x3);
  cpu.eip = kCode;
  EXPECT_FALSE(try_exec({0xd3, 0x25, 0x00, 0x90, 0x00, 0x00}));
  EXPECT_EQ(mem.read32(0x9000), 0x55u);
  EXPECT_EQ(arith_flags(), CF | ZF | OF);
}

TEST_F(IntegerArith, ShldShrdWithImmediateAndCl) {
  flat32();
  cpu.regs[EAX] = 0x12345678;
  cpu.regs[EDX] = 0x9abcdef0;
  exec({0x0f, 0xa4, 0xc2, 0x04});  // shld edx, eax, 4
  EXPECT_EQ(cpu.regs[EDX], 0xabcdef01u);
  cpu.regs[ECX] = 8;
  exec({0x0f, 0xad, 0xc2});  // shrd edx, eax, cl
  EXPECT_EQ(cpu.regs[EDX], 0x78abcdefu);
}

TEST_F(IntegerArith, BitTestRegisterAndImmediate) {
  flat32();
  cpu.regs[EAX] = 0x10;
  cpu.regs[ECX] = 36;  // mod 32 = 4
  exec({0x0f, 0xa3, 0xc8});  // bt eax, ecx
  EXPECT_EQ(arith_flags() & CF, CF);
  exec({0x0f, 0xba, 0xf0, 0x01});  // btr eax, 1 (0F BA /6)
  EXPECT_EQ(cpu.regs[EAX], 0x10u);  // bit 1 was clear: BTR leaves it clear
  EXPECT_EQ(arith_flags() & CF, 0u);
  exec({0x0f, 0xba, 0xe8, 0x00});  // bts eax, 0 (/5)
  EXPECT_EQ(cpu.regs[EAX], 0x11u);
  exec({0x0f, 0xba, 0xf8, 0x04});  // btc eax, 4 (/7)
  EXPECT_EQ(cpu.regs[EAX], 0x01u);
  EXPECT_EQ(arith_flags() & CF, CF);
}

TEST_F(IntegerArith, BitTestMemoryWithSignedRegisterOffset) {
  flat32();
  mem.write32(0x5000, 0);
  mem.write32(0x4ffc, 0);
  cpu.regs[EBX] = 0x5000;
  cpu.regs[ECX] = 35;  // dword at 0x5004, bit 3
  exec({0x0f, 0xab, 0x0b});  // bts [ebx], ecx
  EXPECT_EQ(mem.read32(0x5004), 8u);
  EXPECT_EQ(mem.read32(0x5000), 0u);
  cpu.regs[ECX] = static_cast<uint32_t>(-1);  // bit 31 of the dword at 0x4ffc
  exec({0x0f, 0xab, 0x0b});
  EXPECT_EQ(mem.read32(0x4ffc), 0x80000000u);
  exec({0x0f, 0xa3, 0x0b});  // bt [ebx], ecx
  EXPECT_EQ(arith_flags() & CF, CF);
  // 16-bit: offset -17 → word at EA-4, bit 15.
  real_mode();
  mem.write16(0x0ffc, 0);
  cpu.regs[EBX] = 0x1000;
  cpu.regs[ECX] = static_cast<uint16_t>(-17);
  exec({0x0f, 0xab, 0x0f});  // bts [bx], cx
  EXPECT_EQ(mem.read16(0x0ffc), 0x8000u);
}

TEST_F(IntegerArith, BsfBsr) {
  flat32();
  cpu.regs[EAX] = 0x00f0;
  exec({0x0f, 0xbc, 0xc8});  // bsf ecx, eax
  EXPECT_EQ(cpu.regs[ECX], 4u);
  EXPECT_EQ(arith_flags() & ZF, 0u);
  exec({0x0f, 0xbd, 0xd0});  // bsr edx, eax
  EXPECT_EQ(cpu.regs[EDX], 7u);
  cpu.regs[EAX] = 0;
  cpu.regs[EDX] = 0xcafe;
  exec({0x0f, 0xbd, 0xd0});
  EXPECT_EQ(cpu.regs[EDX], 0xcafeu);
  EXPECT_EQ(arith_flags() & ZF, ZF);
  // "rep bsf"/"rep bsr" (TZCNT/LZCNT encodings) are BSF/BSR on an i686.
  exec({0xf3, 0x0f, 0xbc, 0xd0});  // source 0: destination kept, ZF=1 (TZCNT would give 32)
  EXPECT_EQ(cpu.regs[EDX], 0xcafeu);
  EXPECT_EQ(arith_flags() & ZF, ZF);
  cpu.regs[EAX] = 0x00010000;
  exec({0xf3, 0x0f, 0xbd, 0xd0});  // BSR → 16 (LZCNT would give 15)
  EXPECT_EQ(cpu.regs[EDX], 16u);
}

TEST_F(IntegerArith, SegmentLimitViolationIsGpWithNothingChanged) {
  flat32();
  cpu.seg[DS].limit = 0x0fff;
  cpu.seg[DS].attr &= ~seg_attr::G;
  cpu.regs[EAX] = 0x0ffe;
  cpu.regs[EBX] = 7;
  const uint32_t flags = cpu.eflags;
  auto f = try_exec({0x01, 0x18});  // add [eax], ebx: bytes 0xffe..0x1001 cross the limit
  ASSERT_TRUE(f);
  EXPECT_EQ(f->vector, vec::GP);
  EXPECT_EQ(f->error_code, 0u);
  EXPECT_EQ(cpu.eip, kCode);
  EXPECT_EQ(cpu.eflags, flags);
  // Through SS the same violation is #SS.
  cpu.seg[SS].limit = 0x0fff;
  cpu.regs[EBP] = 0x2000;
  f = try_exec({0x01, 0x5d, 0x00});  // add [ebp+0], ebx with EBP beyond the SS limit
  ASSERT_TRUE(f);
  EXPECT_EQ(f->vector, vec::SS);
}

TEST_F(IntegerArith, RealModeSegmentLimitGp) {
  real_mode();
  cpu.regs[EBX] = 0xffff;
  auto f = try_exec({0x8b, 0x07});  // mov ax, [bx]: word at FFFF crosses the 64K limit
  ASSERT_TRUE(f);
  EXPECT_EQ(f->vector, vec::GP);
}

}  // namespace
}  // namespace popek::test
