#include "frontend/svg.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

namespace popek::svg {

std::string escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::vector<double> nice_ticks(double lo, double hi, int target) {
  std::vector<double> ticks;
  if (!(hi > lo) || target < 1 || !std::isfinite(lo) || !std::isfinite(hi)) {
    ticks.push_back(lo);
    return ticks;
  }
  double raw = (hi - lo) / target;
  double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    step = m * mag;
    if (step >= raw) break;
  }
  double first = std::floor(lo / step) * step;
  // Up to the first tick at or above hi.
  for (double v = first; (ticks.empty() || ticks.back() < hi - step * 1e-9) && ticks.size() < 100; v += step) {
    double r = std::round(v / step) * step;  // no accumulated error
    if (std::fabs(r) < step * 1e-9) r = 0;
    ticks.push_back(r);
  }
  return ticks;
}

std::string tick_label(double v) {
  char buf[32];
  double a = std::fabs(v);
  const char* suffix = "";
  if (a >= 1e9) v /= 1e9, suffix = "G";
  else if (a >= 1e6) v /= 1e6, suffix = "M";
  else if (a >= 1e4) v /= 1e3, suffix = "k";
  std::snprintf(buf, sizeof buf, "%.4g%s", v, suffix);  // 6000, not 6e+03
  return buf;
}

namespace {

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

std::string value_label(double v, bool percent) {
  char buf[32];
  if (percent) std::snprintf(buf, sizeof buf, "%.1f%%", v * 100);
  else if (std::fabs(v) >= 100) std::snprintf(buf, sizeof buf, "%.0f", v);
  else if (std::fabs(v) >= 10) std::snprintf(buf, sizeof buf, "%.1f", v);
  else std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

// A vertical scale mapping data values to pixel rows.
struct Scale {
  double lo = 0, hi = 1;
  bool log = false;
  double p0 = 0, p1 = 1;  // pixel positions of lo and hi
  double operator()(double v) const {
    double t;
    if (log) {
      v = std::max(v, lo);
      t = (std::log10(v) - std::log10(lo)) / (std::log10(hi) - std::log10(lo));
    } else {
      t = (v - lo) / (hi - lo);
    }
    return p0 + t * (p1 - p0);
  }
};

// Ticks of a log10 axis over [lo, hi] (both powers of ten): each power, and
// 2 and 5 between them when the axis spans few decades.
std::vector<double> log_ticks(double lo, double hi) {
  std::vector<double> t;
  int decades = int(std::lround(std::log10(hi) - std::log10(lo)));
  for (double p = lo; p <= hi * 1.0001; p *= 10) {
    t.push_back(p);
    if (decades <= 2 && p * 10 <= hi * 1.0001) {
      t.push_back(p * 2);
      t.push_back(p * 5);
    }
  }
  return t;
}

void log_range(double min_v, double max_v, double& lo, double& hi) {
  lo = std::pow(10.0, std::floor(std::log10(min_v)));
  hi = std::pow(10.0, std::ceil(std::log10(max_v)));
  if (hi <= lo) hi = lo * 10;
}

void header(std::ostringstream& o, const std::string& id, const std::string& title, int w, int h) {
  o << "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"plot\" id=\"" << escape(id) << "\" width=\"" << w
    << "\" height=\"" << h << "\" viewBox=\"0 0 " << w << " " << h << "\" font-family=\"sans-serif\" font-size=\"11\""
    << " role=\"img\" aria-label=\"" << escape(title) << "\">\n";
  o << "<rect x=\"0\" y=\"0\" width=\"" << w << "\" height=\"" << h << "\" fill=\"#ffffff\"/>\n";
  o << "<text x=\"" << w / 2 << "\" y=\"16\" text-anchor=\"middle\" font-size=\"13\" font-weight=\"bold\">"
    << escape(title) << "</text>\n";
}

// A legend row at y, from x; returns nothing (entries flow left to right).
void legend(std::ostringstream& o, double x, double y, const std::vector<std::pair<std::string, std::string>>& entries) {
  for (const auto& [color, label] : entries) {
    o << "<rect x=\"" << num(x) << "\" y=\"" << num(y - 9) << "\" width=\"10\" height=\"10\" fill=\"" << escape(color)
      << "\"/>";
    o << "<text x=\"" << num(x + 14) << "\" y=\"" << num(y) << "\">" << escape(label) << "</text>\n";
    x += 24 + 6.5 * double(label.size());
  }
}

void y_axis(std::ostringstream& o, const Scale& s, const std::vector<double>& ticks, double x0, double x1, bool percent,
            const std::string& label, double mid_y) {
  for (double t : ticks) {
    double y = s(t);
    o << "<line x1=\"" << num(x0) << "\" y1=\"" << num(y) << "\" x2=\"" << num(x1) << "\" y2=\"" << num(y)
      << "\" stroke=\"#e0e0e0\"/>";
    o << "<text x=\"" << num(x0 - 4) << "\" y=\"" << num(y + 4) << "\" text-anchor=\"end\">"
      << escape(percent ? tick_label(t * 100) + "%" : tick_label(t)) << "</text>\n";
  }
  o << "<line x1=\"" << num(x0) << "\" y1=\"" << num(s.p0) << "\" x2=\"" << num(x0) << "\" y2=\"" << num(s.p1)
    << "\" stroke=\"#333\"/>\n";
  if (!label.empty())
    o << "<text transform=\"translate(12," << num(mid_y) << ") rotate(-90)\" text-anchor=\"middle\">" << escape(label)
      << "</text>\n";
}

}  // namespace

std::string render(const BarChart& c) {
  std::ostringstream o;
  const double x0 = 64, x1 = c.width - 12, top = 48, bottom = c.height - 36;
  header(o, c.id, c.title, c.width, c.height);
  std::vector<std::pair<std::string, std::string>> entries;
  for (size_t i = 0; i < c.series.size(); ++i) entries.push_back({c.colors.at(i % c.colors.size()), c.series[i]});
  legend(o, x0, 34, entries);

  double min_v = INFINITY, max_v = -INFINITY;
  for (const auto& g : c.groups)
    for (const auto& v : g.values)
      if (v && (!c.log_y || *v > 0)) min_v = std::min(min_v, *v), max_v = std::max(max_v, *v);
  for (const auto& r : c.reference_lines) min_v = std::min(min_v, r.first), max_v = std::max(max_v, r.first);
  Scale s;
  s.p0 = bottom;
  s.p1 = top;
  std::vector<double> ticks;
  if (c.percent) {
    s.lo = 0, s.hi = 1;
    ticks = {0, 0.25, 0.5, 0.75, 1};
  } else if (c.log_y) {
    if (!(max_v > 0)) min_v = 1, max_v = 10;
    log_range(min_v, max_v, s.lo, s.hi);
    s.log = true;
    ticks = log_ticks(s.lo, s.hi);
  } else {
    if (!(max_v > 0)) max_v = 1;
    ticks = nice_ticks(0, max_v * 1.08, 5);
    s.lo = 0, s.hi = ticks.back();
  }
  y_axis(o, s, ticks, x0, x1, c.percent, c.y_label, (top + bottom) / 2);

  const double gw = c.groups.empty() ? 0 : (x1 - x0) / double(c.groups.size());
  const size_t ns = std::max<size_t>(1, c.series.size());
  const double bw = gw * 0.76 / double(ns);
  for (size_t gi = 0; gi < c.groups.size(); ++gi) {
    const auto& g = c.groups[gi];
    double gx = x0 + gw * double(gi) + gw * 0.12;
    for (size_t si = 0; si < g.values.size() && si < ns; ++si) {
      double bx = gx + bw * double(si);
      const auto& v = g.values[si];
      if (!v || (c.log_y && *v <= 0)) {
        o << "<text x=\"" << num(bx + bw / 2) << "\" y=\"" << num(bottom - 3) << "\" text-anchor=\"middle\" "
          << "font-size=\"9\" fill=\"#888\">n/a</text>\n";
        continue;
      }
      double y = s(std::min(*v, s.hi));
      double base = s(s.lo);
      std::string color = c.colors.empty() ? "#4477aa" : c.colors[si % c.colors.size()];
      o << "<rect class=\"bar\" x=\"" << num(bx + 1) << "\" y=\"" << num(std::min(y, base)) << "\" width=\""
        << num(std::max(1.0, bw - 2)) << "\" height=\"" << num(std::fabs(base - y)) << "\" fill=\"" << escape(color)
        << "\"><title>" << escape(g.label + ", " + c.series[si] + ": " + value_label(*v, c.percent))
        << "</title></rect>";
      o << "<text x=\"" << num(bx + bw / 2) << "\" y=\"" << num(std::min(y, base) - 3)
        << "\" text-anchor=\"middle\" font-size=\"9\">" << escape(value_label(*v, c.percent)) << "</text>\n";
    }
    o << "<text x=\"" << num(x0 + gw * (double(gi) + 0.5)) << "\" y=\"" << num(bottom + 16)
      << "\" text-anchor=\"middle\">" << escape(g.label) << "</text>\n";
  }
  for (const auto& [v, label] : c.reference_lines) {
    double y = s(v);
    o << "<line x1=\"" << num(x0) << "\" y1=\"" << num(y) << "\" x2=\"" << num(x1) << "\" y2=\"" << num(y)
      << "\" stroke=\"#cc3311\" stroke-dasharray=\"5,3\"/>";
    o << "<text x=\"" << num(x1 - 2) << "\" y=\"" << num(y - 3) << "\" text-anchor=\"end\" fill=\"#cc3311\">"
      << escape(label) << "</text>\n";
  }
  o << "<line x1=\"" << num(x0) << "\" y1=\"" << num(bottom) << "\" x2=\"" << num(x1) << "\" y2=\"" << num(bottom)
    << "\" stroke=\"#333\"/>\n";
  o << "</svg>\n";
  return o.str();
}

std::string render(const LineChart& c) {
  std::ostringstream o;
  const double x0 = 64, x1 = c.width - 16, top = 48, bottom = c.height - 36;
  header(o, c.id, c.title, c.width, c.height);
  std::vector<std::pair<std::string, std::string>> entries;
  for (const auto& s : c.series) entries.push_back({s.color, s.name});
  for (const auto& e : c.legend_extra) entries.push_back(e);
  for (const auto& m : c.markers)
    if (std::none_of(entries.begin(), entries.end(), [&](const auto& e) { return e.second == m.label; }))
      entries.push_back({m.color, m.label});
  legend(o, x0, 34, entries);

  double xmin = INFINITY, xmax = -INFINITY, ymin = INFINITY, ymax = -INFINITY;
  for (const auto& s : c.series)
    for (const auto& [x, y] : s.points) {
      if (c.log_x && x <= 0) continue;
      xmin = std::min(xmin, x), xmax = std::max(xmax, x);
      if (std::isfinite(y)) ymin = std::min(ymin, y), ymax = std::max(ymax, y);
    }
  if (!(xmax >= xmin)) xmin = c.log_x ? 1 : 0, xmax = c.log_x ? 10 : 1;
  if (xmax == xmin) xmax = xmin + (c.log_x ? xmin : 1);
  if (!(ymax >= ymin)) ymin = 0, ymax = 1;

  Scale sy;
  sy.p0 = bottom, sy.p1 = top;
  std::vector<double> yt;
  if (c.percent) {
    sy.lo = c.y_min.value_or(0), sy.hi = c.y_max.value_or(1);
    yt = nice_ticks(sy.lo, sy.hi, 4);
  } else {
    double lo = c.y_min.value_or(std::min(0.0, ymin));
    double hi = c.y_max.value_or(ymax > lo ? ymax * 1.05 : lo + 1);
    yt = nice_ticks(lo, hi, 4);
    sy.lo = yt.front(), sy.hi = std::max(yt.back(), hi);
  }
  y_axis(o, sy, yt, x0, x1, c.percent, c.y_label, (top + bottom) / 2);

  Scale sx;
  sx.p0 = x0, sx.p1 = x1;
  std::vector<double> xt;
  if (c.log_x) {
    sx.log = true;
    sx.lo = xmin, sx.hi = xmax;
    // Ticks at the data's own x values (a sweep's sizes).
    std::vector<double> xs;
    for (const auto& s : c.series)
      for (const auto& p : s.points) xs.push_back(p.first);
    std::sort(xs.begin(), xs.end());
    xs.erase(std::unique(xs.begin(), xs.end()), xs.end());
    xt = xs;
  } else {
    xmin = std::min(xmin, 0.0);  // time and counts start at 0
    xt = nice_ticks(xmin, xmax, 6);
    sx.lo = xmin, sx.hi = xmax;
    xt.erase(std::remove_if(xt.begin(), xt.end(), [&](double t) { return t < xmin - 1e-12 || t > xmax + 1e-12; }),
             xt.end());
  }
  for (double t : xt) {
    double x = sx(t);
    o << "<line x1=\"" << num(x) << "\" y1=\"" << num(bottom) << "\" x2=\"" << num(x) << "\" y2=\"" << num(bottom + 4)
      << "\" stroke=\"#333\"/><text x=\"" << num(x) << "\" y=\"" << num(bottom + 15) << "\" text-anchor=\"middle\">"
      << escape(tick_label(t)) << "</text>\n";
  }
  o << "<line x1=\"" << num(x0) << "\" y1=\"" << num(bottom) << "\" x2=\"" << num(x1) << "\" y2=\"" << num(bottom)
    << "\" stroke=\"#333\"/>\n";
  if (!c.x_label.empty())
    o << "<text x=\"" << num((x0 + x1) / 2) << "\" y=\"" << num(bottom + 30) << "\" text-anchor=\"middle\">"
      << escape(c.x_label) << "</text>\n";

  for (const auto& b : c.bands) {
    double a = sx(std::clamp(b.x0, sx.lo, sx.hi)), z = sx(std::clamp(b.x1, sx.lo, sx.hi));
    o << "<rect class=\"band\" x=\"" << num(a) << "\" y=\"" << num(top) << "\" width=\"" << num(std::max(1.0, z - a))
      << "\" height=\"" << num(bottom - top) << "\" fill=\"" << escape(b.color) << "\" fill-opacity=\"0.25\"/>\n";
  }
  for (const auto& s : c.series) {
    std::ostringstream pts;
    size_t n = 0;
    for (const auto& [x, y] : s.points) {
      if ((c.log_x && x <= 0) || !std::isfinite(y)) continue;
      pts << (n++ ? " " : "") << num(sx(x)) << "," << num(sy(std::clamp(y, sy.lo, sy.hi)));
    }
    o << "<polyline class=\"series\" fill=\"none\" stroke=\"" << escape(s.color) << "\" stroke-width=\"1.5\" points=\""
      << pts.str() << "\"><title>" << escape(s.name) << "</title></polyline>\n";
    if (c.dots)
      for (const auto& [x, y] : s.points) {
        if ((c.log_x && x <= 0) || !std::isfinite(y)) continue;
        o << "<circle cx=\"" << num(sx(x)) << "\" cy=\"" << num(sy(std::clamp(y, sy.lo, sy.hi)))
          << "\" r=\"3\" fill=\"" << escape(s.color) << "\"><title>"
          << escape(s.name + " at " + tick_label(x) + ": " + value_label(y, c.percent)) << "</title></circle>\n";
      }
  }
  for (const auto& m : c.markers) {
    double x = sx(std::clamp(m.x, sx.lo, sx.hi));
    o << "<line class=\"marker\" x1=\"" << num(x) << "\" y1=\"" << num(top) << "\" x2=\"" << num(x) << "\" y2=\""
      << num(bottom) << "\" stroke=\"" << escape(m.color) << "\" stroke-dasharray=\"4,3\"><title>" << escape(m.label)
      << "</title></line>\n";
  }
  o << "</svg>\n";
  return o.str();
}

}  // namespace popek::svg
