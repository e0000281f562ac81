// Self-tests of the differential harness: each executor on hand-written
// code with known results, fault reporting, the generator's invariants and
// the flag tracker's refinements. If these fail, the differential results
// mean nothing.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>

#include "core/cpu_state.h"
#include "tests/diff/campaign.h"
#include "tests/diff/targeted_support.h"

namespace popek::diff {
namespace {

using targeted::base_state;
using targeted::harness;

// add eax, ecx; inc edx; mov [ebx], eax
const std::vector<uint8_t> kAddCode = {0x01, 0xc8, 0x42, 0x89, 0x03};

GuestState add_state() {
  GuestState s = base_state();
  s.regs[EAX] = 0xfffffffe;
  s.regs[ECX] = 3;
  s.regs[EDX] = 0x7fffffff;
  return s;
}

void expect_add_result(const RunResult& r, const char* who) {
  SCOPED_TRACE(who);
  EXPECT_FALSE(r.faulted) << format_end(r);
  EXPECT_EQ(r.eip, kCodeBase + kAddCode.size());
  EXPECT_EQ(r.state.regs[EAX], 1u);
  EXPECT_EQ(r.state.regs[EDX], 0x80000000u);
  // INC leaves CF from the ADD (carry out) and sets OF, SF.
  EXPECT_EQ(r.state.eflags & (flag::CF | flag::OF | flag::SF | flag::ZF), flag::CF | flag::OF | flag::SF);
  EXPECT_EQ(r.state.data[0x400], 1);
  EXPECT_EQ(r.state.data[0x401], 0);
}

TEST(DiffHarness, UnicornRunsStraightLineCode) {
  UnicornExecutor u;
  expect_add_result(u.run(kAddCode, add_state()), "unicorn");
}

TEST(DiffHarness, NativeRunnerRunsStraightLineCode) {
  NativeExecutor n;
  if (!n.available()) GTEST_SKIP() << n.why_unavailable();
  expect_add_result(n.run(kAddCode, add_state()), "native");
}

TEST(DiffHarness, PopekRunsStraightLineCode) {
  PopekExecutor p;
  expect_add_result(p.run(kAddCode, add_state()), "popek");
}

// inc ecx; div ebx (EBX=0): #DE at the DIV with ECX already incremented and
// EAX/EDX untouched, on every executor.
TEST(DiffHarness, DivideErrorIsReportedPreciselyEverywhere) {
  const std::vector<uint8_t> code = {0x41, 0xf7, 0xf3};
  GuestState s = base_state();
  s.regs[EBX] = 0;
  s.regs[EAX] = 0x1234;
  CaseOutcome o = harness().run(code, s);
  std::vector<const RunResult*> runs = {&o.popek, &o.unicorn};
  if (o.have_native) runs.push_back(&o.native);
  for (const RunResult* r : runs) {
    EXPECT_TRUE(r->faulted) << format_end(*r);
    EXPECT_EQ(r->vector, 0);
    EXPECT_EQ(r->eip, kCodeBase + 1);
    EXPECT_EQ(r->state.regs[ECX], 1u);
    EXPECT_EQ(r->state.regs[EAX], 0x1234u);
  }
}

// IDIV of the most negative dividend by -1 is #DE on the CPU but kills a
// process running Unicorn 2.0.1 (host SIGFPE in its helper): the Unicorn
// executor must stop short of it and say so.
TEST(DiffHarness, UnicornIsKeptAwayFromTheIdivThatCrashesIt) {
  for (bool w16 : {false, true}) {
    GuestState s = base_state();
    s.regs[EDX] = w16 ? 0x12348000 : 0x80000000;
    s.regs[EAX] = w16 ? 0x56780000 : 0;
    s.regs[ECX] = w16 ? 0x9999ffff : 0xffffffff;
    std::vector<uint8_t> code = w16 ? std::vector<uint8_t>{0x66, 0xf7, 0xf9} : std::vector<uint8_t>{0xf7, 0xf9};
    CaseOutcome o = harness().run(code, s);
    EXPECT_TRUE(o.unicorn.unicorn_unrunnable);
    EXPECT_TRUE(o.unicorn_tainted);
    EXPECT_TRUE(o.popek.faulted);
    EXPECT_EQ(o.popek.vector, 0);
    if (o.have_native) {
      EXPECT_EQ(o.native.vector, 0);
      EXPECT_TRUE(o.pn.empty()) << format_mismatches(o.pn, "native", "popek");
    }
  }
}

// An access outside the three areas is a page fault on every executor
// (Popek maps only those pages).
TEST(DiffHarness, AccessOutsideTheAreasFaultsEverywhere) {
  const std::vector<uint8_t> code = {0x8b, 0x05, 0x00, 0x00, 0x20, 0x00};  // mov eax, [0x200000]
  CaseOutcome o = harness().run(code, base_state());
  EXPECT_TRUE(o.popek.faulted);
  EXPECT_EQ(o.popek.vector, 14);
  EXPECT_EQ(o.unicorn.vector, 14);
  if (o.have_native) {
    EXPECT_EQ(o.native.vector, 14);
  }
  EXPECT_TRUE(o.pu.empty()) << format_mismatches(o.pu, "unicorn", "popek");
}

TEST(DiffHarness, GeneratedSnippetsAreValidAndStayInBounds) {
  InsnGenerator gen(12345);
  UnicornExecutor u;
  Decoder dec;
  unsigned faults = 0;
  for (int i = 0; i < 2000; ++i) {
    Snippet s = gen.make(12);
    std::vector<uint8_t> code = s.assemble();
    for (const SnippetInsn& in : s.insns) {
      // Every instruction decodes, except the deliberate LOCK misuses.
      DecodedInsn d;
      DecodeStatus st = dec.decode(in.bytes.data(), in.bytes.size(), true, true, d);
      EXPECT_TRUE(st == DecodeStatus::Ok ? d.insn.length == in.bytes.size() : in.bytes[0] == 0xf0)
          << disassemble(s);
    }
    RunResult r = u.run(code, s.init);
    EXPECT_FALSE(r.hung) << disassemble(s);
    if (r.faulted) {
      ++faults;
      // Only #DE (unguarded divisions, AAM 0), #BR (BOUND) and #UD (the
      // deliberate invalid encodings) are expected: never a stray access.
      EXPECT_TRUE(r.vector == 0 || r.vector == 5 || r.vector == 6) << format_end(r) << "\n" << disassemble(s);
    }
  }
  EXPECT_LT(faults, 300u);
  EXPECT_LT(gen.rejected(), 2000u * 12 / 50);
}

// CPUID legitimately differs between the executors (Popek reports its own
// Pentium II identity): a divergence the harness must see, localize to the
// CPUID and report with the marker.
TEST(DiffHarness, DivergenceIsDetectedLocalizedAndReported) {
  Snippet s;
  s.init = base_state();
  for (std::vector<uint8_t> b : {std::vector<uint8_t>{0xb8, 1, 0, 0, 0}, {0x41}, {0x0f, 0xa2}, {0x42}}) {
    SnippetInsn in;
    in.bytes = b;
    s.insns.push_back(in);
  }
  DiffHarness& h = harness();
  CaseOutcome o = h.run(s);
  ASSERT_FALSE(o.pu.empty());
  Culprit c = h.localize(s, Pair::PopekUnicorn, o);
  EXPECT_EQ(c.index, 2);
  EXPECT_EQ(c.mnemonic, "cpuid");
  std::string report = h.report(s, Pair::PopekUnicorn, o, c, "self-test");
  EXPECT_NE(report.find("=> 2"), std::string::npos) << report;
  EXPECT_NE(report.find("EAX: unicorn="), std::string::npos) << report;
  if (o.have_native) {
    ASSERT_FALSE(o.pn.empty());
    EXPECT_EQ(h.localize(s, Pair::PopekNative, o).index, 2);
  }
}

TEST(DiffHarness, TruncatedSnippetsRetargetJumpsToTheEnd) {
  Snippet s;
  s.init = base_state();
  SnippetInsn jmp;
  jmp.bytes = {0xeb, 0};
  jmp.fixup = SnippetInsn::Fixup::Rel8;
  jmp.fixup_at = 1;
  jmp.target = 2;
  SnippetInsn nop;
  nop.bytes = {0x90};
  s.insns = {jmp, nop, nop};
  std::vector<uint32_t> addr;
  EXPECT_EQ(s.assemble(SIZE_MAX, &addr), (std::vector<uint8_t>{0xeb, 0x01, 0x90, 0x90}));
  EXPECT_EQ(s.assemble(1), (std::vector<uint8_t>{0xeb, 0x00}));  // target beyond the cut: the end
  EXPECT_EQ(addr.back(), kCodeBase + 4);
}

TEST(DiffHarness, FlagTrackerRefinesCountDependentEffects) {
  Decoder dec;
  auto effect = [&](std::vector<uint8_t> bytes, uint32_t ecx) {
    DecodedInsn d;
    EXPECT_EQ(dec.decode(bytes.data(), bytes.size(), true, true, d), DecodeStatus::Ok);
    uint32_t regs[8] = {0, ecx, 0, 0, 0, 0, 0, 0};
    return flag_effect(d, regs);
  };
  FlagEffect none = effect({0xd3, 0xe0}, 0x20);  // shl eax, cl with CL=32: masked count 0
  EXPECT_EQ(none.defined | none.undefined, 0u);
  FlagEffect one = effect({0xd3, 0xe0}, 1);
  EXPECT_EQ(one.undefined, flag::AF);
  FlagEffect many = effect({0xd2, 0xe0}, 9);  // shl al, cl by 9: CF undefined too
  EXPECT_EQ(many.undefined, flag::AF | flag::OF | flag::CF);
  FlagEffect rol = effect({0xc1, 0xc0, 0x08}, 0);
  EXPECT_EQ(rol.defined, flag::CF);
  EXPECT_EQ(rol.undefined, flag::OF);
  FlagEffect rep0 = effect({0xf3, 0xa6}, 0);  // repe cmpsb with ECX=0 writes nothing
  EXPECT_EQ(rep0.defined | rep0.undefined, 0u);
  FlagEffect mul = effect({0xf7, 0xe1}, 0);
  EXPECT_EQ(mul.defined, flag::CF | flag::OF);
}

// Not a correctness check: prints what one case costs on each executor.
TEST(DiffHarness, ReportsPerExecutorCost) {
  using clock = std::chrono::steady_clock;
  const GuestState s = add_state();
  auto time = [&](auto&& fn) {
    auto t0 = clock::now();
    for (int i = 0; i < 500; ++i) fn();
    return std::chrono::duration<double, std::micro>(clock::now() - t0).count() / 500;
  };
  PopekExecutor p;
  UnicornExecutor u;
  NativeExecutor n;
  double tp = time([&] { p.run(kAddCode, s); });
  double tu = time([&] { u.run(kAddCode, s); });
  double tn = n.available() ? time([&] { n.run(kAddCode, s); }) : 0;
  std::printf("per case: popek %.1f us, unicorn %.1f us, native %.1f us\n", tp, tu, tn);
}

}  // namespace
}  // namespace popek::diff
