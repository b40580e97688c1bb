// What `drllm eval --routers` leaves for people to look at, beside report.json: report.md (unrouted against
// routed: accuracy, layers per example and per forward pass, time, tokens/s) and routing.svg (the share of
// skip / execute / repeat decisions per layer over the examples: the paper's routing-pattern figure).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "model/layer_plan.h"

namespace drllm::eval {

struct EvalPass {
  nlohmann::json summary;              // accuracy, layers_per_example, layers_per_pass, seconds, tokens_per_second
  std::string records;                 // one JSON line per example
  std::vector<model::LayerPlan> plans; // routed: each example's plan
};

// SVG text: one stacked bar per layer (skip red, execute grey, repeat blue), shares over `plans`.
std::string routing_pattern_svg(const std::vector<model::LayerPlan>& plans, const std::string& title);

void write_eval_reports(const std::string& out_dir, const nlohmann::json& report,
                        const std::vector<model::LayerPlan>& routed_plans);

}  // namespace drllm::eval
