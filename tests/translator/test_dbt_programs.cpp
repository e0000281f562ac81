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

// fib(n) by naive recursion: CALL rel, RET, PUSH/POP, stack-relative loads.
const std::vector<uint8_t> kFib32 = {
    0xb8, 0x0c, 0x00, 0x00, 0x00,  // mov eax, 12
    0xe8, 0x01, 0x00, 0x00, 0x00,  // call fib
    0xf4,                          // hlt
    // fib (0x100b): eax = fib(eax)
    0x83, 0xf8, 0x02,              // cmp eax, 2
    0x72, 0x14,                    // jb done
    0x50,                          // push eax
    0x48,                          // dec eax
    0xe8, 0xf4, 0xff, 0xff, 0xff,  // call fib
    0x59,                          // pop ecx
    0x50,                          // push eax          (fib(n-1))
    0x8d, 0x41, 0xfe,              // lea eax, [ecx-2]
    0xe8, 0xea, 0xff, 0xff, 0xff,  // call fib
    0x5a,                          // pop edx
    0x01, 0xd0,                    // add eax, edx
    // done:
    0xc3,                          // ret
};

TEST_F(Programs, RecursiveCallsFlat32) {
  flat32();
  load(0x1000, kFib32);
  run();
  EXPECT_EQ(dbt_result.stop, dbt::DbtStop::Halted);
  expect_same(0x7f000, 0x1000);
  EXPECT_EQ(dut.cpu.regs[EAX], 144u);
  EXPECT_LT(dbt->stats().fallbacks, 10u);
}

TEST_F(Programs, CallsAndStackRealMode) {
  real_mode();
  // A 16-bit stack at SS=0x0700 wrapping around SP=0, RET imm16, PUSH SP,
  // POP SP, PUSH imm.
  load(0x1000, {
                   0xb8, 0x00, 0x07,        // mov ax, 0x700
                   0x8e, 0xd0,              // mov ss, ax
                   0xbc, 0x02, 0x00,        // mov sp, 2
                   0x6a, 0x05,              // push 5         (wraps to 0xfffe.. no: SP 2 -> 0)
                   0x68, 0x34, 0x12,        // push 0x1234    (SP 0 -> 0xfffe: wraps)
                   0xe8, 0x06, 0x00,        // call f
                   0x5b,                    // pop bx
                   0x59,                    // pop cx
                   0x54,                    // push sp
                   0x5a,                    // pop dx
                   0xf4,                    // hlt
                   0x90,
                   // f (0x1016):
                   0x8b, 0xec,              // mov bp, sp
                   0x8b, 0x46, 0x02,        // mov ax, [bp+2]
                   0x50,                    // push ax
                   0x5c,                    // pop sp ... then restore
                   0x8b, 0xe5,              // mov sp, bp
                   0xc2, 0x00, 0x00,        // ret 0
               });
  run();
  EXPECT_EQ(dbt_result.stop, dbt::DbtStop::Halted);
  expect_same(0x7000, 0x10000);
  EXPECT_EQ(dut.cpu.regs[EBX] & 0xffff, 0x1234u);
}

TEST_F(Programs, RetBeyondCsLimitFaultsPrecisely) {
  real_mode();
  // IVT[13] -> 0000:0x1100 (halts). CS limit 0xffff; RET to 0x1000 is fine,
  // then a 32-bit RET (66 C3) to 0x00012345 raises #GP with ESP unchanged.
  load(0x0000 + 13 * 4, {0x00, 0x11, 0x00, 0x00});
  load(0x1100, {0xf4});
  load(0x1000, {
                   0x66, 0x68, 0x45, 0x23, 0x01, 0x00,  // push dword 0x12345
                   0x66, 0xc3,                          // ret (32-bit operand)
               });
  run();
  expect_same(0x7000, 0x1000);
  EXPECT_EQ(dut.cpu.eip, 0x1101u);
}

// Flat 32-bit code with paging: an alias mapping, accessed/dirty bits, and a
// page fault delivered through the IDT with the faulting EIP and CR2.
TEST_F(Programs, PagingAliasesAndPageFault) {
  flat32();
  auto le32 = [](uint32_t v) {
    return std::vector<uint8_t>{uint8_t(v), uint8_t(v >> 8), uint8_t(v >> 16), uint8_t(v >> 24)};
  };
  // GDT: null, flat code 0x08, flat data 0x10.
  load(0x500, {0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 0x9a, 0xcf, 0,
               0xff, 0xff, 0, 0, 0, 0x92, 0xcf, 0});
  // IDT[14]: 32-bit interrupt gate to 0x08:0x1800.
  load(0x600 + 14 * 8, {0x00, 0x18, 0x08, 0x00, 0x00, 0x8e, 0x00, 0x00});
  // Page directory at 0x10000: 0-4 MiB identity (PT at 0x11000), 4-8 MiB PT at 0x12000.
  load(0x10000, le32(0x11000 | 3));
  load(0x10004, le32(0x12000 | 3));
  for (uint32_t i = 0; i < 1024; ++i) load(0x11000 + i * 4, le32((i << 12) | 3));
  load(0x12000, le32(0x20000 | 3));  // 0x400000 -> 0x20000; the rest not present
  load(0x1800, {0x0f, 0x20, 0xd0,    // mov eax, cr2
                0x8b, 0x1c, 0x24,    // mov ebx, [esp] (error code)
                0xf4});
  load(0x1000, {
                   0xc7, 0x05, 0x00, 0x00, 0x40, 0x00, 0x78, 0x56, 0x34, 0x12,  // mov dword [0x400000], 0x12345678
                   0x8b, 0x0d, 0x00, 0x00, 0x02, 0x00,                          // mov ecx, [0x20000]
                   0x83, 0x05, 0x04, 0x00, 0x02, 0x00, 0x05,                    // add dword [0x20004], 5
                   0x8b, 0x15, 0x04, 0x00, 0x40, 0x00,                          // mov edx, [0x400004]
                   0x8b, 0x35, 0x00, 0x10, 0x40, 0x00,                          // mov esi, [0x401000] -> #PF
                   0xf4,
               });
  for (BareGuest* g : {&ref, &dut}) {
    g->cpu.gdtr = DescriptorTableReg{0x500, 23};
    g->cpu.idtr = DescriptorTableReg{0x600, 0x7ff};
    g->cpu.cr3 = 0x10000;
    g->cpu.cr0 |= cr0::PG;
  }
  run();
  expect_same(0x10000, 0x13000);
  expect_same(0x20000, 0x10);
  expect_same(0x7f000, 0x1000);
  EXPECT_EQ(dut.cpu.regs[ECX], 0x12345678u);
  EXPECT_EQ(dut.cpu.regs[EDX], 5u);
  EXPECT_EQ(dut.cpu.regs[EAX], 0x401000u);  // CR2
  EXPECT_EQ(dut.cpu.regs[EBX], 0u);         // not present, read, supervisor
  EXPECT_EQ(dut.cpu.cr2, 0x401000u);
}

}  // namespace
}  // namespace popek::test
