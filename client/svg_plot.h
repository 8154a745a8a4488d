// SvgPlot: renders a schedule preview as a standalone SVG chart a person can read.
//
// LR against step on the left axis, momentum (when the schedule cycles it) on a right-hand axis;
// both axes have tick labels, the title names the spec, a legend names the lines. Each series is
// one <polyline> with exactly one point per preview step.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"

namespace cyclr::client {

struct PlotPoint {
  int64_t step = 0;
  double lr = 0.0;
  std::optional<double> momentum;
};

struct PlotOptions {
  int width = 960;
  int height = 480;
};

// "Nice" tick values (multiples of 1, 2 or 5 x 10^k) covering [lo, hi], about `target` of them.
// REQUIRES: lo <= hi, both finite.
std::vector<double> NiceTicks(double lo, double hi, int target);

// The SVG document. REQUIRES: !points.empty(). Momentum is drawn only if every point has one.
std::string RenderSchedulePlot(const std::vector<PlotPoint>& points, const std::string& title,
                               const PlotOptions& options = {});

// Pieces shared by the plots: a coordinate ("%.2f"), a <text> (body escaped) and a <line>.
std::string SvgNum(double v);
std::string SvgText(double x, double y, const std::string& anchor, const std::string& body,
                    const std::string& extra = "");
std::string SvgLine(double x1, double y1, double x2, double y2, const std::string& style);

// Writes an SVG document to `path` (a --plot argument): INVALID_ARGUMENT naming it if it cannot.
Status WritePlotFile(const std::string& path, const std::string& svg);

// Escapes &, <, >, " for use in SVG text and attributes.
std::string XmlEscape(const std::string& text);

}  // namespace cyclr::client
