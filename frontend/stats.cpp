#include "frontend/stats.h"

#include <cerrno>
#include <cstring>
#include <fstream>

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
  limits.sample_every = interval;
  limits.sample = [&series](uint64_t retired) { series.sample(retired); };
}

bool write_stats_json(const std::string& path, Machine& machine, const RunOutcome& outcome,
                      const std::string& engine_name, std::string& error, StatsSeries* series,
                      uint64_t stats_interval) {
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
  std::ofstream f(path);
  if (!f) {
    error = path + ": cannot write: " + std::strerror(errno);
    return false;
  }
  f << j.dump(2) << "\n";
  return static_cast<bool>(f);
}

}  // namespace popek
