// The arithmetic of `popek bench`: medians and spreads over repeated runs,
// ratios between engines, and the rates derived from the translator's
// counters. Pure functions, unit-tested in tests/bench/.
#pragma once
#include <cstdint>
#include <optional>
#include <vector>

namespace popek::bench {

// The median of `values` (the mean of the two middle values for an even
// count); empty when there are none.
std::optional<double> median(std::vector<double> values);

// Summary of the successful runs' times of one engine on one workload.
struct Spread {
  double median = 0;
  double min = 0;
  double max = 0;
  // (max - min) / median: 0 for a single run.
  double relative = 0;
  size_t count = 0;
};
// Empty when `values` is empty or the median is not positive.
std::optional<Spread> spread(const std::vector<double>& values);

// a / b, empty when either is missing or b is not positive.
std::optional<double> ratio(std::optional<double> a, std::optional<double> b);

// part / whole, empty when whole is 0.
std::optional<double> rate(uint64_t part, uint64_t whole);

// Translator counters of one run (the "translator" object of --stats JSON).
struct TranslatorCounts {
  uint64_t lookups = 0, hits = 0, misses = 0;
  uint64_t indirect_hits = 0, indirect_misses = 0;
  uint64_t chained_exits = 0, unchained_exits = 0;
  uint64_t blocks_translated = 0, guest_insns_translated = 0, host_bytes = 0;
  uint64_t smc_invalidations = 0, flushes = 0, fallbacks = 0;
};

// Translation-cache hit rate: dispatcher lookups that found a block.
std::optional<double> tc_hit_rate(const TranslatorCounts& c);
// Inline indirect-branch cache hits over all inline indirect lookups.
std::optional<double> indirect_hit_rate(const TranslatorCounts& c);
// Block-to-block transfers that went through a patched (chained) jump, over
// all block exits that left through a direct exit stub or a chained jump.
std::optional<double> chaining_rate(const TranslatorCounts& c);
// Host code bytes emitted per guest instruction translated.
std::optional<double> host_bytes_per_guest_insn(const TranslatorCounts& c);

// Guest instructions per microsecond (MIPS); empty when seconds <= 0.
std::optional<double> mips(uint64_t instructions, double seconds);

// One size of a --sweep tc-size run (medians over its passing runs).
struct SweepPoint {
  double size_mib = 0;
  std::optional<double> seconds;   // empty: no passing run
  std::optional<double> hit_rate;  // TC hit rate
  double flushes = 0;
  double host_bytes = 0;  // host code emitted over the run
};
// The cache-size cliff: the step between two neighbouring sizes where the
// time grows the most going down in size, when it grows at least
// kCliffRatio times and the smaller cache flushed (a cache effect, not
// noise). Sizes must be ascending.
struct Cliff {
  double below_mib = 0, above_mib = 0;  // the sizes on either side
  double time_ratio = 0;                // time at below / time at above
  std::optional<double> hit_below, hit_above;
};
constexpr double kCliffRatio = 1.5;
std::optional<Cliff> find_cliff(const std::vector<SweepPoint>& points);
// The translated code's working set: host bytes emitted (in MiB) at the
// largest size that never flushed, when one did not.
std::optional<double> working_set_mib(const std::vector<SweepPoint>& points);

}  // namespace popek::bench
