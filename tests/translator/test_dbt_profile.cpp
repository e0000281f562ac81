// --profile in the translator: exact execution counts per block, every exit
// classified (the kinds of a block's exits add up to its executions),
// records that survive flushes and SMC invalidation, and samples resolved to
// the block whose code holds the sampled address.
#include <chrono>

#include "tests/translator/dbt_fixture.h"
#include "translator/block_profiler.h"

namespace popek::test {
namespace {

struct Profile : DualFixture {
  void SetUp() override { dbt->enable_profiling({.sample = false}); }
  const dbt::BlockProfile* at(uint32_t eip) {
    const dbt::BlockProfile* found = nullptr;
    for (const auto& p : dbt->profiler()->records())
      if (p->eip == eip) {
        EXPECT_EQ(found, nullptr) << "two records at " << std::hex << eip;
        found = p.get();
      }
    return found;
  }
  static uint64_t exit_sum(const dbt::BlockProfile& p) {
    return p.chained() + p.indirect_hits() + p.exits[size_t(dbt::ExitKind::IndirectMiss)] +
           p.exits[size_t(dbt::ExitKind::DirectUnchained)] + p.exits[size_t(dbt::ExitKind::Unchained)] +
           p.exits[size_t(dbt::ExitKind::Helper)] + p.exits[size_t(dbt::ExitKind::Fault)] +
           p.exits[size_t(dbt::ExitKind::Budget)];
  }
  // Every execution ends in exactly one exit.
  void expect_exits_add_up() {
    for (const auto& p : dbt->profiler()->records())
      EXPECT_EQ(exit_sum(*p), p->counters.executions) << "block " << std::hex << p->eip;
  }
};

// mov ecx, 100 / l: add eax, ecx / dec ecx / jnz l / hlt
const std::vector<uint8_t> kLoop = {0xb9, 100, 0, 0, 0, 0x01, 0xc8, 0x49, 0x75, 0xfb, 0xf4};

TEST_F(Profile, LoopCountsAndExits) {
  flat32();
  load(0x1000, kLoop);
  run();
  expect_same();
  const dbt::BlockProfile* head = at(0x1000);
  const dbt::BlockProfile* loop = at(0x1005);
  const dbt::BlockProfile* hlt = at(0x100a);
  ASSERT_TRUE(head && loop && hlt);
  EXPECT_EQ(head->counters.executions, 1u);  // its first iteration of the loop body
  EXPECT_EQ(loop->counters.executions, 99u);
  EXPECT_EQ(loop->insn_count, 3u);
  // The back edge leaves unchained once (then the dispatcher chains it), the
  // fall-through to the HLT block once (never taken again).
  EXPECT_EQ(loop->exits[size_t(dbt::ExitKind::DirectUnchained)], 2u);
  EXPECT_EQ(loop->chained(), 97u);
  EXPECT_EQ(hlt->counters.executions, 1u);
  EXPECT_EQ(hlt->fallbacks, 1u);  // HLT runs in the interpreter and leaves
  EXPECT_EQ(hlt->exits[size_t(dbt::ExitKind::Helper)], 1u);
  EXPECT_EQ(loop->translations, 1u);
  expect_exits_add_up();
}

TEST_F(Profile, RecordsSurviveAFlush) {
  flat32();
  load(0x1000, kLoop);
  // 4 + 3 * 15 steps end at the loop head: flush there and go on.
  dbt::DbtRunResult r = dbt->run(49);
  EXPECT_EQ(r.steps, 49u);
  EXPECT_EQ(dut.cpu.eip, 0x1005u);
  dbt->flush();
  dbt->run(1000000);
  EXPECT_TRUE(dut.cpu.halted);
  const dbt::BlockProfile* loop = at(0x1005);
  ASSERT_TRUE(loop);
  EXPECT_EQ(loop->counters.executions, 99u);
  EXPECT_EQ(loop->translations, 2u);
  EXPECT_EQ(loop->versions, 1u);
  EXPECT_EQ(dbt->stats().flushes, 1u);  // ours (enable_profiling had nothing to flush)
  dbt::ProfileReport rep = dbt->profile_report(2, dbt::ProfileSort::Count);
  ASSERT_EQ(rep.top.size(), 2u);
  EXPECT_EQ(rep.top[0].profile, loop);
  EXPECT_EQ(rep.blocks, 3u);
  EXPECT_EQ(rep.translations, 4u);
  EXPECT_EQ(rep.executions, 101u);
  EXPECT_DOUBLE_EQ(rep.top[0].execution_share, 99.0 / 101.0);
  // The disassembly comes from the kept copy of the latest translation.
  ASSERT_EQ(rep.top[0].rows.size(), 3u);
  EXPECT_EQ(rep.top[0].rows[0].eip, 0x1005u);
  EXPECT_NE(rep.top[0].rows[0].guest.find("add"), std::string::npos);
  EXPECT_FALSE(rep.top[0].rows[0].host.empty());
  EXPECT_FALSE(rep.top[0].entry.empty());
  expect_exits_add_up();
}

TEST_F(Profile, IndirectHitsAndMisses) {
  flat32();
  load(0x1000, {
                   0xb9, 50, 0, 0, 0,        // mov ecx, 50
                   0xe8, 0x06, 0, 0, 0,      // l: call f (0x1010)
                   0x49,                     // dec ecx
                   0x75, 0xf8,               // jnz l
                   0xf4,                     // hlt
                   0x90, 0x90,               // (0x100e) padding
                   0x40,                     // f (0x1010): inc eax
                   0xc3,                     // ret
               });
  set_reg(ESP, 0x8000);
  run();
  expect_same();
  const dbt::BlockProfile* f = at(0x1010);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->counters.executions, 50u);
  EXPECT_EQ(f->counters.indirect_lookups, 50u);
  EXPECT_EQ(f->exits[size_t(dbt::ExitKind::IndirectMiss)], 1u);  // then the dispatcher fills the cache
  EXPECT_EQ(f->indirect_hits(), 49u);
  expect_exits_add_up();
}

TEST_F(Profile, RewrittenCodeIsRetranslatedIntoTheSameRecord) {
  flat32();
  load(0x1000, {
                   0xb9, 3, 0, 0, 0,                     // mov ecx, 3
                   0xb8, 1, 0, 0, 0,                     // l (0x1005): mov eax, imm32
                   0x01, 0xc3,                           // add ebx, eax
                   0xfe, 0x05, 0x06, 0x10, 0, 0,         // inc byte [0x1006] (the imm32 above)
                   0x49,                                 // dec ecx
                   0x75, 0xf0,                           // jnz l
                   0xf4,
               });
  run();
  expect_same();
  EXPECT_EQ(dut.cpu.regs[EBX], 1u + 2u + 3u);
  // The first pass runs inside the block at 0x1000; the block at l is
  // translated for the second pass (imm32 2) and again for the third (3).
  const dbt::BlockProfile* l = at(0x1005);
  ASSERT_TRUE(l);
  EXPECT_EQ(l->translations, 2u);
  EXPECT_EQ(l->versions, 2u);
  EXPECT_EQ(l->counters.executions, 2u);
  EXPECT_GT(dbt->stats().smc_invalidations, 0u);
  expect_exits_add_up();
}

TEST(ProfileSamples, ResolvedByCodeAddress) {
  dbt::BlockProfiler prof({.sample = false});
  prof.set_runtime_area(0x10000, 0x14000);
  dbt::BlockKey k1{0x1000, 0x1000, 0, 0xffffffffu, 0x27}, k2{0x2000, 0x2000, 0, 0xffffffffu, 0x27};
  dbt::BlockProfile& a = prof.record_for(k1, 0x1000);
  dbt::BlockProfile& b = prof.record_for(k2, 0x2000);
  EXPECT_EQ(&prof.record_for(k1, 0x1000), &a);  // the same key, the same record
  // Two "translations" whose host code is in these buffers.
  std::vector<uint8_t> host_a(64, 0x90), host_b(32, 0x90);
  dbt::Block ba, bb;
  ba.key = k1;
  ba.eip = 0x1000;
  ba.code = host_a.data();
  ba.code_size = 64;
  bb.key = k2;
  bb.eip = 0x2000;
  bb.code = host_b.data();
  bb.code_size = 32;
  prof.on_translated(a, ba);
  prof.on_translated(b, bb);
  const uint64_t base_a = reinterpret_cast<uint64_t>(host_a.data()), base_b = reinterpret_cast<uint64_t>(host_b.data());
  prof.add_sample_for_test(base_a, nullptr, 0);
  prof.add_sample_for_test(base_a + 63, &b.counters, 0);  // in a's code, whatever ran before
  prof.add_sample_for_test(base_b + 5, &b.counters, 0);
  prof.add_sample_for_test(0x500000000ull, &b.counters, 0);  // a helper b called
  prof.add_sample_for_test(0x10010, nullptr, 0);              // run-time routine, no block
  prof.add_sample_for_test(0x600000000ull, nullptr, dbt::SampleRing::kPhaseTranslating);
  prof.add_sample_for_test(0x600000000ull, nullptr, dbt::SampleRing::kPhaseRunning);
  // A flush forgets the code ranges: the same address is no block's now.
  prof.before_flush();
  prof.add_sample_for_test(base_a + 1, nullptr, 0);
  EXPECT_EQ(a.samples_code, 2u);
  EXPECT_EQ(b.samples_code, 1u);
  EXPECT_EQ(b.samples_helpers, 1u);
  a.counters.executions = 10;
  b.counters.executions = 1000;
  dbt::ProfileReport by_time = prof.report(10, dbt::ProfileSort::Time, {});
  EXPECT_EQ(by_time.samples_total, 8u);
  EXPECT_EQ(by_time.samples_code, 3u);
  EXPECT_EQ(by_time.samples_block_helpers, 1u);
  EXPECT_EQ(by_time.samples_runtime, 1u);
  EXPECT_EQ(by_time.samples_translator, 1u);
  EXPECT_EQ(by_time.samples_other, 2u);
  ASSERT_EQ(by_time.top.size(), 2u);
  // a and b both have two samples: the tie goes to the most executions.
  EXPECT_EQ(by_time.top[0].profile, &b);
  EXPECT_DOUBLE_EQ(by_time.top[0].time_share, 2.0 / 8.0);
  a.samples_code = 5;
  dbt::ProfileReport again = prof.report(1, dbt::ProfileSort::Time, {});
  ASSERT_EQ(again.top.size(), 1u);
  EXPECT_EQ(again.top[0].profile, &a);
  dbt::ProfileReport by_count = prof.report(1, dbt::ProfileSort::Count, {});
  EXPECT_EQ(by_count.top[0].profile, &b);
}

TEST(ProfileSamples, TimerDeliversSamplesOnThisThread) {
  dbt::BlockProfiler prof({.sample = true, .sample_period_us = 1000});
  void* current = nullptr;
  std::string error;
  ASSERT_TRUE(prof.start_sampling(&current, error)) << error;
  // Burn about 60 ms of CPU time.
  volatile uint64_t x = 0;
  const auto t0 = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(60))
    for (int i = 0; i < 10000; ++i) x = x + i;
  dbt::ProfileReport r = prof.report(5, dbt::ProfileSort::Time, {});
  EXPECT_FALSE(prof.sampling());
  EXPECT_TRUE(r.sampling);
  EXPECT_GT(r.samples_total, 0u);
  EXPECT_EQ(r.samples_total, r.samples_other);  // no block, not translating
}

}  // namespace
}  // namespace popek::test
