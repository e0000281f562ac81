// Random instruction streams: a fixed-seed campaign of at least 100,000
// generated instructions (10-instruction snippets), each snippet run on
// Popek, Unicorn and the real CPU and compared pairwise.
//
//   POPEK_DIFF_SEED=<n>    another seed (decimal or 0x...)
//   POPEK_DIFF_INSNS=<n>   how many instructions to generate
//   POPEK_DIFF_REPORTS=1   print every stored divergence report, not just the first
//
// A divergence prints the snippet (the first divergent instruction marked
// =>), the initial registers, how each run ended and each differing
// register, flag and byte; the summary lists divergences by the family and
// mnemonic of the instruction that introduced them.
#include <gtest/gtest.h>

#include <cstdlib>
#include <iostream>

#include "tests/diff/campaign.h"

namespace popek::diff {
namespace {

// Generated instructions for the default run. Forward branches skip some of
// them, so this is sized for at least 100,000 instructions actually executed.
constexpr uint64_t kDefaultInsns = 115000;

uint64_t env_u64(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  if (!v || !*v) return fallback;
  return std::strtoull(v, nullptr, 0);
}

const CampaignStats& campaign() {
  static const CampaignStats stats = [] {
    CampaignStats s = run_campaign(env_u64("POPEK_DIFF_SEED", 0x9e3779b1), env_u64("POPEK_DIFF_INSNS", kDefaultInsns),
                                   10, true);
    std::cout << s.summary();
    return s;
  }();
  return stats;
}

std::string reports(const CampaignStats::PairStats& ps) {
  std::string out;
  const bool all = env_u64("POPEK_DIFF_REPORTS", 0) != 0;
  for (size_t i = 0; i < ps.reports.size() && (all || i < 1); ++i) out += ps.reports[i];
  return out;
}

TEST(DiffRandom, GeneratesTheRequestedInstructions) {
  const CampaignStats& s = campaign();
  EXPECT_GE(s.insns_generated, env_u64("POPEK_DIFF_INSNS", kDefaultInsns));
  if (!std::getenv("POPEK_DIFF_INSNS")) {
    EXPECT_GE(s.popek_steps, 100000u);
  }
  // An instruction the generator builds but then rejects (Zydis refuses it,
  // or its memory operand fails the bounds re-check) is a generator bug.
  EXPECT_LT(s.generator_rejects, s.insns_generated / 1000);
}

TEST(DiffRandom, PopekMatchesUnicorn) {
  const CampaignStats& s = campaign();
  EXPECT_EQ(s.pu.divergent, 0u) << s.summary() << reports(s.pu);
}

TEST(DiffRandom, PopekMatchesNative) {
  const CampaignStats& s = campaign();
  if (!s.native) GTEST_SKIP() << "native runner unavailable: " << s.native_why;
  EXPECT_EQ(s.pn.divergent, 0u) << s.summary() << reports(s.pn);
}

// The oracle audit: every place Unicorn disagrees with the real CPU on
// defined state must be in the known-disagreement table.
TEST(DiffRandom, UnicornDisagreesWithNativeOnlyWhereKnown) {
  const CampaignStats& s = campaign();
  if (!s.native) GTEST_SKIP() << "native runner unavailable: " << s.native_why;
  EXPECT_EQ(s.un.divergent, 0u) << s.summary() << reports(s.un);
}

}  // namespace
}  // namespace popek::diff
