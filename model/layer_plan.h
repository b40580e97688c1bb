// LayerPlan: how many times each decoder layer runs for one input: 0 skip, 1 execute, 2 repeat
// (Dr.LLM §3, docs/architecture.md). Converts to and from the paper's path form, the list of executed layer indices
// in order ([0,1,2,4,4,5,...]: layer 3 skipped, layer 4 repeated).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace drllm::model {

class LayerPlan {
 public:
  LayerPlan() = default;
  // Validates: every entry 0, 1 or 2. Throws drllm::Error naming the first bad entry.
  explicit LayerPlan(std::vector<uint8_t> counts);

  static LayerPlan all_execute(int64_t num_layers);
  // Path form: non-decreasing layer indices, each at most twice, all < num_layers.
  static LayerPlan from_path(const std::vector<int64_t>& path, int64_t num_layers);
  // Text form "1,1,0,2" (as the CLI takes it).
  static LayerPlan parse(const std::string& text);

  std::vector<int64_t> to_path() const;
  std::string to_string() const;  // "1,1,0,2"

  int64_t size() const { return static_cast<int64_t>(counts_.size()); }
  uint8_t operator[](int64_t layer) const { return counts_[static_cast<size_t>(layer)]; }
  const std::vector<uint8_t>& counts() const { return counts_; }
  int64_t executed() const;  // layer visits: sum of entries
  bool operator==(const LayerPlan& other) const { return counts_ == other.counts_; }

  // Throws unless the plan has one entry per layer of a model with `num_layers` layers.
  void check_length(int64_t num_layers) const;

 private:
  std::vector<uint8_t> counts_;
};

}  // namespace drllm::model
