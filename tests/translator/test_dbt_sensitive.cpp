// Sensitive instructions rewritten against the virtual CPU state (PUSHF,
// CLI/STI, SMSW/SLDT/STR, MOV r,Sreg, PUSH Sreg): the translator's result
// must equal the interpreter's, including the faults the rewritten
// sequences hand to the interpreter (CLI at CPL 3 with IOPL 0).
#include "tests/translator/dbt_fixture.h"

namespace popek::test {
namespace {

using Sensitive = DualFixture;

const std::vector<uint8_t> kMix = {
    0xb8, 0xff, 0xff, 0xff, 0x7f,  // mov eax, 0x7fffffff
    0x40,                          // inc eax (OF SF AF PF)
    0x9c,                          // pushfd
    0x66, 0x9c,                    // pushf
    0xf9,                          // stc
    0x9c,                          // pushfd
    0x0f, 0x01, 0xe0,              // smsw eax
    0x66, 0x0f, 0x01, 0xe3,        // smsw bx
    0x8c, 0xd9,                    // mov ecx, ds
    0x66, 0x8c, 0xd2,              // mov dx, ss
    0x1e,                          // push ds
    0x66, 0x06,                    // push es
    0x0e,                          // push cs
    0xfa,                          // cli
    0x9c,                          // pushfd
    0xfb,                          // sti
    0x90,                          // nop (in the shadow)
    0x9c,                          // pushfd
    0xf4,                          // hlt
};

TEST_F(Sensitive, Flat32Cpl0) {
  flat32();
  load(0x1000, kMix);
  run();
  EXPECT_EQ(dbt_result.stop, dbt::DbtStop::Halted);
  expect_same(0x80000 - 0x40, 0x40);
  EXPECT_LE(dbt->stats().fallbacks, 1u);  // HLT only
}

TEST_F(Sensitive, ProtectedModeSelectorsLdtrTr) {
  flat32();
  for (BareGuest* g : {&ref, &dut}) {
    g->cpu.ldtr.selector = 0x28;
    g->cpu.tr.selector = 0x33;
  }
  load(0x1000, {0x0f, 0x00, 0xc0,        // sldt eax
                0x66, 0x0f, 0x00, 0xcb,  // str bx
                0x0f, 0x00, 0xc9,        // str ecx
                0xf4});
  set_reg(EBX, 0xdeadbeef);
  run();
  expect_same();
  EXPECT_EQ(dut.cpu.regs[EAX], 0x28u);
  EXPECT_EQ(dut.cpu.regs[EBX], 0xdead0033u);
}

TEST_F(Sensitive, RealMode) {
  real_mode();
  std::vector<uint8_t> code = {
      0xb8, 0xff, 0x7f,  // mov ax, 0x7fff
      0x40,              // inc ax
      0x9c,              // pushf
      0x66, 0x9c,        // pushfd
      0x0f, 0x01, 0xe0,  // smsw ax
      0x8c, 0xc9,        // mov cx, cs
      0x16,              // push ss
      0xfa,              // cli
      0x9c,              // pushf
      0xfb,              // sti
      0xfb,              // sti (IF already set: no shadow)
      0x9c,              // pushf
      0xf4,              // hlt
  };
  load(0x1000, code);
  run();
  EXPECT_EQ(dbt_result.stop, dbt::DbtStop::Halted);
  expect_same(0x8000 - 0x20, 0x20);
}

// POPF: the mode's writable mask (IOPL only at CPL 0, IF only when
// CPL <= IOPL), the arithmetic flags reaching RFLAGS, 16-bit POPF keeping
// the upper half.
TEST_F(Sensitive, PopfMasks) {
  const std::vector<uint8_t> code = {
      0x68, 0xd5, 0x3a, 0x04, 0x00,  // push 0x00043ad5 (CF PF AF ZF SF, IF DF OF, IOPL 3, AC)
      0x9d,                          // popfd
      0x0f, 0x92, 0xc0,              // setb al (CF from the popped image)
      0x0f, 0x90, 0xc4,              // seto ah
      0x9c,                          // pushfd
      0x66, 0x68, 0x00, 0x00,        // push word 0
      0x66, 0x9d,                    // popf (16-bit: AC kept)
      0x9c,                          // pushfd
      0x68, 0x00, 0x02, 0x00, 0x00,  // push 0x200 (IF only)
      0x9d,                          // popfd
      0x9c,                          // pushfd
      0xfc,                          // cld
      0xf4,                          // hlt (#GP at CPL 3: a triple fault, no IDT)
  };
  for (unsigned cpl : {0u, 3u}) {
    for (uint32_t iopl : {0u, 3u}) {
      flat32(cpl);
      for (BareGuest* g : {&ref, &dut}) g->cpu.eflags = (g->cpu.eflags & ~(flag::IOPL | flag::IF)) | (iopl << 12);
      load(0x1000, code);
      dbt->flush();
      run(40);
      expect_same(0x80000 - 0x20, 0x20);
      EXPECT_EQ(dut.cpu.regs[EAX] & 0xffff, 0x0101u) << "cpl " << cpl << " iopl " << iopl;
    }
  }
}

// Memory forms through the store TLB path: SGDT/SIDT, SMSW/SLDT/STR m16,
// MOV m16,Sreg (and a store into this code page: the slow path).
TEST_F(Sensitive, StoresOfVirtualState) {
  flat32();
  for (BareGuest* g : {&ref, &dut}) {
    g->cpu.gdtr = {0x00123450, 0x3ff};
    g->cpu.idtr = {0xfedcba98, 0x7ff};
    g->cpu.ldtr.selector = 0x28;
    g->cpu.tr.selector = 0x33;
  }
  load(0x1000, {0x0f, 0x01, 0x05, 0x00, 0x30, 0x00, 0x00,  // sgdt [0x3000]
                0x0f, 0x01, 0x0d, 0x08, 0x30, 0x00, 0x00,  // sidt [0x3008]
                0x0f, 0x01, 0x25, 0x10, 0x30, 0x00, 0x00,  // smsw [0x3010]
                0x0f, 0x00, 0x05, 0x12, 0x30, 0x00, 0x00,  // sldt [0x3012]
                0x0f, 0x00, 0x0d, 0x14, 0x30, 0x00, 0x00,  // str [0x3014]
                0x8c, 0x1d, 0x16, 0x30, 0x00, 0x00,        // mov [0x3016], ds
                0x0f, 0x01, 0x05, 0x40, 0x10, 0x00, 0x00,  // sgdt [0x1040]: code page
                0xf4});
  run();
  expect_same(0x3000, 0x20);
  expect_same(0x1040, 8);
  EXPECT_EQ(dbt->stats().fallbacks, 2u);  // the code-page store, HLT
  real_mode();
  for (BareGuest* g : {&ref, &dut}) g->cpu.idtr = {0, 0x3ff};
  load(0x1000, {0x0f, 0x01, 0x0e, 0x00, 0x30,  // sidt [0x3000]
                0x0f, 0x01, 0x26, 0x08, 0x30,  // smsw [0x3008]
                0x8c, 0x0e, 0x0a, 0x30,        // mov [0x300a], cs
                0x0f, 0x01, 0x06, 0xfe, 0xff,  // sgdt [0xfffe]: beyond the limit, #GP
                0xf4});
  dbt->flush();
  run(50);
  expect_same(0x3000, 0x10);
}

// CPL 3: CLI/STI need IOPL 3. With IOPL 0 the inline check hands CLI to the
// interpreter, which raises #GP(0) (no IDT here: a triple fault on both).
TEST_F(Sensitive, CliAtCpl3NeedsIopl) {
  for (uint32_t iopl : {0u, 3u}) {
    flat32(3);
    for (BareGuest* g : {&ref, &dut}) g->cpu.eflags = (g->cpu.eflags & ~flag::IOPL) | (iopl << 12);
    load(0x1000, {0x41, 0xfa, 0x42, 0xfb, 0x43, 0xeb, 0xfe});  // inc ecx; cli; inc edx; sti; inc ebx; jmp $
    dbt->flush();
    run(50);
    expect_same();
    EXPECT_EQ(dut.cpu.regs[ECX], 1u) << "iopl " << iopl;
    EXPECT_EQ(dut.cpu.regs[EDX], 0x633u + (iopl == 3 ? 1u : 0u)) << "iopl " << iopl;  // reset EDX: signature
  }
}

// CPUID, WRMSR and RDMSR run through targeted helpers with the interpreter's
// results; an unknown MSR and RDMSR at CPL 3 decline, and step() raises
// #GP(0) (no IDT: a triple fault on both sides).
TEST_F(Sensitive, CpuidAndMsrHelpers) {
  flat32();
  load(0x1000, {0x31, 0xc0,                    // xor eax, eax
                0x0f, 0xa2,                    // cpuid (leaf 0)
                0x89, 0xde,                    // mov esi, ebx
                0xb8, 0x01, 0x00, 0x00, 0x00,  // mov eax, 1
                0x0f, 0xa2,                    // cpuid (leaf 1)
                0x89, 0xd7,                    // mov edi, edx
                0xb9, 0x75, 0x01, 0x00, 0x00,  // mov ecx, 0x175 (SYSENTER_ESP)
                0xb8, 0x78, 0x56, 0x34, 0x12,  // mov eax, 0x12345678
                0x31, 0xd2,                    // xor edx, edx
                0x0f, 0x30,                    // wrmsr
                0x31, 0xc0,                    // xor eax, eax
                0x0f, 0x32,                    // rdmsr
                0x89, 0xc5,                    // mov ebp, eax
                0xf4});
  run();
  expect_same();
  EXPECT_EQ(dut.cpu.regs[ESI], 0x756e6547u);  // "Genu"
  EXPECT_EQ(dut.cpu.regs[EBP], 0x12345678u);
  EXPECT_EQ(dbt->stats().sensitive_helper_calls, 4u);
  EXPECT_LE(dbt->stats().fallbacks, 1u);  // HLT
  for (unsigned cpl : {0u, 3u}) {
    flat32(cpl);
    load(0x1000, {0xb9, 0x00, 0x00, 0x00, 0x40,  // mov ecx, 0x40000000 (no such MSR)
                  0x0f, 0x32,                    // rdmsr: #GP(0)
                  0xf4});
    dbt->flush();
    run(50);
    expect_same();
  }
}

// IN/OUT and RDTSC run through targeted helpers (no Interpreter::step()),
// counted as sensitive_helper_calls; the loop's back edge is chained.
TEST_F(Sensitive, TargetedHelpersAndCounters) {
  flat32();
  load(0x1000, {0xb9, 0x20, 0x00, 0x00, 0x00,  // mov ecx, 32
                // loop:
                0xe6, 0x80,        // out 0x80, al
                0xba, 0x61, 0x00, 0x00, 0x00,  // mov edx, 0x61
                0xec,              // in al, dx
                0x66, 0xe5, 0x70,  // in ax, 0x70
                0x0f, 0x31,        // rdtsc
                0x01, 0xc3,        // add ebx, eax
                0x49,              // dec ecx
                0x75, 0xee,        // jnz loop
                0xf4});
  run();
  expect_same();
  const dbt::DbtStats& st = dbt->stats();
  EXPECT_EQ(st.sensitive_helper_calls, 32u * 4);
  EXPECT_LE(st.fallbacks, 1u);  // HLT
  const std::string json = st.to_json();
  for (const char* key : {"\"chained_exits\"", "\"sensitive_helper_calls\"", "\"indirect_hits\"",
                          "\"top_fallbacks\":{\"hlt\":1}"})
    EXPECT_NE(json.find(key), std::string::npos) << key << " in " << json;
}

// The predecoded helper (x87, MOV CRn, LAR) runs without a fallback, and
// BT m,r and AH..BH beside memory are native: only HLT is a fallback.
// (roms/dbt_forms.asm checks their results and faults under all engines.)
TEST_F(Sensitive, PredecodedHelperAndNativeForms) {
  flat32();
  load(0x1000, {0xba, 0x28, 0x00, 0x00, 0x00,        // mov edx, 40
                0x31, 0xc9,                          // xor ecx, ecx
                0xdb, 0xe3,                          // fninit
                0xd9, 0xe8,                          // fld1
                0xd9, 0x1d, 0x00, 0x20, 0x00, 0x00,  // fstp dword [0x2000]
                0xdf, 0xe0,                          // fnstsw ax
                0x0f, 0x20, 0xc0,                    // mov eax, cr0
                0x0f, 0x02, 0xd9,                    // lar ebx, cx (null: ZF=0)
                0x0f, 0xa3, 0x15, 0x00, 0x20, 0x00, 0x00,  // bt [0x2000], edx (bit 8 of [0x2004])
                0x38, 0x35, 0x00, 0x20, 0x00, 0x00,  // cmp [0x2000], dh
                0x8a, 0x25, 0x03, 0x20, 0x00, 0x00,  // mov ah, [0x2003]
                0xf4});
  run();
  expect_same(0x2000, 8);
  EXPECT_EQ(dut.cpu.regs[EAX] & 0xff00, 0x3f00u);  // the high byte of 1.0f
  EXPECT_EQ(dbt->stats().sensitive_helper_calls, 6u);
  EXPECT_LE(dbt->stats().fallbacks, 1u);  // HLT
}

TEST_F(Sensitive, ChainedExitsAndIndirectHitsAreCounted) {
  flat32();
  // fn: ret; main: mov ecx, 100; loop: call fn; dec ecx; jnz loop; hlt
  load(0x1000, {0xc3, 0xb9, 0x64, 0x00, 0x00, 0x00, 0xe8, 0xf5, 0xff, 0xff, 0xff, 0x49, 0x75, 0xf8, 0xf4});
  for (BareGuest* g : {&ref, &dut}) g->cpu.eip = 0x1001;
  run();
  expect_same();
  const dbt::DbtStats& st = dbt->stats();
  EXPECT_GT(st.indirect_hits + st.return_predictions, 90u);  // RETs: predicted, else the indirect cache
  EXPECT_GT(st.chained_exits, 90u);
}

}  // namespace
}  // namespace popek::test
