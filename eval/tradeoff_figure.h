// The study's trade-off figure: accuracy against layers per example, one curve per way of choosing layers (the
// routers over the knob p, and the fixed cuts of eval/static_baselines.h), the unrouted model as one point.
#pragma once

#include <string>
#include <vector>

namespace drllm::eval {

struct CurvePoint {
  std::string label;  // written beside the point ("p=-0.5", "-4"); empty: none
  double layers_per_example = 0, accuracy = 0;
};

struct Curve {
  std::string name, colour;  // in the legend; an SVG colour
  std::vector<CurvePoint> points;
};

// SVG text. Labels that would overlap an earlier one are left out (the report's table has every point).
std::string tradeoff_svg(const std::string& title, const std::vector<Curve>& curves, const CurvePoint& unrouted);

}  // namespace drllm::eval
