// Small guest programs run under the interpreter and the translator; the
// final states must be identical (registers, flags, memory, step count).
#include "tests/translator/dbt_fixture.h"

namespace popek::test {
namespace {

using Programs = DualFixture;

TEST_F(Programs, RegisterArithmeticFlat32) {
  flat32();
  load(0x1000, {
                   0xb8, 0x05, 0x00, 0x00, 0x00,  // mov eax, 5
                   0xbb, 0xff, 0xff, 0xff, 0x7f,  // mov ebx, 0x7fffffff
                   0x01, 0xd8,                    // add eax, ebx  (OF)
                   0x40,                          // inc eax (FF /0 on the host)
                   0x4b,                          // dec ebx
                   0x0f, 0xaf, 0xc3,              // imul eax, ebx
                   0xd1, 0xe0,                    // shl eax, 1
                   0x0f, 0x9c, 0xc1,              // setl cl
                   0x0f, 0x4f, 0xd0,              // cmovg edx, eax
                   0x87, 0xe5,                    // xchg ebp, esp
                   0x87, 0xe5,                    // xchg ebp, esp
                   0x8d, 0x74, 0x98, 0x10,        // lea esi, [eax+ebx*4+0x10]
                   0x9f,                          // lahf
                   0xf4,                          // hlt
               });
  run();
  EXPECT_EQ(dbt_result.stop, dbt::DbtStop::Halted);
  expect_same();
  EXPECT_GT(dbt->stats().retired_native, 8u);
}

TEST_F(Programs, LoopWithMemoryFlat32) {
  flat32();
  // Sums 100 dwords at 0x20000 and stores running sums at 0x30000.
  load(0x1000, {
                   0xbe, 0x00, 0x00, 0x02, 0x00,  // mov esi, 0x20000
                   0xbf, 0x00, 0x00, 0x03, 0x00,  // mov edi, 0x30000
                   0xb9, 0x64, 0x00, 0x00, 0x00,  // mov ecx, 100
                   0x31, 0xc0,                    // xor eax, eax
                   // loop:
                   0x03, 0x06,                    // add eax, [esi]
                   0x89, 0x07,                    // mov [edi], eax
                   0x83, 0xc6, 0x04,              // add esi, 4
                   0x83, 0xc7, 0x04,              // add edi, 4
                   0x49,                          // dec ecx
                   0x75, 0xf3,                    // jnz loop
                   0xf4,                          // hlt
               });
  std::vector<uint8_t> data(400);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 7 + 3);
  load(0x20000, data);
  run();
  EXPECT_EQ(dbt_result.stop, dbt::DbtStop::Halted);
  expect_same(0x30000, 400);
  EXPECT_EQ(ref.cpu.regs[ECX], 0u);
}

TEST_F(Programs, RealModeSegmentsAndFallbacks) {
  real_mode();
  load(0x1000, {
                   0xb8, 0x00, 0x20,        // mov ax, 0x2000
                   0x8e, 0xd8,              // mov ds, ax        (fallback, ends block)
                   0xbb, 0x10, 0x00,        // mov bx, 0x10
                   0xc7, 0x07, 0x34, 0x12,  // mov word [bx], 0x1234
                   0x8b, 0x0f,              // mov cx, [bx]
                   0x01, 0x4f, 0x02,        // add [bx+2], cx
                   0x8a, 0x67, 0x01,        // mov ah, [bx+1]  (AH + memory: fallback)
                   0xf7, 0xf3,              // div bx          (fallback)
                   0x9c,                    // pushf           (fallback)
                   0x58,                    // pop ax          (fallback)
                   0xf4,                    // hlt
               });
  set_reg(EDX, 0);
  run();
  EXPECT_EQ(dbt_result.stop, dbt::DbtStop::Halted);
  expect_same(0x20000, 0x20);
  EXPECT_GT(dbt->stats().fallbacks, 0u);
}

TEST_F(Programs, DivideByZeroIsTheGuestsFault) {
  real_mode();
  // IVT entry 0 -> 0000:0x1100, which halts.
  load(0x0000, {0x00, 0x11, 0x00, 0x00});
  load(0x1100, {0xf4});
  load(0x1000, {
                   0x31, 0xdb,  // xor bx, bx
                   0xf7, 0xf3,  // div bx -> #DE
                   0xf4,
               });
  run();
  expect_same();
  EXPECT_EQ(dut.cpu.eip, 0x1101u);
}

TEST_F(Programs, SelfModifyingCode) {
  flat32();
  // Rewrites the immediate of a later "mov eax, imm32" and runs it twice.
  load(0x1000, {
                   0xb9, 0x02, 0x00, 0x00, 0x00,              // mov ecx, 2
                   // again:
                   0xb8, 0x11, 0x11, 0x11, 0x11,              // mov eax, 0x11111111  (at 0x1005)
                   0x01, 0xc2,                                // add edx, eax
                   0xc7, 0x05, 0x06, 0x10, 0x00, 0x00,        // mov dword [0x1006], 0x22222222
                   0x22, 0x22, 0x22, 0x22,
                   0x49,                                      // dec ecx
                   0x75, 0xec,                                // jnz again
                   0xf4,
               });
  set_reg(EDX, 0);
  run();
  expect_same(0x1000, 0x40);
  EXPECT_EQ(dut.cpu.regs[EDX], 0x33333333u);
  EXPECT_GT(dbt->stats().smc_invalidations, 0u);
}

}  // namespace
}  // namespace popek::test
