// The SVG chart writer's arithmetic and escaping, the report's interval and
// event derivation, and --progress-file.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sys/wait.h>

#include "frontend/report.h"
#include "frontend/svg.h"
#include "tests/test_temp_dir.h"

namespace {

using popek::report::find_events;
using popek::report::intervals;

TEST(Svg, Escape) {
  EXPECT_EQ(popek::svg::escape("a<b & \"c\" 'd'>"), "a&lt;b &amp; &quot;c&quot; &#39;d&#39;&gt;");
}

TEST(Svg, NiceTicksCoverTheRangeInRoundSteps) {
  std::vector<double> t = popek::svg::nice_ticks(0, 9.3, 5);
  ASSERT_GE(t.size(), 2u);
  EXPECT_DOUBLE_EQ(t.front(), 0);
  EXPECT_GE(t.back(), 9.3);
  double step = t[1] - t[0];
  EXPECT_DOUBLE_EQ(step, 2.0);
  for (size_t i = 1; i < t.size(); ++i) EXPECT_NEAR(t[i] - t[i - 1], step, 1e-12);
  t = popek::svg::nice_ticks(0.001, 0.0042, 4);
  EXPECT_LE(t.front(), 0.001);
  EXPECT_GE(t.back(), 0.0042);
  EXPECT_EQ(popek::svg::nice_ticks(3, 3, 4).size(), 1u);  // empty range: one tick, no loop
}

TEST(Svg, TickLabels) {
  EXPECT_EQ(popek::svg::tick_label(0.25), "0.25");
  EXPECT_EQ(popek::svg::tick_label(20000), "20k");
  EXPECT_EQ(popek::svg::tick_label(5000000), "5M");
  EXPECT_EQ(popek::svg::tick_label(6000), "6000");
}

TEST(Svg, ChartsAreStandaloneSvg) {
  popek::svg::BarChart b;
  b.id = "x";
  b.title = "A & B";
  b.series = {"s"};
  b.colors = {"#123456"};
  b.groups = {{"g1", {2.0}}, {"g2", {std::nullopt}}};
  std::string s = popek::svg::render(b);
  EXPECT_EQ(s.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0), 0u);
  EXPECT_NE(s.find("A &amp; B"), std::string::npos);
  EXPECT_NE(s.find("class=\"bar\""), std::string::npos);
  EXPECT_NE(s.find("n/a"), std::string::npos);  // the missing value
  EXPECT_NE(s.find("</svg>"), std::string::npos);
}

nlohmann::ordered_json point(uint64_t retired, double s, uint64_t blocks, uint64_t lookups, uint64_t hits,
                             uint64_t smc = 0, uint64_t flushes = 0) {
  return {{"retired", retired}, {"seconds", s},       {"blocks_translated", blocks}, {"lookups", lookups},
          {"hits", hits},       {"indirect_hits", 0}, {"indirect_misses", 0},        {"smc_invalidations", smc},
          {"flushes", flushes}};
}

TEST(Report, IntervalsAreDifferencesOfCumulativePoints) {
  nlohmann::ordered_json s = nlohmann::ordered_json::array();
  s.push_back(point(1'000'000, 0.5, 100, 200, 100));
  s.push_back(point(2'000'000, 1.0, 102, 300, 198));
  auto iv = intervals(s);
  ASSERT_EQ(iv.size(), 2u);
  EXPECT_DOUBLE_EQ(iv[0].mips, 2.0);  // 1M instructions in 0.5 s
  EXPECT_DOUBLE_EQ(iv[0].tc_hit, 0.5);
  EXPECT_EQ(iv[0].translations, 100u);
  EXPECT_DOUBLE_EQ(iv[1].tc_hit, 0.98);
  EXPECT_EQ(iv[1].translations, 2u);
  EXPECT_DOUBLE_EQ(iv[1].translations_per_s, 4.0);
  EXPECT_LT(iv[1].ib_hit, 0);  // no indirect lookups: undefined
}

TEST(Report, EventsWarmupSmcFlushes) {
  nlohmann::ordered_json s = nlohmann::ordered_json::array();
  s.push_back(point(1, 1.0, 1000, 10, 0));
  s.push_back(point(2, 2.0, 1500, 20, 5));
  s.push_back(point(3, 3.0, 1510, 30, 14, 4));  // quiet from here: warm-up ends at 2.0
  s.push_back(point(4, 4.0, 1515, 40, 24, 8, 1));
  s.push_back(point(5, 5.0, 1516, 50, 34, 8, 1));
  s.push_back(point(6, 6.0, 1517, 60, 44, 9, 1));
  auto e = find_events(intervals(s));
  EXPECT_DOUBLE_EQ(e.warmup_end, 2.0);
  ASSERT_EQ(e.smc_spans.size(), 2u);  // (2,4] merged, then (5,6]
  EXPECT_DOUBLE_EQ(e.smc_spans[0].first, 2.0);
  EXPECT_DOUBLE_EQ(e.smc_spans[0].second, 4.0);
  EXPECT_DOUBLE_EQ(e.smc_spans[1].first, 5.0);
  ASSERT_EQ(e.flushes.size(), 1u);
  EXPECT_DOUBLE_EQ(e.flushes[0], 4.0);
}

TEST(ProgressFile, HoldsTheRetiredCountAndTime) {
  std::string path = popek::test::process_temp_dir() + "progress.txt";
  std::string cmd = std::string("'") + POPEK_EXE + "' --bios '" + POPEK_TEST_BENCH_ROMS +
                    "/int_mix_quick.bin' --engine dbt --headless --progress-file " + path + " >/dev/null 2>&1";
  int raw = std::system(cmd.c_str());
  ASSERT_TRUE(WIFEXITED(raw));
  EXPECT_EQ(WEXITSTATUS(raw), 1);  // the ROM's PASS
  std::ifstream f(path);
  unsigned long long retired = 0;
  double seconds = -1;
  ASSERT_TRUE(f >> retired >> seconds);
  // int_mix_quick retires 3,030,009: the last update is in the slice that
  // crosses 3 million.
  EXPECT_EQ(retired / 1'000'000, 3u);
  EXPECT_LE(retired, 3'030'009u);
  EXPECT_GE(seconds, 0);
  std::string rest;
  EXPECT_FALSE(f >> rest) << "one line only";
}

}  // namespace
