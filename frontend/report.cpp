#include "frontend/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "frontend/profile_report.h"
#include "frontend/svg.h"

namespace popek::report {

using json = nlohmann::ordered_json;
using svg::escape;

namespace {

double num_or(const json& j, const char* key, double fallback) {
  return j.is_object() && j.contains(key) && j[key].is_number() ? j[key].get<double>() : fallback;
}

const char* const kEngineColor[] = {"#4477aa", "#ee6677", "#228833", "#ccbb44", "#66ccee", "#aa3377"};

std::string fixed(double v, int decimals) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

// A table cell holding the number at JSON pointer `ptr` of the report,
// printed with `decimals` decimals (as a percentage of 1 when `percent`).
// The pointer goes into data-json so that a test can check the number.
class Cells {
 public:
  explicit Cells(const json& report) : report_(report) {}
  std::string num(const std::string& ptr, int decimals, bool percent = false, const std::string& suffix = "") const {
    json::json_pointer p(ptr);
    if (!report_.contains(p) || !report_[p].is_number()) return "<td class=\"na\">-</td>";
    double v = report_[p].get<double>();
    std::string text = percent ? fixed(v * 100, decimals) + "%" : fixed(v, decimals) + suffix;
    return "<td data-json=\"" + escape(ptr) + "\"" + (percent ? " data-percent=\"1\"" : "") + ">" + escape(text) +
           "</td>";
  }

 private:
  const json& report_;
};

std::string engine_color(const std::vector<std::string>& engines, const std::string& e) {
  auto it = std::find(engines.begin(), engines.end(), e);
  size_t i = it == engines.end() ? 0 : size_t(it - engines.begin());
  return kEngineColor[i % 6];
}

}  // namespace

std::vector<Interval> intervals(const json& series) {
  std::vector<Interval> out;
  if (!series.is_array()) return out;
  json prev = {{"retired", 0}, {"seconds", 0.0}};
  for (const json& p : series) {
    auto d = [&](const char* k) {
      double a = num_or(p, k, 0), b = num_or(prev, k, 0);
      return a > b ? a - b : 0.0;
    };
    Interval iv;
    iv.t = num_or(p, "seconds", 0);
    double dt = num_or(p, "seconds", 0) - num_or(prev, "seconds", 0);
    double lookups = d("lookups"), ib = d("indirect_hits") + d("indirect_misses");
    iv.translations = uint64_t(d("blocks_translated"));
    iv.smc_invalidations = uint64_t(d("smc_invalidations"));
    iv.flushes = uint64_t(d("flushes"));
    if (dt > 0) {
      iv.mips = d("retired") / dt / 1e6;
      iv.translations_per_s = double(iv.translations) / dt;
    }
    if (lookups > 0) iv.tc_hit = d("hits") / lookups;
    if (ib > 0) iv.ib_hit = d("indirect_hits") / ib;
    out.push_back(iv);
    prev = p;
  }
  return out;
}

Events find_events(const std::vector<Interval>& iv) {
  Events e;
  if (iv.empty()) return e;
  uint64_t peak = 0;
  for (const Interval& i : iv) peak = std::max(peak, i.translations);
  e.warmup_end = iv.back().t;
  for (size_t i = 0; i < iv.size(); ++i) {
    bool quiet = double(iv[i].translations) <= 0.05 * double(peak);
    bool stays = i + 1 >= iv.size() || double(iv[i + 1].translations) <= 0.05 * double(peak);
    if (quiet && stays) {
      e.warmup_end = i ? iv[i - 1].t : 0;
      break;
    }
  }
  for (size_t i = 0; i < iv.size(); ++i) {
    double start = i ? iv[i - 1].t : 0;
    if (iv[i].smc_invalidations) {
      if (!e.smc_spans.empty() && e.smc_spans.back().second == start) e.smc_spans.back().second = iv[i].t;
      else e.smc_spans.push_back({start, iv[i].t});
    }
    if (iv[i].flushes) e.flushes.push_back(iv[i].t);
  }
  return e;
}

namespace {

const char* const kCss = R"(body{font-family:sans-serif;margin:24px;color:#222;max-width:1100px}
h1{font-size:22px}h2{font-size:18px;margin-top:32px;border-bottom:1px solid #ccc}h3{font-size:15px}
table{border-collapse:collapse;margin:8px 0 16px}td,th{border:1px solid #ccc;padding:3px 7px;text-align:right;font-size:13px}
th{background:#f2f2f2}td.name,th.name{text-align:left}td.na{color:#999}.fail{color:#b00}
dl{display:grid;grid-template-columns:max-content auto;gap:2px 12px;font-size:13px}dt{font-weight:bold}dd{margin:0}
svg.plot{display:block;margin:8px 0;border:1px solid #eee}.note{font-size:12px;color:#555}
.cliff{font-weight:bold;color:#b00}h4{font-size:13px;margin:14px 0 4px}
table.disasm td{vertical-align:top}table.disasm pre{margin:0;font-size:12px})";

void time_series_charts(std::ostringstream& o, const json& w, size_t wi) {
  const std::string name = w["name"].get<std::string>();
  if (!w["engines"].contains("dbt") || !w["engines"]["dbt"].contains("series")) return;
  const json& series = w["engines"]["dbt"]["series"];
  std::vector<Interval> iv = intervals(series);
  if (iv.size() < 2) return;
  Events ev = find_events(iv);
  o << "<h3>" << escape(name) << ": translator over time</h3>\n";
  o << "<p class=\"note\">One point per " << escape(svg::tick_label(num_or(w["engines"]["dbt"], "stats_interval", 0)))
    << " guest instructions (--stats-interval) of the first passing dbt run. Shaded grey: warm-up (until new "
       "translations fall to 5% of the busiest interval); shaded red: intervals with SMC invalidations; dashed "
       "purple lines: cache flushes.</p>\n";
  auto decorate = [&](svg::LineChart& c) {
    c.x_label = "seconds";
    if (ev.warmup_end > 0) c.bands.push_back({0, ev.warmup_end, "#999999"});
    for (const auto& [a, b] : ev.smc_spans) c.bands.push_back({a, b, "#ee3333"});
    c.legend_extra.push_back({"#999999", "warm-up"});
    if (!ev.smc_spans.empty()) c.legend_extra.push_back({"#ee3333", "SMC invalidations"});
    size_t step = std::max<size_t>(1, ev.flushes.size() / 60);  // at most ~60 lines
    for (size_t i = 0; i < ev.flushes.size(); i += step) c.markers.push_back({ev.flushes[i], "flush", "#882255"});
  };
  svg::LineChart mips;
  mips.id = "ts-mips-" + std::to_string(wi);
  mips.title = name + ": guest MIPS";
  mips.y_label = "MIPS";
  svg::LineChart::Series s{"dbt MIPS", "#4477aa", {}};
  for (const Interval& i : iv) s.points.push_back({i.t, i.mips});
  mips.series.push_back(s);
  decorate(mips);
  o << svg::render(mips);

  svg::LineChart hit;
  hit.id = "ts-hit-" + std::to_string(wi);
  hit.title = name + ": cache hit rates per interval";
  hit.y_label = "hit rate";
  hit.percent = true;
  svg::LineChart::Series tc{"TC hit rate", "#228833", {}}, ib{"indirect hit rate", "#ccbb44", {}};
  for (const Interval& i : iv) {
    tc.points.push_back({i.t, i.tc_hit < 0 ? NAN : i.tc_hit});
    ib.points.push_back({i.t, i.ib_hit < 0 ? NAN : i.ib_hit});
  }
  hit.series = {tc, ib};
  decorate(hit);
  o << svg::render(hit);

  svg::LineChart tr;
  tr.id = "ts-translations-" + std::to_string(wi);
  tr.title = name + ": translations per second";
  tr.y_label = "blocks/s";
  svg::LineChart::Series ts{"blocks translated per second", "#ee6677", {}};
  for (const Interval& i : iv) ts.points.push_back({i.t, i.translations_per_s});
  tr.series.push_back(ts);
  decorate(tr);
  o << svg::render(tr);
}

// --sweep tc-wx: a table per workload (the modes are not a numeric axis).
void wx_sweep_section(std::ostringstream& o, const json& report, const Cells& cell) {
  const json& sw = report["sweep"];
  o << "<h2 id=\"sweep\">Translation-cache W^X modes</h2>\n";
  o << "<p class=\"note\">The dbt engine with --tc-wx in each mode (dual: two views of one memfd; mprotect: "
       "toggled around each write; off: read-write-execute). Ratios are of medians, to the first mode.</p>\n";
  for (size_t wi = 0; wi < sw["workloads"].size(); ++wi) {
    const json& w = sw["workloads"][wi];
    const std::string base = "/sweep/workloads/" + std::to_string(wi) + "/points/";
    o << "<h3>" << escape(w["name"].get<std::string>()) << "</h3>\n<table><tr><th>W^X</th><th>median s</th>"
      << "<th>ratio</th><th>CPU s</th><th>CPU ratio</th><th>ok runs</th></tr>\n";
    for (size_t pi = 0; pi < w["points"].size(); ++pi) {
      const std::string pb = base + std::to_string(pi);
      o << "<tr><td>" << escape(w["points"][pi]["tc_wx"].get<std::string>()) << "</td>"
        << cell.num(pb + "/wall_seconds/median", 3) << cell.num(pb + "/wall_ratio", 3)
        << cell.num(pb + "/cpu_seconds", 3) << cell.num(pb + "/cpu_ratio", 3) << cell.num(pb + "/ok_runs", 0)
        << "</tr>\n";
    }
    o << "</table>\n";
  }
}

void sweep_section(std::ostringstream& o, const json& report, const Cells& cell) {
  const json& sw = report["sweep"];
  if (sw.value("parameter", "") == "tc_wx") return wx_sweep_section(o, report, cell);
  o << "<h2 id=\"sweep\">Translation-cache size sweep</h2>\n";
  o << "<p class=\"note\">The dbt engine with --tc-size at each size (MiB). A cache smaller than the working set of "
       "translated code flushes, retranslates and loses hit rate.</p>\n";
  for (size_t wi = 0; wi < sw["workloads"].size(); ++wi) {
    const json& w = sw["workloads"][wi];
    const std::string name = w["name"].get<std::string>();
    const std::string base = "/sweep/workloads/" + std::to_string(wi) + "/points/";
    o << "<h3>" << escape(name) << "</h3>\n<table><tr><th>TC MiB</th><th>median s</th><th>TC hit</th>"
      << "<th>flushes</th><th>blocks translated</th><th>ok runs</th></tr>\n";
    svg::LineChart hit, time;
    hit.id = "sweep-hit-" + std::to_string(wi);
    hit.title = name + ": TC hit rate against cache size";
    hit.percent = true;
    hit.log_x = true;
    hit.dots = true;
    hit.x_label = "translation cache (MiB, log scale)";
    hit.y_label = "hit rate";
    time.id = "sweep-time-" + std::to_string(wi);
    time.title = name + ": wall time against cache size";
    time.log_x = true;
    time.dots = true;
    time.x_label = hit.x_label;
    time.y_label = "seconds";
    svg::LineChart::Series hs{"TC hit rate", "#228833", {}}, ts{"median wall seconds", "#4477aa", {}};
    // The cliff (bench_stats.h find_cliff): shaded between the two sizes;
    // the translated code's working set: a line at its size.
    for (svg::LineChart* c : {&hit, &time}) {
      if (w.contains("cliff") && w["cliff"].is_object()) {
        c->bands.push_back({w["cliff"]["below_mib"].get<double>(), w["cliff"]["above_mib"].get<double>(), "#ee3333"});
        c->legend_extra.push_back({"#ee3333", "cliff"});
      }
      if (w.contains("working_set_mib") && w["working_set_mib"].is_number())
        c->markers.push_back({w["working_set_mib"].get<double>(), "working set", "#882255"});
    }
    for (size_t pi = 0; pi < w["points"].size(); ++pi) {
      const json& p = w["points"][pi];
      std::string pb = base + std::to_string(pi);
      o << "<tr>" << cell.num(pb + "/tc_size_mib", 3) << cell.num(pb + "/wall_seconds/median", 3)
        << cell.num(pb + "/tc_hit_rate", 2, true) << cell.num(pb + "/flushes", 0)
        << cell.num(pb + "/blocks_translated", 0) << cell.num(pb + "/ok_runs", 0) << "</tr>\n";
      double size = p["tc_size_mib"].get<double>();
      if (p.contains("tc_hit_rate")) hs.points.push_back({size, p["tc_hit_rate"].get<double>()});
      if (p["wall_seconds"].is_object()) ts.points.push_back({size, p["wall_seconds"]["median"].get<double>()});
    }
    o << "</table>\n";
    const std::string wb = "/sweep/workloads/" + std::to_string(wi);
    if (w.contains("cliff") && w["cliff"].is_object()) {
      o << "<p class=\"cliff\" id=\"sweep-cliff-" << wi << "\">Cliff between <span data-json=\"" << wb
        << "/cliff/below_mib\">" << fixed(w["cliff"]["below_mib"].get<double>(), 3) << "</span> and <span data-json=\""
        << wb << "/cliff/above_mib\">" << fixed(w["cliff"]["above_mib"].get<double>(), 3)
        << "</span> MiB: the smaller cache takes <span data-json=\"" << wb << "/cliff/time_ratio\">"
        << fixed(w["cliff"]["time_ratio"].get<double>(), 1) << "</span> times as long.</p>\n";
    } else {
      o << "<p class=\"note\">No cliff: no step down in size made the run 1.5 times slower with flushes.</p>\n";
    }
    if (w.contains("working_set_mib") && w["working_set_mib"].is_number())
      o << "<p class=\"note\">Host code translated at the largest size without a flush (the working set): <span "
           "data-json=\""
        << wb << "/working_set_mib\">" << fixed(w["working_set_mib"].get<double>(), 2) << "</span> MiB.</p>\n";
    hit.series.push_back(hs);
    time.series.push_back(ts);
    o << svg::render(hit) << svg::render(time);
  }
}

}  // namespace

std::string render_html(const json& report) {
  std::ostringstream o;
  Cells cell(report);
  const std::vector<std::string> engines =
      report["options"].contains("engines") ? report["options"]["engines"].get<std::vector<std::string>>()
                                            : std::vector<std::string>{};
  o << "<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n"
    << "<title>Popek benchmark report</title>\n<style>" << kCss << "</style>\n</head>\n<body>\n";
  o << "<h1>Popek benchmark report</h1>\n<dl>\n";
  auto meta = [&](const char* label, const json& v) {
    std::string text = v.is_string() ? v.get<std::string>() : v.is_null() ? "n/a" : v.dump();
    o << "<dt>" << label << "</dt><dd>" << escape(text) << "</dd>\n";
  };
  meta("Popek commit", report.value("popek_commit", json("unknown")));
  meta("Date (UTC)", report.value("date_utc", json(nullptr)));
  meta("Host CPU", report.value("host_cpu", json(nullptr)));
  meta("Host CPUs", report.value("host_cpus", json(nullptr)));
  meta("QEMU", report.value("qemu_version", json(nullptr)));
  meta("Load average (start, end)",
       json(report.value("load_average_start", json::array()).dump() + " " +
            report.value("load_average_end", json::array()).dump()));
  if (report.contains("options")) {
    meta("Command", report["options"].value("command", json("")));
    meta("Runs", report["options"].value("runs", json(nullptr)));
  }
  o << "</dl>\n";
  if (report.contains("all_ok") && !report["all_ok"].get<bool>())
    o << "<p class=\"fail\">Some runs failed; they are listed below and have no time.</p>\n";

  const json& ws = report.contains("workloads") ? report["workloads"] : json::array();
  if (!ws.empty()) {
    // Summary table.
    o << "<h2 id=\"summary\">Summary</h2>\n<table id=\"summary-table\">\n<tr><th class=\"name\">workload</th>";
    for (const std::string& e : engines) o << "<th>" << escape(e) << " s</th>";
    o << "<th>dbt/qemu</th><th>dbt/native</th><th>interp/dbt</th><th>CPU dbt/qemu</th><th>CPU dbt/native</th>"
      << "<th>dbt MIPS</th><th>TC hit</th><th>IB hit</th>"
      << "<th>chained</th><th>SMC inval.</th><th>flushes</th><th>fallbacks</th><th>host B/guest insn</th>"
      << "<th>translation share</th></tr>\n";
    for (size_t wi = 0; wi < ws.size(); ++wi) {
      const json& w = ws[wi];
      const std::string b = "/workloads/" + std::to_string(wi);
      o << "<tr><td class=\"name\">" << escape(w["name"].get<std::string>()) << "</td>";
      for (const std::string& e : engines) o << cell.num(b + "/engines/" + e + "/wall_seconds/median", 3);
      o << cell.num(b + "/ratios/dbt_over_qemu", 2) << cell.num(b + "/ratios/dbt_over_native", 2)
        << cell.num(b + "/ratios/interp_over_dbt", 1) << cell.num(b + "/cpu_ratios/dbt_over_qemu", 2)
        << cell.num(b + "/cpu_ratios/dbt_over_native", 2) << cell.num(b + "/engines/dbt/guest_mips", 0)
        << cell.num(b + "/engines/dbt/tc_hit_rate", 2, true) << cell.num(b + "/engines/dbt/indirect_hit_rate", 2, true)
        << cell.num(b + "/engines/dbt/chaining_rate", 2, true) << cell.num(b + "/engines/dbt/smc_invalidations", 0)
        << cell.num(b + "/engines/dbt/flushes", 0) << cell.num(b + "/engines/dbt/fallbacks", 0)
        << cell.num(b + "/engines/dbt/host_bytes_per_guest_insn", 1)
        << cell.num(b + "/engines/dbt/translation_share", 2, true) << "</tr>\n";
    }
    o << "</table>\n<p class=\"note\">Times: median wall seconds per process over the passing runs. Ratios: of the "
         "medians (lower dbt/x is better); CPU ratios: of the runs' median user+system CPU seconds, which host load "
         "inflates less. MIPS: guest instructions per microsecond of the emulated run. TC hit: "
         "dispatcher lookups that found a block; IB hit: inline indirect-branch cache; chained: block exits taken "
         "through a patched jump. Translation share: host time spent translating over the run's time (when the "
         "translator reports it).</p>\n";

    // Bar charts.
    svg::BarChart ratios;
    ratios.id = "ratios";
    ratios.title = "Time ratios (log scale; below 1: the first engine is faster)";
    ratios.y_label = "ratio of median times";
    ratios.log_y = true;
    ratios.series = {"dbt / qemu", "dbt / native", "interp / dbt", "qemu / native"};
    ratios.colors = {"#4477aa", "#228833", "#ee6677", "#ccbb44"};
    ratios.reference_lines = {{1.0, "1 (parity)"}, {3.0, "3x"}};
    svg::BarChart rates;
    rates.id = "hit-rates";
    rates.title = "Translator cache behaviour (dbt)";
    rates.y_label = "rate";
    rates.percent = true;
    rates.series = {"TC hit rate", "indirect hit rate", "chained exits"};
    rates.colors = {"#228833", "#ccbb44", "#66ccee"};
    svg::BarChart mips;
    mips.id = "mips";
    mips.title = "Guest MIPS";
    mips.y_label = "MIPS";
    for (const std::string& e : {std::string("dbt"), std::string("interp")})
      if (std::find(engines.begin(), engines.end(), e) != engines.end()) {
        mips.series.push_back(e);
        mips.colors.push_back(engine_color(engines, e));
      }
    auto val = [](const json& j, const char* k) -> std::optional<double> {
      if (j.is_object() && j.contains(k) && j[k].is_number()) return j[k].get<double>();
      return std::nullopt;
    };
    for (const json& w : ws) {
      const std::string name = w["name"].get<std::string>();
      const json& r = w["ratios"];
      ratios.groups.push_back({name, {val(r, "dbt_over_qemu"), val(r, "dbt_over_native"), val(r, "interp_over_dbt"),
                                      val(r, "qemu_over_native")}});
      json dbt = w["engines"].contains("dbt") ? w["engines"]["dbt"] : json(nullptr);
      rates.groups.push_back({name, {val(dbt, "tc_hit_rate"), val(dbt, "indirect_hit_rate"), val(dbt, "chaining_rate")}});
      svg::BarChart::Group g{name, {}};
      for (const std::string& e : mips.series)
        g.values.push_back(w["engines"].contains(e) ? val(w["engines"][e], "guest_mips") : std::nullopt);
      mips.groups.push_back(g);
    }
    o << "<h2 id=\"plots\">Plots</h2>\n" << svg::render(ratios) << svg::render(rates);
    if (!mips.series.empty()) o << svg::render(mips);

    // Time series.
    bool any_series = false;
    for (const json& w : ws) any_series |= w["engines"].contains("dbt") && w["engines"]["dbt"].contains("series");
    if (any_series) {
      o << "<h2 id=\"series\">Time series</h2>\n";
      for (size_t wi = 0; wi < ws.size(); ++wi) time_series_charts(o, ws[wi], wi);
    }

    // Hot-block profiles (--profile).
    bool any_profile = false;
    for (const json& w : ws) any_profile |= w["engines"].contains("dbt") && w["engines"]["dbt"].contains("profile");
    if (any_profile) {
      o << "<h2 id=\"profiles\">Hot blocks (--profile)</h2>\n<p class=\"note\">Per workload, the first passing dbt run's "
           "most expensive translated blocks: exact execution counts, the share of sampled host CPU time, host code "
           "bytes per guest byte and instruction, and how the blocks were left, then each block's guest "
           "instructions beside the host code emitted for them.</p>\n";
      for (size_t wi = 0; wi < ws.size(); ++wi) {
        const json& w = ws[wi];
        if (!w["engines"].contains("dbt") || !w["engines"]["dbt"].contains("profile")) continue;
        o << "<h3>" << escape(w["name"].get<std::string>()) << "</h3>\n"
          << profile::to_html(w["engines"]["dbt"]["profile"], "/workloads/" + std::to_string(wi) + "/engines/dbt/profile",
                              "profile-" + std::to_string(wi));
      }
    }

    // Per-run details.
    o << "<h2 id=\"runs\">Runs</h2>\n<table id=\"runs-table\"><tr><th class=\"name\">workload</th>"
      << "<th class=\"name\">engine</th><th>median s</th><th>min s</th><th>max s</th><th>spread</th>"
      << "<th>CPU s</th><th class=\"name\">run times (s)</th></tr>\n";
    for (size_t wi = 0; wi < ws.size(); ++wi) {
      const json& w = ws[wi];
      for (const auto& [e, s] : w["engines"].items()) {
        const std::string b = "/workloads/" + std::to_string(wi) + "/engines/" + e;
        o << "<tr><td class=\"name\">" << escape(w["name"].get<std::string>()) << "</td><td class=\"name\">"
          << escape(e) << "</td>" << cell.num(b + "/wall_seconds/median", 3) << cell.num(b + "/wall_seconds/min", 3)
          << cell.num(b + "/wall_seconds/max", 3) << cell.num(b + "/wall_seconds/spread", 1, true)
          << cell.num(b + "/cpu_seconds", 3) << "<td class=\"name\">";
        for (size_t ri = 0; ri < s["runs"].size(); ++ri) {
          const json& run = s["runs"][ri];
          if (ri) o << ", ";
          if (run["ok"].get<bool>())
            o << "<span data-json=\"" << b << "/runs/" << ri << "/wall_seconds\">"
              << fixed(run["wall_seconds"].get<double>(), 3) << "</span>";
          else
            o << "<span class=\"fail\">failed: " << escape(run.value("error", std::string())) << "</span>";
        }
        o << "</td></tr>\n";
      }
    }
    o << "</table>\n";
  }
  if (report.contains("sweep")) sweep_section(o, report, cell);
  o << "</body>\n</html>\n";
  return o.str();
}

}  // namespace popek::report
