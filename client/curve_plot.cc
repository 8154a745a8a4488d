#include "client/curve_plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "client/svg_plot.h"

namespace cyclr::client {
namespace {

constexpr double kWidth = 960, kHeight = 520;
constexpr double kLeft = 90, kRight = kWidth - 40, kTop = 56, kBottom = kHeight - 64;

std::string Label(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}

struct Frame {
  double x_lo, x_hi, y_lo, y_hi;  // log10(lr), loss
  double X(double lr) const { return kLeft + (std::log10(lr) - x_lo) / (x_hi - x_lo) * (kRight - kLeft); }
  double Y(double loss) const {
    const double v = std::clamp(loss, y_lo, y_hi);
    return kBottom - (v - y_lo) / (y_hi - y_lo) * (kBottom - kTop);
  }
};

std::string Series(const std::vector<LossCurvePoint>& curve, const std::vector<double>& loss,
                   const Frame& f, const char* cls, const char* style) {
  std::string out = std::string("<polyline class=\"") + cls + "\" fill=\"none\" " + style +
                    " points=\"";
  for (size_t i = 0; i < loss.size(); ++i) {
    if (!std::isfinite(loss[i])) break;
    out += (i ? " " : "") + SvgNum(f.X(curve[i].lr)) + "," + SvgNum(f.Y(loss[i]));
  }
  return out + "\"/>\n";
}

std::string Marker(const Frame& f, const std::string& rule, double lr, const char* color, int row) {
  const double x = f.X(lr);
  std::string out = "<g class=\"marker\" data-rule=\"" + XmlEscape(rule) + "\" data-lr=\"" +
                    Label(lr) + "\">\n";
  out += SvgLine(x, kTop, x, kBottom,
                 std::string("stroke=\"") + color + "\" stroke-dasharray=\"4 3\"");
  const bool right_half = x > (kLeft + kRight) / 2;  // labels stay inside the chart
  out += SvgText(right_half ? x - 4 : x + 4, kTop + 14 + 14 * row, right_half ? "end" : "start",
                 rule + " " + Label(lr), std::string(" fill=\"") + color + "\"");
  return out + "</g>\n";
}

std::string Axes(const Frame& f) {
  std::string out = SvgLine(kLeft, kBottom, kRight, kBottom, "stroke=\"black\"");
  out += SvgLine(kLeft, kTop, kLeft, kBottom, "stroke=\"black\"");
  for (double d = std::ceil(f.x_lo); d <= std::floor(f.x_hi); d += 1) {
    const double x = f.X(std::pow(10.0, d));
    out += SvgLine(x, kBottom, x, kBottom + 5, "stroke=\"black\"");
    out += SvgText(x, kBottom + 20, "middle", "1e" + Label(d));
  }
  out += SvgText((kLeft + kRight) / 2, kBottom + 44, "middle", "learning rate (log scale)");
  for (double t : NiceTicks(f.y_lo, f.y_hi, 6)) {
    if (t < f.y_lo || t > f.y_hi) continue;
    const double y = f.Y(t);
    out += SvgLine(kLeft - 5, y, kRight, y, "stroke=\"#e0e0e0\"");
    out += SvgText(kLeft - 8, y + 4, "end", Label(t));
  }
  out += SvgText(24, (kTop + kBottom) / 2, "middle", "loss",
                 " transform=\"rotate(-90 24 " + SvgNum((kTop + kBottom) / 2) + ")\"");
  return out;
}

}  // namespace

std::string RenderLossCurvePlot(const std::vector<LossCurvePoint>& curve,
                                const LrSuggestions& s, const std::string& title) {
  const size_t usable = s.smoothed.size();
  Frame f{std::log10(curve.front().lr), std::log10(curve.back().lr), INFINITY, -INFINITY};
  if (!(f.x_hi > f.x_lo)) f.x_hi = f.x_lo + 1;
  std::vector<double> raw;
  for (const LossCurvePoint& p : curve) raw.push_back(p.loss);
  // The smoothed loss sets the range (a raw spike or the diverged tail would squash the descent
  // into a few pixels); the raw line is clipped to it.
  for (size_t i = 0; i < usable; ++i) {
    f.y_lo = std::min(f.y_lo, s.smoothed[i]);
    f.y_hi = std::max(f.y_hi, s.smoothed[i]);
  }
  if (!(f.y_hi > f.y_lo)) f.y_lo -= 1, f.y_hi += 1;
  const double span = f.y_hi - f.y_lo;
  f.y_lo -= 0.15 * span, f.y_hi += 0.4 * span;
  std::string svg = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                    "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + SvgNum(kWidth) +
                    "\" height=\"" + SvgNum(kHeight) + "\" viewBox=\"0 0 " + SvgNum(kWidth) + " " +
                    SvgNum(kHeight) + "\" font-family=\"sans-serif\" font-size=\"12\">\n";
  svg += "<rect x=\"0\" y=\"0\" width=\"" + SvgNum(kWidth) + "\" height=\"" + SvgNum(kHeight) +
         "\" fill=\"white\"/>\n";
  svg += SvgText(kWidth / 2, 28, "middle", title, " font-size=\"15\" font-weight=\"bold\"");
  svg += Axes(f);
  svg += Series(curve, raw, f, "raw", "stroke=\"#9ecae1\" stroke-width=\"1\"");
  svg += Series(curve, s.smoothed, f, "smoothed", "stroke=\"#08519c\" stroke-width=\"2\"");
  const char* colors[] = {"#2ca02c", "#ff7f0e", "#9467bd"};
  int row = 0;
  for (const LrRule& r : s.rules) svg += Marker(f, r.name, r.lr, colors[row % 3], row), ++row;
  svg += Marker(f, "max_lr", s.max_lr, "#000000", row++);
  svg += Marker(f, "base_lr", s.base_lr, "#555555", row++);
  if (s.stop_step >= 0 && static_cast<size_t>(s.usable_points) < curve.size()) {
    svg += Marker(f, "diverged", curve[s.usable_points].lr, "#d62728", row++);
  }
  return svg + "</svg>\n";
}

}  // namespace cyclr::client
