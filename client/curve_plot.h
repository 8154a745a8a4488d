// CurvePlot: an LR range test as a standalone SVG chart (`cyclrctl lr-find --plot`).
//
// Loss against LR on a log axis (decade ticks): the raw mean loss as a light line, the smoothed
// loss the suggestions were read from as a dark one; each suggestion (steep, valley, minimum) and
// Smith's bounds as a named vertical marker, and the point where the loss diverged as a red one.
// The loss axis spans the usable curve's losses (the diverged tail is clipped at the top, so the
// descent stays readable). Each series is one <polyline class="raw|smoothed">; markers are
// <g class="marker" data-rule="NAME" data-lr="LR">.
#pragma once

#include <string>
#include <vector>

#include "core/lr_suggestions.h"

namespace cyclr::client {

// REQUIRES: suggestions came from SuggestLr(curve, ...) (their smoothed points cover its first
// usable_points points).
std::string RenderLossCurvePlot(const std::vector<LossCurvePoint>& curve,
                                const LrSuggestions& suggestions, const std::string& title);

}  // namespace cyclr::client
