// --stats-interval: the machine samples the counters every N retired
// instructions and --stats writes them as a "series".
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/machine.h"
#include "frontend/engines.h"
#include "frontend/options.h"
#include "frontend/stats.h"
#include "tests/test_temp_dir.h"

namespace popek {
namespace {

struct SeriesRun {
  RunOutcome outcome;
  nlohmann::json stats;
};

SeriesRun run_with_series(const std::string& rom_name, EngineKind kind, uint64_t interval) {
  MachineConfig cfg;
  std::string error;
  EXPECT_TRUE(read_file(std::string(POPEK_TEST_BENCH_ROMS) + "/" + rom_name, cfg.bios, error)) << error;
  Machine machine(cfg);
  install_engine(machine, kind);
  RunLimits limits;
  limits.max_instructions = 50'000'000;
  StatsSeries series(machine);
  attach_series(limits, series, interval);
  series.start();
  SeriesRun r;
  r.outcome = machine.run(limits);
  std::string path = popek::test::process_temp_dir() + "series_" + rom_name + ".json";
  EXPECT_TRUE(write_stats_json(path, machine, r.outcome, engine_name(kind), error, &series, interval)) << error;
  std::ifstream f(path);
  r.stats = nlohmann::json::parse(f);
  std::remove(path.c_str());
  return r;
}

// Checks the series' shape: one point per interval (within one slice),
// cumulative counters that never fall, and a closing point at the end.
void check_series(const SeriesRun& r, uint64_t interval, bool translator) {
  ASSERT_EQ(r.outcome.reason, StopReason::Exit);
  ASSERT_TRUE(r.stats.contains("series"));
  EXPECT_EQ(r.stats["stats_interval"].get<uint64_t>(), interval);
  const nlohmann::json& s = r.stats["series"];
  uint64_t total = r.outcome.instructions;
  ASSERT_GE(s.size(), total / interval);
  ASSERT_LE(s.size(), total / interval + 1);
  for (size_t i = 0; i + 1 < s.size(); ++i) {
    uint64_t at = s[i]["retired"].get<uint64_t>();
    EXPECT_GE(at, (i + 1) * interval);
    EXPECT_LT(at, (i + 1) * interval + 20000) << "a sample lags its interval by more than a slice";
  }
  EXPECT_EQ(s.back()["retired"].get<uint64_t>(), total);
  std::vector<std::string> keys = {"retired", "seconds", "tlb_hits", "tlb_misses"};
  if (translator)
    keys.insert(keys.end(), {"blocks_translated", "lookups", "hits", "misses", "indirect_hits", "indirect_misses",
                             "smc_invalidations", "flushes", "fallbacks"});
  for (size_t i = 0; i < s.size(); ++i)
    for (const std::string& k : keys) {
      ASSERT_TRUE(s[i].contains(k)) << "point " << i << " lacks " << k;
      if (i) {
        EXPECT_GE(s[i][k].get<double>(), s[i - 1][k].get<double>()) << k << " fell at point " << i;
      }
    }
  if (translator) {
    EXPECT_GT(s.back()["blocks_translated"].get<uint64_t>(), 0u);
    EXPECT_EQ(s.back()["blocks_translated"], r.stats["translator"]["blocks_translated"]);
  }
}

TEST(StatsSeries, TranslatorCountersEveryInterval) {
  SeriesRun r = run_with_series("int_mix_quick.bin", EngineKind::Dbt, 400'000);
  check_series(r, 400'000, true);
  // Warm-up: most blocks are translated in the first interval.
  const nlohmann::json& s = r.stats["series"];
  EXPECT_GT(s[0]["blocks_translated"].get<uint64_t>() * 2, s.back()["blocks_translated"].get<uint64_t>());
}

TEST(StatsSeries, SmcInvalidationsGrowThroughTheRun) {
  SeriesRun r = run_with_series("smc_quick.bin", EngineKind::Dbt, 500'000);
  check_series(r, 500'000, true);
  const nlohmann::json& s = r.stats["series"];
  // The smc kernel writes into its code all the time, not just at start.
  ASSERT_GE(s.size(), 3u);
  EXPECT_GT(s[s.size() - 2]["smc_invalidations"].get<uint64_t>(), s[0]["smc_invalidations"].get<uint64_t>());
}

TEST(StatsSeries, InterpreterHasRetiredAndTime) {
  SeriesRun r = run_with_series("calls_indirect_quick.bin", EngineKind::Interp, 1'000'000);
  check_series(r, 1'000'000, false);
  EXPECT_FALSE(r.stats["series"][0].contains("blocks_translated"));
}

TEST(StatsSeries, NoSeriesWithoutInterval) {
  MachineConfig cfg;
  std::string error;
  ASSERT_TRUE(read_file(std::string(POPEK_TEST_BENCH_ROMS) + "/smc_quick.bin", cfg.bios, error)) << error;
  Machine machine(cfg);
  RunLimits limits;
  limits.max_instructions = 1000;
  RunOutcome out = machine.run(limits);
  std::string path = popek::test::process_temp_dir() + "no_series.json";
  ASSERT_TRUE(write_stats_json(path, machine, out, "interp", error)) << error;
  std::ifstream f(path);
  nlohmann::json j = nlohmann::json::parse(f);
  EXPECT_FALSE(j.contains("series"));
  std::remove(path.c_str());
}

}  // namespace
}  // namespace popek
