// StageRange: the layers one pipeline stage holds (docs/pipeline-stages.md). A backbone too large for one device
// is cut into S stages of consecutive layers; stage 0 also holds the embeddings, the last stage the final norm
// and lm_head. Kept free of LibTorch: job option structs hold it.
#pragma once

#include <cstdint>
#include <vector>

namespace drllm::model {

struct ModelConfig;

struct StageRange {
  int64_t begin = 0, end = 0;  // layers [begin, end)
  int index = 0, count = 1;    // stage `index` of `count`

  bool first() const { return index == 0; }
  bool last() const { return index == count - 1; }
  bool holds(int64_t layer) const { return layer >= begin && layer < end; }
  bool whole() const { return count == 1; }
};

// The whole model as one stage.
StageRange whole_model(const ModelConfig& config);

// The bytes of the tensors a stage of layers [begin, end) holds: its blocks, plus the embeddings on the first
// stage and the final norm and lm_head on the last (the embeddings again when tied: each stage keeps its copy).
int64_t stage_parameter_bytes(const ModelConfig& config, int64_t begin, int64_t end, bool first, bool last,
                              int64_t bytes_per_value);

// S contiguous stages, each of at least one layer, whose largest parameter bytes is the least possible (the
// embeddings and lm_head count on their stages; ties go to the cut with fewer layers early). Balanced by bytes,
// not by the layers the labels run: memory is what makes stages necessary, and a split that moved with the
// labels would change each stage's memory from one data set to the next.
std::vector<StageRange> split_by_parameter_bytes(const ModelConfig& config, int stages);

}  // namespace drllm::model
