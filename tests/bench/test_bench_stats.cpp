// The arithmetic of `popek bench` (medians, spreads, ratios, rates) and its
// checks of a run's output and of a ROM's parameter block.
#include <gtest/gtest.h>

#include <cstring>

#include "frontend/bench.h"
#include "frontend/bench_stats.h"

namespace popek::bench {
namespace {

TEST(BenchStats, MedianOddEvenEmpty) {
  EXPECT_FALSE(median({}).has_value());
  EXPECT_DOUBLE_EQ(*median({3.0}), 3.0);
  EXPECT_DOUBLE_EQ(*median({5.0, 1.0, 3.0}), 3.0);      // unsorted input
  EXPECT_DOUBLE_EQ(*median({4.0, 1.0, 3.0, 2.0}), 2.5);  // mean of the middle two
  EXPECT_DOUBLE_EQ(*median({1.0, 1.0, 100.0}), 1.0);     // an outlier does not move it
}

TEST(BenchStats, Spread) {
  EXPECT_FALSE(spread({}).has_value());
  EXPECT_FALSE(spread({0.0}).has_value());  // no positive median: no relative spread
  std::optional<Spread> s = spread({2.0, 1.0, 3.0, 2.0});
  ASSERT_TRUE(s);
  EXPECT_DOUBLE_EQ(s->median, 2.0);
  EXPECT_DOUBLE_EQ(s->min, 1.0);
  EXPECT_DOUBLE_EQ(s->max, 3.0);
  EXPECT_DOUBLE_EQ(s->relative, 1.0);  // (3 - 1) / 2
  EXPECT_EQ(s->count, 4u);
  std::optional<Spread> one = spread({1.5});
  ASSERT_TRUE(one);
  EXPECT_DOUBLE_EQ(one->relative, 0.0);
}

TEST(BenchStats, Ratio) {
  EXPECT_DOUBLE_EQ(*ratio(3.0, 1.5), 2.0);
  EXPECT_DOUBLE_EQ(*ratio(1.0, 4.0), 0.25);
  EXPECT_FALSE(ratio(std::nullopt, 1.0).has_value());
  EXPECT_FALSE(ratio(1.0, std::nullopt).has_value());
  EXPECT_FALSE(ratio(1.0, 0.0).has_value());
}

TEST(BenchStats, Rates) {
  EXPECT_FALSE(rate(0, 0).has_value());
  EXPECT_DOUBLE_EQ(*rate(1, 4), 0.25);
  TranslatorCounts c;
  EXPECT_FALSE(tc_hit_rate(c).has_value());
  EXPECT_FALSE(indirect_hit_rate(c).has_value());
  c.lookups = 200;
  c.hits = 150;
  c.misses = 50;
  c.indirect_hits = 90;
  c.indirect_misses = 10;
  c.chained_exits = 300;
  c.unchained_exits = 100;
  c.host_bytes = 1000;
  c.guest_insns_translated = 40;
  EXPECT_DOUBLE_EQ(*tc_hit_rate(c), 0.75);
  EXPECT_DOUBLE_EQ(*indirect_hit_rate(c), 0.9);
  EXPECT_DOUBLE_EQ(*chaining_rate(c), 0.75);
  EXPECT_DOUBLE_EQ(*host_bytes_per_guest_insn(c), 25.0);
}

TEST(BenchStats, Mips) {
  EXPECT_DOUBLE_EQ(*mips(3'000'000, 1.5), 2.0);
  EXPECT_FALSE(mips(100, 0).has_value());
}

TEST(BenchOutput, AcceptsTheRightOutput) {
  std::string out = "int_mix iterations=0x00000078 checksum=0xACBB37F4\nPASS int_mix_quick\n";
  EXPECT_EQ(check_output(out, "int_mix", "PASS int_mix_quick", 0xACBB37F4u), "");
  EXPECT_EQ(check_output(out, "int_mix", "PASS int_mix_quick", std::nullopt), "");
  // The native build prints no PASS line.
  EXPECT_EQ(check_output("int_mix iterations=0x78 checksum=0xACBB37F4\nnative_seconds=0.1\n", "int_mix", "",
                         0xACBB37F4u),
            "");
  // irq_flags prints a count first; CRLF is tolerated.
  EXPECT_EQ(check_output("irq0 count=0x5\r\nirq_flags iterations=0x1 checksum=0x00000001\r\nPASS irq_flags\r\n",
                         "irq_flags", "PASS irq_flags", 1u),
            "");
}

TEST(BenchOutput, RejectsWrongOutput) {
  std::string good = "int_mix iterations=0x00000078 checksum=0xACBB37F4\nPASS int_mix_quick\n";
  EXPECT_NE(check_output(good, "int_mix", "PASS int_mix_quick", 0x12345678u).find("checksum 0xACBB37F4"),
            std::string::npos);
  EXPECT_NE(check_output(good, "int_mix", "PASS int_mix", 0xACBB37F4u), "");  // full vs quick
  EXPECT_NE(check_output("PASS int_mix_quick\n", "int_mix", "PASS int_mix_quick", std::nullopt), "");
  EXPECT_NE(check_output("int_mix iterations=0x78 checksum=0xACBB37F4\nFAIL int_mix_quick\n", "int_mix",
                         "PASS int_mix_quick", std::nullopt),
            "");
  EXPECT_NE(check_output("", "smc", "PASS smc", std::nullopt), "");
  // A PASS line for another workload does not count.
  EXPECT_NE(check_output("smc iterations=0x1 checksum=0x1\nPASS smc_quick_x\n", "smc", "PASS smc_quick", 1u), "");
}

TEST(BenchParamBlock, ReadsTheBlock) {
  std::vector<uint8_t> rom(0x10000, 0);
  uint8_t* p = rom.data() + 0xFFC0;
  std::memcpy(p, "PBNC", 4);
  uint32_t vals[3] = {120, 0xACBB37F4u, 1};
  for (int i = 0; i < 3; ++i)
    for (int b = 0; b < 4; ++b) p[4 + 4 * i + b] = uint8_t(vals[i] >> (8 * b));
  std::string error;
  std::optional<ParamBlock> pb = read_param_block(rom, error);
  ASSERT_TRUE(pb) << error;
  EXPECT_EQ(pb->iterations, 120u);
  EXPECT_EQ(pb->expected_checksum, 0xACBB37F4u);
  EXPECT_TRUE(pb->checksum_valid);
  p[12] = 0;
  EXPECT_FALSE(read_param_block(rom, error)->checksum_valid);
  p[0] = 'X';
  EXPECT_FALSE(read_param_block(rom, error).has_value());
  EXPECT_NE(error.find("PBNC"), std::string::npos);
  EXPECT_FALSE(read_param_block(std::vector<uint8_t>(16), error).has_value());
}

}  // namespace
}  // namespace popek::bench
