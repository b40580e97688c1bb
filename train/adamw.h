// AdamW as torch.optim.AdamW computes it (decoupled weight decay, bias-corrected moments), over a list of fp32
// parameters, with the schedule of the paper: linear warm-up, then cosine decay to 0 (docs/method.md).
// The state (moments, step) is plain tensors so checkpoints save and restore it exactly.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <vector>

namespace drllm::train {

struct AdamWOptions {
  double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0.01;
};

// Learning rate at optimizer step `step` (0-based) of `total`: warm-up over `warmup` steps, then cosine.
double scheduled_lr(double base, int64_t step, int64_t total, int64_t warmup);

class AdamW {
 public:
  AdamW(const std::vector<at::Tensor>& params, AdamWOptions options);
  // One update with these gradients (one per parameter) at learning rate `lr`.
  void step(const std::vector<at::Tensor>& params, const std::vector<at::Tensor>& grads, double lr);

  std::vector<at::Tensor> exp_avg, exp_avg_sq;
  int64_t steps = 0;

 private:
  AdamWOptions options_;
};

}  // namespace drllm::train
