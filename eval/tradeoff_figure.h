// The study's trade-off figure: accuracy against layers per forward pass, one curve per way of choosing layers (the
// routers over the knob p, and the fixed cuts of eval/static_baselines.h), the unrouted model as one point.
// Per pass, not per example: a cut that breaks the answer's format also lengthens the answer, so layers per
// example (the report's table has them) mix the plan's depth with the answer's length.
#pragma once

#include <string>
#include <vector>

namespace drllm::eval {

struct CurvePoint {
  std::string label;  // written beside the point ("p=-0.5", "-4"); empty: none
  double layers_per_pass = 0, accuracy = 0;
};

struct Curve {
  std::string name, colour;  // in the legend; an SVG colour
  std::vector<CurvePoint> points;
};

// SVG text. Points of no layer at all (the knob's all-skip end) and labels that would overlap an earlier one are
// left out (the report's table has every point).
std::string tradeoff_svg(const std::string& title, const std::vector<Curve>& curves, const CurvePoint& unrouted);

}  // namespace drllm::eval
