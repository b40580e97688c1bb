// Dr.LLM's router loss (docs/method.md): focal loss -alpha_y (1 - p_y)^gamma log p_y, averaged over examples and
// layers, in fp32; gamma = 0 gives weighted cross-entropy. Class weights by the effective number of samples:
// alpha_c proportional to (1 - beta) / (1 - beta^n_c), normalised to sum to the number of classes.
#pragma once

#include <ATen/ATen.h>

#include <array>
#include <cstdint>

namespace drllm::train {

// counts: examples x layers labelled skip / execute / repeat. A class with no label counts as one.
at::Tensor effective_number_weights(const std::array<int64_t, 3>& counts, double beta = 0.999);

// logits [B, L, 3], labels [B, L] int64, alpha [3] -> per-example losses [B] (each the mean over its layers).
at::Tensor focal_loss_per_example(const at::Tensor& logits, const at::Tensor& labels, const at::Tensor& alpha,
                                  double gamma = 2.0);

}  // namespace drllm::train
