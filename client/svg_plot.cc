#include "client/svg_plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>

#include "core/status.h"

namespace cyclr::client {

std::string SvgNum(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

std::string SvgText(double x, double y, const std::string& anchor, const std::string& body,
                    const std::string& extra) {
  return "<text x=\"" + SvgNum(x) + "\" y=\"" + SvgNum(y) + "\" text-anchor=\"" + anchor + "\"" + extra +
         ">" + XmlEscape(body) + "</text>\n";
}

std::string SvgLine(double x1, double y1, double x2, double y2, const std::string& style) {
  return "<line x1=\"" + SvgNum(x1) + "\" y1=\"" + SvgNum(y1) + "\" x2=\"" + SvgNum(x2) + "\" y2=\"" +
         SvgNum(y2) + "\" " + style + "/>\n";
}

Status WritePlotFile(const std::string& path, const std::string& svg) {
  std::ofstream file(path, std::ios::trunc);
  file << svg;
  file.close();
  if (!file) return Status::InvalidArgument("--plot: cannot write '" + path + "'");
  return Status::Ok();
}

namespace {

constexpr double kMarginLeft = 90, kMarginRight = 90, kMarginTop = 56, kMarginBottom = 64;
constexpr char kLrColor[] = "#1f77b4";
constexpr char kMomentumColor[] = "#d62728";


std::string TickLabel(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", std::fabs(v) < 1e-15 ? 0.0 : v);
  return buf;
}

// A value range mapped onto pixels [p0, p1]; ticks chosen nicely and the range widened to them.
struct Axis {
  double lo, hi, p0, p1;
  std::vector<double> ticks;
  double Map(double v) const { return p0 + (v - lo) / (hi - lo) * (p1 - p0); }
};

Axis MakeAxis(double lo, double hi, double p0, double p1, int target) {
  if (!(hi > lo)) {  // a flat line: give it room
    double pad = lo == 0 ? 1.0 : std::fabs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  Axis a{lo, hi, p0, p1, NiceTicks(lo, hi, target)};
  a.lo = std::min(a.lo, a.ticks.front());
  a.hi = std::max(a.hi, a.ticks.back());
  return a;
}

std::string Polyline(const std::vector<PlotPoint>& pts, const Axis& x, const Axis& y,
                     bool momentum, const char* color) {
  std::string out = "<polyline class=\"" + std::string(momentum ? "momentum" : "lr") +
                    "\" fill=\"none\" stroke=\"" + color + "\" stroke-width=\"1.5\" points=\"";
  for (size_t i = 0; i < pts.size(); ++i) {
    double v = momentum ? *pts[i].momentum : pts[i].lr;
    out += (i ? " " : "") + SvgNum(x.Map(static_cast<double>(pts[i].step))) + "," + SvgNum(y.Map(v));
  }
  return out + "\"/>\n";
}

std::string XAxis(const Axis& x, double y0) {
  std::string out = SvgLine(x.p0, y0, x.p1, y0, "stroke=\"black\"");
  for (double t : x.ticks) {
    double px = x.Map(t);
    out += SvgLine(px, y0, px, y0 + 5, "stroke=\"black\"");
    out += SvgText(px, y0 + 20, "middle", TickLabel(t));
  }
  out += SvgText((x.p0 + x.p1) / 2, y0 + 44, "middle", "step");
  return out;
}

// A vertical axis at pixel x0 with labels on the left (side = -1) or right (side = +1).
std::string YAxis(const Axis& y, double x0, int side, const std::string& label, const char* color,
                  double grid_to) {
  std::string out = SvgLine(x0, y.p0, x0, y.p1, "stroke=\"black\"");
  for (double t : y.ticks) {
    double py = y.Map(t);
    out += SvgLine(x0, py, x0 + 5 * side, py, "stroke=\"black\"");
    if (side < 0) out += SvgLine(x0, py, grid_to, py, "stroke=\"#e0e0e0\"");
    out += SvgText(x0 + 8 * side, py + 4, side < 0 ? "end" : "start", TickLabel(t));
  }
  double lx = x0 + side * (kMarginLeft - 18), ly = (y.p0 + y.p1) / 2;
  out += SvgText(lx, ly, "middle", label,
              " fill=\"" + std::string(color) + "\" transform=\"rotate(-90 " + SvgNum(lx) + " " +
                  SvgNum(ly) + ")\"");
  return out;
}

std::string Legend(double right, double top, bool momentum) {
  double w = 150, h = momentum ? 48 : 28, x = right - w - 10, y = top + 10;
  std::string out = "<g class=\"legend\">\n<rect x=\"" + SvgNum(x) + "\" y=\"" + SvgNum(y) +
                    "\" width=\"" + SvgNum(w) + "\" height=\"" + SvgNum(h) +
                    "\" fill=\"white\" fill-opacity=\"0.85\" stroke=\"#999\"/>\n";
  out += SvgLine(x + 8, y + 14, x + 34, y + 14, "stroke=\"" + std::string(kLrColor) + "\" stroke-width=\"2\"");
  out += SvgText(x + 40, y + 18, "start", "learning rate");
  if (momentum) {
    out += SvgLine(x + 8, y + 34, x + 34, y + 34,
                "stroke=\"" + std::string(kMomentumColor) + "\" stroke-width=\"2\"");
    out += SvgText(x + 40, y + 38, "start", "momentum");
  }
  return out + "</g>\n";
}

}  // namespace

std::vector<double> NiceTicks(double lo, double hi, int target) {
  CYCLR_CHECK(lo <= hi && std::isfinite(lo) && std::isfinite(hi) && target > 0);
  double span = hi > lo ? hi - lo : std::max(std::fabs(lo), 1.0);
  double raw = span / target;
  double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag * 10;
  for (double m : {1.0, 2.0, 5.0}) {
    if (m * mag >= raw) {
      step = m * mag;
      break;
    }
  }
  std::vector<double> ticks;
  double first = std::floor(lo / step + 1e-9);
  double last = std::ceil(hi / step - 1e-9);
  for (double i = first; i <= last; i += 1) ticks.push_back(i * step);
  return ticks;
}

std::string XmlEscape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string RenderSchedulePlot(const std::vector<PlotPoint>& points, const std::string& title,
                               const PlotOptions& options) {
  CYCLR_CHECK(!points.empty());
  bool momentum = std::all_of(points.begin(), points.end(),
                              [](const PlotPoint& p) { return p.momentum.has_value(); });
  double w = options.width, h = options.height;
  double left = kMarginLeft, right = w - kMarginRight, top = kMarginTop, bottom = h - kMarginBottom;
  auto [lr_lo, lr_hi] = std::minmax_element(points.begin(), points.end(),
      [](const PlotPoint& a, const PlotPoint& b) { return a.lr < b.lr; });
  Axis x = MakeAxis(static_cast<double>(points.front().step),
                    static_cast<double>(points.back().step), left, right, 8);
  Axis y = MakeAxis(lr_lo->lr, lr_hi->lr, bottom, top, 6);

  std::string svg = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                    "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + SvgNum(w) + "\" height=\"" +
                    SvgNum(h) + "\" viewBox=\"0 0 " + SvgNum(w) + " " + SvgNum(h) +
                    "\" font-family=\"sans-serif\" font-size=\"12\">\n";
  svg += "<rect x=\"0\" y=\"0\" width=\"" + SvgNum(w) + "\" height=\"" + SvgNum(h) + "\" fill=\"white\"/>\n";
  svg += SvgText(w / 2, 28, "middle", title, " font-size=\"15\" font-weight=\"bold\"");
  svg += YAxis(y, left, -1, "learning rate", kLrColor, right);
  svg += XAxis(x, bottom);
  svg += Polyline(points, x, y, false, kLrColor);
  if (momentum) {
    auto [m_lo, m_hi] = std::minmax_element(points.begin(), points.end(),
        [](const PlotPoint& a, const PlotPoint& b) { return *a.momentum < *b.momentum; });
    Axis ym = MakeAxis(*m_lo->momentum, *m_hi->momentum, bottom, top, 6);
    svg += YAxis(ym, right, +1, "momentum", kMomentumColor, right);
    svg += Polyline(points, x, ym, true, kMomentumColor);
  }
  svg += Legend(right, top, momentum);
  return svg + "</svg>\n";
}

}  // namespace cyclr::client
