// The next step's router inputs read on a thread while this step computes, so that training whose inputs stream
// from the label shards does not wait on the disk (in-memory inputs are gathered in place: nothing to hide).
// At most one read is in flight; what it holds is one step's rows of this rank.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <future>
#include <vector>

#include "train/feature_rows.h"

namespace drllm::train {

class InputPrefetch {
 public:
  explicit InputPrefetch(const FeatureRows& rows) : rows_(rows) {}
  ~InputPrefetch() { drop(); }
  InputPrefetch(const InputPrefetch&) = delete;
  InputPrefetch& operator=(const InputPrefetch&) = delete;

  // The inputs of `rows` for step `step`: the ones read ahead when they were asked for, else read now.
  at::Tensor take(int64_t step, const std::vector<int64_t>& rows);
  // Starts reading `rows` for step `step` (streamed inputs only).
  void ahead(int64_t step, std::vector<int64_t> rows);

 private:
  void drop();  // waits for a read in flight and forgets it (its error, if any, belongs to a step never taken)

  const FeatureRows& rows_;
  int64_t step_ = -1;
  std::vector<int64_t> asked_;
  std::future<at::Tensor> next_;
};

}  // namespace drllm::train
