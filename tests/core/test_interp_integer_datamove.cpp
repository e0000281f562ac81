// Data-movement instructions: MOV, MOVZX/MOVSX, XCHG, CMOVcc, SETcc, LEA,
// XLAT, CBW..CDQ, BSWAP, XADD, CMPXCHG, CMPXCHG8B, LAHF/SAHF, flag
// instructions, SALC, NOPs.
#include "core/alu.h"
#include "tests/core/test_interp_integer_util.h"

namespace popek::test {
namespace {

using namespace flag;

class IntegerDatamove : public IntegerTest {};

TEST_F(IntegerDatamove, MovAllGeneralForms) {
  flat32();
  exec({0xb8, 0x78, 0x56, 0x34, 0x12});  // mov eax, 0x12345678
  EXPECT_EQ(cpu.regs[EAX], 0x12345678u);
  exec({0xb4, 0xab});  // mov ah, 0xab
  EXPECT_EQ(cpu.regs[EAX], 0x1234ab78u);
  exec({0xa3, 0x00, 0x50, 0x00, 0x00});  // mov [0x5000], eax
  EXPECT_EQ(mem.read32(0x5000), 0x1234ab78u);
  exec({0x66, 0xc7, 0x05, 0x04, 0x50, 0x00, 0x00, 0xcd, 0xab});  // mov word [0x5004], 0xabcd
  EXPECT_EQ(mem.read16(0x5004), 0xabcdu);
  exec({0x8a, 0x1d, 0x05, 0x50, 0x00, 0x00});  // mov bl, [0x5005]
  EXPECT_EQ(cpu.regs[EBX] & 0xff, 0xabu);
  exec({0xc6, 0x05, 0x06, 0x50, 0x00, 0x00, 0x80});  // mov byte [0x5006], 0x80
  EXPECT_EQ(mem.read8(0x5006), 0x80u);
  const uint32_t flags = cpu.eflags;
  exec({0x89, 0xc1});  // mov ecx, eax
  EXPECT_EQ(cpu.regs[ECX], 0x1234ab78u);
  EXPECT_EQ(cpu.eflags, flags);
}

TEST_F(IntegerDatamove, MovRealModeWithSegmentOverrideAndMoffs) {
  real_mode();
  cpu.seg[ES].base = 0x30000;
  cpu.regs[EAX] = 0xbeef;
  exec({0x26, 0xa3, 0x10, 0x00});  // mov es:[0x0010], ax
  EXPECT_EQ(mem.read16(0x30010), 0xbeefu);
  exec({0x26, 0x8b, 0x1e, 0x10, 0x00});  // mov bx, es:[0x0010]
  EXPECT_EQ(cpu.regs[EBX] & 0xffff, 0xbeefu);
}

TEST_F(IntegerDatamove, MovToSegmentRegisterIsForwardedToTheSystemGroup) {
  real_mode();
  cpu.regs[EAX] = 0x1234;
  exec({0x8e, 0xd8});  // mov ds, ax
  EXPECT_EQ(cpu.seg[DS].selector, 0x1234u);
  EXPECT_EQ(cpu.seg[DS].base, 0x12340u);
  EXPECT_EQ(cpu.eip, kCode + 2);
}

TEST_F(IntegerDatamove, MovzxMovsx) {
  flat32();
  cpu.regs[EAX] = 0x80f0;
  exec({0x0f, 0xb6, 0xc8});  // movzx ecx, al
  EXPECT_EQ(cpu.regs[ECX], 0xf0u);
  exec({0x0f, 0xbe, 0xc8});  // movsx ecx, al
  EXPECT_EQ(cpu.regs[ECX], 0xfffffff0u);
  exec({0x0f, 0xbf, 0xd0});  // movsx edx, ax
  EXPECT_EQ(cpu.regs[EDX], 0xffff80f0u);
  cpu.regs[EBX] = 0xaaaa0000;
  exec({0x66, 0x0f, 0xbe, 0xdc});  // movsx bx, ah
  EXPECT_EQ(cpu.regs[EBX], 0xaaaaff80u);
}

TEST_F(IntegerDatamove, XchgRegistersAndMemory) {
  flat32();
  cpu.regs[EAX] = 1;
  cpu.regs[ECX] = 2;
  exec({0x91});  // xchg ecx, eax
  EXPECT_EQ(cpu.regs[EAX], 2u);
  EXPECT_EQ(cpu.regs[ECX], 1u);
  mem.write32(0x5000, 0x55);
  exec({0x87, 0x0d, 0x00, 0x50, 0x00, 0x00});  // xchg [0x5000], ecx
  EXPECT_EQ(mem.read32(0x5000), 1u);
  EXPECT_EQ(cpu.regs[ECX], 0x55u);
  exec({0x86, 0xe0});  // xchg al, ah
  EXPECT_EQ(cpu.regs[EAX], 0x0200u);
}

TEST_F(IntegerDatamove, XchgWithReadOnlyPageFaultsWithoutChangingTheRegister) {
  flat32();
  enable_paging();
  set_page_flags(0x9000, 0x1);
  mem.write32(0x9000, 0x77);
  cpu.regs[ECX] = 0x1111;
  auto f = try_exec({0x87, 0x0d, 0x00, 0x90, 0x00, 0x00});  // xchg [0x9000], ecx
  ASSERT_TRUE(f);
  EXPECT_EQ(f->vector, vec::PF);
  EXPECT_EQ(f->error_code, 0x3u);  // present, write
  EXPECT_EQ(cpu.cr2, 0x9000u);
  EXPECT_EQ(cpu.regs[ECX], 0x1111u);
  EXPECT_EQ(mem.read32(0x9000), 0x77u);
}

TEST_F(IntegerDatamove, CmovReadsMemoryEvenWhenFalseAndWritesOnlyItsWidth) {
  flat32();
  mem.write32(0x5000, 0xcafebabe);
  cpu.regs[EAX] = 0x11112222;
  cpu.eflags &= ~ZF;
  exec({0x66, 0x0f, 0x44, 0x05, 0x00, 0x50, 0x00, 0x00});  // cmovz ax, [0x5000] (false)
  EXPECT_EQ(cpu.regs[EAX], 0x11112222u);
  exec({0x66, 0x0f, 0x45, 0x05, 0x00, 0x50, 0x00, 0x00});  // cmovnz ax, [0x5000] (true)
  EXPECT_EQ(cpu.regs[EAX], 0x1111babeu);
  exec({0x0f, 0x45, 0x05, 0x00, 0x50, 0x00, 0x00});  // cmovnz eax, [0x5000]
  EXPECT_EQ(cpu.regs[EAX], 0xcafebabeu);
  // A false condition still faults on an out-of-limit source.
  cpu.seg[DS].limit = 0xfff;
  cpu.regs[EAX] = 0;
  auto f = try_exec({0x0f, 0x44, 0x05, 0x00, 0x50, 0x00, 0x00});  // cmovz eax, [0x5000]
  ASSERT_TRUE(f);
  EXPECT_EQ(f->vector, vec::GP);
  EXPECT_EQ(cpu.regs[EAX], 0u);
}

TEST_F(IntegerDatamove, SetccAllConditions) {
  flat32();
  struct Case {
    uint8_t opcode;
    uint32_t flags;
    uint8_t want;
  } cases[] = {
      {0x90, OF, 1}, {0x91, OF, 0}, {0x92, CF, 1}, {0x93, CF, 0}, {0x94, ZF, 1}, {0x95, 0, 1},
      {0x96, ZF, 1}, {0x97, 0, 1},  {0x98, SF, 1}, {0x99, SF, 0}, {0x9a, PF, 1}, {0x9b, PF, 0},
      {0x9c, SF, 1}, {0x9c, SF | OF, 0}, {0x9d, OF, 0}, {0x9e, ZF, 1}, {0x9f, SF | OF, 1},
  };
  for (const Case& c : cases) {
    cpu.eip = kCode;
    cpu.eflags = FIXED1 | c.flags;
    cpu.regs[EAX] = 0xffffffff;
    exec({0x0f, c.opcode, 0xc0});  // setcc al
    EXPECT_EQ(cpu.regs[EAX], 0xffffff00u | c.want) << std::hex << int(c.opcode);
  }
  mem.write8(0x5000, 0xaa);
  cpu.eip = kCode;
  cpu.eflags = FIXED1 | CF;
  exec({0x0f, 0x92, 0x05, 0x00, 0x50, 0x00, 0x00});  // setb [0x5000]
  EXPECT_EQ(mem.read8(0x5000), 1u);
}

TEST_F(IntegerDatamove, LeaAddressAndOperandSizes) {
  flat32();
  cpu.regs[EAX] = 0x10;
  cpu.regs[EBX] = 0xfffffff0;
  exec({0x8d, 0x4c, 0x83, 0x04});  // lea ecx, [ebx+eax*4+4]
  EXPECT_EQ(cpu.regs[ECX], 0x34u);
  cpu.regs[EBX] = 0x0001fff0;
  cpu.regs[ESI] = 0x20;
  exec({0x67, 0x8d, 0x10});  // lea edx, [bx+si] (16-bit address wraps, zero-extended)
  EXPECT_EQ(cpu.regs[EDX], 0x0010u);
  cpu.regs[EDX] = 0xaaaa0000;
  exec({0x66, 0x8d, 0x14, 0x1e});  // lea dx, [esi+ebx]
  EXPECT_EQ(cpu.regs[EDX], 0xaaaa0010u);
}

TEST_F(IntegerDatamove, XlatWithOverride) {
  real_mode();
  cpu.seg[ES].base = 0x40000;
  mem.write8(0x40000 + 0x200 + 0x05, 0x99);
  mem.write8(0x0200 + 0x05, 0x11);
  cpu.regs[EBX] = 0x200;
  cpu.regs[EAX] = 0x05;
  exec({0xd7});  // xlat (DS)
  EXPECT_EQ(cpu.regs[EAX], 0x11u);
  cpu.regs[EAX] = 0x05;
  exec({0x26, 0xd7});  // es: xlat
  EXPECT_EQ(cpu.regs[EAX], 0x99u);
}

TEST_F(IntegerDatamove, SignExtensionsOfTheAccumulator) {
  flat32();
  cpu.regs[EAX] = 0x12345680;
  exec({0x66, 0x98});  // cbw
  EXPECT_EQ(cpu.regs[EAX], 0x1234ff80u);
  exec({0x98});  // cwde
  EXPECT_EQ(cpu.regs[EAX], 0xffffff80u);
  cpu.regs[EDX] = 0x12345678;
  exec({0x66, 0x99});  // cwd
  EXPECT_EQ(cpu.regs[EDX], 0x1234ffffu);
  exec({0x99});  // cdq
  EXPECT_EQ(cpu.regs[EDX], 0xffffffffu);
  cpu.regs[EAX] = 0x7fffffff;
  exec({0x99});
  EXPECT_EQ(cpu.regs[EDX], 0u);
}

TEST_F(IntegerDatamove, Bswap) {
  flat32();
  cpu.regs[EBX] = 0x11223344;
  exec({0x0f, 0xcb});  // bswap ebx
  EXPECT_EQ(cpu.regs[EBX], 0x44332211u);
  cpu.regs[EBX] = 0xaabbccdd;
  exec({0x66, 0x0f, 0xcb});  // bswap bx (undefined: follows the host, upper half kept)
  EXPECT_EQ(cpu.regs[EBX], 0xaabb0000u | alu::byte_swap(16, 0xccdd));
}

TEST_F(IntegerDatamove, XaddForms) {
  flat32();
  mem.write32(0x5000, 10);
  cpu.regs[ECX] = 5;
  exec({0x0f, 0xc1, 0x0d, 0x00, 0x50, 0x00, 0x00});  // xadd [0x5000], ecx
  EXPECT_EQ(mem.read32(0x5000), 15u);
  EXPECT_EQ(cpu.regs[ECX], 10u);
  cpu.regs[EAX] = 3;
  cpu.regs[EDX] = 4;
  exec({0x0f, 0xc1, 0xd0});  // xadd eax, edx
  EXPECT_EQ(cpu.regs[EAX], 7u);
  EXPECT_EQ(cpu.regs[EDX], 3u);
  exec({0x0f, 0xc1, 0xc0});  // xadd eax, eax: the sum wins
  EXPECT_EQ(cpu.regs[EAX], 14u);
  cpu.regs[EAX] = 0xff;
  cpu.regs[EBX] = 0x01;
  exec({0x0f, 0xc0, 0xd8});  // xadd al, bl
  EXPECT_EQ(cpu.regs[EAX], 0u);
  EXPECT_EQ(cpu.regs[EBX], 0xffu);
  EXPECT_EQ(arith_flags() & (CF | ZF), CF | ZF);
}

TEST_F(IntegerDatamove, CmpxchgEqualAndNotEqual) {
  flat32();
  cpu.regs[EAX] = 5;
  cpu.regs[EBX] = 5;
  cpu.regs[ECX] = 9;
  exec({0x0f, 0xb1, 0xcb});  // cmpxchg ebx, ecx
  EXPECT_EQ(cpu.regs[EBX], 9u);
  EXPECT_EQ(cpu.regs[EAX], 5u);
  EXPECT_EQ(arith_flags() & ZF, ZF);
  exec({0x0f, 0xb1, 0xcb});  // again: 5 != 9
  EXPECT_EQ(cpu.regs[EBX], 9u);
  EXPECT_EQ(cpu.regs[EAX], 9u);
  EXPECT_EQ(arith_flags() & ZF, 0u);
  mem.write16(0x5000, 0x1234);
  cpu.regs[EAX] = 0xffff0000;
  exec({0x66, 0x0f, 0xb1, 0x0d, 0x00, 0x50, 0x00, 0x00});  // cmpxchg [0x5000], cx
  EXPECT_EQ(cpu.regs[EAX], 0xffff1234u);
  EXPECT_EQ(mem.read16(0x5000), 0x1234u);
}

TEST_F(IntegerDatamove, CmpxchgMemoryIsWrittenEvenWhenNotEqual) {
  flat32();
  enable_paging();
  set_page_flags(0x9000, 0x1);  // read-only
  mem.write32(0x9000, 7);
  cpu.regs[EAX] = 1;  // not equal
  auto f = try_exec({0x0f, 0xb1, 0x0d, 0x00, 0x90, 0x00, 0x00});  // cmpxchg [0x9000], ecx
  ASSERT_TRUE(f);
  EXPECT_EQ(f->vector, vec::PF);
  EXPECT_EQ(f->error_code & 2, 2u);
  EXPECT_EQ(cpu.regs[EAX], 1u);
}

TEST_F(IntegerDatamove, Cmpxchg8b) {
  flat32();
  mem.write32(0x5000, 0x33334444);
  mem.write32(0x5004, 0x11112222);
  cpu.regs[EAX] = 0x33334444;
  cpu.regs[EDX] = 0x11112222;
  cpu.regs[EBX] = 0xdddddddd;
  cpu.regs[ECX] = 0xcccccccc;
  cpu.regs[ESI] = 0x5000;
  cpu.eflags |= CF;
  exec({0x0f, 0xc7, 0x0e});  // cmpxchg8b [esi]
  EXPECT_EQ(mem.read32(0x5000), 0xddddddddu);
  EXPECT_EQ(mem.read32(0x5004), 0xccccccccu);
  EXPECT_EQ(arith_flags(), ZF | CF);
  exec({0x0f, 0xc7, 0x0e});  // now unequal: EDX:EAX loaded
  EXPECT_EQ(cpu.regs[EAX], 0xddddddddu);
  EXPECT_EQ(cpu.regs[EDX], 0xccccccccu);
  EXPECT_EQ(arith_flags(), CF);
  auto f = try_exec({0x0f, 0xc7, 0xc8});  // register form: #UD
  ASSERT_TRUE(f);
  EXPECT_EQ(f->vector, vec::UD);
}

TEST_F(IntegerDatamove, LahfSahfAndFlagInstructions) {
  real_mode();
  cpu.eflags = FIXED1 | SF | ZF | AF | PF | CF | OF;
  cpu.regs[EAX] = 0;
  exec({0x9f});  // lahf
  EXPECT_EQ(cpu.regs[EAX], 0xd700u);
  cpu.regs[EAX] = 0x0100;  // AH: CF only (and reserved bits ignored)
  exec({0x9e});  // sahf
  EXPECT_EQ(cpu.eflags, FIXED1 | CF | OF);
  exec({0xf5});  // cmc
  EXPECT_EQ(cpu.eflags & CF, 0u);
  exec({0xf9});  // stc
  EXPECT_EQ(cpu.eflags & CF, CF);
  exec({0xf8});  // clc
  EXPECT_EQ(cpu.eflags & CF, 0u);
  exec({0xfd});  // std
  EXPECT_EQ(cpu.eflags & DF, DF);
  exec({0xfc});  // cld
  EXPECT_EQ(cpu.eflags & DF, 0u);
}

TEST_F(IntegerDatamove, SalcAndNops) {
  flat32();
  cpu.eflags |= CF;
  cpu.regs[EAX] = 0x12345600;
  exec({0xd6});  // salc
  EXPECT_EQ(cpu.regs[EAX], 0x123456ffu);
  cpu.eflags &= ~CF;
  exec({0xd6});
  EXPECT_EQ(cpu.regs[EAX], 0x12345600u);
  const CpuState before = cpu;
  exec({0x90});
  exec({0x0f, 0x1f, 0x80, 0x00, 0x00, 0xf0, 0xff});  // nop [eax-0x100000]: no access
  exec({0xf3, 0x90});                                 // pause
  exec({0x66, 0x90});
  exec({0xf3, 0x0f, 0x1e, 0xfb});                     // endbr32: hint NOP on an i686
  exec({0x0f, 0x18, 0x80, 0x00, 0x00, 0xf0, 0xff});   // prefetchnta: no access, no fault
  EXPECT_EQ(cpu.eip, before.eip + 1 + 7 + 2 + 2 + 4 + 7);
  EXPECT_EQ(cpu.regs[EAX], before.regs[EAX]);
  EXPECT_EQ(cpu.eflags, before.eflags);
}

}  // namespace
}  // namespace popek::test
