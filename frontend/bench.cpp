#include "frontend/bench.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <functional>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "frontend/bench_stats.h"
#include "frontend/options.h"
#include "frontend/profile_report.h"
#include "frontend/report.h"
#include "frontend/text_table.h"
#include "popek_build_info.h"
#include "translator/code_region.h"

extern char** environ;

namespace popek::bench {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

#ifndef POPEK_BENCH_ROM_DIR
#define POPEK_BENCH_ROM_DIR "roms/bench"
#endif

const std::vector<std::string>& default_workloads() {
  static const std::vector<std::string> names = {"int_mix", "mem_paging", "calls_indirect", "smc", "irq_flags",
                                                   "big_code"};
  return names;
}

std::optional<ParamBlock> read_param_block(const std::vector<uint8_t>& rom, std::string& error) {
  // Linear 0xFFFC0: 0x40 bytes below the end of the image, which ends at 1 MiB.
  if (rom.size() < 0x40) {
    error = "too small to hold the parameter block";
    return std::nullopt;
  }
  const uint8_t* p = rom.data() + rom.size() - 0x40;
  auto u32 = [](const uint8_t* b) { return uint32_t(b[0]) | uint32_t(b[1]) << 8 | uint32_t(b[2]) << 16 | uint32_t(b[3]) << 24; };
  if (std::memcmp(p, "PBNC", 4) != 0) {
    error = "no benchmark parameter block ('PBNC' at 0xFFFC0): not a roms/bench ROM";
    return std::nullopt;
  }
  ParamBlock b;
  b.iterations = u32(p + 4);
  b.expected_checksum = u32(p + 8);
  b.checksum_valid = u32(p + 12) == 1;
  return b;
}

std::string check_output(const std::string& output, const std::string& workload, const std::string& pass_line,
                         std::optional<uint32_t> expected_checksum) {
  std::istringstream in(output);
  std::string line;
  bool pass = pass_line.empty();
  std::optional<uint32_t> checksum;
  const std::string prefix = workload + " iterations=0x";
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!pass_line.empty() && line == pass_line) pass = true;
    if (line.rfind(prefix, 0) == 0) {
      size_t at = line.find(" checksum=0x");
      if (at != std::string::npos) checksum = uint32_t(std::strtoul(line.c_str() + at + 12, nullptr, 16));
    }
  }
  char buf[160];
  if (!checksum) return "no '" + workload + " iterations=... checksum=...' line in the output";
  if (expected_checksum && *checksum != *expected_checksum) {
    std::snprintf(buf, sizeof buf, "checksum 0x%08X, expected 0x%08X", *checksum, *expected_checksum);
    return buf;
  }
  if (!pass) return "no '" + pass_line + "' line in the output";
  return {};
}

namespace {

// ---------------------------------------------------------------- children

struct ChildResult {
  bool started = false;
  bool exited = false;  // normal exit (exit_status valid)
  int exit_status = -1;
  int signal = 0;
  bool timed_out = false;
  double wall_seconds = 0;
  double cpu_seconds = 0;  // user + system time of the child
  std::string error;       // why it did not start
};

// Runs argv[0] (searched on PATH when it has no slash) with stdin from
// /dev/null and stdout/stderr to the given files; kills it (SIGKILL) after
// `timeout` seconds when timeout > 0.
ChildResult run_child(const std::vector<std::string>& args, const std::string& out_path, const std::string& err_path,
                      double timeout, const std::function<void(double)>& tick = {}) {
  ChildResult r;
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = 0;
  using Clock = std::chrono::steady_clock;
  const auto t0 = Clock::now();
  int rc = posix_spawnp(&pid, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) {
    r.error = args[0] + ": cannot start: " + std::strerror(rc);
    return r;
  }
  r.started = true;

  // A watchdog kills the child at the deadline. The child is waited for
  // without being reaped (WNOWAIT) and `done` is set before reaping, so the
  // watchdog never signals a reaped (possibly reused) pid.
  std::mutex m;
  std::condition_variable cv;
  bool done = false;
  bool killed = false;
  // It also calls `tick` (the progress display) every quarter second.
  std::thread watchdog;
  if (timeout > 0 || tick) {
    watchdog = std::thread([&] {
      std::unique_lock lock(m);
      while (!done) {
        double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
        if (timeout > 0 && elapsed >= timeout) {
          ::kill(pid, SIGKILL);
          killed = true;
          break;
        }
        double wait = 0.25;
        if (timeout > 0) wait = std::min(wait, timeout - elapsed);
        if (cv.wait_for(lock, std::chrono::duration<double>(wait), [&] { return done; })) break;
        if (tick) tick(std::chrono::duration<double>(Clock::now() - t0).count());
      }
    });
  }
  siginfo_t info{};
  while (::waitid(P_PID, pid, &info, WEXITED | WNOWAIT) != 0 && errno == EINTR) {
  }
  r.wall_seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  {
    std::lock_guard lock(m);
    done = true;
  }
  cv.notify_all();
  if (watchdog.joinable()) watchdog.join();
  int status = 0;
  struct rusage ru{};
  while (::wait4(pid, &status, 0, &ru) < 0 && errno == EINTR) {
  }
  r.cpu_seconds = double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
  r.timed_out = killed;
  if (WIFEXITED(status)) {
    r.exited = true;
    r.exit_status = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    r.signal = WTERMSIG(status);
  }
  return r;
}

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

std::string last_line(const std::string& text) {
  std::string t = text;
  while (!t.empty() && (t.back() == '\n' || t.back() == '\r')) t.pop_back();
  size_t nl = t.rfind('\n');
  std::string l = nl == std::string::npos ? t : t.substr(nl + 1);
  if (l.size() > 200) l = l.substr(0, 200) + "...";
  return l;
}

// First line of `cmd --version`-like output, or empty.
std::string first_output_line(const std::vector<std::string>& args, const fs::path& tmp) {
  std::string out = (tmp / "version.out").string(), err = (tmp / "version.err").string();
  ChildResult r = run_child(args, out, err, 20);
  if (!r.exited || r.exit_status != 0) return {};
  std::string text = slurp(out);
  return text.substr(0, text.find('\n'));
}

// ------------------------------------------------------------------ host

std::string host_cpu_model() {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("model name", 0) == 0) {
      size_t colon = line.find(':');
      if (colon != std::string::npos) {
        std::string v = line.substr(colon + 1);
        v.erase(0, v.find_first_not_of(" \t"));
        return v;
      }
    }
  }
  return "unknown";
}

std::vector<double> load_average() {
  std::vector<double> l(3, 0.0);
  if (std::FILE* f = std::fopen("/proc/loadavg", "r")) {
    if (std::fscanf(f, "%lf %lf %lf", &l[0], &l[1], &l[2]) != 3) l.assign(3, 0.0);
    std::fclose(f);
  }
  return l;
}

std::string utc_now() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

bool on_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  if (!path) return false;
  std::stringstream ss(path);
  std::string dir;
  while (std::getline(ss, dir, ':')) {
    if (dir.empty()) dir = ".";
    if (::access((fs::path(dir) / name).c_str(), X_OK) == 0) return true;
  }
  return false;
}

// ---------------------------------------------------------------- engines

const char* const kQemu = "qemu-system-i386";
const std::vector<std::string> kAllEngines = {"dbt", "interp", "qemu", "native"};

struct BenchOptions {
  std::vector<std::string> workloads;
  std::vector<std::string> engines;
  bool engines_given = false;
  bool quick = false;
  unsigned runs = 1;
  std::string json_path;
  std::string rom_dir = POPEK_BENCH_ROM_DIR;
  double timeout = 600;
  bool keep_temp = false;
  std::string out_dir;           // --out: report.json and report.html
  uint64_t stats_interval = 0;   // --stats-interval for popek runs (0: none)
  double tc_size_mib = 0;        // --tc-size for dbt runs (0: default)
  std::vector<double> sweep_tc;  // --sweep tc-size=...: sizes in MiB
  std::string tc_wx;             // --tc-wx for dbt runs (empty: popek's default)
  std::vector<std::string> sweep_wx;  // --sweep tc-wx=...: W^X modes
  bool progress = false;         // live progress line on stderr
  bool profile = false;          // --profile: hot-block profile of the dbt runs
  size_t profile_top = 20;       // --profile-top
};

struct Workload {
  std::string name;
  fs::path rom;     // the ROM the emulators run
  fs::path native;  // the native executable; empty when missing
  ParamBlock params;
};

// One run of one engine on one workload.
struct Run {
  bool ok = false;
  std::string error;
  double wall_seconds = 0;
  double cpu_seconds = 0;
  json stats;  // popek: the --stats JSON; native: {"native_seconds": S}
};

std::string describe_failure(const ChildResult& c, const std::string& err_text) {
  if (!c.started) return c.error;
  std::string why;
  if (c.timed_out) why = "timed out (killed)";
  else if (c.signal) why = std::string("killed by signal ") + strsignal(c.signal);
  else why = "exit status " + std::to_string(c.exit_status);
  std::string l = last_line(err_text);
  if (!l.empty()) why += ": " + l;
  for (char& ch : why)
    if (static_cast<unsigned char>(ch) < 0x20) ch = ' ';
  return why;
}

std::string fixed(double v, int decimals) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

// A size in MiB as the shortest decimal that reads back as the same double.
std::string format_mib(double mib) {
  char buf[48];
  for (int p = 1; p <= 17; ++p) {
    std::snprintf(buf, sizeof buf, "%.*g", p, mib);
    if (std::strtod(buf, nullptr) == mib) break;
  }
  return buf;
}

Run run_once(const std::string& engine, const Workload& w, const BenchOptions& o, const std::string& self,
             const fs::path& tmp, const std::string& tag, double tc_size_mib, const std::string& label) {
  Run run;
  const std::string base = (tmp / (w.name + "." + engine + "." + tag)).string();
  const std::string progress = base + ".progress";
  const std::string out = base + ".out", err = base + ".err", dbg = base + ".debugcon", stats = base + ".stats.json";
  const std::string pass_line = "PASS " + w.name + (o.quick ? "_quick" : "");
  std::optional<uint32_t> expected;
  if (w.params.checksum_valid) expected = w.params.expected_checksum;
  std::vector<std::string> args;
  std::string output_file = dbg;
  int pass_status = 1;  // a ROM's 0 on port 0xF4 exits with (0 << 1) | 1
  if (engine == "dbt" || engine == "interp") {
    args = {self, "--bios", w.rom.string(), "--engine", engine, "--headless", "--debugcon", "file:" + dbg,
            "--stats", stats};
    if (o.stats_interval) args.insert(args.end(), {"--stats-interval", std::to_string(o.stats_interval)});
    if (engine == "dbt" && tc_size_mib > 0) args.insert(args.end(), {"--tc-size", format_mib(tc_size_mib)});
    if (engine == "dbt" && !o.tc_wx.empty()) args.insert(args.end(), {"--tc-wx", o.tc_wx});
    if (engine == "dbt" && o.profile)
      args.insert(args.end(), {"--profile", "--profile-top", std::to_string(o.profile_top), "--profile-file",
                               base + ".profile.txt"});
    if (o.progress) args.insert(args.end(), {"--progress-file", progress});
  } else if (engine == "qemu") {
    args = {kQemu, "-nodefaults", "-display", "none", "-accel", "tcg", "-bios", w.rom.string(),
            "-debugcon", "file:" + dbg, "-device", "isa-debug-exit,iobase=0xf4,iosize=4", "-m", "64"};
  } else {  // native
    args = {w.native.string()};
    if (o.quick) args.push_back("quick");
    output_file = out;
    pass_status = 0;
  }
  std::function<void(double)> tick;
  if (o.progress) {
    tick = [&](double elapsed) {
      // "<label>  12.3 s  245 MIPS", redrawn in place.
      std::string line = label + "  " + fixed(elapsed, 1) + " s";
      unsigned long long retired = 0;
      double seconds = 0;
      if (std::FILE* f = std::fopen(progress.c_str(), "r")) {
        if (std::fscanf(f, "%llu %lf", &retired, &seconds) == 2 && seconds > 0)
          line += "  " + fixed(double(retired) / seconds / 1e6, 0) + " MIPS";
        std::fclose(f);
      }
      std::fprintf(stderr, "\r\033[K%s", line.c_str());
      std::fflush(stderr);
    };
  }
  ChildResult c = run_child(args, out, err, o.timeout, tick);
  if (o.progress) std::fprintf(stderr, "\r\033[K");
  run.wall_seconds = c.wall_seconds;
  run.cpu_seconds = c.cpu_seconds;
  if (!c.started || !c.exited || c.exit_status != pass_status) {
    run.error = describe_failure(c, slurp(err));
    return run;
  }
  std::string text = slurp(output_file);
  run.error = check_output(text, w.name, engine == "native" ? "" : pass_line, expected);
  if (!run.error.empty()) return run;
  if (engine == "dbt" || engine == "interp") {
    run.stats = json::parse(slurp(stats), nullptr, false);
    if (!run.stats.is_object()) {
      run.error = stats + ": no statistics JSON";
      return run;
    }
  } else if (engine == "native") {
    size_t at = text.find("native_seconds=");
    if (at != std::string::npos) run.stats["native_seconds"] = std::strtod(text.c_str() + at + 15, nullptr);
  }
  run.ok = true;
  return run;
}

// ---------------------------------------------------------------- summary

template <class T>
json opt(const std::optional<T>& v) {
  return v ? json(*v) : json(nullptr);
}

uint64_t u64(const json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_number() ? j[key].get<uint64_t>() : 0;
}

TranslatorCounts counts_of(const json& translator) {
  TranslatorCounts c;
  c.lookups = u64(translator, "lookups");
  c.hits = u64(translator, "hits");
  c.misses = u64(translator, "misses");
  // A predicted RET (return_predictions) is an indirect branch that found its target.
  c.indirect_hits = u64(translator, "indirect_hits") + u64(translator, "return_predictions");
  c.indirect_misses = u64(translator, "indirect_misses");
  c.chained_exits = u64(translator, "chained_exits");
  c.unchained_exits = u64(translator, "unchained_exits");
  c.blocks_translated = u64(translator, "blocks_translated");
  c.guest_insns_translated = u64(translator, "guest_insns_translated");
  c.host_bytes = u64(translator, "host_bytes");
  c.smc_invalidations = u64(translator, "smc_invalidations");
  c.flushes = u64(translator, "flushes");
  c.fallbacks = u64(translator, "fallbacks");
  return c;
}

// The per-run record in the JSON report.
json run_json(const std::string& engine, const Run& r) {
  json j;
  j["ok"] = r.ok;
  if (!r.ok) j["error"] = r.error;
  if (r.ok) j["wall_seconds"] = r.wall_seconds;  // never a time for a failed run
  if (r.ok) j["cpu_seconds"] = r.cpu_seconds;
  if (!r.ok) return j;
  if (engine == "native" && r.stats.contains("native_seconds")) j["native_seconds"] = r.stats["native_seconds"];
  if (engine == "dbt" || engine == "interp") {
    j["retired_instructions"] = r.stats.value("retired_instructions", uint64_t(0));
    j["run_seconds"] = r.stats.value("wall_seconds", 0.0);
    j["guest_mips"] = opt(mips(u64(r.stats, "retired_instructions"), r.stats.value("wall_seconds", 0.0)));
    if (r.stats.contains("translator")) {
      const json& t = r.stats["translator"];
      TranslatorCounts c = counts_of(t);
      if (t.contains("tc_wx")) j["tc_wx"] = t["tc_wx"];
      j["tc_hit_rate"] = opt(tc_hit_rate(c));
      j["indirect_hit_rate"] = opt(indirect_hit_rate(c));
      j["chaining_rate"] = opt(chaining_rate(c));
      j["host_bytes_per_guest_insn"] = opt(host_bytes_per_guest_insn(c));
      for (const char* k : {"lookups", "hits", "misses", "indirect_hits", "indirect_misses", "chained_exits",
                            "unchained_exits", "blocks_translated", "guest_insns_translated", "host_bytes",
                            "smc_invalidations", "flushes", "fallbacks"})
        j[k] = u64(t, k);
      // Host time spent translating, when the translator reports it.
      double run_s = r.stats.value("wall_seconds", 0.0);
      if (t.contains("translation_ns") && t["translation_ns"].is_number() && run_s > 0)
        j["translation_share"] = t["translation_ns"].get<double>() / 1e9 / run_s;
    }
    if (r.stats.contains("series")) {
      j["stats_interval"] = r.stats.value("stats_interval", uint64_t(0));
      j["series"] = r.stats["series"];  // moved to the engine summary by engine_summary()
    }
    if (r.stats.contains("profile")) j["profile"] = r.stats["profile"];  // likewise
  }
  return j;
}

// Median over the ok runs of a per-run field.
std::optional<double> median_of(const json& runs, const char* key) {
  std::vector<double> v;
  for (const json& r : runs)
    if (r["ok"].get<bool>() && r.contains(key) && r[key].is_number()) v.push_back(r[key].get<double>());
  return median(v);
}

json engine_summary(json runs) {
  json s;
  // The time series of the first passing run is kept (one per engine is
  // enough for the plots, and they are large).
  json series, interval, profile;
  for (json& r : runs) {
    if (r.contains("series")) {
      if (series.is_null() && r["ok"].get<bool>()) series = r["series"], interval = r["stats_interval"];
      r.erase("series");
      r.erase("stats_interval");
    }
    if (r.contains("profile")) {  // likewise the hot-block profile
      if (profile.is_null() && r["ok"].get<bool>()) profile = r["profile"];
      r.erase("profile");
    }
  }
  std::vector<double> times;
  size_t failed = 0;
  for (const json& r : runs) {
    if (r["ok"].get<bool>()) times.push_back(r["wall_seconds"].get<double>());
    else ++failed;
  }
  s["ok_runs"] = times.size();
  s["failed_runs"] = failed;
  if (std::optional<Spread> sp = spread(times)) {
    s["wall_seconds"] = {{"median", sp->median}, {"min", sp->min}, {"max", sp->max}, {"spread", sp->relative}};
  } else {
    s["wall_seconds"] = nullptr;
  }
  for (const char* k : {"guest_mips", "tc_hit_rate", "indirect_hit_rate", "chaining_rate", "host_bytes_per_guest_insn",
                        "smc_invalidations", "flushes", "fallbacks", "blocks_translated", "retired_instructions",
                        "native_seconds", "cpu_seconds", "translation_share", "host_bytes"}) {
    std::optional<double> m = median_of(runs, k);
    if (m) s[k] = *m;
  }
  if (!series.is_null()) {
    s["stats_interval"] = interval;
    s["series"] = series;
  }
  if (!profile.is_null()) s["profile"] = profile;
  s["runs"] = runs;
  return s;
}

std::optional<double> median_time(const json& engines, const std::string& e) {
  if (!engines.contains(e) || engines[e]["wall_seconds"].is_null()) return std::nullopt;
  return engines[e]["wall_seconds"]["median"].get<double>();
}

// ------------------------------------------------------------------ table

std::string fmt_time(const json& summary) {
  if (summary.is_null()) return "-";
  if (summary["wall_seconds"].is_null()) return "FAIL";
  char buf[48];
  double m = summary["wall_seconds"]["median"].get<double>();
  double s = summary["wall_seconds"]["spread"].get<double>();
  if (summary["ok_runs"].get<size_t>() > 1) std::snprintf(buf, sizeof buf, "%.3f ±%.0f%%", m, s * 100);
  else std::snprintf(buf, sizeof buf, "%.3f", m);
  std::string r = buf;
  if (summary["failed_runs"].get<size_t>()) r += "!";
  return r;
}

std::string fmt_num(const json& v, const char* f) {
  if (v.is_null()) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, f, v.get<double>());
  return buf;
}

std::string fmt_pct(const json& summary, const char* key) {
  if (summary.is_null() || !summary.contains(key) || !summary[key].is_number()) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f%%", summary[key].get<double>() * 100);
  return buf;
}

void print_rows(const TextRow& head, const std::vector<TextRow>& rows, std::FILE* out) {
  std::fputs(format_text_table(head, rows, {0}).c_str(), out);
}

void print_failures(const json& runs, const std::string& what, std::FILE* out) {
  for (size_t i = 0; i < runs.size(); ++i)
    if (!runs[i]["ok"].get<bool>())
      std::fprintf(out, "FAILED: %s run %zu: %s\n", what.c_str(), i + 1, runs[i]["error"].get<std::string>().c_str());
}

void print_table(const json& report, std::FILE* out) {
  const std::vector<std::string> engines = report["options"]["engines"].get<std::vector<std::string>>();
  std::vector<std::string> head = {"workload"};
  for (const std::string& e : engines) head.push_back(e + " s");
  for (const char* h : {"dbt/qemu", "dbt/native", "interp/dbt", "CPU dbt/qemu", "CPU dbt/native", "dbt MIPS",
                        "interp MIPS", "TC hit", "IB hit"})
    head.push_back(h);
  std::vector<std::vector<std::string>> rows;
  for (const json& w : report["workloads"]) {
    std::vector<std::string> row = {w["name"].get<std::string>()};
    const json& es = w["engines"];
    for (const std::string& e : engines) row.push_back(fmt_time(es.contains(e) ? es[e] : json(nullptr)));
    const json& ra = w["ratios"];
    row.push_back(fmt_num(ra["dbt_over_qemu"], "%.2f"));
    row.push_back(fmt_num(ra["dbt_over_native"], "%.2f"));
    row.push_back(fmt_num(ra["interp_over_dbt"], "%.1f"));
    row.push_back(fmt_num(w["cpu_ratios"]["dbt_over_qemu"], "%.2f"));
    row.push_back(fmt_num(w["cpu_ratios"]["dbt_over_native"], "%.2f"));
    auto mips_of = [&](const char* e) {
      return es.contains(e) && es[e].contains("guest_mips") ? fmt_num(es[e]["guest_mips"], "%.0f") : std::string("-");
    };
    row.push_back(mips_of("dbt"));
    row.push_back(mips_of("interp"));
    json dbt = es.contains("dbt") ? es["dbt"] : json(nullptr);
    row.push_back(fmt_pct(dbt, "tc_hit_rate"));
    row.push_back(fmt_pct(dbt, "indirect_hit_rate"));
    rows.push_back(row);
  }
  print_rows(head, rows, out);
  std::fprintf(out,
               "Times: median wall seconds per process (±: (max-min)/median over the runs; !: some runs failed). "
               "Ratios of medians; CPU: of the children's median user+system seconds. MIPS: millions of guest instructions per second of the emulated run (--stats), "
               "median.\n");
  for (const json& w : report["workloads"])
    for (const auto& [e, s] : w["engines"].items()) print_failures(s["runs"], w["name"].get<std::string>() + " " + e, out);
}

void print_sweep_table(const json& report, std::FILE* out) {
  std::vector<std::string> head = {"workload", "TC MiB", "dbt s", "TC hit", "IB hit", "flushes", "blocks", "MIPS"};
  std::vector<std::vector<std::string>> rows;
  for (const json& w : report["sweep"]["workloads"])
    for (const json& p : w["points"]) {
      rows.push_back({w["name"].get<std::string>(), format_mib(p["tc_size_mib"].get<double>()), fmt_time(p),
                      fmt_pct(p, "tc_hit_rate"), fmt_pct(p, "indirect_hit_rate"),
                      p.contains("flushes") ? fmt_num(p["flushes"], "%.0f") : "-",
                      p.contains("blocks_translated") ? fmt_num(p["blocks_translated"], "%.0f") : "-",
                      p.contains("guest_mips") ? fmt_num(p["guest_mips"], "%.0f") : "-"});
    }
  print_rows(head, rows, out);
  std::fprintf(out, "The dbt engine at each --tc-size; times are medians (±spread) over the runs.\n");
  for (const json& w : report["sweep"]["workloads"]) {
    const std::string name = w["name"].get<std::string>();
    if (w["working_set_mib"].is_number())
      std::fprintf(out, "%s: %.2f MiB of host code translated at the largest size without a flush\n", name.c_str(),
                   w["working_set_mib"].get<double>());
    if (w["cliff"].is_object()) {
      const json& c = w["cliff"];
      std::fprintf(out, "%s: cliff between %s and %s MiB: %.1fx the time, TC hit rate %s -> %s\n", name.c_str(),
                   format_mib(c["below_mib"].get<double>()).c_str(), format_mib(c["above_mib"].get<double>()).c_str(),
                   c["time_ratio"].get<double>(), fmt_pct(c, "hit_above").c_str(), fmt_pct(c, "hit_below").c_str());
    } else {
      std::fprintf(out, "%s: no cliff (no step down in size made it %.1fx slower with flushes)\n", name.c_str(),
                   kCliffRatio);
    }
  }
  for (const json& w : report["sweep"]["workloads"])
    for (const json& p : w["points"])
      print_failures(p["runs"], w["name"].get<std::string>() + " tc-size " + format_mib(p["tc_size_mib"].get<double>()),
                     out);
}

// --sweep tc-wx: each mode's time and its ratio to the first mode's, per workload.
void print_wx_sweep_table(const json& report, std::FILE* out) {
  std::vector<std::string> head = {"workload", "W^X", "dbt s", "ratio", "CPU s", "CPU ratio", "MIPS"};
  std::vector<std::vector<std::string>> rows;
  for (const json& w : report["sweep"]["workloads"])
    for (const json& p : w["points"])
      rows.push_back({w["name"].get<std::string>(), p["tc_wx"].get<std::string>(), fmt_time(p),
                      p.contains("wall_ratio") ? fmt_num(p["wall_ratio"], "%.3f") : "-",
                      p.contains("cpu_seconds") ? fmt_num(p["cpu_seconds"], "%.3f") : "-",
                      p.contains("cpu_ratio") ? fmt_num(p["cpu_ratio"], "%.3f") : "-",
                      p.contains("guest_mips") ? fmt_num(p["guest_mips"], "%.0f") : "-"});
  print_rows(head, rows, out);
  std::fprintf(out, "The dbt engine in each --tc-wx mode, interleaved within each round; ratios of medians to the "
                    "first mode's.\n");
  for (const json& w : report["sweep"]["workloads"])
    for (const json& p : w["points"])
      print_failures(p["runs"], w["name"].get<std::string>() + " tc-wx " + p["tc_wx"].get<std::string>(), out);
}

// The top blocks of each workload's dbt profile (at most five lines each;
// the whole profile with disassembly goes to DIR/profile-<workload>.txt).
void print_profiles(const json& report, std::FILE* out, bool files) {
  for (const json& w : report["workloads"]) {
    if (!w["engines"].contains("dbt") || !w["engines"]["dbt"].contains("profile")) continue;
    json p = w["engines"]["dbt"]["profile"];
    const size_t shown = std::min<size_t>(5, p["top"].size());
    json top = json::array();
    for (size_t i = 0; i < shown; ++i) top.push_back(p["top"][i]);
    p["top"] = top;
    std::fprintf(out, "\n%s (dbt, first passing run):\n%s", w["name"].get<std::string>().c_str(),
                 profile::to_text(p, false).c_str());
  }
  if (files) std::fprintf(out, "The whole profiles, with guest and host disassembly: profile-<workload>.txt and report.html.\n");
}

// Control characters (from argv or a child's output) as \xNN, so that a
// message stays on one line.
std::string one_line(const std::string& text) {
  std::string out;
  for (unsigned char c : text) {
    if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02X", c);
      out += buf;
    } else {
      out += char(c);
    }
  }
  return out;
}

std::vector<std::string> split_list(const std::vector<std::string>& items) {
  std::vector<std::string> out;
  for (const std::string& item : items) {
    std::stringstream ss(item);
    std::string part;
    while (std::getline(ss, part, ','))
      if (!part.empty()) out.push_back(part);
  }
  return out;
}

// Parses "tc-size=1,4,16,64" (MiB) or "tc-wx=dual,mprotect,off"; returns
// false with a reason.
bool parse_sweep(const std::string& spec, std::vector<double>& sizes, std::vector<std::string>& modes,
                 std::string& error) {
  const std::string key = "tc-size=", wx_key = "tc-wx=";
  if (spec.rfind(wx_key, 0) == 0) {
    for (const std::string& item : split_list({spec.substr(wx_key.size())})) {
      if (dbt::WxMode m; !dbt::parse_wx_mode(item, m)) {
        error = "--sweep tc-wx: '" + item + "' is not dual, mprotect or off";
        return false;
      }
      if (std::find(modes.begin(), modes.end(), item) != modes.end()) {
        error = "--sweep tc-wx: " + item + " given twice";
        return false;
      }
      modes.push_back(item);
    }
    if (modes.empty()) error = "--sweep tc-wx= needs at least one mode";
    return !modes.empty();
  }
  if (spec.rfind(key, 0) != 0) {
    error = "--sweep " + spec + ": expected tc-size=SIZE,SIZE,... (MiB) or tc-wx=MODE,MODE,...";
    return false;
  }
  for (const std::string& item : split_list({spec.substr(key.size())})) {
    char* end = nullptr;
    double v = std::strtod(item.c_str(), &end);
    if (end == item.c_str() || *end || !(v >= 0.0625 && v <= 1024)) {
      error = "--sweep tc-size: '" + item + "' is not a size from 0.0625 to 1024 MiB";
      return false;
    }
    if (std::find(sizes.begin(), sizes.end(), v) != sizes.end()) {
      error = "--sweep tc-size: " + item + " given twice";
      return false;
    }
    sizes.push_back(v);
  }
  if (sizes.empty()) {
    error = "--sweep tc-size= needs at least one size";
    return false;
  }
  std::sort(sizes.begin(), sizes.end());
  return true;
}

bool write_text(const fs::path& path, const std::string& text, std::string& error) {
  std::ofstream f(path);
  if (f) f << text;
  if (!f) {
    error = path.string() + ": cannot write: " + std::strerror(errno);
    return false;
  }
  return true;
}

}  // namespace

int bench_main(int argc, char** argv) {
  BenchOptions o;
  CLI::App app{"popek bench: run the benchmark workloads under Popek's engines, QEMU and native, and compare",
               "popek bench"};
  std::vector<std::string> workloads, engines;
  std::string sweep;
  bool no_progress = false, force_progress = false;
  app.add_option("--workloads", workloads,
                 "Comma-separated workloads (default: int_mix,mem_paging,calls_indirect,smc,irq_flags,big_code)");
  app.add_option("--engines", engines,
                 "Comma-separated engines: dbt, interp, qemu (qemu-system-i386 TCG), native (default: all available)");
  app.add_flag("--quick", o.quick, "Run the _quick ROMs and native builds (a few million instructions; for tests)");
  app.add_option("--runs", o.runs, "Runs per engine and workload (median and spread)")->check(CLI::Range(1u, 1000u));
  app.add_option("--json", o.json_path, "Write the results as JSON to FILE");
  app.add_option("--out", o.out_dir, "Write report.json and report.html (with plots) into DIR");
  app.add_option("--rom-dir", o.rom_dir, std::string("Directory of the benchmark ROMs and native builds (default ") +
                                             POPEK_BENCH_ROM_DIR + ")");
  app.add_option("--timeout", o.timeout, "Kill a run after SECONDS of wall time (0: never; default 600)");
  app.add_option("--stats-interval", o.stats_interval,
                 "Sample the translator's counters every N guest instructions for the report's time series "
                 "(default with --out: 5,000,000, or 50,000 with --quick; 0: none)");
  app.add_option("--tc-size", o.tc_size_mib, "Translation cache size in MiB for the dbt runs (0.0625 to 1024)");
  app.add_option("--tc-wx", o.tc_wx, "Translation cache W^X mode for the dbt runs: dual, mprotect or off");
  app.add_option("--sweep", sweep, "tc-size=1,4,16,64: run dbt at each translation cache size (MiB) instead of "
                                   "comparing engines; tc-wx=dual,mprotect,off: at each W^X mode");
  app.add_flag("--progress", force_progress, "Show the live progress line even when stderr is not a terminal");
  app.add_flag("--no-progress", no_progress, "Never show the live progress line");
  app.add_flag("--keep-temp", o.keep_temp, "Keep the temporary directory of run outputs and statistics");
  app.add_flag("--profile", o.profile,
               "Hot-block profile of every dbt run (popek --profile): the top blocks per workload on the terminal, "
               "in the JSON and, with --out, in report.html and DIR/profile-<workload>.txt");
  app.add_option("--profile-top", o.profile_top, "With --profile: blocks per workload (default 20)")
      ->check(CLI::Range(size_t(1), size_t(100000)));
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::printf("%s", app.help().c_str());
    return 0;
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "popek bench: %s\n", one_line(e.what()).c_str());
    return 2;
  }
  auto fail = [](const std::string& msg) {
    std::fprintf(stderr, "popek bench: %s\n", one_line(msg).c_str());
    return 2;
  };
  if (!(o.timeout >= 0)) return fail("--timeout must not be negative or NaN");
  if (o.tc_size_mib != 0 && !(o.tc_size_mib >= 0.0625 && o.tc_size_mib <= 1024))
    return fail("--tc-size " + format_mib(o.tc_size_mib) + ": the translation cache must be 0.0625 to 1024 MiB");
  if (dbt::WxMode m; !o.tc_wx.empty() && !dbt::parse_wx_mode(o.tc_wx, m))
    return fail("--tc-wx " + o.tc_wx + ": expected dual, mprotect or off");
  if (force_progress && no_progress) return fail("--progress and --no-progress contradict each other");
  if (!o.profile && app.count("--profile-top")) return fail("--profile-top needs --profile");
  o.progress = force_progress || (!no_progress && ::isatty(2));
  if (!sweep.empty()) {
    std::string error;
    if (!parse_sweep(sweep, o.sweep_tc, o.sweep_wx, error)) return fail(error);
    if (o.tc_size_mib != 0 && !o.sweep_tc.empty()) return fail("--sweep tc-size and --tc-size exclude each other");
    if (!o.tc_wx.empty() && !o.sweep_wx.empty()) return fail("--sweep tc-wx and --tc-wx exclude each other");
  }
  if (!o.out_dir.empty() && app.count("--stats-interval") == 0) o.stats_interval = o.quick ? 50'000 : 5'000'000;

  o.workloads = split_list(workloads);
  if (o.workloads.empty()) o.workloads = default_workloads();
  std::set<std::string> seen;
  for (const std::string& w : o.workloads) {
    if (!std::regex_match(w, std::regex("[A-Za-z0-9_]+"))) return fail("--workloads: bad workload name '" + w + "'");
    if (!seen.insert(w).second) return fail("--workloads: '" + w + "' given twice");
  }
  o.engines = split_list(engines);
  o.engines_given = !o.engines.empty();
  seen.clear();
  for (const std::string& e : o.engines) {
    if (std::find(kAllEngines.begin(), kAllEngines.end(), e) == kAllEngines.end())
      return fail("--engines: unknown engine '" + e + "' (expected dbt, interp, qemu or native)");
    if (!seen.insert(e).second) return fail("--engines: '" + e + "' given twice");
  }
  const bool sweeping = !o.sweep_tc.empty() || !o.sweep_wx.empty();
  if (sweeping && o.engines_given && o.engines != std::vector<std::string>{"dbt"})
    return fail("--sweep runs the dbt engine only (drop --engines or give --engines dbt)");
  const bool have_qemu = on_path(kQemu);
  if (sweeping) {
    o.engines = {"dbt"};
  } else if (!o.engines_given) {
    o.engines = {"dbt", "interp"};
    if (have_qemu) o.engines.push_back("qemu");
    o.engines.push_back("native");  // dropped below when no workload has a native build
  } else if (seen.count("qemu") && !have_qemu) {
    return fail(std::string("--engines qemu: ") + kQemu + " is not on PATH");
  }

  std::error_code ec;
  if (!fs::is_directory(o.rom_dir, ec)) return fail(o.rom_dir + ": not a directory (build target popek_roms, or pass --rom-dir)");
  std::vector<Workload> ws;
  bool any_native = false;
  for (const std::string& name : o.workloads) {
    Workload w;
    w.name = name;
    w.rom = fs::path(o.rom_dir) / (name + (o.quick ? "_quick.bin" : ".bin"));
    std::vector<uint8_t> image;
    std::string error;
    if (!read_file(w.rom.string(), image, error)) return fail(error);
    std::optional<ParamBlock> pb = read_param_block(image, error);
    if (!pb) return fail(w.rom.string() + ": " + error);
    w.params = *pb;
    fs::path native = fs::path(o.rom_dir) / (name + "_native");
    if (::access(native.c_str(), X_OK) == 0) {
      w.native = native;
      any_native = true;
    } else if (o.engines_given && seen.count("native")) {
      return fail(native.string() + ": no native build (needs gcc -m32 -static; see docs/benchmarks.md)");
    }
    ws.push_back(w);
  }
  if (!sweeping && !o.engines_given && !any_native) o.engines.pop_back();
  if (!o.out_dir.empty()) {
    fs::create_directories(o.out_dir, ec);
    if (!fs::is_directory(o.out_dir)) return fail(o.out_dir + ": cannot create the output directory: " + ec.message());
  }

  char self_buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", self_buf, sizeof self_buf - 1);
  if (n <= 0) return fail(std::string("/proc/self/exe: ") + std::strerror(errno));
  const std::string self(self_buf, size_t(n));

  const char* tmpdir_env = std::getenv("TMPDIR");
  std::string tmpl = std::string(tmpdir_env && *tmpdir_env ? tmpdir_env : "/tmp") + "/popek-bench-XXXXXX";
  if (!::mkdtemp(tmpl.data())) return fail(tmpl + ": cannot create a temporary directory: " + std::strerror(errno));
  const fs::path tmp = tmpl;

  json report;
  report["schema"] = "popek-bench/1";
  report["date_utc"] = utc_now();
  report["popek_commit"] = POPEK_GIT_DESCRIBE;
  report["host_cpu"] = host_cpu_model();
  report["host_cpus"] = std::thread::hardware_concurrency();
  report["qemu_version"] = have_qemu ? json(first_output_line({kQemu, "--version"}, tmp)) : json(nullptr);
  report["load_average_start"] = load_average();
  json opts;
  opts["workloads"] = o.workloads;
  opts["engines"] = o.engines;
  opts["quick"] = o.quick;
  opts["runs"] = o.runs;
  opts["rom_dir"] = o.rom_dir;
  opts["timeout"] = o.timeout;
  opts["stats_interval"] = o.stats_interval;
  opts["tc_size_mib"] = o.tc_size_mib > 0 ? json(o.tc_size_mib) : json(nullptr);
  opts["tc_wx"] = o.tc_wx.empty() ? json(nullptr) : json(o.tc_wx);
  if (!o.sweep_tc.empty()) opts["sweep_tc_size_mib"] = o.sweep_tc;
  if (!o.sweep_wx.empty()) opts["sweep_tc_wx"] = o.sweep_wx;
  opts["profile"] = o.profile;
  if (o.profile) opts["profile_top"] = o.profile_top;
  opts["command"] = [&] {
    std::string c = "popek bench";
    for (int i = 1; i < argc; ++i) c += std::string(" ") + argv[i];
    return c;
  }();
  report["options"] = opts;

  std::fprintf(stderr, "popek bench: %zu workload(s) x %zu %s x %u run(s)%s, load %.2f\n", ws.size(),
               sweeping ? o.sweep_tc.size() + o.sweep_wx.size() : o.engines.size(),
               !o.sweep_wx.empty() ? "W^X mode(s)" : sweeping ? "cache size(s)" : "engine(s)", o.runs,
               o.quick ? " (quick)" : "", load_average()[0]);
  bool all_ok = true;
  size_t total = 0, done = 0;
  for (const Workload& w : ws) {
    if (sweeping) total += (o.sweep_tc.size() + o.sweep_wx.size()) * o.runs;
    else
      for (const std::string& e : o.engines) total += (e == "native" && w.native.empty()) ? 0 : o.runs;
  }
  // One run, with its progress lines.
  auto one = [&](const std::string& e, const Workload& w, unsigned r, double tc, const std::string& what,
                 const std::string& wx = {}) {
    ++done;
    char head[256];
    std::snprintf(head, sizeof head, "[%zu/%zu] %s %s run %u", done, total, w.name.c_str(), what.c_str(), r + 1);
    std::string tag = (tc > 0 ? "tc" + format_mib(tc) + "." : std::string()) + (wx.empty() ? "" : "wx" + wx + ".") +
                      std::to_string(r);
    BenchOptions run_options = o;
    if (!wx.empty()) run_options.tc_wx = wx;
    Run run = run_once(e, w, run_options, self, tmp, tag, tc, head);
    std::string result;
    if (run.ok) {
      result = fixed(run.wall_seconds, 3) + " s";
      if (run.stats.contains("guest_mips")) result += ", " + fixed(run.stats["guest_mips"].get<double>(), 0) + " MIPS";
    } else {
      result = "FAILED: " + run.error;
    }
    std::fprintf(stderr, "%s ... %s\n", head, result.c_str());
    all_ok &= run.ok;
    return run_json(e, run);
  };

  report["workloads"] = json::array();
  if (!o.sweep_wx.empty()) {
    json sw;
    sw["parameter"] = "tc_wx";
    sw["values"] = o.sweep_wx;
    sw["workloads"] = json::array();
    for (const Workload& w : ws) {
      std::vector<json> runs(o.sweep_wx.size(), json::array());
      // Modes interleave within a round, as engines do.
      for (unsigned r = 0; r < o.runs; ++r)
        for (size_t i = 0; i < o.sweep_wx.size(); ++i)
          runs[i].push_back(one("dbt", w, r, o.tc_size_mib, "dbt tc-wx " + o.sweep_wx[i], o.sweep_wx[i]));
      json wj;
      wj["name"] = w.name;
      wj["points"] = json::array();
      std::optional<double> first_wall, first_cpu;
      for (size_t i = 0; i < o.sweep_wx.size(); ++i) {
        json p;
        p["tc_wx"] = o.sweep_wx[i];
        p["tc_size_mib"] = o.tc_size_mib > 0 ? o.tc_size_mib : 32.0;
        p.update(engine_summary(runs[i]));
        std::optional<double> wall, cpu;
        if (p["wall_seconds"].is_object()) wall = p["wall_seconds"]["median"].get<double>();
        if (p.contains("cpu_seconds")) cpu = p["cpu_seconds"].get<double>();
        if (i == 0) first_wall = wall, first_cpu = cpu;
        if (std::optional<double> q = ratio(wall, first_wall)) p["wall_ratio"] = *q;
        if (std::optional<double> q = ratio(cpu, first_cpu)) p["cpu_ratio"] = *q;
        wj["points"].push_back(p);
      }
      sw["workloads"].push_back(wj);
    }
    report["sweep"] = sw;
  } else if (sweeping) {
    json sw;
    sw["parameter"] = "tc_size_mib";
    sw["values"] = o.sweep_tc;
    sw["workloads"] = json::array();
    for (const Workload& w : ws) {
      std::vector<json> runs(o.sweep_tc.size(), json::array());
      for (unsigned r = 0; r < o.runs; ++r)
        for (size_t i = 0; i < o.sweep_tc.size(); ++i)
          runs[i].push_back(one("dbt", w, r, o.sweep_tc[i], "dbt tc-size " + format_mib(o.sweep_tc[i])));
      json wj;
      wj["name"] = w.name;
      wj["points"] = json::array();
      std::vector<SweepPoint> sp;
      for (size_t i = 0; i < o.sweep_tc.size(); ++i) {
        json p;
        p["tc_size_mib"] = o.sweep_tc[i];
        p.update(engine_summary(runs[i]));
        wj["points"].push_back(p);
        SweepPoint pt;
        pt.size_mib = o.sweep_tc[i];
        if (p["wall_seconds"].is_object()) pt.seconds = p["wall_seconds"]["median"].get<double>();
        if (p.contains("tc_hit_rate")) pt.hit_rate = p["tc_hit_rate"].get<double>();
        pt.flushes = p.value("flushes", 0.0);
        pt.host_bytes = p.value("host_bytes", 0.0);
        sp.push_back(pt);
      }
      // The cliff where the working set stops fitting (bench_stats.h).
      wj["working_set_mib"] = opt(working_set_mib(sp));
      if (std::optional<Cliff> c = find_cliff(sp)) {
        wj["cliff"] = {{"below_mib", c->below_mib}, {"above_mib", c->above_mib}, {"time_ratio", c->time_ratio},
                       {"hit_below", opt(c->hit_below)}, {"hit_above", opt(c->hit_above)}};
      } else {
        wj["cliff"] = nullptr;
      }
      sw["workloads"].push_back(wj);
    }
    report["sweep"] = sw;
  } else {
    for (const Workload& w : ws) {
      json runs = json::object();
      for (const std::string& e : o.engines) runs[e] = json::array();
      // Engines interleave within a round, so that a change of host load
      // during the benchmark falls on every engine alike.
      for (unsigned r = 0; r < o.runs; ++r)
        for (const std::string& e : o.engines) {
          if (e == "native" && w.native.empty()) continue;
          runs[e].push_back(one(e, w, r, e == "dbt" ? o.tc_size_mib : 0, e));
        }
      json wj;
      wj["name"] = w.name;
      wj["rom"] = w.rom.string();
      wj["iterations"] = w.params.iterations;
      char hex[16];
      std::snprintf(hex, sizeof hex, "0x%08X", w.params.expected_checksum);
      wj["expected_checksum"] = w.params.checksum_valid ? json(hex) : json(nullptr);
      wj["native"] = w.native.empty() ? json(nullptr) : json(w.native.string());
      json es = json::object();
      for (const std::string& e : o.engines)
        if (!runs[e].empty()) es[e] = engine_summary(runs[e]);
      json ratios;
      ratios["dbt_over_qemu"] = opt(ratio(median_time(es, "dbt"), median_time(es, "qemu")));
      ratios["dbt_over_native"] = opt(ratio(median_time(es, "dbt"), median_time(es, "native")));
      ratios["interp_over_dbt"] = opt(ratio(median_time(es, "interp"), median_time(es, "dbt")));
      ratios["qemu_over_native"] = opt(ratio(median_time(es, "qemu"), median_time(es, "native")));
      // The same ratios of the children's CPU time (user + system), which
      // a loaded host inflates much less than wall time.
      auto cpu = [&](const char* e) -> std::optional<double> {
        if (!es.contains(e) || !es[e].contains("cpu_seconds")) return std::nullopt;
        return es[e]["cpu_seconds"].get<double>();
      };
      json cpu_ratios;
      cpu_ratios["dbt_over_qemu"] = opt(ratio(cpu("dbt"), cpu("qemu")));
      cpu_ratios["dbt_over_native"] = opt(ratio(cpu("dbt"), cpu("native")));
      cpu_ratios["interp_over_dbt"] = opt(ratio(cpu("interp"), cpu("dbt")));
      cpu_ratios["qemu_over_native"] = opt(ratio(cpu("qemu"), cpu("native")));
      wj["engines"] = es;
      wj["ratios"] = ratios;
      wj["cpu_ratios"] = cpu_ratios;
      report["workloads"].push_back(wj);
    }
  }
  report["load_average_end"] = load_average();
  report["all_ok"] = all_ok;

  std::printf("popek bench (%s) on %s, %u run(s)%s; load average %.2f at start, %.2f at end\n",
              report["popek_commit"].get<std::string>().c_str(), report["host_cpu"].get<std::string>().c_str(), o.runs,
              o.quick ? ", quick ROMs" : "", report["load_average_start"][0].get<double>(),
              report["load_average_end"][0].get<double>());
  if (!o.sweep_wx.empty()) print_wx_sweep_table(report, stdout);
  else if (sweeping) print_sweep_table(report, stdout);
  else print_table(report, stdout);
  if (o.profile) print_profiles(report, stdout, !o.out_dir.empty());
  std::fflush(stdout);

  int status = all_ok ? 0 : 1;
  std::string error;
  const std::string text = report.dump(2) + "\n";
  if (!o.json_path.empty() && !write_text(o.json_path, text, error)) {
    std::fprintf(stderr, "popek bench: %s\n", error.c_str());
    status = 2;
  }
  if (!o.out_dir.empty()) {
    if (!write_text(fs::path(o.out_dir) / "report.json", text, error) ||
        !write_text(fs::path(o.out_dir) / "report.html", report::render_html(report), error)) {
      std::fprintf(stderr, "popek bench: %s\n", error.c_str());
      status = 2;
    } else {
      std::fprintf(stderr, "popek bench: report in %s/report.html\n", o.out_dir.c_str());
    }
    // The full profile texts (with the disassembly) beside the report.
    for (const json& w : report["workloads"])
      if (w["engines"].contains("dbt") && w["engines"]["dbt"].contains("profile") &&
          !write_text(fs::path(o.out_dir) / ("profile-" + w["name"].get<std::string>() + ".txt"),
                      profile::to_text(w["engines"]["dbt"]["profile"]), error)) {
        std::fprintf(stderr, "popek bench: %s\n", error.c_str());
        status = 2;
      }
  }
  if (o.keep_temp) std::fprintf(stderr, "popek bench: run outputs kept in %s\n", tmp.c_str());
  else fs::remove_all(tmp, ec);
  return status;
}

}  // namespace popek::bench
