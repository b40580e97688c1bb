// The numbers a label folder stands for: accuracy of the default plan and of the best plans, share improved,
// average best path length, layers saved, evaluations per example, and the label distribution per layer.
// Printed by `drllm search` at the end and by `drllm labels inspect`.
#pragma once

#include <array>
#include <nlohmann/json.hpp>

#include "data/labels/label_store.h"

namespace drllm::labels {

nlohmann::json summarize_labels(const LabelSet& labels);

}  // namespace drllm::labels
