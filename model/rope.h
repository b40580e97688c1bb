// Rotary position embeddings as Hugging Face computes them (LlamaRotaryEmbedding and
// _compute_llama3_parameters): inverse frequencies in fp32, cos/sin of position x frequency, then cast to
// the compute dtype; rotate_half layout (first half / second half of each head).
#pragma once

#include <ATen/ATen.h>

#include "model/model_config.h"

namespace drllm::model {

class Rope {
 public:
  Rope(const ModelConfig& config, at::Device device);

  // positions [T] int64 -> cos, sin [T, Dh] in `dtype`
  std::pair<at::Tensor, at::Tensor> cos_sin(const at::Tensor& positions, at::ScalarType dtype) const;

  // x [B, heads, T, Dh]; cos, sin [T, Dh] -> x rotated
  static at::Tensor apply(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin);

  const at::Tensor& inv_freq() const { return inv_freq_; }  // [Dh/2] fp32

 private:
  at::Tensor inv_freq_;
};

}  // namespace drllm::model
