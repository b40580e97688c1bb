// Router quality on held-out labels: focal loss, accuracy over (example, layer) decisions, per-class recall,
// precision and F1 (skip, execute, repeat), macro-F1 (the paper reports 61%), and layers saved per example as
// predicted and as labelled, the share of examples whose predicted plan is the labelled one (plan_match), and
// each class's count among the held-out decisions (<class>_support).
#pragma once

#include <ATen/ATen.h>

#include <nlohmann/json.hpp>

#include "routing/router_bank.h"
#include "train/router_data.h"

namespace drllm::train {

// Examples per router forward in evaluate_routers.
inline constexpr int64_t kEvaluationChunk = 16;

nlohmann::json evaluate_routers(const routing::RouterBank& bank, const RouterData& data, const at::Tensor& alpha,
                                double gamma, const at::Device& device);

}  // namespace drllm::train
