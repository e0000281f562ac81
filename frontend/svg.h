// Small SVG chart writer for the benchmark report: grouped bar charts and
// line charts with markers, as standalone <svg> elements (well-formed XML,
// no scripts, no external resources) to embed in an HTML page.
#pragma once
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace popek::svg {

// Escapes &, <, >, " and ' for XML text and attribute values.
std::string escape(const std::string& text);

// Between about `target` and 2*target round tick values covering [lo, hi]
// (steps of 1, 2 or 5 times a power of ten).
std::vector<double> nice_ticks(double lo, double hi, int target);
// Tick label: compact, without trailing zeros ("0.25", "1.5k", "2M").
std::string tick_label(double v);

struct BarChart {
  std::string id;     // the svg element's id
  std::string title;  // drawn above the plot
  std::string y_label;
  std::vector<std::string> series;  // one bar per series in each group
  std::vector<std::string> colors;  // per series
  struct Group {
    std::string label;
    std::vector<std::optional<double>> values;  // per series; empty: no bar ("n/a")
  };
  std::vector<Group> groups;
  std::vector<std::pair<double, std::string>> reference_lines;  // dashed horizontal lines
  bool log_y = false;    // log10 axis (values must be positive)
  bool percent = false;  // values are fractions, drawn 0..100 %
  int width = 760, height = 300;
};
std::string render(const BarChart& chart);

struct LineChart {
  std::string id;
  std::string title;
  std::string x_label, y_label;
  struct Series {
    std::string name;
    std::string color;
    std::vector<std::pair<double, double>> points;  // (x, y), x ascending
  };
  std::vector<Series> series;
  struct Marker {  // a labelled vertical line at x
    double x;
    std::string label;
    std::string color;
  };
  std::vector<Marker> markers;
  struct Band {  // a shaded x range
    double x0, x1;
    std::string color;
  };
  std::vector<Band> bands;
  std::vector<std::pair<std::string, std::string>> legend_extra;  // (color, label) for bands
  bool log_x = false;
  bool percent = false;            // y values are fractions, drawn 0..100 %
  std::optional<double> y_min;     // default: 0 (or the data minimum when negative)
  std::optional<double> y_max;     // default: the data maximum
  bool dots = false;               // draw a dot at each point
  int width = 760, height = 240;
};
std::string render(const LineChart& chart);

}  // namespace popek::svg
