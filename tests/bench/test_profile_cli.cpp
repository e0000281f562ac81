// popek --profile on a known ROM (roms/profile_hot.asm): the hot loop's
// block comes first with its exact execution count, the same in two runs
// under --icount; the text names it with guest and host disassembly; the
// options refuse bad values with one line. Also the profile JSON and text
// made from a synthetic profiler (frontend/profile_report.cpp).
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sys/wait.h>

#include "frontend/profile_report.h"
#include "tests/test_temp_dir.h"

namespace {

using json = nlohmann::json;

std::string slurp(const std::string& path) {
  std::ifstream f(path);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

int shell(const std::string& cmd) {
  int raw = std::system(cmd.c_str());
  return WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
}

const std::string kHotRom = std::string(POPEK_TEST_BENCH_ROMS) + "/../profile_hot.bin";
constexpr uint64_t kHotCount = 20000000;  // HOT_COUNT in roms/profile_hot.asm

struct HotRun {
  json profile;
  std::string text, debug;
};

HotRun run_hot(const std::string& extra, const std::string& tag) {
  const std::string base = popek::test::process_temp_dir() + "profile_cli_" + tag;
  const std::string cmd = std::string("'") + POPEK_EXE + "' --bios '" + kHotRom +
                          "' --headless --icount 0 --debugcon file:" + base + ".dbg --stats " + base +
                          ".json --profile --profile-file " + base + ".txt " + extra + " >" + base + ".log 2>&1";
  HotRun r;
  EXPECT_EQ(shell(cmd), 1) << slurp(base + ".log");  // the ROM passed (0 on port 0xF4)
  r.debug = slurp(base + ".dbg");
  r.text = slurp(base + ".txt");
  json stats = json::parse(slurp(base + ".json"), nullptr, false);
  EXPECT_TRUE(stats.is_object() && stats.contains("profile")) << base << ".json";
  if (stats.is_object() && stats.contains("profile")) r.profile = stats["profile"];
  return r;
}

uint32_t hot_address(const std::string& debug) {
  std::smatch m;
  EXPECT_TRUE(std::regex_search(debug, m, std::regex("hot loop at 0x([0-9A-Fa-f]{8})"))) << debug;
  return m.empty() ? 0 : uint32_t(std::stoul(m[1].str(), nullptr, 16));
}

TEST(ProfileCli, HotLoopFirstWithItsExactCount) {
  HotRun a = run_hot("--profile-sort count --profile-top 5", "count_a");
  ASSERT_TRUE(a.profile.is_object());
  const uint32_t hot = hot_address(a.debug);
  EXPECT_EQ(a.profile["schema"], "popek-profile/1");
  EXPECT_EQ(a.profile["sort"], "count");
  ASSERT_EQ(a.profile["top"].size(), 5u);
  const json& first = a.profile["top"][0];
  EXPECT_EQ(first["rank"], 1);
  EXPECT_EQ(first["eip"].get<uint32_t>(), hot);
  EXPECT_EQ(first["executions"].get<uint64_t>(), kHotCount);
  EXPECT_EQ(first["guest_insns"], 1);
  EXPECT_EQ(first["translations"], 1);
  EXPECT_EQ(first["retranslations"], 0);
  // Each execution left one way: back to itself through the chained jump,
  // except the first back edge (unchained until the dispatcher patched it),
  // the final fall-through, and the ends of instruction slices (budget).
  const json& e = first["exits"];
  uint64_t sum = 0;
  for (const auto& [k, v] : e.items()) sum += v.get<uint64_t>();
  EXPECT_EQ(sum, kHotCount);
  EXPECT_EQ(e["direct_unchained"], 2);
  EXPECT_EQ(e["indirect_hit"], 0);
  EXPECT_GT(e["chained"].get<uint64_t>(), kHotCount - kHotCount / 100);
  // Its disassembly: the LOOP beside its host code.
  const json& rows = first["disassembly"]["rows"];
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["eip"].get<uint32_t>(), hot);
  EXPECT_NE(rows[0]["guest"].get<std::string>().find("loop"), std::string::npos);
  EXPECT_FALSE(rows[0]["host"].empty());
  EXPECT_GT(first["host_bytes_per_guest_insn"].get<double>(), 1.0);
  // The cool loop (three instructions, 1000 times; its first pass runs in
  // the block before it) comes second.
  const json& second = a.profile["top"][1];
  EXPECT_EQ(second["guest_insns"], 3);
  EXPECT_LE(second["executions"].get<uint64_t>(), 999u);
  EXPECT_GE(second["executions"].get<uint64_t>(), 990u);
  // The text: the table row and the block with guest beside host code.
  char head[64];
  std::snprintf(head, sizeof head, "#1 block %08x", hot);
  EXPECT_NE(a.text.find(head), std::string::npos) << a.text;
  EXPECT_NE(a.text.find("executions 20000000 (100.0%)"), std::string::npos) << a.text;
  std::smatch m;
  char row[64];
  std::snprintf(row, sizeof row, "%08x  loop ", hot);
  EXPECT_TRUE(std::regex_search(a.text, m, std::regex(std::string(row) + "[^|\\n]*\\| \\S"))) << a.text;

  // Deterministic under --icount: a second run counts the same for every block shown.
  HotRun b = run_hot("--profile-sort count --profile-top 5", "count_b");
  ASSERT_TRUE(b.profile.is_object());
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(a.profile["top"][i]["eip"], b.profile["top"][i]["eip"]) << i;
    EXPECT_EQ(a.profile["top"][i]["executions"], b.profile["top"][i]["executions"]) << i;
    EXPECT_EQ(a.profile["top"][i]["exits"], b.profile["top"][i]["exits"]) << i;
  }
  EXPECT_EQ(a.profile["executions"], b.profile["executions"]);
}

TEST(ProfileCli, SampledTimeGoesToTheHotLoop) {
  HotRun r = run_hot("--profile-top 3", "time");
  ASSERT_TRUE(r.profile.is_object());
  const json& s = r.profile["samples"];
  ASSERT_TRUE(s["enabled"].get<bool>()) << s;
  // The hot loop is about 99.99% of the instructions: about 40 ms of CPU
  // time, sampled every millisecond (in practice at the kernel's tick).
  ASSERT_GT(s["total"].get<uint64_t>(), 0u);
  uint64_t parts = 0;
  for (const char* k : {"translated_code", "block_helpers", "runtime_routines", "translator", "other"})
    parts += s[k].get<uint64_t>();
  EXPECT_EQ(parts, s["total"].get<uint64_t>());
  EXPECT_EQ(r.profile["sort"], "time");
  const json& first = r.profile["top"][0];
  EXPECT_EQ(first["eip"].get<uint32_t>(), hot_address(r.debug));
  EXPECT_GE(first["time_share"].get<double>(), 0.5);
}

TEST(ProfileCli, BadOptions) {
  struct Case {
    std::string args, fragment;
  };
  for (const Case& c : std::vector<Case>{{"--profile --engine interp", "--profile needs --engine dbt"},
                                         {"--profile-top 5", "--profile-top needs --profile"},
                                         {"--profile --profile-top 0", "--profile-top 0"},
                                         {"--profile --profile-sort size", "--profile-sort size"},
                                         {"--profile --profile-file /nonexistent/dir/p.txt", "/nonexistent/dir/p.txt"}}) {
    SCOPED_TRACE(c.args);
    const std::string log = popek::test::process_temp_dir() + "profile_cli_bad.log";
    const int status = shell(std::string("'") + POPEK_EXE + "' --bios '" + kHotRom + "' --headless " + c.args + " >" +
                             log + " 2>&1");
    EXPECT_EQ(status, 2);
    const std::string out = slurp(log);
    EXPECT_NE(out.find(c.fragment), std::string::npos) << out;
  }
}

// The JSON and the text of a profile made by hand: the fields, the ratios,
// the exit kinds, the history note and the side-by-side disassembly.
TEST(ProfileReport, JsonAndText) {
  popek::dbt::BlockProfiler prof({.sample = false});
  popek::dbt::BlockKey key{0xf1000, 0xf1000, 0, 0xffffffffu, 0x27};
  popek::dbt::BlockProfile& p = prof.record_for(key, 0xf1000);
  std::vector<uint8_t> host = {0x48, 0x01, 0xd8, 0x90, 0xc3};  // add rax, rbx; nop; ret
  popek::dbt::Block b;
  b.key = key;
  b.eip = 0xf1000;
  b.insn_count = 2;
  b.guest_code = {0x01, 0xd8, 0x40};  // add eax, ebx; inc eax
  b.code = host.data();
  b.code_size = uint32_t(host.size());
  b.insn_host_offset = {0, 3, 4, 4};
  prof.on_translated(p, b);
  b.guest_code = {0x01, 0xd8, 0x41};  // rewritten: add eax, ebx; inc ecx
  prof.on_translated(p, b);
  p.counters.executions = 40;
  p.counters.transfers_out = 30;
  p.counters.indirect_lookups = 0;
  p.exits[size_t(popek::dbt::ExitKind::DirectUnchained)] = 6;
  p.exits[size_t(popek::dbt::ExitKind::Fault)] = 4;
  p.fallbacks = 3;
  popek::dbt::ProfileReport rep = prof.report(20, popek::dbt::ProfileSort::Count, {});
  popek::profile::json j = popek::profile::to_json(rep);
  EXPECT_EQ(j["schema"], "popek-profile/1");
  EXPECT_EQ(j["blocks"], 1);
  EXPECT_EQ(j["translations"], 2);
  EXPECT_EQ(j["executions"], 40);
  EXPECT_EQ(j["samples"]["enabled"], false);
  const auto& t = j["top"][0];
  EXPECT_EQ(t["eip"], 0xf1000);
  EXPECT_EQ(t["guest_bytes"], 3);
  EXPECT_EQ(t["host_bytes"], 5);
  EXPECT_DOUBLE_EQ(t["host_bytes_per_guest_byte"].get<double>(), 5.0 / 3.0);
  EXPECT_DOUBLE_EQ(t["host_bytes_per_guest_insn"].get<double>(), 2.5);
  EXPECT_EQ(t["retranslations"], 1);
  EXPECT_EQ(t["versions"], 2);
  EXPECT_EQ(t["exits"]["chained"], 30);
  EXPECT_EQ(t["exits"]["direct_unchained"], 6);
  EXPECT_EQ(t["exits"]["fault"], 4);
  EXPECT_EQ(t["fallbacks"], 3);
  EXPECT_DOUBLE_EQ(t["execution_share"].get<double>(), 1.0);
  ASSERT_EQ(t["disassembly"]["rows"].size(), 2u);
  EXPECT_EQ(t["disassembly"]["rows"][1]["guest"], "inc ecx");
  EXPECT_EQ(t["disassembly"]["rows"][0]["host"][0], "add rax, rbx");
  EXPECT_EQ(t["disassembly"]["rows"][1]["host"][0], "nop");
  EXPECT_EQ(t["disassembly"]["cold"][0], "ret");
  const std::string text = popek::profile::to_text(j);
  EXPECT_NE(text.find("retranslated x1, code rewritten x1"), std::string::npos) << text;
  EXPECT_NE(text.find("000f1000  add eax, ebx"), std::string::npos) << text;
  EXPECT_TRUE(std::regex_search(text, std::regex("000f1002  inc ecx +\\| nop"))) << text;
  EXPECT_NE(text.find("Time: not sampled"), std::string::npos) << text;
  const std::string brief = popek::profile::to_text(j, false);
  EXPECT_EQ(brief.find("add rax"), std::string::npos);
  EXPECT_NE(brief.find("000f1000"), std::string::npos);
}

}  // namespace
