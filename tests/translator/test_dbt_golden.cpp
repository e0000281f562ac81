// Golden host code: the exact x86-64 sequence emitted for a few key guest
// instructions, disassembled with Zydis. A change here is a change in code
// quality (or in the register convention) and should be reviewed as such.
#include "tests/translator/dbt_fixture.h"

namespace popek::test {
namespace {

using Golden = DualFixture;

// Host code emitted for guest instruction `k` of the block at 0x1000.
std::string host_code_of(dbt::DbtEngine& e, unsigned k) {
  const dbt::Block* b = e.block_at_current();
  if (!b) return "(no block)";
  std::string text = e.disassemble(*b);
  // Keep only the lines of instruction k: between its guest line and the next.
  std::istringstream in(text);
  std::string line, out;
  int index = -1;
  while (std::getline(in, line)) {
    const bool label = !line.empty() && line.back() == ':';
    if (label && index >= 0) break;  // "cold:" ends the body
    const bool guest_line = !label && line.size() > 2 && line[0] == ' ' && line[1] == ' ' && line[2] != ' ';
    if (guest_line) ++index;
    if (label) continue;
    if (index == static_cast<int>(k) && !guest_line) out += line.substr(6) + "\n";
  }
  return out;
}

TEST_F(Golden, RegisterAdd) {
  flat32();
  load(0x1000, {0x01, 0xd8, 0xf4});  // add eax, ebx; hlt
  EXPECT_EQ(host_code_of(*dbt, 0), "add eax, ebx\n");
}

TEST_F(Golden, AddToMemoryFlagsDead) {
  flat32();
  load(0x1000, {0x01, 0x43, 0x04, 0xf4});  // add [ebx+4], eax; hlt
  EXPECT_EQ(host_code_of(*dbt, 0),
            "lea r8d, [rbx+0x04]\n"
            "mov r9d, r8d\n"
            "shr r9d, 0x08\n"
            "and r9d, 0xFFF0\n"
            "lea r11d, [r8+0x03]\n"
            "and r11d, 0xFFFFF000\n"
            "cmp r11d, [r13+r9*1+0x100C0]\n"  // the write TLB: add is read-modify-write
            "jnz <+0x84>\n"
            "add r8, [r13+r9*1+0x100C8]\n"
            "add [r8], eax\n");
}

TEST_F(Golden, AdcToMemoryFlagsLive) {
  flat32();
  load(0x1000, {0x11, 0x43, 0x04, 0xf4});  // adc [ebx+4], eax (reads CF); hlt
  // The flags were stashed in r10 at the block's entry (budget check); the
  // lookup clobbers RFLAGS, and ADC reads CF, so they are restored first.
  EXPECT_EQ(host_code_of(*dbt, 0),
            "lea r8d, [rbx+0x04]\n"
            "mov r9d, r8d\n"
            "shr r9d, 0x08\n"
            "and r9d, 0xFFF0\n"
            "lea r11d, [r8+0x03]\n"
            "and r11d, 0xFFFFF000\n"
            "cmp r11d, [r13+r9*1+0x100C0]\n"
            "jnz <+0x90>\n"
            "add r8, [r13+r9*1+0x100C8]\n"
            "mov r11, rax\n"
            "mov rax, r10\n"
            "cmp al, 0x81\n"
            "sahf\n"
            "mov rax, r11\n"
            "adc [r8], eax\n");
}

TEST_F(Golden, MovToMemoryBetweenCmpAndJcc) {
  flat32();
  // cmp; mov [ebx], eax; jz: the flags are re-stashed after CMP wrote them,
  // and restored only for the Jcc.
  load(0x1000, {0x39, 0xd8, 0x89, 0x03, 0x74, 0x10});
  EXPECT_EQ(host_code_of(*dbt, 1),
            "lea r8d, [rbx]\n"
            "mov r10, rax\n"
            "lahf\n"
            "seto al\n"
            "mov r11, rax\n"
            "mov rax, r10\n"
            "mov r10, r11\n"
            "mov r9d, r8d\n"
            "shr r9d, 0x08\n"
            "and r9d, 0xFFF0\n"
            "lea r11d, [r8+0x03]\n"
            "and r11d, 0xFFFFF000\n"
            "cmp r11d, [r13+r9*1+0x100C0]\n"
            "jnz <+0xcb>\n"
            "add r8, [r13+r9*1+0x100C8]\n"
            "mov [r8], eax\n");
}

TEST_F(Golden, ConditionalBranchExits) {
  flat32();
  load(0x1000, {0x39, 0xd8, 0x74, 0x10});  // cmp eax, ebx; jz +0x10
  // Each exit is a patchable jmp (to the next instruction until chained),
  // then the unchained exit that tells the dispatcher which stub it was.
  EXPECT_EQ(host_code_of(*dbt, 1),
            "jz <+0x4b>\n"
            "jmp <+0x30>\n"
            "mov r9, <imm64>\n"
            "mov [r13+0x28], r9\n"
            "mov dword ptr [r15+0x20], 0x1004\n"
            "jmp exit_spill\n"
            "jmp <+0x50>\n"
            "mov r9, <imm64>\n"
            "mov [r13+0x28], r9\n"
            "mov dword ptr [r15+0x20], 0x1014\n"
            "jmp exit_spill\n");
}

TEST_F(Golden, PushfInline) {
  flat32();
  load(0x1000, {0x39, 0xd8, 0x9c, 0xf4});  // cmp eax, ebx; pushfd; hlt
  // PUSHF is rewritten: the image is CpuState.eflags (VM, RF and the stale
  // arithmetic bits cleared) with the arithmetic flags from the stash
  // (LAHF layout in bits 8-15, OF in bit 0), stored through the stack TLB
  // path; ESP is committed after the store. CMP wrote the flags, so they
  // are stashed first.
  EXPECT_EQ(host_code_of(*dbt, 1),
            "mov r10, rax\n"
            "lahf\n"
            "seto al\n"
            "mov r11, rax\n"
            "mov rax, r10\n"
            "mov r10, r11\n"
            "lea r8d, [r12-0x04]\n"
            "mov r9d, r8d\n"
            "shr r9d, 0x08\n"
            "and r9d, 0xFFF0\n"
            "lea r11d, [r8+0x03]\n"
            "and r11d, 0xFFFFF000\n"
            "cmp r11d, [r13+r9*1+0x100C0]\n"
            "jnz <+0xd2>\n"
            "add r8, [r13+r9*1+0x100C8]\n"
            "mov r9d, [r15+0x24]\n"
            "and r9d, 0xFFFCF72A\n"
            "mov r11d, r10d\n"
            "shr r11d, 0x08\n"
            "and r11d, 0xD5\n"
            "or r9d, r11d\n"
            "mov r11d, r10d\n"
            "and r11d, 0x01\n"
            "shl r11d, 0x0B\n"
            "or r9d, r11d\n"
            "mov [r8], r9d\n"
            "lea r12d, [r12-0x04]\n");
}

TEST_F(Golden, SmswAndMovFromSregAreLoads) {
  flat32();
  load(0x1000, {0x0f, 0x01, 0xe0, 0x8c, 0xd9, 0xf4});  // smsw eax; mov ecx, ds; hlt
  EXPECT_EQ(host_code_of(*dbt, 0), "mov eax, [r15+0x98]\n");
  EXPECT_EQ(host_code_of(*dbt, 1), "movzx ecx, word ptr [r15+0x4C]\n");
}

TEST_F(Golden, LoopTouchesNoFlags) {
  flat32();
  load(0x1000, {0x40, 0xe2, 0xfd, 0xf4});  // l: inc eax; loop l; hlt
  EXPECT_EQ(host_code_of(*dbt, 1), 
            // LEA and JECXZ: the guest flags stay in RFLAGS (no stash, no restore).
            "lea ecx, [rcx-0x01]\n"
            "jecxz <+0x57>\n"
            "jmp <+0x3c>\n"
            "mov r9, <imm64>\n"
            "mov [r13+0x28], r9\n"
            "mov dword ptr [r15+0x20], 0x1000\n"
            "jmp exit_spill\n"
            "jmp <+0x5c>\n"
            "mov r9, <imm64>\n"
            "mov [r13+0x28], r9\n"
            "mov dword ptr [r15+0x20], 0x1003\n"
            "jmp exit_spill\n");
}

TEST_F(Golden, JmpRegisterThroughTheIndirectCache) {
  flat32();
  load(0x1000, {0xff, 0xe6});  // jmp esi
  EXPECT_EQ(host_code_of(*dbt, 0), 
            "mov r9d, esi\n"
            "add qword ptr [r13+0x800C8], 0x01\n"  // indirect lookups (statistics)
            "mov r11d, r9d\n"                      // slot: (eip ^ eip >> 12) mod 4096
            "shr r11d, 0x0C\n"
            "xor r11d, r9d\n"
            "and r11d, 0x3FFF\n"
            "shl r11d, 0x04\n"
            "mov r8, <imm64>\n"                    // r9 := mode << 32 | eip, the tag
            "or r9, r8\n"
            "mov r8, [r13+r11*1+0x400C8]\n"
            "cmp r9, [r13+r11*1+0x400C0]\n"
            "cmovnz r8, [r13+0x30]\n"  // miss: the ib_miss routine
            "mov r11, rax\n"
            "mov rax, r10\n"
            "cmp al, 0x81\n"
            "sahf\n"
            "mov rax, r11\n"
            "jmp r8\n"
            "jmp exit_spill\n");
}

TEST_F(Golden, CliStiAtCpl0) {
  flat32();
  load(0x1000, {0xfa, 0xf4});  // cli; hlt
  EXPECT_EQ(host_code_of(*dbt, 0), 
            "and dword ptr [r15+0x24], 0xFFFFFDFF\n"
            "mov r11, rax\n"
            "mov rax, r10\n"
            "cmp al, 0x81\n"
            "sahf\n"
            "mov rax, r11\n"
            "jmp <+0x3c>\n"
            "mov r9, <imm64>\n"
            "mov [r13+0x28], r9\n"
            "mov dword ptr [r15+0x20], 0x1001\n"
            "jmp exit_spill\n");
  flat32();
  load(0x1000, {0xfb, 0xf4});  // sti; hlt
  dbt->flush();
  EXPECT_EQ(host_code_of(*dbt, 0), 
            // IF set; the block goes on (into HLT) unless a request is
            // pending (then out of line: the shadow, an unchained exit).
            "test dword ptr [r15+0x24], 0x200\n"
            "jnz <+0x44>\n"
            "or dword ptr [r15+0x24], 0x200\n"
            "cmp dword ptr [r13+0x3C], 0x00\n"
            "jnz <+0x7b>\n");
}

TEST_F(Golden, CliAtCpl3ChecksIopl) {
  flat32(3);
  load(0x1000, {0xfa, 0xf4});  // cli; hlt
  EXPECT_EQ(host_code_of(*dbt, 0), 
            "mov r9d, [r15+0x24]\n"
            "and r9d, 0x3000\n"
            "cmp r9d, 0x3000\n"
            "jb <+0x7e>\n"  // IOPL < CPL: the interpreter raises #GP(0)
            "and dword ptr [r15+0x24], 0xFFFFFDFF\n"
            "mov r11, rax\n"
            "mov rax, r10\n"
            "cmp al, 0x81\n"
            "sahf\n"
            "mov rax, r11\n"
            "jmp <+0x54>\n"
            "mov r9, <imm64>\n"
            "mov [r13+0x28], r9\n"
            "mov dword ptr [r15+0x20], 0x1001\n"
            "jmp exit_spill\n");
}

TEST_F(Golden, ChainedJmp) {
  flat32();
  load(0x1000, {0x49, 0x75, 0xfd, 0xf4});  // loop: dec ecx; jnz loop; hlt
  set_reg(ECX, 5);
  run();
  expect_same();
  // The taken exit now jumps straight back to the block's entry, and the
  // fall-through exit to the HLT block.
  dut.cpu.eip = 0x1000;
  EXPECT_EQ(host_code_of(*dbt, 1),
            "jnz <+0x57>\n"
            "jmp block@00001003\n"
            "mov r9, <imm64>\n"
            "mov [r13+0x28], r9\n"
            "mov dword ptr [r15+0x20], 0x1003\n"
            "jmp exit_spill\n"
            "jmp block@00001000\n"
            "mov r9, <imm64>\n"
            "mov [r13+0x28], r9\n"
            "mov dword ptr [r15+0x20], 0x1000\n"
            "jmp exit_spill\n");
  EXPECT_EQ(dbt->stats().chain_patches, 2u);
}

TEST_F(Golden, UnsignedDivideChecksBeforeDividing) {
  flat32();
  load(0x1000, {0x01, 0xd8, 0xf7, 0xf3, 0xf4});  // add eax, ebx; div ebx; hlt
  EXPECT_EQ(host_code_of(*dbt, 1),
            // The flags stashed; the divisor in r9; #DE (zero divisor or
            // EDX >= divisor) goes out of line to the interpreter; then the
            // flags back and the same host DIV on r9d.
            "mov r10, rax\n"
            "lahf\n"
            "seto al\n"
            "mov r11, rax\n"
            "mov rax, r10\n"
            "mov r10, r11\n"
            "mov r9d, ebx\n"
            "test r9, r9\n"
            "jz <+0x84>\n"
            "cmp edx, r9d\n"
            "jnb <+0x84>\n"
            "mov r11, rax\n"
            "mov rax, r10\n"
            "cmp al, 0x81\n"
            "sahf\n"
            "mov rax, r11\n"
            "div r9d\n");
}

TEST_F(Golden, WholeBlockListing) {
  flat32();
  load(0x1000, {0x01, 0xd8, 0xd4, 0x0a, 0xf4});  // add eax, ebx; aam (fallback); hlt
  const dbt::Block* b = dbt->block_at_current();
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(dbt->disassemble(*b).substr(dbt->disassemble(*b).find('\n') + 1),
            "  entry:\n"
            "      mov r10, rax\n"
            "      lahf\n"
            "      seto al\n"
            "      mov r11, rax\n"
            "      mov rax, r10\n"
            "      mov r10, r11\n"
            "      add qword ptr [r13+0x800C0], 0x01\n"  // block entries (chained-exit statistics)
            "      sub qword ptr [r13], 0x03\n"
            "      jl <+0x50>\n"
            "  00001000  add eax, ebx\n"
            "      add eax, ebx\n"
            "  00001002  aam 0x0A\n"
            "      mov r9, <imm64>\n"
            "      call fallback\n"
            "  00001004  hlt\n"
            "      mov r9, <imm64>\n"
            "      call fallback\n"
            "      mov dword ptr [r15+0x20], 0x1005\n"
            "      jmp exit_spill\n"
            "  cold:\n"
            // Budget exhausted: the shared routine gives the 3 slots back
            // and leaves at 0x1000 (r9 = EIP << 32 | slots).
            "      mov r9, <imm64>\n"
            "      jmp budget_exit\n"
            // The lookup cache's way in: stash the flags as the entry does,
            // run the block only if r9 holds its tag (mode << 32 | EIP).
            "  checked entry:\n"
            "      mov r10, rax\n"
            "      lahf\n"
            "      seto al\n"
            "      mov r11, rax\n"
            "      mov rax, r10\n"
            "      mov r10, r11\n"
            "      mov r11, <imm64>\n"
            "      cmp r9, r11\n"
            "      jnz stashed_lookup_miss\n"
            "      add qword ptr [r13+0x800D0], 0x01\n"
            "      jmp <+0x10>\n");
}

// CALL rel: the return address stored through the stack TLB path, ESP
// committed, then the return prediction's push (the ring's next entry: the
// tag of 0x1005 and this block's ReturnLink), then the chained exit.
TEST_F(Golden, CallPushesTheReturnPrediction) {
  flat32();
  load(0x1000, {0xe8, 0x0b, 0x00, 0x00, 0x00});  // call 0x1010
  const std::string code = host_code_of(*dbt, 0);
  EXPECT_NE(code.find("mov dword ptr [r8], 0x1005\n"
                      "lea r12d, [r12-0x04]\n"
                      "mov r11d, [r13+0x800E0]\n"
                      "add r11d, 0x01\n"
                      "and r11d, 0x1F\n"
                      "mov [r13+0x800E0], r11d\n"
                      "shl r11d, 0x04\n"
                      "mov r9, <imm64>\n"
                      "mov [r13+r11*1+0x80100], r9\n"
                      "mov r9, <imm64>\n"
                      "mov [r13+r11*1+0x80108], r9\n"),
            std::string::npos)
      << code;
}

// RET: the popped address is compared with the ring's top entry; a match
// with a current link jumps straight to the return site. Otherwise the
// indirect-branch cache, as before prediction (docs/translator.md, Return-
// address prediction).
TEST_F(Golden, RetThroughTheReturnPrediction) {
  flat32();
  load(0x1000, {0xc3});  // ret
  EXPECT_EQ(host_code_of(*dbt, 0),
            "lea r8d, [r12]\n"
            "mov r9d, r8d\n"
            "shr r9d, 0x08\n"
            "and r9d, 0xFFF0\n"
            "lea r11d, [r8+0x03]\n"
            "and r11d, 0xFFFFF000\n"
            "cmp r11d, [r13+r9*1+0xC0]\n"
            "jnz <+0x16f>\n"
            "add r8, [r13+r9*1+0xC8]\n"
            "mov r9d, [r8]\n"  // the return address
            "mov r8, <imm64>\n"
            "or r9, r8\n"
            "mov r11d, [r13+0x800E0]\n"  // pop the ring's top entry (DbtContext::rsb)
            "mov r8d, r11d\n"
            "sub r11d, 0x01\n"
            "and r11d, 0x1F\n"
            "mov [r13+0x800E0], r11d\n"
            "shl r8d, 0x04\n"
            "cmp r9, [r13+r8*1+0x80100]\n"  // its tag: the return address this CALL pushed?
            "jnz <+0x115>\n"
            "mov r14, [r13+r8*1+0x80108]\n"  // yes: its block's ReturnLink
            "mov r11, [r13+0x800E8]\n"
            "cmp r11, [r14+0x08]\n"  // of the current epoch?
            "jnz <+0xba>\n"
            "mov r8, [r14]\n"  // yes: the return site's checked entry
            "add qword ptr [r13+0x800F0], 0x01\n"  // return_predictions
            "jmp <+0x147>\n"
            "add qword ptr [r13+0x800C8], 0x01\n"
            "mov r11d, r9d\n"
            "shr r11d, 0x0C\n"
            "xor r11d, r9d\n"
            "and r11d, 0x3FFF\n"
            "shl r11d, 0x04\n"
            "mov r8, [r13+r11*1+0x400C8]\n"
            "cmp r9, [r13+r11*1+0x400C0]\n"
            "cmovnz r8, [r13+0x30]\n"
            "cmp r8, [r13+0x30]\n"  // stale link: a cache miss hands it to the dispatcher...
            "jnz <+0x102>\n"
            "mov [r13+0x800F8], r14\n"
            "jmp <+0x147>\n"
            "mov [r14], r8\n"  // ... a hit refreshes it
            "mov r11, [r13+0x800E8]\n"
            "mov [r14+0x08], r11\n"
            "jmp <+0x147>\n"
            "add qword ptr [r13+0x800C8], 0x01\n"
            "mov r11d, r9d\n"
            "shr r11d, 0x0C\n"
            "xor r11d, r9d\n"
            "and r11d, 0x3FFF\n"
            "shl r11d, 0x04\n"
            "mov r8, [r13+r11*1+0x400C8]\n"
            "cmp r9, [r13+r11*1+0x400C0]\n"
            "cmovnz r8, [r13+0x30]\n"
            "mov r11, rax\n"
            "mov rax, r10\n"
            "cmp al, 0x81\n"
            "sahf\n"
            "mov rax, r11\n"
            "lea r12d, [r12+0x04]\n"
            "jmp r8\n"
            "jmp exit_spill\n");
}

}  // namespace
}  // namespace popek::test
