#include "train/input_prefetch.h"

namespace drllm::train {

at::Tensor InputPrefetch::take(int64_t step, const std::vector<int64_t>& rows) {
  if (next_.valid() && step_ == step && asked_ == rows) {
    step_ = -1;
    return next_.get();  // rethrows the read's error (a damaged row) here, on the training thread
  }
  drop();
  return rows_.gather(rows);
}

void InputPrefetch::ahead(int64_t step, std::vector<int64_t> rows) {
  if (!rows_.streamed()) return;
  drop();
  step_ = step;
  asked_ = std::move(rows);
  // The thread copies only float16 rows into a fresh tensor: no ATen kernel (and no OpenMP team) runs on it.
  next_ = std::async(std::launch::async, [this, rows = asked_] { return rows_.gather(rows); });
}

void InputPrefetch::drop() {
  if (next_.valid()) {
    try {
      next_.get();
    } catch (...) {
    }
  }
  step_ = -1;
}

}  // namespace drllm::train
