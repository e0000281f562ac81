// LOOPcc/JCXZ and indirect JMP/CALL r/m, translated natively: the result,
// the step count and the statistics must match the interpreter.
#include "tests/translator/dbt_fixture.h"

namespace popek::test {
namespace {

using Control = DualFixture;

TEST_F(Control, LoopsFlat32) {
  flat32();
  load(0x1000, {
                   0xb9, 0x10, 0x00, 0x00, 0x00,  // mov ecx, 16
                   0x40,                          // l1: inc eax
                   0xe2, 0xfd,                    // loop l1
                   0xb9, 0x10, 0x00, 0x00, 0x00,  // mov ecx, 16
                   0x43,                          // l2: inc ebx
                   0x83, 0xfb, 0x14,              // cmp ebx, 20
                   0xe1, 0xfa,                    // loope l2 (exits on ZF=0 at once)
                   0x43,                          // l3: inc ebx
                   0x83, 0xfb, 0x18,              // cmp ebx, 24
                   0xe0, 0xfa,                    // loopne l3
                   0xe3, 0x01,                    // jecxz +1 (ecx != 0)
                   0x46,                          // inc esi
                   0x31, 0xc9,                    // xor ecx, ecx
                   0xe3, 0x01,                    // jecxz +1 (taken)
                   0x47,                          // inc edi (skipped)
                   0x67, 0xe2, 0xfe,              // loop with CX: 0 -> 0xffff ... counts CX down to 0
                   0xf4,
               });
  run();
  EXPECT_EQ(dbt_result.stop, dbt::DbtStop::Halted);
  expect_same();
  EXPECT_LE(dbt->stats().fallbacks, 1u);  // HLT
}

TEST_F(Control, LoopsRealMode) {
  real_mode();
  load(0x1000, {
                   0xb9, 0x05, 0x00,        // mov cx, 5
                   0x40,                    // l: inc ax
                   0xe2, 0xfd,              // loop l
                   0x66, 0xb9, 0x03, 0x00, 0x01, 0x00,  // mov ecx, 0x10003
                   0x43,                    // l2: inc bx
                   0xe2, 0xfd,              // loop l2 (CX only: upper half kept)
                   0xe3, 0x01,              // jcxz +1 (taken)
                   0x47,                    // inc di (skipped)
                   0xf4,
               });
  run();
  EXPECT_EQ(dbt_result.stop, dbt::DbtStop::Halted);
  expect_same();
  EXPECT_EQ(dut.cpu.regs[ECX], 0x10000u);
}

TEST_F(Control, IndirectJumpsAndCallsFlat32) {
  flat32();
  load(0x1000, {
                   0xbe, 0x00, 0x20, 0x00, 0x00,  // mov esi, 0x2000 (fn)
                   0xc7, 0x05, 0x00, 0x30, 0x00, 0x00, 0x00, 0x20, 0x00, 0x00,  // mov dword [0x3000], 0x2000
                   0xb9, 0x20, 0x00, 0x00, 0x00,  // mov ecx, 32
                   0xff, 0xd6,                    // l: call esi
                   0xff, 0x15, 0x00, 0x30, 0x00, 0x00,  // call [0x3000]
                   0x49,                          // dec ecx
                   0x75, 0xf5,                    // jnz l
                   0xbf, 0x00, 0x21, 0x00, 0x00,  // mov edi, 0x2100
                   0xff, 0xe7,                    // jmp edi
               });
  load(0x2000, {0x40, 0xc3});  // fn: inc eax; ret
  load(0x2100, {0xc7, 0x05, 0x04, 0x30, 0x00, 0x00, 0x10, 0x22, 0x00, 0x00,  // mov dword [0x3004], 0x2210
                0xff, 0x25, 0x04, 0x30, 0x00, 0x00});                       // jmp [0x3004]
  load(0x2210, {0xf4});
  run();
  EXPECT_EQ(dbt_result.stop, dbt::DbtStop::Halted);
  expect_same(0x3000, 16);
  EXPECT_EQ(dut.cpu.regs[EAX], 64u);
  const dbt::DbtStats& st = dbt->stats();
  EXPECT_LE(st.fallbacks, 1u);  // HLT
  EXPECT_GT(st.indirect_hits, 55u);        // the 64 indirect CALLs (RETs go through their prediction)
  EXPECT_GT(st.return_predictions, 55u);   // the 64 RETs
}

TEST_F(Control, IndirectRealModeAndBeyondTheLimit) {
  real_mode();
  load(0x1000, {
                   0xbb, 0x00, 0x11,        // mov bx, 0x1100
                   0xff, 0xd3,              // call bx
                   0xff, 0x16, 0x00, 0x30,  // call [0x3000]
                   0x66, 0xb8, 0x00, 0x00, 0x01, 0x00,  // mov eax, 0x10000
                   0x66, 0xff, 0xe0,        // jmp eax: beyond CS limit, #GP(0)
               });
  load(0x1100, {0x41, 0xc3});  // inc cx; ret
  load(0x3000, {0x00, 0x11});
  run(200);
  expect_same(0x7f00, 0x100);
  EXPECT_EQ(dut.cpu.regs[ECX], 2u);
}

// PUSHA/POPA as one eight-slot access; a 16-bit SP whose range wraps takes
// the slow path (the interpreter's slot-by-slot wrap).
TEST_F(Control, PushAllPopAll) {
  flat32();
  load(0x1000, {0xb8, 1, 0, 0, 0, 0xb9, 2, 0, 0, 0, 0xba, 3, 0, 0, 0, 0xbb, 4, 0, 0, 0,
                0xbd, 5, 0, 0, 0, 0xbe, 6, 0, 0, 0, 0xbf, 7, 0, 0, 0,
                0x60,                    // pushad
                0x66, 0x60,              // pusha
                0x31, 0xc0, 0x31, 0xdb,  // xor eax, eax; xor ebx, ebx
                0x66, 0x61,              // popa
                0x31, 0xc9,              // xor ecx, ecx
                0x61,                    // popad
                0xf4});
  run();
  expect_same(0x80000 - 0x40, 0x40);
  EXPECT_LE(dbt->stats().fallbacks, 1u);
  for (uint32_t sp : {0x0010u, 0x1000u}) {
    real_mode();
    for (BareGuest* g : {&ref, &dut}) g->cpu.regs[ESP] = sp;
    load(0x1000, {0xb8, 0x11, 0x11, 0x60, 0x31, 0xc0, 0x61, 0x66, 0x60, 0x66, 0x61, 0xf4});  // mov ax; pusha; xor; popa; pushad; popad
    dbt->flush();
    run(100);
    expect_same(0, 0x20);
    expect_same(0xffd0, 0x30);
  }
}

// PUSH m: the operand read (read TLB), then the stack write; ESP-relative
// addresses use ESP before the push.
TEST_F(Control, PushMemory) {
  flat32();
  load(0x1000, {0xc7, 0x05, 0x00, 0x30, 0x00, 0x00, 0x78, 0x56, 0x34, 0x12,  // mov dword [0x3000], 0x12345678
                0xff, 0x35, 0x00, 0x30, 0x00, 0x00,                          // push dword [0x3000]
                0x66, 0xff, 0x35, 0x02, 0x30, 0x00, 0x00,                    // push word [0x3002]
                0xff, 0x34, 0x24,                                            // push dword [esp]
                0xff, 0x35, 0x00, 0x00, 0x00, 0x01,                          // push dword [0x1000000]: beyond RAM
                0xf4});
  run();
  expect_same(0x80000 - 0x20, 0x20);
  real_mode();
  load(0x1000, {0xff, 0x36, 0x00, 0x30, 0x66, 0xff, 0x36, 0x00, 0x30, 0xff, 0x36, 0xff, 0xff, 0xf4});
  dbt->flush();
  run(50);
  expect_same(0x8000 - 0x10, 0x10);
}

// --trace blocks: the sink receives every translated block once, with the
// guest and host disassembly.
TEST_F(Control, BlockTrace) {
  flat32();
  load(0x1000, {0xb9, 0x03, 0x00, 0x00, 0x00, 0x40, 0xe2, 0xfd, 0xf4});  // mov ecx, 3; l: inc eax; loop l; hlt
  std::string trace;
  dbt->set_block_trace([&](const std::string& t) { trace += t; });
  run();
  expect_same();
  EXPECT_NE(trace.find("block 0008:00001000"), std::string::npos) << trace;
  EXPECT_NE(trace.find("loop 0x00001005"), std::string::npos) << trace;
  EXPECT_NE(trace.find("jecxz"), std::string::npos) << trace;
}

}  // namespace
}  // namespace popek::test
