// `popek bench` end to end on the quick ROMs (dbt and interp, one run each),
// its JSON report, its errors on bad input, and `popek --stats-interval`.
// Nothing here asserts a time: only that the numbers exist and are sane.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sys/wait.h>

#include "tests/test_temp_dir.h"

namespace {

struct Result {
  int status = -1;
  std::string out, err;
};

std::string slurp(const std::string& path) {
  std::ifstream f(path);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

// Runs `popek ARGS` through the shell, capturing stdout, stderr and status.
Result popek(const std::string& args, const std::string& tag) {
  std::string base = popek::test::process_temp_dir() + "bench_cli_" + tag;
  std::string cmd = std::string("'") + POPEK_EXE + "' " + args + " >" + base + ".out 2>" + base + ".err";
  int raw = std::system(cmd.c_str());
  Result r;
  r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  r.out = slurp(base + ".out");
  r.err = slurp(base + ".err");
  return r;
}

const std::string kRoms = std::string("--rom-dir '") + POPEK_TEST_BENCH_ROMS + "'";

TEST(BenchCli, QuickRunWritesTheReport) {
  std::string json_path = popek::test::process_temp_dir() + "bench_cli_report.json";
  Result r = popek("bench --quick --runs 1 --workloads int_mix,calls_indirect --engines dbt,interp --json " +
                       json_path + " " + kRoms,
                   "quick");
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  // The table names both workloads.
  EXPECT_NE(r.out.find("int_mix"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("calls_indirect"), std::string::npos) << r.out;
  std::ifstream f(json_path);
  nlohmann::json j = nlohmann::json::parse(f);
  EXPECT_EQ(j["schema"], "popek-bench/1");
  for (const char* k : {"popek_commit", "host_cpu", "date_utc"}) {
    ASSERT_TRUE(j[k].is_string()) << k;
    EXPECT_FALSE(j[k].get<std::string>().empty()) << k;
  }
  EXPECT_TRUE(j.contains("qemu_version"));
  EXPECT_EQ(j["load_average_start"].size(), 3u);
  EXPECT_EQ(j["options"]["runs"], 1);
  EXPECT_EQ(j["options"]["quick"], true);
  EXPECT_EQ(j["options"]["engines"], nlohmann::json({"dbt", "interp"}));
  EXPECT_TRUE(j["all_ok"].get<bool>());
  ASSERT_EQ(j["workloads"].size(), 2u);
  EXPECT_EQ(j["workloads"][0]["name"], "int_mix");
  EXPECT_EQ(j["workloads"][1]["name"], "calls_indirect");
  for (const auto& w : j["workloads"]) {
    SCOPED_TRACE(w["name"].get<std::string>());
    EXPECT_TRUE(w["expected_checksum"].is_string());
    for (const char* e : {"dbt", "interp"}) {
      SCOPED_TRACE(e);
      const auto& s = w["engines"][e];
      EXPECT_EQ(s["ok_runs"], 1);
      EXPECT_EQ(s["failed_runs"], 0);
      ASSERT_EQ(s["runs"].size(), 1u);
      const auto& run = s["runs"][0];
      EXPECT_TRUE(run["ok"].get<bool>());
      EXPECT_GT(run["wall_seconds"].get<double>(), 0);
      EXPECT_GT(run["retired_instructions"].get<uint64_t>(), 1'000'000u);
      EXPECT_GT(run["guest_mips"].get<double>(), 0);
      EXPECT_DOUBLE_EQ(s["wall_seconds"]["median"].get<double>(), run["wall_seconds"].get<double>());
      EXPECT_DOUBLE_EQ(s["wall_seconds"]["spread"].get<double>(), 0.0);
    }
    // Both engines retire the same guest program (no interrupts in these two).
    EXPECT_EQ(w["engines"]["dbt"]["runs"][0]["retired_instructions"],
              w["engines"]["interp"]["runs"][0]["retired_instructions"]);
    const auto& dbt = w["engines"]["dbt"]["runs"][0];
    for (const char* k : {"tc_hit_rate", "indirect_hit_rate"}) {
      ASSERT_TRUE(dbt[k].is_number()) << k;
      EXPECT_GT(dbt[k].get<double>(), 0) << k;
      EXPECT_LE(dbt[k].get<double>(), 1) << k;
    }
    EXPECT_GT(dbt["blocks_translated"].get<uint64_t>(), 0u);
    // The translator times its translations: a share of the run, above 0.
    ASSERT_TRUE(dbt["translation_share"].is_number());
    EXPECT_GT(dbt["translation_share"].get<double>(), 0);
    EXPECT_LT(dbt["translation_share"].get<double>(), 1);
    EXPECT_FALSE(w["engines"]["interp"]["runs"][0].contains("tc_hit_rate"));
    // interp/dbt is the ratio of the two medians; no QEMU or native here.
    double want = w["engines"]["interp"]["wall_seconds"]["median"].get<double>() /
                  w["engines"]["dbt"]["wall_seconds"]["median"].get<double>();
    EXPECT_DOUBLE_EQ(w["ratios"]["interp_over_dbt"].get<double>(), want);
    EXPECT_TRUE(w["ratios"]["dbt_over_qemu"].is_null());
    EXPECT_TRUE(w["ratios"]["dbt_over_native"].is_null());
  }
}

TEST(BenchCli, BadInputIsOneLineAndStatus2) {
  struct Case {
    std::string args, fragment;
  };
  std::vector<Case> cases = {
      {"bench --engines dbt,bochs " + kRoms, "unknown engine 'bochs'"},
      {"bench --workloads nosuch --engines dbt " + kRoms, "nosuch.bin"},
      {"bench --workloads int_mix,int_mix " + kRoms, "given twice"},
      {"bench --rom-dir /nonexistent/dir", "/nonexistent/dir"},
      {"bench --runs 0 " + kRoms, "--runs"},
      {"bench --timeout -1 " + kRoms, "--timeout"},
      {"bench --no-such-option", "no-such-option"},
      {"bench --workloads \"$(printf 'a\\nb')\" " + kRoms, "a\\x0Ab"},  // a newline stays on the line
      {"bench --timeout nan " + kRoms, "--timeout"},
  };
  int i = 0;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.args);
    Result r = popek(c.args, "bad" + std::to_string(i++));
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.err.find(c.fragment), std::string::npos) << r.err;
    EXPECT_EQ(r.err.rfind("popek bench: ", 0), 0u) << r.err;
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "one line: " << r.err;
  }
}

TEST(BenchCli, FailedRunIsReportedWithoutATime) {
  // A ROM that does not pass: a copy of int_mix_quick whose expected
  // checksum (parameter block) is wrong, so the ROM prints FAIL.
  std::string dir = popek::test::process_temp_dir() + "bench_cli_badrom";
  std::system(("rm -rf '" + dir + "' && mkdir -p '" + dir + "'").c_str());
  std::string src = slurp(std::string(POPEK_TEST_BENCH_ROMS) + "/int_mix_quick.bin");
  ASSERT_EQ(src.size(), 0x10000u);
  src[0xFFC8] ^= 0x55;
  std::ofstream(dir + "/int_mix_quick.bin", std::ios::binary) << src;
  std::string json_path = dir + "/r.json";
  Result r = popek("bench --quick --workloads int_mix --engines dbt --json " + json_path + " --rom-dir " + dir, "fail");
  EXPECT_EQ(r.status, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("FAILED: int_mix dbt run 1"), std::string::npos) << r.out;
  std::ifstream f(json_path);
  nlohmann::json j = nlohmann::json::parse(f);
  EXPECT_FALSE(j["all_ok"].get<bool>());
  const auto& s = j["workloads"][0]["engines"]["dbt"];
  EXPECT_EQ(s["failed_runs"], 1);
  EXPECT_TRUE(s["wall_seconds"].is_null());
  EXPECT_FALSE(s["runs"][0]["ok"].get<bool>());
  EXPECT_FALSE(s["runs"][0].contains("wall_seconds"));
  EXPECT_FALSE(s["runs"][0]["error"].get<std::string>().empty());
}

TEST(StatsIntervalCli, WritesASeries) {
  std::string stats = popek::test::process_temp_dir() + "bench_cli_series.json";
  Result r = popek(std::string("--bios '") + POPEK_TEST_BENCH_ROMS +
                       "/smc_quick.bin' --engine dbt --headless --stats " + stats + " --stats-interval 1000000",
                   "series");
  ASSERT_EQ(r.status, 1) << r.err;  // the ROM's PASS
  std::ifstream f(stats);
  nlohmann::json j = nlohmann::json::parse(f);
  EXPECT_EQ(j["stats_interval"], 1000000);
  ASSERT_GE(j["series"].size(), 3u);
  EXPECT_EQ(j["series"].back()["retired"], j["retired_instructions"]);
  EXPECT_TRUE(j["series"][0].contains("smc_invalidations"));
  Result bad = popek("--bios x.bin --stats-interval 100", "series_bad");
  EXPECT_EQ(bad.status, 2);
  EXPECT_NE(bad.err.find("--stats-interval needs --stats"), std::string::npos) << bad.err;
}

}  // namespace

namespace {

TEST(BenchCli, ProgressLineAndTimeoutKill) {
  // The full int_mix ROM under the interpreter runs for minutes, so
  // --timeout kills it however fast or loaded the host is; the run fails
  // (and gets no time) after the progress line has been drawn every quarter
  // second, the first within a second, with the child's MIPS. Two seconds
  // leave the child time to start and write its progress file on a loaded
  // host (or under the sanitizers), which one second did not always.
  Result r = popek("bench --workloads int_mix --engines interp --timeout 2 --progress " + kRoms, "progress");
  EXPECT_EQ(r.status, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("\r\033[K[1/1] int_mix interp run 1  0."), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(" MIPS"), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("FAILED: int_mix interp run 1: timed out (killed)"), std::string::npos) << r.out;
  // --no-progress: no control sequences at all.
  Result q = popek("bench --workloads int_mix --engines interp --timeout 0.3 --no-progress " + kRoms, "noprogress");
  EXPECT_EQ(q.status, 1);
  EXPECT_EQ(q.err.find('\r'), std::string::npos) << q.err;
}

}  // namespace
