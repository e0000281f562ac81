#include "frontend/bench_stats.h"

#include <algorithm>

namespace popek::bench {

std::optional<double> median(std::vector<double> values) {
  if (values.empty()) return std::nullopt;
  std::sort(values.begin(), values.end());
  size_t n = values.size();
  if (n % 2) return values[n / 2];
  return (values[n / 2 - 1] + values[n / 2]) / 2;
}

std::optional<Spread> spread(const std::vector<double>& values) {
  std::optional<double> m = median(values);
  if (!m || *m <= 0) return std::nullopt;
  Spread s;
  s.median = *m;
  auto [lo, hi] = std::minmax_element(values.begin(), values.end());
  s.min = *lo;
  s.max = *hi;
  s.relative = (s.max - s.min) / s.median;
  s.count = values.size();
  return s;
}

std::optional<double> ratio(std::optional<double> a, std::optional<double> b) {
  if (!a || !b || *b <= 0) return std::nullopt;
  return *a / *b;
}

std::optional<double> rate(uint64_t part, uint64_t whole) {
  if (whole == 0) return std::nullopt;
  return double(part) / double(whole);
}

std::optional<double> tc_hit_rate(const TranslatorCounts& c) { return rate(c.hits, c.lookups); }

std::optional<double> indirect_hit_rate(const TranslatorCounts& c) {
  return rate(c.indirect_hits, c.indirect_hits + c.indirect_misses);
}

std::optional<double> chaining_rate(const TranslatorCounts& c) {
  return rate(c.chained_exits, c.chained_exits + c.unchained_exits);
}

std::optional<double> host_bytes_per_guest_insn(const TranslatorCounts& c) {
  return rate(c.host_bytes, c.guest_insns_translated);
}

std::optional<double> mips(uint64_t instructions, double seconds) {
  if (seconds <= 0) return std::nullopt;
  return double(instructions) / seconds / 1e6;
}

std::optional<Cliff> find_cliff(const std::vector<SweepPoint>& points) {
  std::optional<Cliff> best;
  for (size_t i = 0; i + 1 < points.size(); ++i) {
    const SweepPoint &lo = points[i], &hi = points[i + 1];
    if (!lo.seconds || !hi.seconds || *hi.seconds <= 0 || lo.flushes <= 0) continue;
    const double r = *lo.seconds / *hi.seconds;
    if (r < kCliffRatio || (best && r <= best->time_ratio)) continue;
    best = Cliff{lo.size_mib, hi.size_mib, r, lo.hit_rate, hi.hit_rate};
  }
  return best;
}

std::optional<double> working_set_mib(const std::vector<SweepPoint>& points) {
  for (auto it = points.rbegin(); it != points.rend(); ++it)
    if (it->seconds && it->flushes == 0 && it->host_bytes > 0) return it->host_bytes / (1024.0 * 1024.0);
  return std::nullopt;
}

}  // namespace popek::bench
