// Run statistics written by --stats FILE.json when a run ends, and the time
// series that --stats-interval N adds to them.
#pragma once
#include <chrono>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "core/machine.h"

namespace popek {

// Samples the counters every N retired instructions (RunLimits::sample).
// Each point holds the cumulative counters at that moment: retired
// instructions, host seconds since start(), the interpreter's TLB counters
// and, under the translator, blocks translated, cache lookups/hits/misses,
// indirect hits/misses, chained/unchained exits, SMC invalidations, flushes
// and fallbacks.
class StatsSeries {
 public:
  explicit StatsSeries(Machine& machine) : machine_(machine) {}
  // Marks time zero (call right before Machine::run).
  void start() { start_ = std::chrono::steady_clock::now(); }
  void sample(uint64_t retired);
  const nlohmann::json& points() const { return points_; }

 private:
  Machine& machine_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  nlohmann::json points_ = nlohmann::json::array();
};

// Installs `series` as the sampler of `limits` every `interval` instructions.
void attach_series(RunLimits& limits, StatsSeries& series, uint64_t interval);

// --progress-file FILE (for popek bench): a file that holds one line,
// "<retired instructions> <host seconds>", rewritten in place about every
// million retired instructions while the machine runs.
class ProgressFile {
 public:
  // Returns false and a one-line reason if the file cannot be created.
  bool open(const std::string& path, std::string& error);
  ~ProgressFile();
  void start() { start_ = std::chrono::steady_clock::now(); }
  void update(uint64_t retired);
  bool is_open() const { return fd_ >= 0; }
  static constexpr uint64_t kEvery = 1'000'000;

 private:
  int fd_ = -1;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

// Installs one sampler on `limits` that feeds `series` every
// `series_interval` instructions and `progress` every ProgressFile::kEvery;
// either may be null.
void attach_sampling(RunLimits& limits, StatsSeries* series, uint64_t series_interval, ProgressFile* progress);

// Writes the counters of `machine` and `outcome` as JSON; returns false and
// a one-line reason if the file cannot be written. With a series, the JSON
// gets "stats_interval" and "series" (the sampled points, then one final
// point at the end of the run); with a profile (--profile), "profile".
bool write_stats_json(const std::string& path, Machine& machine, const RunOutcome& outcome,
                      const std::string& engine_name, std::string& error, StatsSeries* series = nullptr,
                      uint64_t stats_interval = 0, const nlohmann::ordered_json* profile = nullptr);

}  // namespace popek
