// The demo's own report (OUT of `drllm demo`): one table of unrouted against routed accuracy, layers and time per
// evaluation set, links to each set's routing pattern, and the ARC accuracy against layers per example over the
// knob p (sweep.svg); OUT/report.json holds the same numbers.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace drllm::eval {

struct DemoSummary {
  size_t arc_train = 0, gsm8k_train = 0;  // questions searched
  int simulations = 0;
  std::vector<std::string> sets;  // the evaluation sets, in the table's order
};

// `reports`: each set's report.json by name, with its "domain" added; `sweep`: (p, routed summary) per point;
// `sweep_unrouted`: the unrouted summary on the sweep's questions. Writes OUT/sweep.svg, OUT/report.md,
// OUT/report.html (eval/html_report.h: the same with every figure inlined) and OUT/report.json; returns the
// markdown.
std::string write_demo_report(const std::string& out, const DemoSummary& summary, const nlohmann::json& reports,
                              const std::vector<std::pair<double, nlohmann::json>>& sweep,
                              const nlohmann::json& sweep_unrouted);

// SVG text: accuracy against layers per example, one point per p, the unrouted model as a reference.
std::string sweep_svg(const std::vector<std::pair<double, nlohmann::json>>& points, const nlohmann::json& unrouted);

}  // namespace drllm::eval
