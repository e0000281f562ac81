// The HTML report of `popek bench --out DIR`: one self-contained page (inline
// CSS and SVG, no scripts, no external resources) built from the bench JSON.
// It is well-formed XML (XHTML served as HTML), so that tests can parse it.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace popek::report {

// One interval of a --stats-interval series, derived from two consecutive
// cumulative points: the x position is the later point's time.
struct Interval {
  double t = 0;           // seconds since the run started, at the interval's end
  double mips = 0;        // guest MIPS in the interval
  double tc_hit = -1;     // dispatcher hit rate in the interval; -1: no lookups
  double ib_hit = -1;     // indirect-cache hit rate in the interval; -1: none
  double translations_per_s = 0;
  uint64_t translations = 0;
  uint64_t smc_invalidations = 0;
  uint64_t flushes = 0;
};
std::vector<Interval> intervals(const nlohmann::ordered_json& series);

// The events the time-series plots mark.
struct Events {
  double warmup_end = -1;  // end of warm-up (seconds); -1 when there is no series
  std::vector<std::pair<double, double>> smc_spans;  // intervals with SMC invalidations, merged
  std::vector<double> flushes;                        // times of intervals with a cache flush
};
// Warm-up ends at the first interval whose translations fall to at most 5%
// of the busiest interval's (and stay below it in the next interval, when
// there is one).
Events find_events(const std::vector<Interval>& iv);

// The page for a bench report (the JSON that --json/--out write).
std::string render_html(const nlohmann::ordered_json& report);

}  // namespace popek::report
