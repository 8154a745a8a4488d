// The SVG chart is well-formed and carries one polyline point per step.
#include "client/svg_plot.h"

#include <cmath>
#include <regex>
#include <sstream>

#include <gtest/gtest.h>

namespace cyclr::client {
namespace {

// Checks that every tag is closed in order (a small XML well-formedness check: no DTD, entities
// limited to the five predefined ones). Returns "" or what is wrong.
std::string CheckWellFormed(const std::string& xml) {
  std::vector<std::string> open;
  size_t i = 0;
  int roots = 0;
  while ((i = xml.find('<', i)) != std::string::npos) {
    size_t end = xml.find('>', i);
    if (end == std::string::npos) return "unterminated tag at " + std::to_string(i);
    std::string tag = xml.substr(i + 1, end - i - 1);
    i = end + 1;
    if (tag.empty()) return "empty tag";
    if (tag[0] == '?') continue;
    if (tag.find('<') != std::string::npos) return "'<' inside a tag: " + tag;
    if (std::count(tag.begin(), tag.end(), '"') % 2 != 0) return "unbalanced quotes: " + tag;
    if (tag[0] == '/') {
      if (open.empty() || open.back() != tag.substr(1)) return "unexpected </" + tag + ">";
      open.pop_back();
      continue;
    }
    std::string name = tag.substr(0, tag.find_first_of(" /"));
    if (open.empty()) ++roots;
    if (tag.back() != '/') open.push_back(name);
  }
  if (!open.empty()) return "unclosed <" + open.back() + ">";
  if (roots != 1) return "expected one root element, found " + std::to_string(roots);
  std::regex bad_amp("&(?!amp;|lt;|gt;|quot;|apos;)");
  if (std::regex_search(xml, bad_amp)) return "bare '&'";
  return "";
}

// The coordinates of <polyline class="NAME" ... points="...">.
std::vector<std::pair<double, double>> PolylinePoints(const std::string& svg,
                                                      const std::string& cls) {
  std::vector<std::pair<double, double>> out;
  size_t at = svg.find("<polyline class=\"" + cls + "\"");
  if (at == std::string::npos) return out;
  size_t p = svg.find("points=\"", at) + 8;
  std::string pts = svg.substr(p, svg.find('"', p) - p);
  std::istringstream in(pts);
  std::string pair;
  while (in >> pair) {
    size_t comma = pair.find(',');
    out.emplace_back(std::stod(pair.substr(0, comma)), std::stod(pair.substr(comma + 1)));
  }
  return out;
}

std::vector<PlotPoint> Triangle(int steps, bool momentum) {
  std::vector<PlotPoint> pts;
  for (int s = 0; s < steps; ++s) {
    double x = std::fabs(std::fmod(s, 20.0) - 10.0) / 10.0;  // 1 -> 0 -> 1
    PlotPoint p{s, 0.001 + 0.099 * (1 - x), std::nullopt};
    if (momentum) p.momentum = 0.85 + 0.1 * x;
    pts.push_back(p);
  }
  return pts;
}

TEST(SvgPlotTest, WellFormedWithOnePointPerStep) {
  std::string svg = RenderSchedulePlot(Triangle(137, false), "triangular base_lr=0.001");
  EXPECT_EQ(CheckWellFormed(svg), "");
  EXPECT_EQ(svg.rfind("<?xml", 0), 0u);
  EXPECT_NE(svg.find("<svg xmlns=\"http://www.w3.org/2000/svg\""), std::string::npos);
  EXPECT_EQ(PolylinePoints(svg, "lr").size(), 137u);
  EXPECT_TRUE(PolylinePoints(svg, "momentum").empty());
  EXPECT_NE(svg.find(">triangular base_lr=0.001</text>"), std::string::npos);  // title
  EXPECT_NE(svg.find(">learning rate</text>"), std::string::npos);  // axis label and legend
  EXPECT_NE(svg.find(">step</text>"), std::string::npos);
  EXPECT_EQ(svg.find(">momentum</text>"), std::string::npos);
}

TEST(SvgPlotTest, MomentumGetsASecondSeriesAndAxis) {
  std::string svg = RenderSchedulePlot(Triangle(60, true), "t");
  EXPECT_EQ(CheckWellFormed(svg), "");
  EXPECT_EQ(PolylinePoints(svg, "lr").size(), 60u);
  EXPECT_EQ(PolylinePoints(svg, "momentum").size(), 60u);
  EXPECT_NE(svg.find(">momentum</text>"), std::string::npos);
}

TEST(SvgPlotTest, PointsStayInsideTheChartAndFollowTheData) {
  PlotOptions options;
  std::string svg = RenderSchedulePlot(Triangle(41, false), "t", options);
  auto pts = PolylinePoints(svg, "lr");
  ASSERT_EQ(pts.size(), 41u);
  for (size_t i = 0; i < pts.size(); ++i) {
    EXPECT_GE(pts[i].first, 0);
    EXPECT_LE(pts[i].first, options.width);
    EXPECT_GE(pts[i].second, 0);
    EXPECT_LE(pts[i].second, options.height);
    if (i > 0) {
      EXPECT_GT(pts[i].first, pts[i - 1].first);  // steps go right
    }
  }
  // SVG's y grows downwards: the peak LR (step 10) is the highest point, i.e. the smallest y.
  EXPECT_LT(pts[10].second, pts[0].second);
  EXPECT_LT(pts[10].second, pts[20].second);
}

TEST(SvgPlotTest, FlatLineAndSinglePoint) {
  std::vector<PlotPoint> flat = {{0, 0.01, std::nullopt}, {1, 0.01, std::nullopt}};
  EXPECT_EQ(CheckWellFormed(RenderSchedulePlot(flat, "constant")), "");
  std::vector<PlotPoint> one = {{5, 0.0, std::nullopt}};
  std::string svg = RenderSchedulePlot(one, "one");
  EXPECT_EQ(CheckWellFormed(svg), "");
  EXPECT_EQ(PolylinePoints(svg, "lr").size(), 1u);
  EXPECT_EQ(svg.find("nan"), std::string::npos);
  EXPECT_EQ(svg.find("inf"), std::string::npos);
}

TEST(SvgPlotTest, TitleIsEscaped) {
  std::string svg = RenderSchedulePlot(Triangle(3, false), "a<b & \"c\"");
  EXPECT_EQ(CheckWellFormed(svg), "");
  EXPECT_NE(svg.find("a&lt;b &amp; &quot;c&quot;"), std::string::npos);
}

TEST(SvgPlotTest, NiceTicksCoverTheRange) {
  auto ticks = NiceTicks(0.001, 0.1, 6);
  ASSERT_GE(ticks.size(), 3u);
  EXPECT_LE(ticks.front(), 0.001);
  EXPECT_GE(ticks.back(), 0.1);
  EXPECT_LE(ticks.size(), 13u);
  double step = ticks[1] - ticks[0];
  EXPECT_NEAR(step, 0.02, 1e-12);  // 0.099 / 6 = 0.0165 -> a nice 0.02
  auto steps = NiceTicks(0, 2000, 8);
  EXPECT_EQ(steps, (std::vector<double>{0, 500, 1000, 1500, 2000}));
}

}  // namespace
}  // namespace cyclr::client
