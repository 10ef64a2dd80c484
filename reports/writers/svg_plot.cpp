// Line plots as inline SVG for the HTML report: axes with ticks, tick labels and axis labels, a log10 x axis
// when asked, error bars, one colour and marker per series, and a legend to the right of the axes.
#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <set>
#include <tuple>

#include <fmt/format.h>

#include "reports/writers/writers.h"

namespace semharness {
namespace {

// Okabe–Ito colours: distinguishable with the common colour-vision deficiencies.
const char* const kColours[] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"};
constexpr int kColourCount = sizeof(kColours) / sizeof(kColours[0]);

// Pixel coordinates, one decimal.
std::string px(double v) { return fmt::format("{:.1f}", v); }

struct Axis {
  double lo = 0, hi = 1;  // domain, in transformed units (log10 of the value on a log axis)
  bool log = false;
  double pixel_lo = 0, pixel_hi = 1;
  double transform(double v) const { return log ? std::log10(v) : v; }
  double pixel(double v) const { return pixel_lo + (transform(v) - lo) / (hi - lo) * (pixel_hi - pixel_lo); }
};

// A step of 1, 2 or 5 times a power of ten giving about `target` intervals over [lo, hi].
double nice_step(double lo, double hi, int target) {
  const double raw = (hi - lo) / target;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  const double normalised = raw / magnitude;
  const double nice = normalised < 1.5 ? 1 : normalised < 3 ? 2 : normalised < 7 ? 5 : 10;
  return nice * magnitude;
}

struct Tick {
  double value;  // untransformed
  std::string label;
};

std::vector<Tick> linear_ticks(double lo, double hi, int target) {
  const double step = nice_step(lo, hi, target);
  const int decimals = std::max(0, static_cast<int>(-std::floor(std::log10(step) + 1e-9)));
  std::vector<Tick> ticks;
  for (double k = std::ceil(lo / step - 1e-9); k * step <= hi + step * 1e-9; k += 1) {
    double v = k * step;
    if (std::abs(v) < step * 1e-9) v = 0;
    ticks.push_back({v, fmt::format("{:.{}f}", v, decimals)});
  }
  return ticks;
}

std::string log_tick_label(double v) {
  const double exponent = std::round(std::log10(v));
  if (std::abs(v - std::pow(10.0, exponent)) < 1e-9 * v && (exponent < -3 || exponent > 4)) {
    return fmt::format("1e{}", static_cast<int>(exponent));
  }
  return fmt::format("{:g}", v);
}

// Ticks at the data's own x values (settings such as L = 8, 16, 32 read best that way), when there are at most
// 8 and no two are closer than min_gap pixels; nullopt otherwise.
template <typename ToPixel>
std::optional<std::vector<Tick>> data_ticks(const std::set<double>& data_x, ToPixel to_pixel, bool log_labels) {
  constexpr double min_gap = 34;
  if (data_x.empty() || data_x.size() > 8) return std::nullopt;
  std::vector<Tick> ticks;
  double previous = -std::numeric_limits<double>::infinity();
  for (double x : data_x) {
    if (to_pixel(x) - previous < min_gap) return std::nullopt;
    previous = to_pixel(x);
    ticks.push_back({x, log_labels ? log_tick_label(x) : fmt::format("{:g}", x)});
  }
  return ticks;
}

// Decades inside [lo, hi] (transformed units): every one, or every other one past 8.
std::vector<Tick> decade_ticks(double lo, double hi) {
  std::vector<Tick> ticks;
  const int first = static_cast<int>(std::ceil(lo - 1e-9)), last = static_cast<int>(std::floor(hi + 1e-9));
  const int stride = (last - first) > 8 ? 2 : 1;
  for (int d = first; d <= last; d += stride) ticks.push_back({std::pow(10.0, d), log_tick_label(std::pow(10.0, d))});
  return ticks;
}

// Domain [lo, hi] padded by a fraction of its span on each side; a single value gets a span of its own.
std::pair<double, double> padded(double lo, double hi, double fraction, double empty_span) {
  if (!(hi > lo)) {
    lo -= empty_span / 2;
    hi += empty_span / 2;
  }
  const double pad = (hi - lo) * fraction;
  return {lo - pad, hi + pad};
}

std::string marker(int kind, double x, double y, const char* colour) {
  const double r = 4.2;
  switch (kind % 4) {
    case 0: return fmt::format("<circle cx=\"{}\" cy=\"{}\" r=\"{}\" fill=\"{}\"/>", px(x), px(y), px(r), colour);
    case 1:
      return fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"/>", px(x - r), px(y - r),
                         px(2 * r), px(2 * r), colour);
    case 2:
      return fmt::format("<polygon points=\"{},{} {},{} {},{}\" fill=\"{}\"/>", px(x), px(y - r * 1.25),
                         px(x - r * 1.15), px(y + r * 0.85), px(x + r * 1.15), px(y + r * 0.85), colour);
    default:
      return fmt::format("<polygon points=\"{},{} {},{} {},{} {},{}\" fill=\"{}\"/>", px(x), px(y - r * 1.3),
                         px(x + r * 1.1), px(y), px(x), px(y + r * 1.3), px(x - r * 1.1), px(y), colour);
  }
}

}  // namespace

std::string render_svg_plot(const LinePlot& plot) {
  // Only points a log axis can show.
  std::vector<PlotSeries> series;
  for (const auto& s : plot.series) {
    PlotSeries kept{s.label, {}, {}};
    const bool errors = s.errors.size() == s.points.size();
    for (size_t i = 0; i < s.points.size(); ++i) {
      const auto& [x, y] = s.points[i];
      if (!std::isfinite(x) || !std::isfinite(y) || (plot.log_x && x <= 0)) continue;
      kept.points.push_back(s.points[i]);
      if (errors) kept.errors.push_back(std::isfinite(s.errors[i]) ? std::abs(s.errors[i]) : 0.0);
    }
    if (!errors) kept.errors.assign(kept.points.size(), 0.0);
    series.push_back(kept);
  }

  double x_min = std::numeric_limits<double>::infinity(), x_max = -x_min, y_min = x_min, y_max = -x_min;
  std::set<double> data_x;
  for (const auto& s : series) {
    for (size_t i = 0; i < s.points.size(); ++i) {
      const auto& [x, y] = s.points[i];
      data_x.insert(x);
      x_min = std::min(x_min, plot.log_x ? std::log10(x) : x);
      x_max = std::max(x_max, plot.log_x ? std::log10(x) : x);
      y_min = std::min(y_min, y - s.errors[i]);
      y_max = std::max(y_max, y + s.errors[i]);
    }
  }
  if (data_x.empty()) {
    x_min = plot.log_x ? -1 : 0;
    x_max = plot.log_x ? 1 : 1;
    y_min = 0;
    y_max = 1;
  }

  // Layout: the legend to the right of the axes, as wide as its longest label.
  size_t longest_label = 0;
  for (const auto& s : series) longest_label = std::max(longest_label, s.label.size());
  const double legend_width = series.empty() ? 0 : 46 + 7.2 * static_cast<double>(longest_label);
  const double left = 78, right_of_axes = 24, top = 40, bottom = 58, axes_width = 520, axes_height = 300;
  const double width = left + axes_width + right_of_axes + legend_width, height = top + axes_height + bottom;

  Axis x_axis, y_axis;
  x_axis.log = plot.log_x;
  std::tie(x_axis.lo, x_axis.hi) = padded(x_min, x_max, 0.06, plot.log_x ? 1.0 : std::max(1.0, std::abs(x_min) * 0.2));
  std::tie(y_axis.lo, y_axis.hi) = padded(y_min, y_max, 0.08, std::max(1.0, std::abs(y_min) * 0.02));
  x_axis.pixel_lo = left;
  x_axis.pixel_hi = left + axes_width;
  y_axis.pixel_lo = top + axes_height;  // y grows upwards
  y_axis.pixel_hi = top;

  // x ticks: on a log axis the decades when it spans three or more, else the data's x values when they fit,
  // else decades (or nice linear ticks on a linear axis).
  std::vector<Tick> x_ticks;
  const auto to_pixel = [&](double x) { return x_axis.pixel(x); };
  if (plot.log_x) {
    x_ticks = decade_ticks(x_axis.lo, x_axis.hi);
    if (x_ticks.size() < 3) {
      if (auto ticks = data_ticks(data_x, to_pixel, true)) x_ticks = *ticks;
    }
  } else {
    auto ticks = data_ticks(data_x, to_pixel, false);
    x_ticks = ticks ? *ticks : linear_ticks(x_axis.lo, x_axis.hi, 6);
  }
  const auto y_ticks = linear_ticks(y_axis.lo, y_axis.hi, 6);

  std::string out = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"plot\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" "
      "font-family=\"system-ui, 'DejaVu Sans', sans-serif\" role=\"img\" aria-label=\"{2}\">\n",
      px(width), px(height), escape_markup(plot.title));
  out += fmt::format("<rect width=\"{}\" height=\"{}\" fill=\"#ffffff\"/>\n", px(width), px(height));
  out += fmt::format(
      "<text x=\"{}\" y=\"22\" text-anchor=\"middle\" font-size=\"15\" font-weight=\"600\" "
      "fill=\"#1a1a1a\">{}</text>\n",
      px(left + axes_width / 2), escape_markup(plot.title));
  // Grid lines and ticks.
  out += "<g font-size=\"12\" fill=\"#333333\">\n";
  for (const auto& tick : y_ticks) {
    const double y = y_axis.pixel(tick.value);
    out += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#e3e3e3\"/>\n", px(left), px(y),
                       px(left + axes_width), px(y));
    out += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#333333\"/>\n", px(left - 5), px(y),
                       px(left), px(y));
    out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\n", px(left - 8), px(y + 4),
                       escape_markup(tick.label));
  }
  for (const auto& tick : x_ticks) {
    const double x = x_axis.pixel(tick.value);
    if (x < left - 0.5 || x > left + axes_width + 0.5) continue;
    out += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#e3e3e3\"/>\n", px(x), px(top), px(x),
                       px(top + axes_height));
    out += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#333333\"/>\n", px(x),
                       px(top + axes_height), px(x), px(top + axes_height + 5));
    out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", px(x), px(top + axes_height + 19),
                       escape_markup(tick.label));
  }
  out += "</g>\n";
  // Axes frame and labels.
  out += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#333333\"/>\n",
                     px(left), px(top), px(axes_width), px(axes_height));
  out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"13\" fill=\"#1a1a1a\">{}{}</text>\n",
                     px(left + axes_width / 2), px(top + axes_height + 44), escape_markup(plot.x_label),
                     plot.log_x ? " (log scale)" : "");
  out += fmt::format(
      "<text transform=\"translate({},{}) rotate(-90)\" text-anchor=\"middle\" font-size=\"13\" "
      "fill=\"#1a1a1a\">{}</text>\n",
      px(18), px(top + axes_height / 2), escape_markup(plot.y_label));
  // Series: error bars, line, markers.
  for (size_t k = 0; k < series.size(); ++k) {
    const auto& s = series[k];
    const char* colour = kColours[k % kColourCount];
    out += fmt::format("<g stroke=\"{0}\" fill=\"{0}\">\n", colour);
    for (size_t i = 0; i < s.points.size(); ++i) {
      if (s.errors[i] <= 0) continue;
      const double x = x_axis.pixel(s.points[i].first);
      const double y1 = y_axis.pixel(s.points[i].second - s.errors[i]),
                   y2 = y_axis.pixel(s.points[i].second + s.errors[i]);
      out += fmt::format("<path d=\"M{0},{1}V{2}M{3},{1}H{4}M{3},{2}H{4}\" stroke-width=\"1.2\" fill=\"none\"/>\n",
                         px(x), px(y1), px(y2), px(x - 4), px(x + 4));
    }
    std::string points;
    for (const auto& [x, y] : s.points) points += px(x_axis.pixel(x)) + "," + px(y_axis.pixel(y)) + " ";
    out += fmt::format("<polyline points=\"{}\" fill=\"none\" stroke-width=\"2\"/>\n", points);
    for (const auto& [x, y] : s.points)
      out += marker(static_cast<int>(k), x_axis.pixel(x), y_axis.pixel(y), colour) + "\n";
    out += "</g>\n";
  }
  // Legend.
  if (!series.empty()) {
    const double lx = left + axes_width + right_of_axes, ly = top + 4;
    out += fmt::format(
        "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"#ffffff\" stroke=\"#cccccc\" rx=\"3\"/>\n", px(lx),
        px(ly), px(legend_width - 6), px(12 + 20.0 * static_cast<double>(series.size())));
    for (size_t k = 0; k < series.size(); ++k) {
      const char* colour = kColours[k % kColourCount];
      const double y = ly + 16 + 20.0 * static_cast<double>(k);
      out += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"2\"/>\n",
                         px(lx + 8), px(y), px(lx + 32), px(y), colour);
      out += marker(static_cast<int>(k), lx + 20, y, colour) + "\n";
      out += fmt::format("<text x=\"{}\" y=\"{}\" font-size=\"12\" fill=\"#1a1a1a\">{}</text>\n", px(lx + 38),
                         px(y + 4), escape_markup(series[k].label));
    }
  }
  return out + "</svg>\n";
}

std::string escape_markup(const std::string& text) {
  std::string out;
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

}  // namespace semharness
