#include "model/layer_plan.h"

#include <numeric>
#include <sstream>

#include "common/error.h"

namespace drllm::model {

LayerPlan::LayerPlan(std::vector<uint8_t> counts) : counts_(std::move(counts)) {
  for (size_t i = 0; i < counts_.size(); ++i)
    DRLLM_CHECK(counts_[i] <= 2, "layer plan: entry ", i, " is ", int(counts_[i]),
                "; each entry must be 0 (skip), 1 (execute) or 2 (repeat)");
}

LayerPlan LayerPlan::all_execute(int64_t num_layers) {
  return LayerPlan(std::vector<uint8_t>(static_cast<size_t>(num_layers), 1));
}

LayerPlan LayerPlan::from_path(const std::vector<int64_t>& path, int64_t num_layers) {
  std::vector<uint8_t> counts(static_cast<size_t>(num_layers), 0);
  int64_t previous = -1;
  for (size_t i = 0; i < path.size(); ++i) {
    int64_t layer = path[i];
    DRLLM_CHECK(layer >= 0 && layer < num_layers, "layer path: index ", i, " names layer ", layer,
                ", outside [0, ", num_layers, ")");
    DRLLM_CHECK(layer >= previous, "layer path: index ", i, " (layer ", layer,
                ") comes after layer ", previous, "; paths run through the layers in order");
    DRLLM_CHECK(counts[layer] < 2, "layer path: layer ", layer, " appears more than twice");
    ++counts[layer];
    previous = layer;
  }
  return LayerPlan(std::move(counts));
}

LayerPlan LayerPlan::parse(const std::string& text) {
  std::vector<uint8_t> counts;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    DRLLM_CHECK(item == "0" || item == "1" || item == "2", "layer plan '", text, "': entry ", counts.size(),
                " is '", item, "'; each entry must be 0, 1 or 2");
    counts.push_back(static_cast<uint8_t>(item[0] - '0'));
  }
  return LayerPlan(std::move(counts));
}

std::vector<int64_t> LayerPlan::to_path() const {
  std::vector<int64_t> path;
  for (size_t layer = 0; layer < counts_.size(); ++layer)
    for (uint8_t r = 0; r < counts_[layer]; ++r) path.push_back(static_cast<int64_t>(layer));
  return path;
}

std::string LayerPlan::to_string() const {
  std::string out;
  for (size_t i = 0; i < counts_.size(); ++i) {
    if (i) out += ',';
    out += static_cast<char>('0' + counts_[i]);
  }
  return out;
}

int64_t LayerPlan::executed() const { return std::accumulate(counts_.begin(), counts_.end(), int64_t{0}); }

void LayerPlan::check_length(int64_t num_layers) const {
  DRLLM_CHECK(size() == num_layers, "layer plan has ", size(), " entries but the model has ", num_layers,
              " layers");
}

}  // namespace drllm::model
