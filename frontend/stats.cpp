#include "frontend/stats.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <numeric>

#include <fcntl.h>
#include <unistd.h>

namespace popek {

namespace {
// The translator counters a series point carries.
constexpr const char* kSeriesCounters[] = {
    "blocks_translated", "lookups",         "hits",          "misses",           "indirect_hits",
    "indirect_misses",   "chained_exits",   "unchained_exits", "smc_invalidations", "flushes",
    "fallbacks",         "host_bytes",
};
}  // namespace

void StatsSeries::sample(uint64_t retired) {
  nlohmann::json p;
  p["retired"] = retired;
  p["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  Interpreter& in = machine_.interpreter();
  p["tlb_hits"] = in.mmu.tlb_hits();
  p["tlb_misses"] = in.mmu.tlb_misses();
  if (CpuEngine* e = machine_.engine()) {
    nlohmann::json t = nlohmann::json::parse(e->stats_json(), nullptr, false);
    if (t.is_object())
      for (const char* key : kSeriesCounters)
        if (t.contains(key)) p[key] = t[key];
  }
  points_.push_back(std::move(p));
}

void attach_series(RunLimits& limits, StatsSeries& series, uint64_t interval) {
  attach_sampling(limits, &series, interval, nullptr);
}

bool ProgressFile::open(const std::string& path, std::string& error) {
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    error = path + ": cannot write: " + std::strerror(errno);
    return false;
  }
  update(0);
  return true;
}

ProgressFile::~ProgressFile() {
  if (fd_ >= 0) ::close(fd_);
}

void ProgressFile::update(uint64_t retired) {
  if (fd_ < 0) return;
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  char line[64];
  // Fixed width, so that each rewrite covers the previous one entirely.
  int n = std::snprintf(line, sizeof line, "%20llu %14.6f\n", static_cast<unsigned long long>(retired), s);
  if (n > 0 && ::pwrite(fd_, line, size_t(n), 0) < 0) {
    ::close(fd_);  // a failing progress file is not worth stopping the run for
    fd_ = -1;
  }
}

void attach_sampling(RunLimits& limits, StatsSeries* series, uint64_t series_interval, ProgressFile* progress) {
  if (!series) series_interval = 0;
  if (!series_interval && !progress) return;
  uint64_t every = series_interval && progress ? std::gcd(series_interval, ProgressFile::kEvery)
                   : series_interval           ? series_interval
                                               : ProgressFile::kEvery;
  limits.sample_every = every;
  limits.sample = [series, series_interval, progress, next_series = series_interval,
                   next_progress = ProgressFile::kEvery](uint64_t retired) mutable {
    if (series_interval && retired >= next_series) {
      series->sample(retired);
      next_series = (retired / series_interval + 1) * series_interval;
    }
    if (progress && retired >= next_progress) {
      progress->update(retired);
      next_progress = (retired / ProgressFile::kEvery + 1) * ProgressFile::kEvery;
    }
  };
}

bool write_stats_json(const std::string& path, Machine& machine, const RunOutcome& outcome,
                      const std::string& engine_name, std::string& error, StatsSeries* series,
                      uint64_t stats_interval, const nlohmann::ordered_json* profile) {
  nlohmann::json j;
  Interpreter& in = machine.interpreter();
  j["engine"] = engine_name;
  j["retired_instructions"] = outcome.instructions;
  j["interpreter_retired_instructions"] = in.retired();  // incl. translator fallbacks
  j["wall_seconds"] = outcome.seconds;
  j["guest_mips"] = outcome.seconds > 0 ? outcome.instructions / outcome.seconds / 1e6 : 0.0;
  j["tlb_hits"] = in.mmu.tlb_hits();
  j["tlb_misses"] = in.mmu.tlb_misses();
  j["unimplemented_instructions"] = in.unimplemented_count();
  j["machine_resets"] = machine.resets();
  j["virtual_time_ns"] = machine.clock().now();
  if (CpuEngine* e = machine.engine()) j["translator"] = nlohmann::json::parse(e->stats_json());
  if (series) {
    // The closing point, unless the last sample already fell on the end.
    const nlohmann::json& pts = series->points();
    if (pts.empty() || pts.back()["retired"].get<uint64_t>() != outcome.instructions) series->sample(outcome.instructions);
    j["stats_interval"] = stats_interval;
    j["series"] = series->points();
  }
  if (profile) j["profile"] = nlohmann::json::parse(profile->dump());
  std::ofstream f(path);
  if (!f) {
    error = path + ": cannot write: " + std::strerror(errno);
    return false;
  }
  f << j.dump(2) << "\n";
  return static_cast<bool>(f);
}

}  // namespace popek
