#include "data/labels/label_summary.h"

namespace drllm::labels {

nlohmann::json summarize_labels(const LabelSet& labels) {
  const double n = static_cast<double>(labels.rows.size());
  const int64_t L = labels.header.num_layers;
  double default_correct = 0, best_correct = 0, improved = 0, path_length = 0, evaluations = 0;
  std::vector<std::array<int64_t, 3>> per_layer(static_cast<size_t>(L), {0, 0, 0});
  for (const LabelRow& r : labels.rows) {
    default_correct += r.baseline_correct;
    best_correct += r.best_correct;
    improved += r.improved;
    path_length += static_cast<double>(r.best_path.size());
    evaluations += r.num_evaluations;
    for (int64_t l = 0; l < L; ++l) ++per_layer[static_cast<size_t>(l)][r.labels[static_cast<size_t>(l)]];
  }
  nlohmann::json distribution = nlohmann::json::array();
  for (const auto& counts : per_layer) distribution.push_back({{"skip", counts[0]}, {"execute", counts[1]}, {"repeat", counts[2]}});
  return {{"examples", labels.rows.size()},
          {"shards", labels.shards.size()},
          {"num_layers", L},
          {"default_accuracy", default_correct / n},
          {"best_accuracy", best_correct / n},
          {"improved_share", improved / n},
          {"average_path_length", path_length / n},
          {"layers_saved", static_cast<double>(L) - path_length / n},
          {"evaluations_per_example", evaluations / n},
          {"labels_per_layer", distribution}};
}

}  // namespace drllm::labels
