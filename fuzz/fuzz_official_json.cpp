// The official code's label JSON (`drllm labels import`): every list, path and setting, for a model of 30 layers.
#include "data/labels/official_json.h"
#include "fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = drllm::fuzz::write_input("labels.json", data, size);
  // What `labels import` does with a path: per-layer counts of a 30-layer model, refusing layers it lacks.
  auto labels_of_path = [](const std::vector<int64_t>& best_path) {
    std::vector<uint8_t> labels(30, 0);
    for (int64_t layer : best_path) {
      DRLLM_CHECK(layer >= 0 && layer < 30, "layer ", layer, " is not a layer of the model");
      DRLLM_CHECK(labels[static_cast<size_t>(layer)] < 2, "layer ", layer, " more than twice");
      ++labels[static_cast<size_t>(layer)];
    }
    return labels;
  };
  auto prompt_tokens = [](const std::string& question) {
    return std::vector<drllm::TokenId>(std::min<size_t>(question.size(), 64), 1);
  };
  return drllm::fuzz::expect_success_or_error([&] { drllm::labels::read_official_json(path, labels_of_path, prompt_tokens); });
}
